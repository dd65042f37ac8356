"""The convergence summary of a fit: `rosetta.rank_diagnostics` against ArviZ's per-entry loop.

Reads a saved fit (default ``results/posterior.nc``, what ``make fit`` writes) and times
`rosetta.diagnostics.summarize_diagnostics` as it runs (all entries of a variable at once) and
with ArviZ's ``az.ess`` / ``az.rhat`` in its place, alternately in this one process, ``--rounds``
times each. Prints the medians (seconds), their ratio and the largest relative difference of
any entry's bulk ESS, tail ESS or R-hat between the two, as JSON.

    python benchmarks/bench_diagnostics.py
    python benchmarks/bench_diagnostics.py --fit big.nc --rounds 7
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections import OrderedDict
from unittest import mock

import arviz as az
import numpy as np

from rosetta import diagnostics
from rosetta.io import load_fit

#: ArviZ's functions, in the form `diagnostics.DIAGNOSTICS` holds them (arrays chain, draw last).
ARVIZ = {
    "min_ess_bulk": lambda values: _per_entry(values, lambda a: az.ess(a, method="bulk")),
    "min_ess_tail": lambda values: _per_entry(values, lambda a: az.ess(a, method="tail")),
    "max_rhat": lambda values: _per_entry(values, az.rhat),
}


def _per_entry(values: np.ndarray, function) -> np.ndarray:
    """ArviZ's function of each entry of ``values`` (..., chain, draw), as ``az.ess`` loops."""
    flat = values.reshape(-1, *values.shape[-2:])
    return np.array([float(function(entry)) for entry in flat]).reshape(values.shape[:-2])


def _summary(idata, table: dict) -> tuple[float, dict]:
    """Seconds of one `summarize_diagnostics` with ``table``'s functions, and every entry's."""
    functions = {key: (table[key], how) for key, (_, how) in diagnostics.DIAGNOSTICS.items()}
    forgotten = OrderedDict()  # each summary computed afresh, not read from an earlier round
    with (
        mock.patch.dict(diagnostics.DIAGNOSTICS, functions),
        mock.patch.object(diagnostics, "_RECENT", forgotten),
    ):
        start = time.perf_counter()
        diagnostics.summarize_diagnostics(idata, warn=False)
        seconds = time.perf_counter() - start
        posterior = idata.posterior
        entries = {
            (name, key): diagnostics.entry_diagnostics(posterior, name, key).to_numpy()
            for name in diagnostics.checked_variables(posterior)
            for key in functions
        }
    return seconds, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", default="results/posterior.nc", help="a saved rosetta fit")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    idata = load_fit(args.fit).idata
    ours = {key: function for key, (function, _) in diagnostics.DIAGNOSTICS.items()}
    times: dict[str, list[float]] = {"rank_diagnostics": [], "arviz": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ArviZ on constant entries
        for _ in range(args.rounds):
            seconds, mine = _summary(idata, ours)
            times["rank_diagnostics"].append(seconds)
            seconds, theirs = _summary(idata, ARVIZ)
            times["arviz"].append(seconds)
    with np.errstate(invalid="ignore", divide="ignore"):
        difference = max(
            float(np.nanmax(np.abs(mine[key] - theirs[key]) / np.abs(theirs[key]), initial=0.0))
            for key in mine
        )
    medians = {name: statistics.median(values) for name, values in times.items()}
    entries = sum(int(np.size(values)) for (_, key), values in mine.items() if key == "max_rhat")
    result = {
        "fit": args.fit,
        "checked_entries": entries,
        "draws": int(idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]),
        "median_seconds": {name: round(value, 3) for name, value in medians.items()},
        "ratio": round(medians["rank_diagnostics"] / medians["arviz"], 3),
        "max_relative_difference": difference,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
