"""The fused score likelihood (`rosetta.model.score_kernel`) is the graph's, value and gradient."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pymc.blocking import DictToArrayBijection
from pytensor.graph.traversal import ancestors

from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
from rosetta.model.score_kernel import score_constants, score_loglik
from rosetta.simulate import simulate_scores


@pytest.fixture(scope="module")
def every_branch():
    """Scores inside (0, 1), exact zeros and ones, item counts, floors and family cells."""
    frame, _ = simulate_scores(16, 5, floors=[0.25, 0, 0, 0.5, 0], random_seed=3)
    frame["model"] = frame["model"].map(lambda m: f"f{int(m[1:]) // 2}-{7 + int(m[1:]) % 2}b")
    counted = (frame["benchmark"] == "b04").to_numpy()
    frame["n_items"] = np.where(counted, 30.0, np.nan)
    frame.loc[counted, "score"] = np.round(frame.loc[counted, "score"] * 30) / 30
    plain = np.flatnonzero(~counted)
    frame.loc[plain[[2, 9]], "score"] = 0.0
    frame.loc[plain[[5, 11]], "score"] = 1.0
    return load_scores(frame, metadata=False)


def _points(model, n=4, seed=0):
    start = DictToArrayBijection.map(model.initial_point(0)).data
    rng = np.random.default_rng(seed)
    return [start + (0.0 if k == 0 else 0.4) * rng.standard_normal(start.size) for k in range(n)]


def test_fused_model_has_the_graphs_log_density_and_gradient(every_branch):
    """In Numba (nutpie's mode) and through ``perform`` (the C mode of PyMC's own samplers)."""
    spec = MeasurementSpec(family_effects=True, floors="learned").resolved_for(every_branch)
    fused, graph = (build_model(every_branch, spec, fused=f) for f in (True, False))
    assert [v.name for v in fused.value_vars] == [v.name for v in graph.value_vars]
    assert {"family_effect_offset", "floor_offset"} <= {v.name for v in fused.free_RVs}
    functions = []
    for model, mode in ((graph, "NUMBA"), (fused, "NUMBA"), (fused, "FAST_RUN")):
        function = model.logp_dlogp_function(mode=mode, ravel_inputs=True)
        function.set_extra_values({})
        functions.append(function)
    for point in _points(graph):
        (logp, grad), *others = (f(point) for f in functions)
        assert np.isfinite(logp)
        for other_logp, other_grad in others:
            np.testing.assert_allclose(other_logp, logp, rtol=1e-11)
            np.testing.assert_allclose(other_grad, grad, rtol=1e-10, atol=1e-10)


def test_weighted_fused_scores_are_the_graphs(every_branch):
    spec = MeasurementSpec().resolved_for(every_branch)
    models = [build_model(every_branch, spec, weighted=True, fused=f) for f in (True, False)]
    weights = np.random.default_rng(1).integers(0, 2, every_branch.n_scores).astype(float)
    values = []
    for model in models:
        model["score_weight"].set_value(weights)
        values.append(model.compile_logp()(model.initial_point(0)))
    np.testing.assert_allclose(values[0], values[1], rtol=1e-12)


def test_the_gradient_op_agrees_with_finite_differences():
    """`ScoreLoglikGrad` against PyTensor's numerical gradient, every parameter and branch."""
    rng = np.random.default_rng(2)
    y = np.array([0.3, 0.0, 1.0, 0.7, 12 / 20, 0.05])
    n_items = np.array([np.nan, np.nan, np.nan, np.nan, 20.0, np.nan])
    model_idx, cell = np.array([0, 1, 2, 0, 1, 2]), np.array([0, 1, 0, 2, 2, 1])
    bench_idx = np.array([0, 1, 1, 0, 1, 0])
    order = np.argsort([0, 1, 2, 0, 3, 0], kind="stable")  # grouped by branch
    index, data = score_constants(
        y[order], n_items[order], model_idx[order], cell[order], bench_idx[order]
    )
    ends = np.array([1, 1])
    weights = rng.uniform(0.5, 2.0, y.size)

    def total(capability, effect, slope, difficulty, floor, precision, cutpoints):
        params = (capability, effect, slope, difficulty, floor, precision, cutpoints)
        return pt.sum(weights * score_loglik(*params, index, data, ends)[0])

    pytensor.gradient.verify_grad(
        total,
        [
            rng.normal(size=3),
            rng.normal(0, 0.3, 3),
            np.exp(rng.normal(0.3, 0.2, 2)),
            rng.normal(size=2),
            np.array([0.2, 0.05]),
            np.array([30.0, 80.0]),
            np.array([-3.0, 2.5]),
        ],
        rng=rng,
        eps=1e-7,
    )


def test_the_fused_likelihood_refuses_other_values(every_branch):
    import pymc as pm

    model = build_model(every_branch)
    other = pt.dvector("other")
    with pytest.raises(NotImplementedError, match="observed scores only"):
        pm.logp(model["score"], other)


def test_the_derivative_rows_have_no_gradient():
    index, data = score_constants([0.4], [np.nan], [0], [0], [0])
    params = [pt.dvector(name) for name in "abcdefg"]
    _, slopes = score_loglik(*params, index, data, np.array([0, 0]))
    with pytest.raises(NotImplementedError, match="no gradient"):
        pytensor.grad(slopes.sum(), params[0])
    loglik = score_loglik(*params, index, data, np.array([0, 0]))[0].sum()
    first = pytensor.grad(loglik, params[0])
    with pytest.raises(NotImplementedError, match="no second derivative"):
        pytensor.grad(first.sum(), params[0])


def _op_names(model):
    return {type(v.owner.op).__name__ for v in ancestors([model.logp()]) if v.owner}


def test_only_the_beta_family_is_fused(every_branch):
    """The normal likelihood and the unfused build stay graphs of elementwise operations."""
    assert "ScoreLoglik" in _op_names(build_model(every_branch))
    assert "ScoreLoglik" not in _op_names(build_model(every_branch, fused=False))
    normal = MeasurementSpec(likelihood="normal").resolved_for(every_branch)
    assert "ScoreLoglik" not in _op_names(build_model(every_branch, normal))
