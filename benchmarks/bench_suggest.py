"""Time `rosetta.suggest` against the query it builds on, and how stable its ranking is.

Usage::

    .venv/bin/python benchmarks/bench_suggest.py [--posterior results/posterior.nc] [--repeats 30]

In this process, with the posterior in memory, for a new model with one and with four scores:
the median time of `rosetta.query` and of `rosetta.suggest` (query plus the ranking of every
benchmark not run), measured alternately in the same loop; then, over ``--seeds`` seeds, the
spread of each benchmark's expected variance reduction and how often the top suggestion agrees
with the most frequent one.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

from rosetta.io import load_posterior
from rosetta.placement import query
from rosetta.suggestion import suggest

CASES = {
    "one score": {"MMLU": 0.7},
    "four scores": {"GPQA diamond": 0.71, "MMLU": "88%", "MATH level 5": 0.75, "LiveBench": 0.5},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", type=Path, default=Path("results/posterior.nc"))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    posterior = load_posterior(args.posterior)
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    print(f"posterior: {args.posterior} ({n_draws} draws)")
    for label, scores in CASES.items():
        suggest(posterior, scores)  # warm caches once
        times = {"query": [], "suggest": []}
        for _ in range(args.repeats):
            for name, call in (("query", query), ("suggest", suggest)):
                start = time.perf_counter()
                call(posterior, scores)
                times[name].append(time.perf_counter() - start)
        q, s = (1000 * statistics.median(times[k]) for k in ("query", "suggest"))
        print(f"{label}: query {q:.1f} ms, suggest {s:.1f} ms (ranking {s - q:.1f} ms), medians")
        rankings = [
            suggest(posterior, scores, random_seed=seed).ranking for seed in range(args.seeds)
        ]
        reduction = np.array([r.sort_index()["variance_reduction"] for r in rankings])
        top = Counter(r.index[0] for r in rankings)
        best, count = top.most_common(1)[0]
        print(
            f"  over {args.seeds} seeds: sd of a benchmark's variance reduction "
            f"{reduction.std(axis=0).mean():.3f} (mean over benchmarks; reductions "
            f"{reduction.mean(axis=0).min():.2f}-{reduction.mean(axis=0).max():.2f}); "
            f"top suggestion {best!r} in {count} of {args.seeds}"
        )


if __name__ == "__main__":
    main()
