"""`rosetta fit` at two git revisions: same capabilities, and which is faster.

Checks out ``--reference`` (default: the parent commit) into a temporary worktree, then runs the
README's fit command of the bundled data (or ``rosetta fit FILE`` with ``--data FILE``)
alternately with the reference code and the working tree, in fresh processes (same virtualenv,
the code chosen by ``PYTHONPATH``): ``--runs`` times each with the default seed, or once per
seed of ``--seeds``. Before timing, each revision fits once briefly (untimed), so that both
load their compiled model from Numba's cache as every fit after a table's first does, and a
revision that changes the compiled graph is not charged its first compile. Prints the median
wall time of each, their ratio, and the largest difference of posterior capability means and
draws between the two fits of the same seed.

    python benchmarks/compare_revisions.py --reference 2961dcb --runs 3
    python benchmarks/compare_revisions.py --reference c1d8d3e --data big.csv --seeds 1 2 3
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

import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ["--min-benchmarks", "4", "--since", "2022-11-01"]


#: The program as the ``rosetta`` script runs it: `run` where a revision has it, else `main`.
PROGRAM = "import sys, rosetta.cli as c; sys.exit(c.run() if hasattr(c, 'run') else c.main())"

#: The untimed fit that fills each revision's compile cache.
WARM_UP = ["--draws", "50", "--tune", "50"]


def run_fit(code: Path, out: Path, data: list[str], options: list[str]) -> tuple[float, dict]:
    """Wall seconds of one `rosetta fit` ``options`` with the package at ``code``, and its JSON."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-c", PROGRAM]
    start = time.perf_counter()
    done = subprocess.run(  # cwd: not a checkout, whose rosetta `python -c` would import first
        [*command, "fit", *data, *options, "--quiet", "--json", "--out", str(out)],
        env=env,
        cwd=out.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, json.loads(done.stdout)


def capability_differences(a: Path, b: Path) -> dict:
    """Largest absolute difference of capability means and of draws (models matched by name)."""
    with (
        xr.open_dataset(a, group="posterior", engine="h5netcdf") as left,
        xr.open_dataset(b, group="posterior", engine="h5netcdf") as right,
    ):
        x = left["capability"]
        y = right["capability"].sel(model=x["model"])
        means = abs(x.mean(("chain", "draw")) - y.mean(("chain", "draw")))
        return {"max_abs_mean": float(means.max()), "max_abs_draw": float(abs(x - y).max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="HEAD~1", help="git revision to compare with")
    parser.add_argument("--runs", type=int, default=3, help="fits per revision")
    parser.add_argument("--data", type=Path, help="a score table to fit instead of the bundled")
    parser.add_argument("--seeds", type=int, nargs="+", help="one fit per seed and revision")
    args = parser.parse_args()
    data = [str(args.data.resolve())] if args.data else BUNDLED
    seeds = [["--seed", str(seed)] for seed in args.seeds] if args.seeds else [[]] * args.runs
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        reference = tmp / "reference"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(reference), args.reference],
            check=True,
            capture_output=True,
        )
        try:
            for code in (reference, ROOT):
                run_fit(code, tmp / "warm-up.nc", data, WARM_UP)
            times: dict[str, list[float]] = {"reference": [], "current": []}
            differences = []
            for i, seed in enumerate(seeds):
                for name, code in (("reference", reference), ("current", ROOT)):
                    seconds, payload = run_fit(code, tmp / f"{name}.nc", data, seed)
                    times[name].append(seconds)
                    print(f"run {i} {name}: {seconds:.1f} s (fit {payload['fit_seconds']} s)")
                differences.append(capability_differences(tmp / "reference.nc", tmp / "current.nc"))
            medians = {name: statistics.median(values) for name, values in times.items()}
            print(
                json.dumps(
                    {
                        "reference": args.reference,
                        "runs": len(seeds),
                        "median_seconds": medians,
                        "current_over_reference": medians["current"] / medians["reference"],
                        **{k: max(d[k] for d in differences) for k in differences[0]},
                    },
                    indent=1,
                )
            )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(reference)],
                check=False,
            )


if __name__ == "__main__":
    main()
