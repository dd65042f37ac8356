"""The learned-dimension start search: its cost, and whether its short runs find the right mode.

Usage::

    rosetta fit --min-benchmarks 4 --since 2022-11-01 --seed 2026 --out k0.nc
    .venv/bin/python benchmarks/start_search.py k0.nc --seeds 2030 2031 2032 --maxdepth 6 10

Runs the short runs of `rosetta.model.sampling._best_start` (`_start_runs`; one dimension, the
README's table: `DIMENSION_STARTS` runs of `_START_STEPS` warm-up steps by default)
once per seed and tree-depth cap, and prints one JSON line each: wall seconds, gradient
evaluations, each run's last log density (the search's criterion) and the Spearman correlation
of each run's last capabilities with the one-number fit's posterior means. A run in the local
mode that the search guards against ranks the models at about 0.5; the right mode at 0.95-1.
Gradient counts do not depend on the machine's load; wall seconds do.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.stats import spearmanr

from rosetta import Fit
from rosetta.data import load_scores
from rosetta.model import build_model
from rosetta.model.numba_cache import compile_nutpie
from rosetta.model.sampling import _START_STEPS, DIMENSION_STARTS, _start_runs
from rosetta.model.spec import MeasurementSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="a one-number fit of the same table (rosetta fit --out)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2030, 2031, 2032])
    parser.add_argument("--maxdepth", type=int, nargs="+", default=[6])
    parser.add_argument("--steps", type=int, default=_START_STEPS)
    parser.add_argument("--runs", type=int, default=DIMENSION_STARTS)
    args = parser.parse_args()
    reference = Fit.load(args.reference).posterior["capability"].mean(("chain", "draw"))
    table = load_scores(None, min_benchmarks=4, since="2022-11-01")
    model = build_model(table, MeasurementSpec(dimensions=1).resolved_for(table))
    compiled = compile_nutpie(model)
    for seed in args.seeds:
        for depth in args.maxdepth:
            start = time.perf_counter()
            trace = _start_runs(compiled, 2, seed, runs=args.runs, steps=args.steps, maxdepth=depth)
            wall = time.perf_counter() - start
            last = trace.posterior["capability"].isel(draw=-1).sel(model=reference["model"])
            rho = [spearmanr(last.isel(chain=c), reference).statistic for c in range(args.runs)]
            logp = trace.sample_stats["logp"].isel(draw=-1).to_numpy()
            row = {
                "seed": seed,
                "maxdepth": depth,
                "wall_s": round(wall, 1),
                "gradients": int(trace.warmup_sample_stats["n_steps"].sum()),
                "last_logp": np.round(logp, 1).tolist(),
                "spearman": np.round(rho, 3).tolist(),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
