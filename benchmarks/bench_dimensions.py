"""Cost and meaning of learned dimensions on the bundled table: `rosetta fit --dimensions K`.

Usage::

    .venv/bin/python benchmarks/bench_dimensions.py --dimensions 2 [--seeds 2025 2026 2027]

For each seed, ``rosetta fit --min-benchmarks 4 --since 2022-11-01`` runs with ``--dimensions
0`` and with ``--dimensions K`` back to back (fresh processes, default settings, the command a
user types), so the two see the same machine load. It prints per run the wall seconds,
convergence (max R-hat, min bulk ESS, divergences) and, for K, the Spearman correlation of its
general capabilities with the one-number model's of the same seed; then the median wall times,
their ratio (the issue's bar: at most 3) and the lowest Spearman (bar: at least 0.98).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from bench_large import BUNDLED, run

from rosetta import Fit
from rosetta.comparison import capability_spearman


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dimensions", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2025, 2026, 2027])
    parser.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            fits = {}
            for k in (0, args.dimensions):
                path = Path(folder) / f"k{k}_{seed}.nc"
                result = run(
                    [
                        "fit",
                        *BUNDLED,
                        "--dimensions",
                        str(k),
                        "--seed",
                        str(seed),
                        "--out",
                        str(path),
                    ]
                )
                fits[k] = Fit.load(path)
                rows.append(
                    {
                        "seed": seed,
                        "dimensions": k,
                        "wall_s": result["wall_s"],
                        "max_rhat": round(result["max_rhat"], 4),
                        "min_ess_bulk": round(result["min_ess_bulk"]),
                        "divergences": result["divergences"],
                        "spearman_vs_k0": round(
                            capability_spearman({"k0": fits[0], "k": fits[k]})["k"], 4
                        ),
                    }
                )
                print(rows[-1], flush=True)
    walls = {
        k: statistics.median(r["wall_s"] for r in rows if r["dimensions"] == k)
        for k in (0, args.dimensions)
    }
    summary = {
        "median_wall_s": walls,
        "ratio": round(walls[args.dimensions] / walls[0], 2),
        "min_spearman": min(r["spearman_vs_k0"] for r in rows if r["dimensions"]),
        "all_converged": all(
            r["max_rhat"] <= 1.01 and r["min_ess_bulk"] >= 400 and not r["divergences"]
            for r in rows
        ),
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"runs": rows, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
