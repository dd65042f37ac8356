"""Compile time of the NUTS model: nutpie's own C callbacks against rosetta's cached ones.

Each run is a fresh process (as every `rosetta fit` is) that builds the model of the README's
bundled fit (or of ``--data FILE``) and compiles it for nutpie, alternately with
``nutpie.compile_pymc_model`` (callbacks compiled afresh) and `compile_nutpie` (callbacks
loaded from Numba's cache after the first run); both with rosetta's cacheable digamma. Prints
each run's seconds, the medians and their ratio as JSON.

    python benchmarks/bench_compile.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = """
import sys, time, warnings
warnings.simplefilter("ignore")
import nutpie
from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
from rosetta.model.gamma_pair import register_gamma_pair
from rosetta.model.numba_cache import compile_nutpie, register_cacheable_digamma
path = sys.argv[2] or None
table = load_scores(path) if path else load_scores(None, min_benchmarks=4, since="2022-11-01")
model = build_model(table, MeasurementSpec().resolved_for(table))
start = time.perf_counter()
if sys.argv[1] == "cached":
    compile_nutpie(model)
else:
    register_cacheable_digamma()
    register_gamma_pair()
    nutpie.compile_pymc_model(model)
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default="", help="a score table (default: the bundled one)")
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {"nutpie": [], "cached": []}
    for run in range(args.runs):
        for way in seconds:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, way, args.data],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds[way].append(round(float(done.stdout.split()[-1]), 2))
            print(f"run {run} {way}: {seconds[way][-1]} s", file=sys.stderr, flush=True)
    medians = {way: statistics.median(values) for way, values in seconds.items()}
    ratio = medians["cached"] / medians["nutpie"]
    print(json.dumps({"seconds": seconds, "median": medians, "cached_over_nutpie": ratio}))


if __name__ == "__main__":
    main()
