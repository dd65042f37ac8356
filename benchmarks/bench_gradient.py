"""One log density + gradient as nutpie evaluates it (Numba), two ways side by side.

Builds the model of `rosetta fit` (default spec) on the bundled table or ``--data FILE`` and
compiles its log density and gradient in PyTensor's Numba mode twice in one process:

- ``--compare fused`` (default): the score likelihood as a graph of elementwise operations
  (``build_model(..., fused=False)``) against `rosetta.model.score_kernel`'s two loops;
- ``--compare pair``: the graph without `rosetta.model.gamma_pair`'s rewrite (``gammaln`` and
  ``digamma`` separately, as PyTensor alone compiles it) against the graph with it.

Times them alternately at the model's start, checks they agree there and at random points near
it, and prints the medians (microseconds per evaluation), their ratio (second / first) and the
largest differences in log density and gradient, as JSON.

    python benchmarks/bench_gradient.py
    python benchmarks/bench_gradient.py --data big.csv --rounds 7 --compare pair
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from pymc.blocking import DictToArrayBijection
from pytensor.compile.mode import get_mode

from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
from rosetta.model.gamma_pair import REWRITE, register_gamma_pair
from rosetta.model.numba_cache import register_cacheable_digamma


def _compiled(model, mode):
    function = model.logp_dlogp_function(mode=mode, ravel_inputs=True)
    function.set_extra_values({})
    return function


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="", help="a score table (default: the bundled one)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds of each, alternately")
    parser.add_argument("--evals", type=int, default=200, help="evaluations per round")
    parser.add_argument("--compare", choices=("fused", "pair"), default="fused")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    table = load_scores(args.data or None)
    spec = MeasurementSpec().resolved_for(table)
    model = build_model(table, spec, fused=args.compare == "pair")
    start = model.initial_point()
    x = DictToArrayBijection.map({v.name: start[v.name] for v in model.value_vars}).data
    register_cacheable_digamma()  # both with the same digamma
    register_gamma_pair()
    if args.compare == "pair":
        names = ("separate", "paired")
        first = _compiled(model, get_mode("NUMBA").excluding(REWRITE))
        second = _compiled(model, "NUMBA")
    else:
        names = ("graph", "fused")
        first = _compiled(model, "NUMBA")
        second = _compiled(build_model(table, spec, fused=True), "NUMBA")

    rng = np.random.default_rng(0)
    logp_gap = gradient_gap = 0.0
    for k in range(5):
        point = x + (0.0 if k == 0 else 0.3) * rng.standard_normal(x.size)
        (logp_a, grad_a), (logp_b, grad_b) = first(point), second(point)
        logp_gap = max(logp_gap, abs(float(logp_a) - float(logp_b)) / max(1.0, abs(logp_a)))
        gradient_gap = max(
            gradient_gap, float(np.max(np.abs(grad_a - grad_b) / np.maximum(1.0, np.abs(grad_a))))
        )

    micros: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name, function in zip(names, (first, second), strict=True):
            began = time.perf_counter()
            for _ in range(args.evals):
                function(x)  # returns NumPy arrays: the work is done when it returns
            micros[name].append((time.perf_counter() - began) / args.evals * 1e6)
    medians = {name: statistics.median(values) for name, values in micros.items()}
    print(
        json.dumps(
            {
                "scores": table.n_scores,
                "parameters": int(x.size),
                "median_us": {name: round(value, 1) for name, value in medians.items()},
                "ratio": round(medians[names[1]] / medians[names[0]], 3),
                "rounds_us": {
                    name: [round(v, 1) for v in values] for name, values in micros.items()
                },
                "max_relative_difference": {"logp": logp_gap, "gradient": gradient_gap},
            }
        )
    )


if __name__ == "__main__":
    main()
