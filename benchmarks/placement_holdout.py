"""Placing a benchmark from a few models: held-out accuracy of `rosetta.place` on the bundled data.

Usage::

    .venv/bin/python benchmarks/placement_holdout.py [--min-models 15] [--repeats 5] \
        [--out results/placement]

Each benchmark with at least ``--min-models`` models is held out in turn: the measurement model
is refitted without it (default fit settings), the benchmark is placed from ``k`` = 5 and 10
randomly chosen models (``--repeats`` draws of them), and the scores of its other models are
predicted. Reported per k, pooled over every predicted score: the mean absolute error of the
expected score and the share of scores inside their 90% predictive interval; per benchmark the
same, next to two floors: the error of placing it from all its models and predicting those same
models (``all_models_mae``: what any placement on the refit's capabilities can reach) and the
full fit's own in-sample error (``in_sample_mae``: the benchmark also informed the capabilities).
Each finished benchmark is appended to ``OUT/benchmarks.jsonl``, so a run resumes; the refits
are kept as ``OUT/without_{i}.nc`` (delete the jsonl to re-score them without refitting).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import rosetta
from rosetta.constants import DEFAULT_SEED
from rosetta.prediction import expected_score

SIZES = (5, 10)


def in_sample_mae(full, rows) -> float:
    """Mean absolute error of the full fit's own expected scores (family effects included)."""
    posterior = full.posterior
    bench = rows["benchmark"].iloc[0]
    models = rows["model"].tolist()
    mean = expected_score(posterior, models, [bench] * len(models)).mean(("chain", "draw"))
    return float(np.mean(np.abs(mean.to_numpy().ravel() - rows["score"].to_numpy())))


def hold_out(table, bench: str, repeats: int, seed: int, path: Path) -> dict:
    """Refit without ``bench`` (kept at ``path``), place it from k models ``repeats`` times,
    score the rest."""
    keep = (table.scores["benchmark"] != bench).to_numpy()
    start = time.perf_counter()
    if path.is_file():
        refit = rosetta.load(path)
    else:
        refit = rosetta.fit(
            table.subset(keep), random_seed=DEFAULT_SEED, progress=False, warn=False
        )
        refit.save(path)
    fit_seconds = time.perf_counter() - start
    rows = table.scores[table.scores["benchmark"] == bench]
    rows = rows[rows["model"].isin(refit.posterior["model"].to_numpy().astype(str))]
    rng = np.random.default_rng(seed)
    out = {
        "benchmark": bench,
        "n_models": len(rows),
        "fit_seconds": fit_seconds,
        "rhat": refit.diagnostics["max_rhat"],
    }
    # The floor: placed from every one of its models and scored on the same models.
    everyone = rosetta.place(refit, rows[["model", "benchmark", "score", "floor"]])
    own = everyone.predicted.set_index("model").loc[rows["model"], "mean"].to_numpy()
    out["all_models_mae"] = float(np.mean(np.abs(own - rows["score"].to_numpy())))
    for k in SIZES:
        errors, inside, notes = [], [], 0
        for _ in range(repeats):
            chosen = rng.choice(len(rows), size=k, replace=False)
            given = rows.iloc[chosen]
            placed = rosetta.place(
                refit,
                given[["model", "benchmark", "score", "floor"]],
                random_seed=int(rng.integers(2**31)),
            )
            predicted = placed.predicted.set_index("model")
            rest = rows.drop(rows.index[chosen]).set_index("model")
            p = predicted.loc[rest.index]
            errors += list(np.abs(p["mean"] - rest["score"]))
            inside += list((rest["score"] >= p["score_lo"]) & (rest["score"] <= p["score_hi"]))
            notes += len(placed.notes[bench])
        out[f"k{k}"] = {
            "mae": float(np.mean(errors)),
            "coverage": float(np.mean(inside)),
            "n_predicted": len(errors),
            "errors": errors,
            "inside": inside,
            "notes": notes,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-models", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results/placement"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "benchmarks.jsonl"
    done = {}
    if log.is_file():
        done = {r["benchmark"]: r for r in map(json.loads, log.read_text().splitlines())}
    table = rosetta.load_epoch(min_benchmarks=4, since="2022-11-01")
    full_path = args.out / "full.nc"
    if full_path.is_file():
        full = rosetta.load(full_path)
    else:
        full = rosetta.fit(table, random_seed=DEFAULT_SEED, progress=False)
        full.save(full_path)
    counts = table.scores.groupby("benchmark")["model"].nunique()
    chosen = sorted(counts[counts >= args.min_models].index)
    for i, bench in enumerate(chosen):
        if bench in done:
            continue
        row = hold_out(table, bench, args.repeats, args.seed + i, args.out / f"without_{i}.nc")
        rows = table.scores[table.scores["benchmark"] == bench]
        row["in_sample_mae"] = in_sample_mae(full, rows)
        with log.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        done[bench] = row
        print(
            f"{bench}: k5 MAE {row['k5']['mae']:.3f}, k10 {row['k10']['mae']:.3f} "
            f"(all models {row['all_models_mae']:.3f}, in-sample {row['in_sample_mae']:.3f}; "
            f"fit {row['fit_seconds']:.0f} s)",
            flush=True,
        )
    rows = [done[b] for b in chosen]
    summary = {"benchmarks": len(rows)}
    for k in SIZES:
        errors = np.concatenate([r[f"k{k}"]["errors"] for r in rows])
        inside = np.concatenate([r[f"k{k}"]["inside"] for r in rows])
        summary[f"k{k}"] = {
            "mae": float(errors.mean()),
            "coverage": float(inside.mean()),
            "median_benchmark_mae": float(np.median([r[f"k{k}"]["mae"] for r in rows])),
        }
    summary["in_sample_mae"] = float(np.mean([r["in_sample_mae"] for r in rows]))
    summary["all_models_mae"] = float(np.mean([r["all_models_mae"] for r in rows]))
    summary["per_benchmark"] = {
        r["benchmark"]: {
            "n_models": r["n_models"],
            "in_sample_mae": round(r["in_sample_mae"], 4),
            "all_models_mae": round(r["all_models_mae"], 4),
            **{
                f"k{k}": [round(r[f"k{k}"]["mae"], 4), round(r[f"k{k}"]["coverage"], 3)]
                for k in SIZES
            },
        }
        for r in rows
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
