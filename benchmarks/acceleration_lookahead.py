"""How much does the calibration sweep's look-ahead flatter the detection delay?

The sweep fits each world once on all its scores, so at a checkpoint the earlier models are
measured with benchmarks that came later. Here a few accelerated worlds are watched quarterly
both ways with the same rule: (a) as in the sweep, one fit on everything; (b) in real time, a
fresh fit at every checkpoint on the scores reported by then. The script prints the first
firing after the onset, in months, for both.

    python benchmarks/acceleration_lookahead.py --rule-from results/calibration \
        --factors 2,4 --seeds 1,2,4,5 --workers 2
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor

import pandas as pd


def watch_both(factor: float, seed: int, rule: dict) -> dict:
    from rosetta.acceleration import Rule, analyse
    from rosetta.acceleration.calibration import SweepSettings, fit_world, simulate
    from rosetta.errors import RosettaError

    settings = SweepSettings()
    rule = Rule(**rule)
    table, truth = simulate(factor, seed, settings)
    onset = pd.Timestamp(settings.onset)
    checkpoints = pd.date_range(onset, settings.watch_end, freq="3MS", inclusive="left")

    def verdict(draws, models, date):
        dates = pd.DatetimeIndex(truth.models.loc[models, "date"])
        try:
            result = analyse(draws, dates, population=rule.population, until=date, rule=rule)
        except RosettaError:
            return None
        return result.p_above[rule.ratio]

    full = fit_world(table, settings, seed)
    rows = []
    for date in checkpoints:
        known = table[table["reported"] <= date]
        now = fit_world(known, settings, seed)
        rows.append(
            {
                "date": date.date().isoformat(),
                "p_lookahead": verdict(full[0], full[1], date),
                "p_realtime": verdict(now[0], now[1], date),
            }
        )

    def first(key):
        for i, row in enumerate(rows):
            if row[key] is not None and row[key] >= rule.threshold:
                return 3 * i
        return None

    return {
        "factor": factor,
        "seed": seed,
        "delay_lookahead": first("p_lookahead"),
        "delay_realtime": first("p_realtime"),
        "checkpoints": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rule-from", required=True, help="a rosetta calibrate --out folder")
    parser.add_argument("--factors", default="2,4")
    parser.add_argument("--seeds", default="1,2,4,5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="results/acceleration_lookahead.jsonl")
    args = parser.parse_args()

    from rosetta.acceleration.calibration import summarise_folder

    rule = summarise_folder(args.rule_from).rule
    print("rule:", rule)
    tasks = [(float(f), int(s)) for f in args.factors.split(",") for s in args.seeds.split(",")]
    with ProcessPoolExecutor(args.workers) as pool, open(args.out, "w") as out:
        futures = [pool.submit(watch_both, f, s, rule) for f, s in tasks]
        for future in futures:
            result = future.result()
            out.write(json.dumps(result) + "\n")
            print(
                f"factor {result['factor']:g} seed {result['seed']}: months to first firing "
                f"look-ahead {result['delay_lookahead']}, real time {result['delay_realtime']}"
            )


if __name__ == "__main__":
    main()
