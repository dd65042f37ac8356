"""Back-test of `rosetta.saturation`: forecast from a cutoff, compare with when 50% was reached.

Usage::

    .venv/bin/python benchmarks/saturation_backtest.py [--cutoff 2024-01-01 --cutoff 2024-07-01]
        [--level 0.5] [--out results/saturation]

For each cutoff the measurement model is refitted on the models released before it (default fit
settings, as `rosetta.backtest`), and every benchmark of that fit whose observed scores were all
below the level before the cutoff and reached it after is forecast. The actual date is the
release of the first model observed at or above the level. Reported for both frontier lines
(``envelope``, the default, and ``frontier``): every benchmark tried, its forecast median and
interval, the error of the median (days), whether the interval covers the actual date, and per
cutoff and overall the median absolute error and the interval's coverage.

The truth is an observed score, the forecast an expected score of the frontier trend: a model
that reached the level but was not evaluated on the benchmark delays the "actual" date.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

import rosetta
from rosetta.constants import DEFAULT_SEED
from rosetta.data import load_scores
from rosetta.saturation_forecast import LINES


def early_fit(table, cutoff: pd.Timestamp, path: Path):
    """The fit of the models released before ``cutoff`` (kept at ``path``)."""
    if path.is_file():
        return rosetta.load(path)
    rows = table.scores[table.scores["date"] < cutoff]
    train = load_scores(rows, metadata=False, keep_largest_component=True)
    fitted = rosetta.fit(train, random_seed=DEFAULT_SEED, progress=False)
    fitted.save(path)
    return fitted


def crossings(table, fitted, cutoff: pd.Timestamp, level: float) -> pd.Series:
    """Actual crossing dates of the benchmarks below ``level`` before the cutoff, above after."""
    scores = table.scores
    known = set(fitted.posterior["benchmark"].to_numpy().astype(str))
    out = {}
    for bench, rows in scores[scores["benchmark"].isin(known)].groupby("benchmark"):
        before, after = rows[rows["date"] < cutoff], rows[rows["date"] >= cutoff]
        if before["score"].max() < level and (after["score"] >= level).any():
            out[bench] = after.loc[after["score"] >= level, "date"].min()
    return pd.Series(out, dtype="datetime64[ns]")


def forecast_rows(fitted, actual: pd.Series, cutoff, level: float, line: str) -> list[dict]:
    """One row per benchmark tried: the forecast, its error and whether it covers the truth."""
    forecast = rosetta.saturation(fitted, list(actual.index), levels=[level], line=line).table
    rows = []
    for _, f in forecast.iterrows():
        truth = actual[f["benchmark"]]
        # An interval end past the horizon is open: it covers every later date.
        covered = (
            not pd.isna(f["lo"]) and f["lo"] <= truth and (pd.isna(f["hi"]) or truth <= f["hi"])
        )
        rows.append(
            {
                "line": line,
                "cutoff": str(cutoff.date()),
                "benchmark": f["benchmark"],
                "actual": str(truth.date()),
                **{k: None if pd.isna(f[k]) else str(f[k].date()) for k in ("median", "lo", "hi")},
                "status": f["status"],
                "error_days": None if pd.isna(f["median"]) else int((f["median"] - truth).days),
                "covered": bool(covered),
            }
        )
    return rows


def scores(rows: list[dict]) -> dict:
    errors = [r["error_days"] for r in rows if r["error_days"] is not None]
    return {
        "benchmarks": len(rows),
        "median_abs_error_days": float(np.median(np.abs(errors))) if errors else None,
        "median_error_days": float(np.median(errors)) if errors else None,
        "coverage": float(np.mean([r["covered"] for r in rows])) if rows else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutoff", action="append", default=None)
    parser.add_argument("--level", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=Path("results/saturation"))
    args = parser.parse_args()
    cutoffs = [pd.Timestamp(c) for c in (args.cutoff or ["2024-01-01", "2024-07-01", "2025-01-01"])]
    args.out.mkdir(parents=True, exist_ok=True)
    table = rosetta.load_epoch(min_benchmarks=4, since="2022-11-01")
    rows = []
    for cutoff in cutoffs:
        fitted = early_fit(table, cutoff, args.out / f"fit_{cutoff.date()}.nc")
        actual = crossings(table, fitted, cutoff, args.level)
        for line in LINES:
            rows += forecast_rows(fitted, actual, cutoff, args.level, line) if len(actual) else []
    summary = {
        line: {
            **{
                str(c.date()): scores(
                    [r for r in rows if r["line"] == line and r["cutoff"] == str(c.date())]
                )
                for c in cutoffs
            },
            "all": scores([r for r in rows if r["line"] == line]),
        }
        for line in LINES
    }
    result = {"level": args.level, "summary": summary, "tried": rows}
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    print(pd.DataFrame(rows).to_string(index=False))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
