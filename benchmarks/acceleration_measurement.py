"""How much would poorer measurement cost the acceleration detector? A sensitivity check.

The worlds of a `rosetta calibrate` sweep are measured better than the bundled data (the median
posterior sd of a capability is about 0.06 years of progress there, 0.15 on the bundled table;
`benchmarks/world_realism.py`). This replays the detector with the measurement error separate
from the scatter ("all:separate") on each world's saved posterior means, with extra independent
noise added to bring every model's measurement sd to a target (in years of the world's growth),
and calibrates and scores it as `rosetta calibrate` does (rule set on the worlds with seeds
divisible by 3, scored on the rest). An approximation: real measurement errors are correlated
through shared benchmarks, which this noise is not.

    python benchmarks/acceleration_measurement.py results/calibration_tracking --sd-years 0.15 0.3
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.acceleration import RATIOS, sequential
from rosetta.acceleration.calibration import (
    WORLDS_FILE,
    SweepSettings,
    choose_rule,
    load_records,
    simulate,
    summarise,
)


def degraded(record: dict, settings: SweepSettings, sd_years: float, seed: int) -> dict:
    """The record with its separate detector replayed on noisier capabilities."""
    from rosetta.data import load_scores

    table, truth = simulate(record["factor"], record["seed"], settings)
    models = record.get("models") or list(
        load_scores(table.drop(columns="reported"), keep_largest_component=True).models
    )
    mean, sd = np.asarray(record["capability_mean"]), np.asarray(record["capability_sd"])
    pace = np.median(sd) / record["measurement_sd_years"]  # capability units per year
    target = np.maximum(sd_years * pace, sd)
    rng = np.random.default_rng(seed)
    noisy = mean + rng.normal(0, np.sqrt(target**2 - sd**2))
    draws = noisy + target * rng.standard_normal((400, len(noisy)))
    dates = pd.DatetimeIndex(truth.models.loc[models, "date"])
    watch = sequential(
        draws, dates, pd.DatetimeIndex(record["dates"]), population="all", noise="separate"
    )
    p = {f"{r:g}": watch[f"p_above_{r:g}"].fillna(-1.0).tolist() for r in RATIOS}
    return {**record, "p_above": {"all:separate": p}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", help="a rosetta calibrate folder")
    parser.add_argument("--sd-years", type=float, nargs="+", default=[0.15, 0.3])
    args = parser.parse_args()
    records = load_records(f"{args.sweep}/{WORLDS_FILE}")
    settings = SweepSettings(**json.loads(Path(args.sweep, "settings.json").read_text()))
    for sd_years in args.sd_years:
        noisy = [degraded(r, settings, sd_years, i) for i, r in enumerate(records)]
        choose = [r for r in noisy if r["seed"] % 3 == 0]
        score = [r for r in noisy if r["seed"] % 3 != 0]
        rule = choose_rule(choose)
        out = summarise(score, rule)
        delay = {f: d["median"] for f, d in out["detection_delay_months"].items()}
        print(
            f"measurement sd {sd_years:.2f} years: rule P(ratio > {rule.ratio:g}) >= "
            f"{rule.threshold:.4f}; false alarms {out['false_alarm']['k']}/"
            f"{out['false_alarm']['n']}; power within 12 months {out['power_12_months']}; "
            f"median delay (months) {delay}"
        )


if __name__ == "__main__":
    main()
