"""Does a query agree with a refit? Leave one model out, fit, query it, compare with the full fit.

Usage::

    .venv/bin/python benchmarks/query_agreement.py [--models 12] [--out results/query_agreement]

On the bundled data (--min-benchmarks 4 --since 2022-11-01, default fit settings):

1. fit every model (or reuse ``OUT/full.nc``);
2. pick ``--models`` models spread evenly over the capability ranking;
3. for each, fit without it, then query it (a) with all its scores, (b) with 3 and (c) with 2 of
   them chosen at random, and compare with its capability in the full fit.

Reported: the share of models whose query mean lies within one full-fit posterior sd of the
full-fit mean, the mean absolute difference, and how often the 90% interval of the 2- and 3-score
queries contains the full-fit mean. Each finished model is appended to ``OUT/models.jsonl``, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rosetta.constants import DEFAULT_SEED
from rosetta.data import load_epoch
from rosetta.io import load_fit, save_fit
from rosetta.model import fit
from rosetta.placement import query


def full_fit(table, path: Path):
    if path.is_file():
        return load_fit(path)
    idata = fit(table, random_seed=DEFAULT_SEED, progress=False)
    save_fit(idata, path)
    return idata


def without(table, model: str):
    """The table without ``model`` and without benchmarks that then keep a single model."""
    kept = table.scores["model"] != model
    counts = table.scores[kept].groupby("benchmark")["model"].nunique()
    return table.subset(kept & table.scores["benchmark"].map(counts).ge(2).to_numpy())


def compare(table, full, model: str, rng) -> dict:
    own = full.posterior["capability"].sel(model=model)
    truth_mean, truth_sd = float(own.mean()), float(own.std())
    start = time.perf_counter()
    loo = fit(without(table, model), random_seed=DEFAULT_SEED, progress=False, warn=False)
    fit_seconds = time.perf_counter() - start
    rows = table.scores[table.scores["model"] == model]
    known = set(loo.posterior["benchmark"].to_numpy().tolist())
    scores = {b: s for b, s in zip(rows["benchmark"], rows["score"], strict=True) if b in known}
    out = {
        "model": model,
        "n_scores": len(scores),
        "full_mean": truth_mean,
        "full_sd": truth_sd,
        "fit_seconds": fit_seconds,
        "loo_diagnostics": json.loads(loo.posterior.attrs["diagnostics"]),
    }
    for label, k in (("all", len(scores)), ("three", 3), ("two", 2)):
        chosen = rng.choice(sorted(scores), size=min(k, len(scores)), replace=False)
        result = query(loo, {b: scores[b] for b in chosen}, name=model)
        lo, hi = result.interval()
        out[label] = {
            "benchmarks": sorted(chosen.tolist()),
            "mean": result.mean,
            "sd": result.sd,
            "lo": lo,
            "hi": hi,
            "covers_full_mean": bool(lo <= truth_mean <= hi),
            "weight_ess": result.weight_ess,
        }
    return out


def summarise(records: list[dict]) -> dict:
    diff = np.array([r["all"]["mean"] - r["full_mean"] for r in records])
    sd = np.array([r["full_sd"] for r in records])
    return {
        "n_models": len(records),
        "within_one_sd": float(np.mean(np.abs(diff) <= sd)),
        "mean_abs_difference": float(np.mean(np.abs(diff))),
        "mean_full_sd": float(np.mean(sd)),
        "coverage_all": float(np.mean([r["all"]["covers_full_mean"] for r in records])),
        "coverage_three": float(np.mean([r["three"]["covers_full_mean"] for r in records])),
        "coverage_two": float(np.mean([r["two"]["covers_full_mean"] for r in records])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("results/query_agreement"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    table = load_epoch(min_benchmarks=4, since="2022-11-01")
    full = full_fit(table, args.out / "full.nc")
    ranking = full.posterior["capability"].mean(("chain", "draw")).to_series().sort_values()
    picks = ranking.index[np.linspace(0, len(ranking) - 1, args.models).round().astype(int)]
    log = args.out / "models.jsonl"
    lines = log.read_text().splitlines() if log.is_file() else []
    done = {json.loads(line)["model"] for line in lines}
    for i, model in enumerate(picks):
        if model in done:
            continue
        record = compare(table, full, model, np.random.default_rng([DEFAULT_SEED, i]))
        with log.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(
            f"{model:45s} full {record['full_mean']:.3f}±{record['full_sd']:.3f}  "
            f"query(all {record['n_scores']}) "
            f"{record['all']['mean']:.3f}±{record['all']['sd']:.3f}  "
            f"3 scores covers: {record['three']['covers_full_mean']}  "
            f"2 scores covers: {record['two']['covers_full_mean']}",
            flush=True,
        )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    summary = summarise([r for r in records if r["model"] in set(picks)])
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
