"""Item-level fits: time, peak memory and capability recovery from 1e4 to 1e6 responses.

Usage::

    .venv/bin/python benchmarks/bench_items.py [--repeats 3] [--method advi] [--sizes ...]
        [--compare-nuts] [--single-benchmark 5] [--out results/bench_items.json]

Sweep: for each size and repeat (seed = repeat) it writes synthetic responses with
``rosetta simulate --item-level`` (every pair observed), then runs ``rosetta fit --item-level``
in a fresh process and records that process's wall time (loading, fitting, writing the posterior)
and peak resident memory, and the correlation of the posterior mean capabilities with the truth.
The time exponent is the least-squares slope of log(median time) on log(responses).

``--compare-nuts`` fits one 1e4-response data set with NUTS and with the fast path and reports how
far the approximation is from NUTS: correlation of the capability means, the ratio of posterior
standard deviations, and the 90% interval coverage of the true capabilities for each.

``--single-benchmark N`` fits one benchmark's items (25 models x 500 items, difficulties spread
like a hard real benchmark's, many items solved by no model) with NUTS defaults for seeds 1..N and
reports per seed the wall time, divergences, max R-hat, min bulk ESS, the share of items no model
solved, and the 90% interval coverage of the true capabilities (pooled over seeds too), also with
each draw centred on its mean over models (the anchor's shift, common to all models, taken out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: (models, benchmarks, items per benchmark): 1e4, 3e4, 1e5, 3e5 and 1e6 responses.
SIZES = {
    "1e4": (50, 10, 20),
    "3e4": (60, 20, 25),
    "1e5": (100, 20, 50),
    "3e5": (150, 40, 50),
    "1e6": (200, 50, 100),
}
ROSETTA = [str(Path(sys.executable).with_name("rosetta"))]


def sweep_one(name: str, seed: int, method: str, folder: Path) -> dict:
    models, benchmarks, items = SIZES[name]
    data, truth, out = (folder / f"{name}_{seed}{s}" for s in (".csv", "_truth.csv", ".nc"))
    subprocess.run(
        [
            *ROSETTA,
            "simulate",
            "--item-level",
            f"--models={models}",
            f"--benchmarks={benchmarks}",
            f"--items-per-benchmark={items}",
            f"--seed={seed}",
            f"--out={data}",
            f"--truth={truth}",
        ],
        check=True,
        capture_output=True,
    )
    fit_args = [*ROSETTA, "fit", str(data), "--item-level", f"--method={method}"]
    fit_args += [f"--seed={seed}", f"--out={out}", "--quiet", "--json"]
    # A fresh process per fit, started by a wrapper that reports the fit's wall time and peak
    # resident memory (RUSAGE_CHILDREN of the wrapper: the fit alone).
    wrapper = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys, json, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "w = time.perf_counter() - t; "
        "print(json.dumps({'rc': p.returncode, 'wall': w, 'out': p.stdout, "
        "'err': p.stderr[-2000:], "
        "'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))",
        *fit_args,
    ]
    result = json.loads(subprocess.run(wrapper, capture_output=True, text=True, check=True).stdout)
    if result["rc"]:
        raise RuntimeError(f"fit failed:\n{result['err']}")
    payload = json.loads(result["out"])
    from rosetta.io import load_posterior

    posterior = load_posterior(out)
    estimate = posterior["capability"].mean(("chain", "draw")).to_series()
    true = pd.read_csv(truth, index_col="model")["capability"].reindex(estimate.index)
    for path in (data, out):
        path.unlink()
    return {
        "size": name,
        "responses": models * benchmarks * items,
        "seed": seed,
        "wall_s": round(result["wall"], 2),
        "fit_s": payload["fit_seconds"],
        "peak_mb": round(result["peak_mb"], 1),
        "capability_corr": round(float(np.corrcoef(estimate, true)[0, 1]), 5),
    }


def sweep(names: list[str], repeats: int, method: str) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for seed in range(repeats):
                row = sweep_one(name, seed, method, Path(tmp))
                print(json.dumps(row), flush=True)
                rows.append(row)
    frame = pd.DataFrame(rows)
    medians = frame.groupby("responses")[["wall_s", "fit_s", "peak_mb", "capability_corr"]].median()
    exponent = np.polyfit(np.log(medians.index), np.log(medians["wall_s"]), 1)[0]
    fit_exponent = np.polyfit(np.log(medians.index), np.log(medians["fit_s"]), 1)[0]
    return {
        "method": method,
        "runs": rows,
        "medians": medians.reset_index().to_dict(orient="records"),
        "time_exponent_wall": round(float(exponent), 3),
        "time_exponent_fit": round(float(fit_exponent), 3),
    }


def compare_nuts(method: str, seed: int = 0) -> dict:
    """The fast path against NUTS on 1e4 responses (50 models x 10 benchmarks x 20 items)."""
    from rosetta.comparison import approximation_accuracy
    from rosetta.constants import CI_PROB
    from rosetta.data.items import load_items
    from rosetta.model import fit
    from rosetta.simulate import simulate_items

    responses, truth = simulate_items(*SIZES["1e4"], random_seed=seed)
    items = load_items(responses)
    fits, walls = {}, {}
    for name in ("nuts", method):
        start = time.perf_counter()
        fits[name] = fit(items, method=name, random_seed=seed, progress=False, warn=False)
        walls[name] = round(time.perf_counter() - start, 1)
    anchor = json.loads(fits["nuts"].posterior.attrs["scale"])["benchmark"]
    true = truth.on_benchmark_scale(anchor).capability
    tail = (1 - CI_PROB) / 2
    out = {"responses": items.n_responses, "wall_s": walls}
    for name, idata in fits.items():
        draws = idata.posterior["capability"].stack(sample=("chain", "draw"))
        low, high = (draws.quantile(q, "sample").to_series() for q in (tail, 1 - tail))
        mean = draws.mean("sample").to_series()
        t = true.reindex(mean.index)
        out[name] = {
            "capability_corr_truth": round(float(np.corrcoef(mean, t)[0, 1]), 4),
            "capability_rmse_truth": round(float(np.sqrt(((mean - t) ** 2).mean())), 4),
            "coverage_90": round(float(((t >= low) & (t <= high)).mean()), 3),
        }
    diagnostics = json.loads(fits["nuts"].posterior.attrs["diagnostics"])
    out["nuts"].update(
        max_rhat=round(diagnostics["max_rhat"], 4),
        min_ess_bulk=round(diagnostics["min_ess_bulk"]),
        divergences=diagnostics["divergences"],
    )
    accuracy = approximation_accuracy(fits[method], fits["nuts"], names=("capability",))
    out["approximation"] = accuracy.loc["capability"].round(4).to_dict()
    return out


#: One hard benchmark: 25 models x 500 items, item difficulties sd 1.5 around 1.5 (capabilities
#: are N(0, 1)), so 4-32% of the items are solved by no model, as on agentic coding benchmarks.
SINGLE = {"n_models": 25, "n_benchmarks": 1, "items_per_benchmark": 500}
SINGLE_SPREAD = {"difficulty_mean": 1.5, "difficulty_sd": 0.0, "item_difficulty_sd": 1.5}


def single_benchmark(seeds: int) -> dict:
    """NUTS with defaults on one benchmark's items, seeds 1..``seeds``."""
    from rosetta.constants import CI_PROB
    from rosetta.data.items import load_items
    from rosetta.model import fit
    from rosetta.simulate import simulate_items

    tail = (1 - CI_PROB) / 2
    runs, hits, relative = [], [], []
    for seed in range(1, seeds + 1):
        responses, truth = simulate_items(**SINGLE, **SINGLE_SPREAD, random_seed=seed)
        unsolved = responses.groupby("item")["correct"].max().eq(0).mean()
        start = time.perf_counter()
        idata = fit(load_items(responses), random_seed=seed, progress=False, warn=False)
        wall = time.perf_counter() - start
        anchor = json.loads(idata.posterior.attrs["scale"])["benchmark"]
        draws = idata.posterior["capability"].stack(sample=("chain", "draw"))
        low, high = (draws.quantile(q, "sample").to_series() for q in (tail, 1 - tail))
        true = truth.on_benchmark_scale(anchor).capability.reindex(low.index)
        inside = (true >= low) & (true <= high)
        hits.append(inside.to_numpy())
        # The same with every draw (and the truth) centred on its mean over models: what is
        # left when the anchor's shift, which moves all 25 models together, is taken out.
        centred = draws - draws.mean("model")
        c_low, c_high = (centred.quantile(q, "sample").to_series() for q in (tail, 1 - tail))
        c_true = true - true.mean()
        relative.append(((c_true >= c_low) & (c_true <= c_high)).to_numpy())
        diagnostics = json.loads(idata.posterior.attrs["diagnostics"])
        row = {
            "seed": seed,
            "wall_s": round(wall, 1),
            "draws": idata.posterior.sizes["draw"],
            "divergences": diagnostics["divergences"],
            "max_rhat": round(diagnostics["max_rhat"], 4),
            "min_ess_bulk": round(diagnostics["min_ess_bulk"]),
            "unsolved_items": round(float(unsolved), 3),
            "coverage_90": round(float(inside.mean()), 3),
            "coverage_90_centred": round(float(relative[-1].mean()), 3),
        }
        print(json.dumps(row), flush=True)
        runs.append(row)
    pooled, pooled_centred = np.concatenate(hits), np.concatenate(relative)
    return {
        "runs": runs,
        "coverage_90": round(float(pooled.mean()), 3),
        "covered": f"{int(pooled.sum())} of {len(pooled)}",
        "coverage_90_centred": round(float(pooled_centred.mean()), 3),
        "divergences": sum(r["divergences"] for r in runs),
        "median_wall_s": float(np.median([r["wall_s"] for r in runs])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--method", default="advi", choices=["advi", "nuts"])
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--compare-nuts", action="store_true")
    parser.add_argument("--single-benchmark", type=int, default=0, metavar="SEEDS")
    parser.add_argument("--out", type=Path, default=Path("results/bench_items.json"))
    args = parser.parse_args()
    result = {"cpus": os.cpu_count()}
    if args.sizes:
        result["sweep"] = sweep(args.sizes, args.repeats, args.method)
    if args.compare_nuts:
        result["compare_nuts"] = compare_nuts(args.method)
    if args.single_benchmark:
        result["single_benchmark"] = single_benchmark(args.single_benchmark)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "sweep"}, indent=2))
    if "sweep" in result:
        sweep_result = result["sweep"]
        print(json.dumps(sweep_result["medians"], indent=2))
        print(
            "time exponent (wall, fit):",
            sweep_result["time_exponent_wall"],
            sweep_result["time_exponent_fit"],
        )


if __name__ == "__main__":
    main()
