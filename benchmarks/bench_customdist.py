"""The scores as a `pm.CustomDist` against the `pm.Potential` it replaced: same numbers, speed.

Runs the code of this tree ("new") and of a base commit ("old", unpacked with ``git archive``)
side by side, each in its own process, on the bundled data (``--min-benchmarks 4 --since
2022-11-01``), and prints one line per figure::

    python benchmarks/bench_customdist.py [--base COMMIT] [SECTION ...]

Sections (all by default): ``logp`` (model log density and gradient at three points, three specs),
``loglik`` (the pointwise log-likelihood of the old NUTS fit: `rosetta.comparison.pointwise_loglik`
and, where the tree has `likelihood_model`, `pymc.compute_log_likelihood`; values and times, median
of 3; and ``rosetta compare`` of that fit with itself, median of 3), ``nuts`` (``rosetta fit``: old,
new and old with another seed), ``map`` (``rosetta fit --method map``), ``mode`` (where
`pymc.find_MAP` stops in each tree: log density and largest gradient there), ``hessian`` (the
Laplace step's central differences against PyMC's symbolic Hessian, new tree only: slow).
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

ROOT = Path(__file__).resolve().parents[1]
FILTERS = ["--min-benchmarks", "4", "--since", "2022-11-01"]
SECTIONS = ("logp", "loglik", "nuts", "map", "mode", "hessian")

LOGP = """
import sys, numpy as np
from pymc.blocking import DictToArrayBijection
from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
table = load_scores(None, min_benchmarks=4, since="2022-11-01")
out = {}
specs = {"beta": MeasurementSpec(), "normal": MeasurementSpec(likelihood="normal"),
         "learned": MeasurementSpec(floors="learned", centred=False)}
for label, spec in specs.items():
    model = build_model(table, spec)
    start = DictToArrayBijection.map(model.initial_point())
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    rng = np.random.default_rng(0)
    for k in range(3):
        x = start.data + (0 if k == 0 else 0.1 * rng.standard_normal(start.data.size))
        point = DictToArrayBijection.rmap(start._replace(data=x))
        out[f"{label} logp {k}"], out[f"{label} dlogp {k}"] = logp(point), dlogp(point)
np.savez(sys.argv[1], **out)
"""

LOGLIK = """
import sys, time, numpy as np
start = time.perf_counter()
from rosetta.comparison import pointwise_loglik
from rosetta.io import load_fit
fit = load_fit(sys.argv[2])


def pymc_loglik(fit):
    import pymc as pm
    from rosetta.data import ScoreTable
    from rosetta.io import scores_of_fit
    from rosetta.model import MeasurementSpec
    from rosetta.model.measurement import likelihood_model

    spec = MeasurementSpec.from_json(fit.posterior.attrs["spec"])
    model = likelihood_model(ScoreTable(scores_of_fit(fit)), spec)
    out = pm.compute_log_likelihood(fit, model=model, extend_inferencedata=False, progressbar=False)
    return out["score"].sortby("obs")


try:
    from rosetta.model.measurement import likelihood_model
    ways = {"numpy": pointwise_loglik, "pymc": pymc_loglik}
except ImportError:
    ways = {"numpy": pointwise_loglik}
result = {}
for way, function in ways.items():
    times = []
    for _ in range(3):
        t = time.perf_counter()
        values = function(fit)
        times.append(time.perf_counter() - t)
    result[f"{way} values"] = values.transpose("chain", "draw", "obs").to_numpy()
    result[f"{way} times"] = times
np.savez(sys.argv[1], **result)
"""


def run(tree: Path, args: list[str], cwd: Path) -> float:
    """Run ``args`` with ``tree`` first on the path; return the wall time."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def rosetta(tree: Path, cwd: Path, *args: str) -> float:
    return run(tree, [str(Path(sys.executable).parent / "rosetta"), *args], cwd)


def capability_means(path: Path):
    import arviz as az

    return az.from_netcdf(path).posterior["capability"].mean(("chain", "draw"))


def fit_and_time(trees, work: Path, label: str, tree: str, *extra: str) -> dict:
    out = work / f"{label}.nc"
    total = rosetta(trees[tree], work, "fit", *FILTERS, "--out", str(out), *extra)
    import arviz as az

    wall = az.from_netcdf(out).posterior.attrs["wall_seconds"]
    print(f"{label}: command {total:.1f} s, wall_seconds {wall}")
    return {"path": out, "total": total, "wall": wall}


def section_logp(trees, work):
    for name, tree in trees.items():
        run(tree, [sys.executable, "-c", LOGP, str(work / f"logp_{name}.npz")], work)
    old, new = np.load(work / "logp_old.npz"), np.load(work / "logp_new.npz")
    for key in old.files:
        diff = np.abs(old[key] - new[key]).max()
        print(f"logp: {key}: max |new - old| {diff:.2e} (max |old| {np.abs(old[key]).max():.3g})")


