"""Recovery of learned dimensions from a simulated table: loadings, their intervals, capabilities.

Usage::

    rosetta simulate --models 300 --benchmarks 100 --observed-fraction 0.25 --dimensions 3 \\
        --seed 5 --out sim3.csv --truth models.csv --truth-benchmarks benchmarks.csv
    rosetta fit sim3.csv --dimensions 3 --anchor-benchmark b00 --out sim3.nc   # or --auto
    .venv/bin/python benchmarks/dimension_recovery.py sim3.nc models.csv benchmarks.csv

The truth is put on the fit's scale (a benchmark anchor at difficulty 0, slope 1 stretches
loadings by that benchmark's true slope) and in its form (the true scores whitened, as
`rosetta.dimensions.align_dimensions` whitens each draw's), and the fit's posterior-mean
loadings are turned onto it by the best orthogonal rotation (loadings are identified up to one).
It prints the correlation of loadings (all, and per dimension), of dimension scores and of
general capabilities with the truth, and the share of each inside its 90% intervals (loadings
and scores turned into the fit's orientation; loadings also for the smaller and the larger half
of the true ones), of each benchmark's strength (the length of its loadings, which no rotation
changes), and of the contributions ``score . loading`` of every model and benchmark, which are
identified (loadings alone are only up to a rotation and, with the scores, a split of scale).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.linalg import sqrtm

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
    score = post["dimension_score"].transpose("chain", "draw", "model", "dimension")
    true_score = models.loc[score["model"].to_numpy(), :].filter(like="_score").to_numpy()
    # the truth in the fit's form: scores of unit covariance over the fitted models
    root = sqrtm(true_score.T @ true_score / len(true_score)).real
    true, true_score = true @ root, true_score @ np.linalg.inv(root)
    u, _, vt = np.linalg.svd(draws.mean(axis=0).T @ true)
    turn = u @ vt  # fit orientation -> truth orientation
    estimate = draws.mean(axis=0) @ turn
    inside = _inside(draws, true @ turn.T)
    per_dimension = [np.corrcoef(estimate[:, k], true[:, k])[0, 1] for k in range(true.shape[1])]
    large = np.abs(true) >= np.median(np.abs(true))
    print(
        f"loadings: correlation {np.corrcoef(estimate.ravel(), true.ravel())[0, 1]:.3f} "
        f"(per dimension {', '.join(f'{r:.3f}' for r in per_dimension)}); "
        f"90% intervals hold {inside.mean():.2f} of the true loadings ({inside[~large].mean():.2f}"
        f" of the smaller half, {inside[large].mean():.2f} of the larger); length of the "
        f"estimate over the truth's {np.linalg.norm(estimate) / np.linalg.norm(true):.3f}"
    )
    strength = post["dimension_strength"].transpose("chain", "draw", "benchmark")
    strength = strength.to_numpy().reshape(-1, strength.shape[-1])
    true_strength = np.linalg.norm(true, axis=1)
    print(
        f"strengths (length of each benchmark's loadings, no rotation): correlation "
        f"{np.corrcoef(strength.mean(axis=0), true_strength)[0, 1]:.3f}; 90% intervals hold "
        f"{_inside(strength, true_strength).mean():.2f}; mean estimate over the truth "
        f"{strength.mean(axis=0).sum() / true_strength.sum():.3f}"
    )
    score_draws = score.to_numpy().reshape(-1, *score.shape[2:])
    print(
        f"dimension scores: correlation "
        f"{np.corrcoef((score_draws.mean(axis=0) @ turn).ravel(), true_score.ravel())[0, 1]:.3f}"
        f"; 90% intervals hold {_inside(score_draws, true_score @ turn.T).mean():.2f}"
    )
    # what the dimensions add to each model x benchmark (identified: no rotation, no split)
    subset = np.random.default_rng(0).permutation(len(draws))[:_PRODUCT_DRAWS]
    products = np.einsum("smk,sbk->smb", score_draws[subset], draws[subset])
    print(
        f"contributions (scores x loadings of every model and benchmark): 90% intervals hold "
        f"{_inside(products, true_score @ true.T).mean():.3f}"
    )
    capability = post["capability"].transpose("chain", "draw", "model")
    on_scale = benchmarks.loc[anchor, "slope"] * (
        models["capability"].reindex(capability["model"].to_numpy()).to_numpy()
        - benchmarks.loc[anchor, "difficulty"]
    )
    means = capability.mean(("chain", "draw")).to_numpy()
    held = _inside(capability.to_numpy().reshape(-1, capability.shape[-1]), on_scale)
    print(
        f"capabilities: correlation {np.corrcoef(means, on_scale)[0, 1]:.4f}; 90% intervals "
        f"hold {held.mean():.2f}"
    )


#: Draws (at random) whose model x benchmark contributions are computed.
_PRODUCT_DRAWS = 400


def _inside(draws: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Whether each true value lies in the 90% interval of its draws (draws on axis 0)."""
    lo, hi = interval(draws, 0.9, axis=0)
    return (truth >= lo) & (truth <= hi)


if __name__ == "__main__":
    main()
