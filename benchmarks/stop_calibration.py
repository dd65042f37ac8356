"""Does stopping where the ESS first reaches its bar flatter the ESS? Replayed on long runs.

Samples the bundled table (as the README's `rosetta fit`) to ``--limit`` draws per chain for
each seed, then replays `rosetta fit`'s stopping rule (`first_stop`: early stop at ``--min-ess``,
then sample-on to convergence) for each planned ``--draws``. For every checked quantity it
compares the posterior mean at the stop with the mean of the other seeds' whole runs, in units
of the stop's Monte Carlo standard error (posterior sd / sqrt(bulk ESS at the stop)). If the ESS
at the stop is honest this standardised error has sd about 1 (a little less, since the other
seeds' mean has its own error); a rule that stops on lucky ESS estimates shows above 1, most of
all among the quantities with the lowest ESS (each seed's lowest tenth, reported apart).

    python benchmarks/stop_calibration.py --seeds 2025 2026 2027 2028 2029 --draws 1000 1800

Prints one JSON line per planned ``--draws``: the stops, the min bulk ESS at each, and the sd of
the standardised error (all quantities; lowest-ESS tenth) with the share beyond 1.96.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
from sampler_work import long_run, replayed_stop

from rosetta.constants import (
    DEFAULT_DRAWS,
    DEFAULT_MIN_ESS,
    FACTOR_DRAWS,
    MAX_DRAWS_FACTOR,
)
from rosetta.data import load_scores
from rosetta.diagnostics import checked_variables, entry_diagnostics
from rosetta.model import anchor_posterior
from rosetta.model.spec import MeasurementSpec


def _flat(dataset, names) -> np.ndarray:
    return np.concatenate([dataset[name].to_numpy().reshape(-1) for name in names])


def replay(runs: dict, table, spec, draws: int, min_ess: int, limit: int) -> dict:
    """Stops of `first_stop` with ``draws`` planned, and the standardised errors at them."""
    anchored = {seed: anchor_posterior(run.posterior, spec, table) for seed, run in runs.items()}
    names = checked_variables(next(iter(anchored.values())))
    means = {seed: _flat(post.mean(("chain", "draw")), names) for seed, post in anchored.items()}
    errors, lowest, stops, min_ess_at_stop = [], [], [], []
    for seed, run in runs.items():
        stop, _ = replayed_stop(run, spec, table, draws, limit, min_ess)
        at_stop = anchored[seed].isel(draw=slice(0, stop))[names]
        ess = np.concatenate(
            [entry_diagnostics(at_stop, name, "min_ess_bulk").to_numpy().ravel() for name in names]
        )
        sd = _flat(at_stop.std(("chain", "draw")), names)
        reference = np.mean([m for other, m in means.items() if other != seed], axis=0)
        varies = np.isfinite(ess) & (sd > 0)
        error = ((_flat(at_stop.mean(("chain", "draw")), names) - reference) / sd * np.sqrt(ess))[
            varies
        ]
        errors.append(error)
        lowest.append(error[ess[varies] <= np.quantile(ess[varies], 0.1)])
        stops.append(stop)
        min_ess_at_stop.append(round(float(np.min(ess[varies]))))
    every, low = np.concatenate(errors), np.concatenate(lowest)
    return {
        "draws": draws,
        "min_ess": min_ess,
        "stops": stops,
        "min_ess_bulk_at_stop": min_ess_at_stop,
        "sd_error": round(float(every.std()), 3),
        "beyond_1.96": round(float(np.mean(np.abs(every) > 1.96)), 3),
        "sd_error_lowest_tenth": round(float(low.std()), 3),
        "beyond_1.96_lowest_tenth": round(float(np.mean(np.abs(low) > 1.96)), 3),
        "quantities": int(every.size),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2025, 2026, 2027, 2028, 2029])
    parser.add_argument("--draws", type=int, nargs="+", default=[DEFAULT_DRAWS, FACTOR_DRAWS])
    parser.add_argument("--min-ess", type=int, default=DEFAULT_MIN_ESS)
    parser.add_argument("--limit", type=int, default=None, help="default: twice the most --draws")
    args = parser.parse_args()
    if len(args.seeds) < 2:
        parser.error("--seeds needs at least two seeds (each is compared with the others)")
    limit = args.limit or MAX_DRAWS_FACTOR * max(args.draws)
    table = load_scores(None, min_benchmarks=4, since="2022-11-01")
    spec = MeasurementSpec().resolved_for(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's and nutpie's chatter about short traces
        runs = {
            seed: long_run(
                table, spec, seed, limit=limit, tune=spec.default_tune, maxdepth=spec.maxdepth
            )
            for seed in args.seeds
        }
        for draws in args.draws:
            print(json.dumps(replay(runs, table, spec, draws, args.min_ess, limit)), flush=True)


if __name__ == "__main__":
    main()