def section_loglik(trees, work):
    fit = work / "loglik_fit.nc"
    if not fit.exists():
        rosetta(trees["old"], work, "fit", *FILTERS, "--out", str(fit))
    values = {}
    for name, tree in trees.items():
        target = work / f"loglik_{name}.npz"
        run(tree, [sys.executable, "-c", LOGLIK, str(target), str(fit)], work)
        result = np.load(target)
        for way in ("numpy", "pymc"):
            if f"{way} times" in result:
                times = result[f"{way} times"]
                values[f"{name} {way}"] = result[f"{way} values"]
                print(
                    f"loglik {name} {way}: median of 3 {statistics.median(times):.3f} s, "
                    f"runs {np.round(times, 3).tolist()} (the first pays the compilation)"
                )
    reference = values.pop("old numpy")
    for label, other in values.items():
        diff = np.abs(other - reference).max()
        print(f"loglik: max |{label} - old numpy| {diff:.2e} over {reference.size} values")
    for name, tree in trees.items():
        times = [rosetta(tree, work, "compare", str(fit), str(fit)) for _ in range(3)]
        median = statistics.median(times)
        print(f"loglik {name}: `rosetta compare` of two fits, median of 3 {median:.2f} s")


def section_nuts(trees, work):
    old = fit_and_time(trees, work, "nuts_old", "old")
    new = fit_and_time(trees, work, "nuts_new", "new")
    other = fit_and_time(trees, work, "nuts_old_seed2026", "old", "--seed", "2026")
    reference = capability_means(old["path"])
    for label, fit in (("new, same seed", new), ("old, seed 2026", other)):
        diff = float(np.abs(capability_means(fit["path"]) - reference).max())
        print(f"nuts: {label}: max |mean capability - old seed 2025| {diff:.4f}")


def section_map(trees, work):
    import arviz as az

    fits = {
        name: fit_and_time(trees, work, f"map_{name}", name, "--method", "map") for name in trees
    }
    old, new = (az.from_netcdf(fits[n]["path"]).posterior["capability"] for n in ("old", "new"))
    print(f"map: max |capability draw new - old| {float(np.abs(new - old).max()):.2e}")
    for stat in ("mean", "std"):
        diff = np.abs(getattr(new, stat)(("chain", "draw")) - getattr(old, stat)(("chain", "draw")))
        print(f"map: max |capability {stat} new - old| {float(diff.max()):.2e}")


MODE = """
import numpy as np, pymc as pm
from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
model = build_model(load_scores(None, min_benchmarks=4, since="2022-11-01"), MeasurementSpec())
with model:
    mode = pm.find_MAP(progressbar=False, seed=2025, include_transformed=True)
mode = {v.name: mode[v.name] for v in model.value_vars}
gradient = np.abs(model.compile_dlogp()(mode)).max()
print(f"log density {model.compile_logp()(mode):.2f}, max |gradient| {gradient:.3g}")
"""


def section_mode(trees, work):
    for name, tree in trees.items():
        env = {**os.environ, "PYTHONPATH": str(tree)}
        args = [sys.executable, "-c", MODE]
        result = subprocess.run(args, env=env, cwd=work, check=True, capture_output=True, text=True)
        print(f"mode {name}: find_MAP stops at {result.stdout.strip()}")


HESSIAN = """
import time, warnings, numpy as np, pymc as pm
from pymc.blocking import DictToArrayBijection
from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
from rosetta.model.sampling import hessian
model = build_model(load_scores(None, min_benchmarks=4, since="2022-11-01"), MeasurementSpec())
with model:
    mode = pm.find_MAP(progressbar=False, seed=2025, include_transformed=True)
mode = {v.name: mode[v.name] for v in model.value_vars}
raveled = DictToArrayBijection.map(mode)
start = time.perf_counter()
gradient = model.compile_dlogp(jacobian=True)
at = lambda x: DictToArrayBijection.rmap(raveled._replace(data=x))
numeric = hessian(lambda x: gradient(at(x)), raveled.data)
took = time.perf_counter() - start
print(f"hessian: {raveled.data.size} parameters; central differences {took:.1f} s")
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    d2logp = model.compile_d2logp(jacobian=True, negate_output=False)
compiled = time.perf_counter()
symbolic = d2logp(mode)
took = time.perf_counter() - compiled
print(f"hessian: PyMC d2logp compile {compiled - start:.1f} s, evaluation {took:.2f} s")
rel = np.abs(numeric - symbolic).max() / np.abs(symbolic).max()
print(f"hessian: max |differences - symbolic| / max |symbolic| {rel:.1e}")
"""


def section_hessian(trees, work):
    env = {**os.environ, "PYTHONPATH": str(trees["new"])}
    result = subprocess.run(
        [sys.executable, "-c", HESSIAN],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    print(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", help=f"some of {SECTIONS} (default: all)")
    parser.add_argument("--base", help="old commit (default: where this branch left main)")
    parser.add_argument("--work", type=Path, help="folder for fits (default: a temporary one)")
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    base = (
        args.base
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    with tempfile.TemporaryDirectory() as scratch:
        old = Path(scratch) / "old"
        old.mkdir()
        archive = subprocess.run(
            ["git", "archive", base], cwd=ROOT, check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        trees = {"old": old, "new": ROOT}
        print(json.dumps({"old": base, "new": "working tree", "cpus": os.cpu_count()}))
        for section in args.sections or SECTIONS:
            globals()[f"section_{section}"](trees, work)


if __name__ == "__main__":
    main()
