"""How many benchmarks does a new model need? Adaptive order (`rosetta.suggest`) against others.

Usage::

    .venv/bin/python benchmarks/adaptive_testing.py [--folds 5] [--out results/adaptive]

On the bundled data (as `make fit` reads it), the models are split into ``--folds`` folds;
each fold's models are held out
of a refit (default fit settings) and then treated as new models. Each held-out model starts from
one of its scores (chosen at random, the same start for every order) and adds its other scores
one at a time in four orders:

- ``adaptive``: the benchmark `rosetta.suggest` ranks first among those it has a score on;
- ``random``: a random order;
- ``most_evaluated``: the benchmarks with most models in the fold's fit first;
- ``oracle``: the benchmark whose score brings the capability closest to its all-scores value
  (it needs the answer: a ceiling for any order, not a strategy).

After each addition the model is queried. Reported per order: the mean number of benchmarks
needed until the capability is within 0.1 of its value from all its scores (``within``), until
it stays within 0.1 from then on (``stays``), until its posterior sd is under 0.15 (``sd``), and
until ``within`` or ``sd`` holds (``either``), each counted with the start (``_total``) and as
benchmarks added to it (``_added``), and the saving of the adaptive order against the others
(1 - adaptive / other). Each finished model is appended to
``OUT/models.jsonl``, so an interrupted run resumes where it stopped; fold fits are kept as
``OUT/fold{k}.nc``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import rosetta
from rosetta.constants import DEFAULT_SEED

ORDERS = ("adaptive", "random", "most_evaluated", "oracle")
WITHIN = 0.1
SD = 0.15


def fold_fit(table, held_out: set[str], path: Path):
    """The fit without the held-out models (and benchmarks left with fewer than 2 models)."""
    if path.is_file():
        return rosetta.load(path)
    kept = ~table.scores["model"].isin(held_out)
    counts = table.scores[kept].groupby("benchmark")["model"].nunique()
    keep = kept & table.scores["benchmark"].map(counts).ge(2)
    fitted = rosetta.fit(table.subset(keep.to_numpy()), random_seed=DEFAULT_SEED, progress=False)
    fitted.save(path)
    return fitted


def needed(path: list[tuple[float, float]], full: float) -> dict:
    """Benchmarks used (1-based, the start included) when each criterion first holds along
    ``path`` of (mean, sd); ``stays``: from when the mean stays within 0.1 of ``full``."""

    def first(ok):
        return next((n for n, hit in enumerate(ok, 1) if hit), len(path))

    within = [abs(m - full) < WITHIN for m, _ in path]
    small = [s < SD for _, s in path]
    return {
        "within": first(within),
        "stays": first([all(within[n:]) for n in range(len(path))]),
        "sd": first(small),
        "either": first([a or b for a, b in zip(within, small, strict=True)]),
    }


def run_model(posterior, scores: dict, counts: pd.Series, rng) -> dict:
    """The orders for one held-out model; returns what each needed and its path."""
    full = rosetta.query(posterior, scores).mean
    benchmarks = list(scores)
    start = benchmarks[rng.integers(len(benchmarks))]
    rest = [b for b in benchmarks if b != start]
    out = {"n_scores": len(benchmarks), "start": start, "full": full}
    for order in ORDERS:
        used = [start]
        remaining = list(rest)
        if order == "random":
            remaining = list(rng.permutation(remaining))
        elif order == "most_evaluated":
            remaining.sort(key=lambda b: (-counts.get(b, 0), b))
        path = []
        while True:
            given = {b: scores[b] for b in used}
            if order == "adaptive" and remaining:
                suggestion = rosetta.suggest(posterior, given, n=len(remaining))
                ranked = [b for b in suggestion.ranking.index if b in remaining]
                result = suggestion.query
                remaining.remove(ranked[0])
                chosen = ranked[0]
            elif order == "oracle" and remaining:
                result = rosetta.query(posterior, given)
                gaps = {
                    b: abs(rosetta.query(posterior, {**given, b: scores[b]}).mean - full)
                    for b in remaining
                }
                chosen = min(gaps, key=gaps.get)
                remaining.remove(chosen)
            else:
                result = rosetta.query(posterior, given)
                chosen = remaining.pop(0) if remaining else None
            path.append((result.mean, result.sd))
            if chosen is None:
                break
            used.append(chosen)
        out[order] = {**needed(path, full), "order": used, "path": path}
    return out


def report(rows: list[dict]) -> dict:
    """Mean benchmarks per order and criterion, counted with the start and as added to it."""
    out = {
        "models": len(rows),
        "mean_scores_per_model": float(np.mean([r["n_scores"] for r in rows])),
    }
    for criterion in ("within", "stays", "sd", "either"):
        for count, offset in (("total", 0), ("added", 1)):
            means = {
                o: float(np.mean([needed(r[o]["path"], r["full"])[criterion] for r in rows]))
                - offset
                for o in ORDERS
            }
            out[f"{criterion}_{count}"] = {
                "mean_benchmarks": means,
                "saving_vs_random": 1 - means["adaptive"] / means["random"],
                "saving_vs_most_evaluated": 1 - means["adaptive"] / means["most_evaluated"],
                "oracle_saving_vs_random": 1 - means["oracle"] / means["random"],
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results/adaptive"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "models.jsonl"
    done = {}
    if log.is_file():
        done = {r["model"]: r for r in map(json.loads, log.read_text().splitlines())}
    table = rosetta.load_epoch(min_benchmarks=4, since="2022-11-01")
    models = np.array(sorted(table.models))
    rng = np.random.default_rng(args.seed)
    folds = np.array_split(rng.permutation(models), args.folds)
    for k, fold in enumerate(folds):
        todo = [m for m in fold if m not in done]
        if not todo:
            continue
        start = time.perf_counter()
        fitted = fold_fit(table, set(fold), args.out / f"fold{k}.nc")
        posterior = fitted.posterior
        known = set(posterior["benchmark"].to_numpy().astype(str))
        counts = fitted.table.scores.groupby("benchmark").size()
        for model in todo:
            rows = table.scores[table.scores["model"] == model]
            scores = {
                b: s for b, s in zip(rows["benchmark"], rows["score"], strict=True) if b in known
            }
            if len(scores) < 2:
                continue
            row = {"model": model, "fold": k, **run_model(posterior, scores, counts, rng)}
            with log.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            done[model] = row
        print(f"fold {k}: {len(todo)} models in {time.perf_counter() - start:.0f} s", flush=True)
    summary = report(list(done.values()))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
