"""Recovery of learned dimensions from a simulated table: loadings, their intervals, capabilities.

Usage::

    rosetta simulate --models 300 --benchmarks 100 --observed-fraction 0.25 --dimensions 3 \\
        --seed 5 --out sim3.csv --truth models.csv --truth-benchmarks benchmarks.csv
    rosetta fit sim3.csv --dimensions 3 --anchor-benchmark b00 --out sim3.nc   # or --auto
    .venv/bin/python benchmarks/dimension_recovery.py sim3.nc models.csv benchmarks.csv

The truth is put on the fit's scale (a benchmark anchor at difficulty 0, slope 1 stretches
loadings by that benchmark's true slope), and the fit's posterior-mean loadings are turned onto it
by the best orthogonal rotation (loadings are identified up to one). It prints the correlation of
loadings (all, and per dimension) and of general capabilities with the truth, and the share of
true loadings inside their 90% intervals, the truth turned into the fit's orientation.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from rosetta import Fit
from rosetta.intervals import interval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fit")
    parser.add_argument("truth_models", help="rosetta simulate --truth")
    parser.add_argument("truth_benchmarks", help="rosetta simulate --truth-benchmarks")
    args = parser.parse_args()
    fit = Fit.load(args.fit)
    models = pd.read_csv(args.truth_models, index_col=0)
    benchmarks = pd.read_csv(args.truth_benchmarks, index_col=0)
    anchor = fit.info.scale.benchmark
    if not anchor:
        raise SystemExit("fit with a benchmark anchor (--anchor-benchmark) to compare scales")
    post = fit.posterior
    if "dimension_loading" not in post:
        raise SystemExit(f"{args.fit} has no learned dimensions (fit with --dimensions K)")
    if benchmarks.filter(like="_loading").shape[1] != post.sizes["dimension"]:
        raise SystemExit(
            f"{args.truth_benchmarks} has no loadings for {post.sizes['dimension']} "
            "dimensions (rosetta simulate --dimensions K --truth-benchmarks)"
        )
    loading = post["dimension_loading"].transpose("chain", "draw", "benchmark", "dimension")
    draws = loading.to_numpy().reshape(-1, *loading.shape[2:])
    true = benchmarks.loc[loading["benchmark"].to_numpy(), :].filter(like="_loading").to_numpy()
    true = true * benchmarks.loc[anchor, "slope"]
    u, _, vt = np.linalg.svd(draws.mean(axis=0).T @ true)
    turn = u @ vt  # fit orientation -> truth orientation
    estimate = draws.mean(axis=0) @ turn
    lo, hi = interval(draws, 0.9, axis=0)
    inside = (true @ turn.T >= lo) & (true @ turn.T <= hi)
    per_dimension = [np.corrcoef(estimate[:, k], true[:, k])[0, 1] for k in range(true.shape[1])]
    capability = post["capability"].mean(("chain", "draw")).to_series()
    truth = models["capability"].reindex(capability.index)
    print(
        f"loadings: correlation {np.corrcoef(estimate.ravel(), true.ravel())[0, 1]:.3f} "
        f"(per dimension {', '.join(f'{r:.3f}' for r in per_dimension)}); "
        f"90% intervals hold {inside.mean():.2f} of the true loadings"
    )
    print(f"capabilities: correlation {capability.corr(truth):.4f}")


if __name__ == "__main__":
    main()
