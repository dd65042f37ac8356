"""Interval calibration of the growth rate (`rosetta.trends`) and efficiency gain (`progress`).

Usage::

    .venv/bin/python benchmarks/calibrate_trend.py [--worlds 40] [--out results/calibrate_trend]

Each synthetic world (`rosetta.simulate.simulate_progress`: families of models released over
three years, capability = k log10(compute) + b(date), compute growing over time) goes through
the whole pipeline: fit the measurement model on the scores alone, anchor, then `trend` and
`progress` on the posterior. The truth never enters the estimate. Reported: how often the 90%
interval of the all-models growth per year and of the efficiency gain per year contain the true
values, with a 95% binomial interval for that share. Each world is appended to
``OUT/worlds.jsonl`` as it finishes, so a rerun resumes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from scipy.stats import beta

from rosetta.algorithmic_progress import progress
from rosetta.data import load_scores
from rosetta.model import fit
from rosetta.simulate import simulate_progress
from rosetta.trends import trend


def one_world(seed: int, draws: int, tune: int) -> dict:
    frame, truth = simulate_progress(random_seed=seed)
    start = time.perf_counter()
    idata = fit(
        load_scores(frame, metadata=False),
        draws=draws,
        tune=tune,
        random_seed=seed,
        progress=False,
        warn=False,
    )
    anchor = json.loads(idata.posterior.attrs["scale"])["benchmark"]
    growth = trend(idata, random_seed=seed).to_dict()["all_models_growth_per_year"]
    gain = progress(idata, families=truth.models["family"].to_dict(), random_seed=seed)
    gain = gain.to_dict()["efficiency_gain_per_year"]
    true_growth = truth.growth_on(anchor)
    diagnostics = json.loads(idata.posterior.attrs["diagnostics"])
    return {
        "seed": seed,
        "seconds": time.perf_counter() - start,
        "max_rhat": diagnostics.get("max_rhat"),
        "growth": growth,
        "true_growth": float(true_growth),
        "growth_covered": bool(growth["lo"] <= true_growth <= growth["hi"]),
        "gain": gain,
        "true_gain": truth.efficiency_gain,
        "gain_covered": bool(gain["lo"] <= truth.efficiency_gain <= gain["hi"]),
    }


def share(hits: list[bool]) -> dict:
    n, k = len(hits), int(sum(hits))
    lo = beta.ppf(0.025, k, n - k + 1) if k else 0.0
    hi = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return {"covered": k, "worlds": n, "share": k / n, "ci95": [float(lo), float(hi)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=40)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("results/calibrate_trend"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "worlds.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    done = {r["seed"] for r in records}
    for seed in range(args.worlds):
        if seed in done:
            continue
        record = one_world(seed, args.draws, args.tune)
        records.append(record)
        with log.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(
            f"world {seed:3d}: growth {record['growth']['median']:.3f} "
            f"[{record['growth']['lo']:.3f}, {record['growth']['hi']:.3f}] truth "
            f"{record['true_growth']:.3f}; gain {record['gain']['median']:.2f} "
            f"[{record['gain']['lo']:.2f}, {record['gain']['hi']:.2f}] truth "
            f"{record['true_gain']:.2f}  ({record['seconds']:.0f} s)",
            flush=True,
        )
    records = [r for r in records if r["seed"] < args.worlds]
    summary = {
        "growth_coverage_90": share([r["growth_covered"] for r in records]),
        "gain_coverage_90": share([r["gain_covered"] for r in records]),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
