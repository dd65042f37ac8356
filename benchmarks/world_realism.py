"""Do the simulated worlds of `rosetta calibrate` look like the bundled data?

Scale-free numbers, side by side: for the bundled table from its fit (posterior means, benchmark
release dates from the bundled metadata), for the worlds from their truth (median over worlds).

- growth / scatter: the all-models growth per year over the sd of models around that line;
- lead: a benchmark's 50% point above the frontier line on its release date, in years of
  frontier progress (benchmarks released within the models' span);
- logits / year: a benchmark's slope times the frontier growth (how fast it saturates);
- models and benchmarks a year, the share of model x benchmark pairs with a score, and the
  median number of scores per model;
- with ``--sweep FOLDER`` (a `rosetta calibrate` folder), the measurement error: the median
  posterior sd of a capability in years of all-models growth (the worlds' from their fits).

    python benchmarks/world_realism.py results/posterior.nc --worlds 20 \
        --sweep results/calibration_tracking
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from rosetta.trends import years_since

ORIGIN = pd.Timestamp("2020-01-01")


def statistics(capability, model_dates, difficulty, slope, bench_dates, scores) -> dict:
    """The numbers of the module docstring for one world or table."""
    x = years_since(pd.DatetimeIndex(model_dates), ORIGIN)
    order = np.argsort(x)
    best = np.maximum.accumulate(capability[order])
    on_frontier = capability[order] >= best
    frontier = np.polyfit(x[order][on_frontier], capability[order][on_frontier], 1)
    line = np.polyfit(x, capability, 1)
    scatter = np.std(capability - np.polyval(line, x))
    xb = years_since(pd.DatetimeIndex(bench_dates), ORIGIN)
    inside = np.isfinite(xb) & (xb >= x.min()) & (xb <= x.max())
    lead = (difficulty[inside] - np.polyval(frontier, xb[inside])) / frontier[0]
    logits = slope * frontier[0]
    span = x.max() - x.min()
    return {
        "growth / scatter (per year)": line[0] / scatter,
        "lead median (years)": np.median(lead),
        "lead IQR low (years)": np.percentile(lead, 25),
        "lead IQR high (years)": np.percentile(lead, 75),
        "logits / year median": np.median(logits),
        "logits / year 10%": np.percentile(logits, 10),
        "logits / year 90%": np.percentile(logits, 90),
        "models / year": len(x) / span,
        "benchmarks / year (in span)": inside.sum() / span,
        "pairs with a score": len(scores)
        / (scores["model"].nunique() * scores["benchmark"].nunique()),
        "scores per model (median)": scores.groupby("model").size().median(),
    }


def bundled(path: str) -> dict:
    """`statistics` of the bundled table from its saved fit."""
    import rosetta
    from rosetta.data.epoch import read_benchmark_metadata
    from rosetta.trends import release_dates

    fit = rosetta.load(path)
    post = fit.posterior.mean(("chain", "draw"))
    benchmarks = post["benchmark"].to_numpy()
    released = read_benchmark_metadata()["release_date"].reindex(benchmarks)
    dates = release_dates(fit, None).to_numpy()
    out = statistics(
        post["capability"].to_numpy(),
        dates,
        post["difficulty"].to_numpy(),
        post["slope"].to_numpy(),
        released.to_numpy(),
        fit.table.scores,
    )
    growth = np.polyfit(years_since(pd.DatetimeIndex(dates), ORIGIN), post["capability"], 1)[0]
    sd = fit.posterior["capability"].std(("chain", "draw")).median()
    out["measurement sd (years)"] = float(sd) / growth
    return out


def worlds(design: str, n: int) -> dict:
    """Median `statistics` over ``n`` null worlds of ``design``."""
    from rosetta.simulate import simulate_world

    rows = []
    for seed in range(n):
        table, truth = simulate_world(benchmarks=design, random_seed=seed)
        models = truth.models.index
        bench = truth.scores.benchmarks
        rows.append(
            statistics(
                truth.scores.capability[models].to_numpy(),
                truth.models["date"].to_numpy(),
                bench["difficulty"].to_numpy(),
                bench["slope"].to_numpy(),
                truth.benchmarks.loc[bench.index, "date"].to_numpy(),
                table,
            )
        )
    return pd.DataFrame(rows).median().to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("posterior", help="the bundled fit (make fit)")
    parser.add_argument("--worlds", type=int, default=20, help="null worlds per design")
    parser.add_argument("--sweep", help="a rosetta calibrate folder of the tracking design")
    args = parser.parse_args()
    frame = pd.DataFrame(
        {
            "bundled": bundled(args.posterior),
            "tracking": worlds("tracking", args.worlds),
            "reference": worlds("reference", args.worlds),
        }
    )
    if args.sweep:
        from rosetta.acceleration.calibration import WORLDS_FILE, load_records

        records = load_records(f"{args.sweep}/{WORLDS_FILE}")
        sd = [r["measurement_sd_years"] for r in records if r["factor"] == 1]
        frame.loc["measurement sd (years)", "tracking"] = np.median(sd)
    print(frame.round(2).to_string())


if __name__ == "__main__":
    main()
