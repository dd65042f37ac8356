"""Calibrate `rosetta.algorithmic_progress` on synthetic worlds shaped like the bundled data.

Usage::

    .venv/bin/python benchmarks/calibrate_progress.py [--worlds 40] [--out results/...jsonl]

Each world comes from `rosetta.simulate.simulate_progress` with family-specific compute slopes
and a known ``g``, sized and paced like the bundled table's models with compute (measured on the
bundled fit: 70 non-distilled models, 11 families of several sizes holding 29 of them, release
dates over 2.5 years, log-compute growing 0.96 decades a year, a median capability posterior sd
of 0.15 from a median of 7 benchmarks per model; and the Bayesian regression's own estimates
there before its Mundlak term: k 0.50, family slope sd 0.13, family intercept sd 0.23, model
scatter 0.11, g 0.57).
The whole pipeline runs per world: the measurement model is fitted by NUTS on the simulated
scores, anchored at benchmark b00, and both estimators of `progress` read its posterior. The
script reports how often the 90% intervals of the efficiency gain and of the mean k (converted
to the anchored scale) contain the truth. Finished worlds are appended to ``--out`` and skipped
on a rerun. ``--oracle`` skips the measurement model: the regression reads the true
capabilities (with a 0.02 jitter as their "posterior"), which separates what the measurement
stage costs from what the regression does.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

WORLD = {
    "n_families": 11,
    "sizes_per_family": 3,
    "n_single": 38,
    "n_benchmarks": 12,
    "k": 0.5,
    "k_sd": 0.13,
    "b_growth": 0.57,
    "compute_growth": 0.96,
    "years": 2.5,
    "family_sd": 0.23,
    "residual_sd": 0.11,
    "observed_fraction": 0.5,
}


def one_world(seed: int, oracle: bool = False) -> dict:
    from rosetta.algorithmic_progress import progress
    from rosetta.simulate import simulate_progress

    frame, truth = simulate_progress(**WORLD, random_seed=seed)
    start = time.perf_counter()
    idata = oracle_fit(frame, truth, seed) if oracle else measurement_fit(frame, seed)
    families = truth.models["family"].to_dict()
    row = {
        "seed": seed,
        "true_gain": truth.efficiency_gain,
        "true_k": truth.k if oracle else truth.k_on("b00"),
        "fit_seconds": time.perf_counter() - start,
    }
    for method in ("bayesian", "two-stage"):
        out = progress(
            idata, method=method, families=families, sensitivity=False, random_seed=seed
        ).to_dict()
        row[method] = {
            "gain": out["efficiency_gain_per_year"],
            "k": out["k"],
            "diagnostics": out["diagnostics"],
        }
    return row


def measurement_fit(frame, seed: int):
    from rosetta.data import load_scores
    from rosetta.model import MeasurementSpec, fit
    from rosetta.scale import Scale

    table = load_scores(frame, metadata=False)
    spec = MeasurementSpec(scale=Scale(benchmark="b00"))
    return fit(table, spec, draws=500, tune=500, chains=2, random_seed=seed, progress=False)


def oracle_fit(frame, truth, seed: int):
    """A fit-shaped InferenceData whose capability draws are the truth plus a 0.02 jitter."""
    import arviz as az
    import xarray as xr

    exact = truth.scores.capability
    jitter = np.random.default_rng(seed).normal(0, 0.02, (1, 400, len(exact)))
    info = frame.groupby("model")[["date", "compute"]].first().reindex(exact.index)
    coords = {"model": exact.index.to_numpy()}
    posterior = xr.Dataset(
        {"capability": (("chain", "draw", "model"), exact.to_numpy() + jitter)}, coords=coords
    )
    constant = xr.Dataset(
        {
            "release_date": ("model", info["date"].to_numpy()),
            "compute": ("model", info["compute"].to_numpy()),
            "distilled": ("model", np.zeros(len(exact))),
        },
        coords=coords,
    )
    return az.InferenceData(posterior=posterior, constant_data=constant)


def coverage(rows: list[dict], method: str) -> dict:
    def inside(key, truth):
        return np.mean([r[method][key]["lo"] <= r[truth] <= r[method][key]["hi"] for r in rows])

    spans = [r[method]["gain"]["hi"] / r[method]["gain"]["lo"] for r in rows]
    return {
        "worlds": len(rows),
        "gain_coverage": float(inside("gain", "true_gain")),
        "k_coverage": float(inside("k", "true_k")),
        "median_gain_hi_over_lo": float(np.median(spans)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worlds", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("results/calibrate_progress.jsonl"))
    parser.add_argument("--oracle", action="store_true", help="True capabilities, no fit.")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if args.out.exists():
        done = {r["seed"]: r for r in map(json.loads, args.out.read_text().splitlines())}
    for seed in range(args.worlds):
        if seed in done:
            continue
        row = one_world(seed, args.oracle)
        with args.out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        done[seed] = row
        print(f"world {seed}: gain {row['bayesian']['gain']} truth {row['true_gain']:.2f}")
    rows = [done[s] for s in range(args.worlds)]
    print(json.dumps({m: coverage(rows, m) for m in ("bayesian", "two-stage")}, indent=2))


if __name__ == "__main__":
    main()
