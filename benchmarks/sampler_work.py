"""The sampler's work on a table, in gradient evaluations: a speed measure no machine's load moves.

Runs NUTS as `rosetta fit` does (nutpie, its settings and start; warm-up draws kept for the
count), then replays `rosetta fit`'s early stop and sample-on on the draws, and prints one
JSON line per seed: gradients in warm-up, the draws per chain `rosetta fit` would keep,
gradients to that point, divergences (all draws and up to the stop), leapfrog steps per draw
(mean, most, and the draws whose tree hit ``--maxdepth``), step size, and the convergence
summary of the kept draws. Seeds give the same numbers on any machine with the same libraries,
so two revisions or settings can be compared while other work runs (all but the wall time of
the sampling, to the limit, which a quiet machine needs for settings that change the cost of a
step, such as ``--eigval-cutoff`` or ``--diagonal``). ``--max-draws`` stops
sampling sooner than `rosetta fit` could (its stop is then looked for up to there only).

    python benchmarks/sampler_work.py --seeds 2025 2026 2027 2028 2029
    python benchmarks/sampler_work.py --data big.csv --seeds 1 2 3 --tune 600 --maxdepth 10
    python benchmarks/sampler_work.py --dimensions 1 --seeds 2025 2026 2027
    python benchmarks/sampler_work.py --dimensions 1 --seeds 2027 --target-accept 0.95
    python benchmarks/sampler_work.py --seeds 2025 2026 2027 --diagonal --max-draws 1800
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import nutpie

from rosetta.constants import (
    DEFAULT_CHAINS,
    DEFAULT_MIN_ESS,
    DEFAULT_TARGET_ACCEPT,
    ESS_MIN,
    MAX_DRAWS_FACTOR,
)
from rosetta.data import load_scores
from rosetta.model import _enough, anchored_diagnostics, build_model
from rosetta.model.numba_cache import compile_nutpie
from rosetta.model.sampling import RawPosterior, _best_start, _kept, first_stop, nutpie_metric
from rosetta.model.spec import MeasurementSpec


def long_run(
    table,
    spec,
    seed: int,
    *,
    limit: int,
    tune: int,
    maxdepth: int,
    target_accept: float = DEFAULT_TARGET_ACCEPT,
    eigval_cutoff: float | None = None,
    diagonal: bool = False,
):
    """``limit`` draws per chain of `rosetta fit`'s NUTS (nutpie, its start), warm-up kept.

    The mass matrix is `rosetta fit`'s, with ``eigval_cutoff`` in place of the spec's if given,
    or a diagonal one; `nutpie.sample`'s settings of it come back in the trace's ``attrs``.
    """
    model = build_model(table, spec)
    compiled = _best_start(compile_nutpie(model, _kept(model)), model, DEFAULT_CHAINS, seed)
    if diagonal:
        metric = {"low_rank_modified_mass_matrix": False}
    else:
        metric = nutpie_metric(eigval_cutoff or spec.eigval_cutoff, compiled.n_dim)
    trace = nutpie.sample(
        compiled,
        draws=limit,
        tune=tune,
        maxdepth=maxdepth,
        chains=DEFAULT_CHAINS,
        cores=DEFAULT_CHAINS,
        seed=seed,
        target_accept=target_accept,
        progress_bar=False,
        **metric,
    )
    trace.attrs.update(metric)
    return trace


def replayed_stop(trace, spec, table, draws: int, limit: int, min_ess: int = DEFAULT_MIN_ESS):
    """Where `rosetta fit` would stop on ``trace``: (draws per chain, the draws up to there)."""

    def kept(n: int) -> RawPosterior:
        window = {"draw": slice(0, n)}
        return RawPosterior(trace.posterior.isel(window), trace.sample_stats.isel(window), "", "")

    enough = _enough(spec, table, min_ess)
    converged = _enough(spec, table, ESS_MIN, tail=False)
    stop = first_stop(draws, limit, kept, enough, converged) or limit
    return stop, kept(stop)


def work(
    table,
    spec,
    seed: int,
    tune: int,
    draws: int,
    target_accept: float,
    maxdepth: int,
    limit: int,
    eigval_cutoff: float | None,
    diagonal: bool,
) -> dict:
    """Gradient evaluations and convergence of one seed's NUTS run (see the module doc)."""
    began = time.perf_counter()
    trace = long_run(
        table,
        spec,
        seed,
        limit=limit,
        tune=tune,
        maxdepth=maxdepth,
        target_accept=target_accept,
        eigval_cutoff=eigval_cutoff,
        diagonal=diagonal,
    )
    seconds = time.perf_counter() - began
    stats = trace.sample_stats
    stop, at_stop = replayed_stop(trace, spec, table, draws, limit)
    diagnostics = anchored_diagnostics(at_stop, spec, table)[1]
    window = {"draw": slice(0, stop)}
    return {
        "seed": seed,
        "tune": tune,
        "target_accept": target_accept,
        "maxdepth": maxdepth,
        "metric": "diagonal" if diagonal else "low-rank",
        "eigval_cutoff": trace.attrs.get("mass_matrix_eigval_cutoff"),
        "warmup_gradients": int(trace.warmup_sample_stats["n_steps"].sum()),
        "draws_kept": stop,
        "sampling_gradients": int(stats["n_steps"].isel(window).sum()),
        "divergences": int(stats["diverging"].sum()),
        "divergences_kept": int(stats["diverging"].isel(window).sum()),
        "steps_per_draw": round(float(stats["n_steps"].mean()), 2),
        "max_steps": int(stats["n_steps"].max()),
        "draws_at_maxdepth": int(stats["maxdepth_reached"].sum()),
        "step_size": round(float(stats["step_size"].mean()), 4),
        "max_rhat": round(diagnostics["max_rhat"], 4),
        "min_ess_bulk": round(diagnostics["min_ess_bulk"]),
        "min_ess_tail": round(diagnostics["min_ess_tail"]),
        "sampling_seconds": round(seconds, 1),  # all draws to the limit; moved by the load
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a score table (default: the bundled one, as the README)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2025])
    parser.add_argument("--tune", type=int, default=None, help="default: as `rosetta fit`")
    parser.add_argument("--draws", type=int, default=None, help="default: as `rosetta fit`")
    parser.add_argument("--dimensions", type=int, default=0)
    parser.add_argument("--target-accept", type=float, default=DEFAULT_TARGET_ACCEPT)
    parser.add_argument("--maxdepth", type=int, default=None, help="default: as `rosetta fit`")
    parser.add_argument(
        "--eigval-cutoff",
        type=float,
        default=None,
        help="nutpie's low-rank mass matrix cutoff (default: as `rosetta fit`)",
    )
    parser.add_argument(
        "--diagonal", action="store_true", help="a diagonal mass matrix instead of the low-rank one"
    )
    parser.add_argument(
        "--max-draws", type=int, default=None, help="sample at most this many (default: as fit)"
    )
    args = parser.parse_args()
    if args.data:
        table = load_scores(args.data)
    else:
        table = load_scores(None, min_benchmarks=4, since="2022-11-01")
    spec = MeasurementSpec(dimensions=args.dimensions).resolved_for(table)
    draws = args.draws or spec.default_draws
    limit = args.max_draws or draws * MAX_DRAWS_FACTOR
    tune = spec.default_tune if args.tune is None else args.tune
    maxdepth = spec.maxdepth if args.maxdepth is None else args.maxdepth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's and nutpie's chatter about short traces
        for seed in args.seeds:
            result = work(
                table,
                spec,
                seed,
                tune,
                draws,
                args.target_accept,
                maxdepth,
                limit,
                args.eigval_cutoff,
                args.diagonal,
            )
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
