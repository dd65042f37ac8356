"""Wall time, peak memory, file size and convergence of `rosetta fit` and `rosetta validate`.

Usage::

    .venv/bin/python benchmarks/bench_large.py large [--repeats 3]      # 300 x 200 synthetic
    .venv/bin/python benchmarks/bench_large.py bundled [--seeds 2025 2026 2027 2028 2029]
    .venv/bin/python benchmarks/bench_large.py validate [--folds 10]
    .venv/bin/python benchmarks/bench_large.py approx [--repeats 3]     # fast paths vs NUTS

Every run is the command a user types, in a fresh process (imports, compilation, sampling,
checks and writing the file included), with default settings:

- ``large``: ``rosetta simulate --models 300 --benchmarks 200 --observed-fraction 0.23
  --seed 5`` (14,403 scores with 50 items each: the beta-binomial likelihood), then ``rosetta
  fit`` on it ``--repeats`` times (seeds 1, 2, ...).
- ``bundled``: ``rosetta fit --min-benchmarks 4 --since 2022-11-01`` once per seed.
- ``validate``: ``rosetta validate --min-benchmarks 4 --since 2022-11-01 --folds 10`` (per run
  also the folds that converged and the median draws per chain at which folds stopped).
- ``approx``: the ``large`` table fitted ``--method map`` and ``--method advi`` (seeds 1, 2, ...)
  beside one NUTS fit (seed 1): wall time and memory of each, the approximation's distance from
  NUTS (`rosetta.comparison.approximation_accuracy`: capabilities, difficulties, slopes) and how
  well each recovers the true capabilities (correlation, 90% interval coverage).

It prints, per run, wall seconds, the peak resident memory of the process, the posterior file's
size, the draws kept per chain, max R-hat, min bulk ESS and divergences, then the medians; with
``--out`` it also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROSETTA = str(Path(sys.executable).with_name("rosetta"))
BUNDLED = ["--min-benchmarks", "4", "--since", "2022-11-01"]


def run(args: list[str]) -> dict:
    """Run ``rosetta ARGS --json`` in a fresh process: its JSON, wall seconds and peak memory."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen([ROSETTA, *args, "--json"], stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise RuntimeError(f"rosetta {' '.join(args)} exited with {process.returncode}")
        out.seek(0)
        result = json.load(out)
    # ru_maxrss is in kilobytes on Linux
    return {"wall_s": round(wall, 1), "peak_mb": round(usage.ru_maxrss / 1024), **result}


def fit_runs(data: list[str], seeds: list[int], folder: Path) -> list[dict]:
    rows = []
    for seed in seeds:
        path = folder / f"fit_{seed}.nc"
        result = run(["fit", *data, "--seed", str(seed), "--out", str(path)])
        from rosetta import Fit

        fitted = Fit.load(path)
        rows.append(
            {
                "seed": seed,
                "wall_s": result["wall_s"],
                "sampling_s": result["fit_seconds"],
                "peak_mb": result["peak_mb"],
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "draws_per_chain": fitted.info.draws,
                "max_rhat": round(result["max_rhat"], 4),
                "min_ess_bulk": round(result["min_ess_bulk"]),
                "divergences": result["divergences"],
                "converged": result["converged"],
            }
        )
        print(rows[-1], flush=True)
    return rows


def approx_runs(table: Path, truth: tuple[Path, Path], repeats: int, folder: Path) -> list[dict]:
    from rosetta import Fit
    from rosetta.comparison import approximation_accuracy

    nuts = fit_runs([str(table)], [1], folder)[0]
    reference = Fit.load(folder / "fit_1.nc")
    rows = [{"method": "nuts", **nuts, **_recovery(reference, truth)}]
    for method in ("map", "advi"):
        for seed in range(1, repeats + 1):
            path = folder / f"{method}_{seed}.nc"
            args = ["fit", str(table), "--method", method, "--seed", str(seed), "--out", str(path)]
            result = run(args)
            approximate = Fit.load(path)
            accuracy = approximation_accuracy(approximate, reference).round(3)
            row = {"method": method, "seed": seed, "wall_s": result["wall_s"]}
            row |= {"sampling_s": result["fit_seconds"], "peak_mb": result["peak_mb"]}
            row |= _recovery(approximate, truth)
            row["against_nuts"] = accuracy.to_dict(orient="index")
            print(row, flush=True)
            rows.append(row)
    return rows


def _recovery(fit, truth: tuple[Path, Path]) -> dict:
    """Correlation of the capability means with the truth (models, benchmarks files), and its
    90% interval coverage."""
    import pandas as pd

    from rosetta.intervals import interval

    models, benchmarks = (pd.read_csv(path, index_col=0) for path in truth)
    anchor = fit.info.scale.benchmark
    draws = fit.posterior["capability"].stack(sample=("chain", "draw")).transpose("sample", ...)
    true = benchmarks.loc[anchor, "slope"] * (
        models["capability"].reindex(draws["model"].to_numpy()).to_numpy()
        - benchmarks.loc[anchor, "difficulty"]
    )
    low, high = interval(draws.to_numpy())
    return {
        "capability_corr_truth": round(float(np.corrcoef(draws.mean("sample"), true)[0, 1]), 4),
        "capability_coverage_90": round(float(((true >= low) & (true <= high)).mean()), 3),
    }


def validate_run(folds: int) -> list[dict]:
    result = run(["validate", *BUNDLED, "--folds", str(folds)])
    row = {
        "wall_s": result["wall_s"],
        "peak_mb": result["peak_mb"],
        "rmse": round(result["rmse"], 5),
        "coverage": round(result["coverage"], 4),
        "folds_converged": sum(bool(f["ok"]) for f in result["per_fold"]),
        "worst_rhat": max(f["max_rhat"] for f in result["per_fold"]),
        "lowest_ess": round(min(f["min_ess_bulk"] for f in result["per_fold"])),
        "fold_draws": statistics.median(f["draws"] for f in result["per_fold"]),
    }
    print(row, flush=True)
    return [row]


def medians(rows: list[dict]) -> dict:
    """Medians of the numeric columns, per method where rows have one."""
    methods = {r.get("method") for r in rows}
    if len(methods) > 1:
        return {m: medians([r for r in rows if r["method"] == m]) for m in sorted(methods)}
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float) and k != "seed"]
    return {k: statistics.median(float(r[k]) for r in rows) for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["large", "bundled", "validate", "approx"])
    parser.add_argument("--repeats", type=int, default=3, help="large, approx: seeds 1..N")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2025, 2026, 2027, 2028, 2029])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--out", type=Path, help="also write the rows and medians as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.case in ("large", "approx"):
            table = folder / "large.csv"
            truth = (folder / "truth.csv", folder / "truth_benchmarks.csv")
            simulate = ["simulate", "--models", "300", "--benchmarks", "200"]
            simulate += ["--observed-fraction", "0.23", "--seed", "5", "--out", str(table)]
            simulate += ["--truth", str(truth[0]), "--truth-benchmarks", str(truth[1])]
            run(simulate)
            if args.case == "large":
                rows = fit_runs([str(table)], list(range(1, args.repeats + 1)), folder)
            else:
                rows = approx_runs(table, truth, args.repeats, folder)
        elif args.case == "bundled":
            rows = fit_runs(BUNDLED, args.seeds, folder)
        else:
            rows = validate_run(args.folds)
    summary = {"case": args.case, "cores": os.cpu_count(), "runs": rows, "median": medians(rows)}
    print("median:", summary["median"])
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
