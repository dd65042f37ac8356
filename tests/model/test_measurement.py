import numpy as np
import pandas as pd
import pytest

from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, build_model
from rosetta.simulate import simulate_scores


@pytest.fixture(scope="module")
def tiny():
    table, _ = simulate_scores(12, 4, floors=[0.25, 0, 0, 0.5], random_seed=5)
    return load_scores(table, metadata=False)


def test_graph_names_dims_and_coords(tiny):
    model = build_model(tiny)
    assert list(model.coords["model"]) == list(tiny.models)
    assert list(model.coords["benchmark"]) == list(tiny.benchmarks)
    assert len(model.coords["obs"]) == tiny.n_scores
    for name, dim in [
        ("capability", "model"),
        ("difficulty", "benchmark"),
        ("slope", "benchmark"),
        ("floor", "benchmark"),
        ("precision", "benchmark"),
    ]:
        assert model.named_vars_to_dims[name] == (dim,)
    assert "zero_cutpoint" not in model.named_vars  # no exact zeros in this table
    assert np.isfinite(model.compile_logp()(model.initial_point(0)))
    np.testing.assert_allclose(model["floor"].eval(), [0.25, 0, 0, 0.5])


def test_exact_zeros_and_ones_get_cutpoints(tiny):
    scores = tiny.scores.copy()
    scores.loc[0, "score"], scores.loc[1, "score"] = 0.0, 1.0
    model = build_model(
        load_scores(scores[["model", "benchmark", "score", "floor"]], metadata=False)
    )
    assert {"zero_cutpoint", "one_cutpoint"} <= set(model.named_vars)
    logp = model.compile_logp()(model.initial_point(0))
    assert np.isfinite(logp)
    grad = model.compile_dlogp()(model.initial_point(0))
    assert np.isfinite(grad).all()


def test_normal_likelihood_and_learned_floors(tiny):
    model = build_model(tiny, MeasurementSpec(likelihood="normal", floors="learned"))
    assert "sigma" in model.named_vars and "precision" not in model.named_vars
    assert "floor_offset" in model.named_vars
    floors = model["floor"].eval()
    assert ((floors > 0) & (floors < 1)).all()
    zero = build_model(tiny, MeasurementSpec(floors="zero"))
    assert (zero["floor"].eval() == 0).all()


def test_beta_binomial_rows_with_item_counts(tiny):
    scores = tiny.scores[["model", "benchmark", "score"]].copy()
    scores["n_items"] = 40
    scores["score"] = np.round(scores["score"] * 40) / 40
    model = build_model(load_scores(scores, metadata=False))
    point = model.initial_point(0)
    assert np.isfinite(model.compile_logp()(point))


def test_non_centred_option(tiny):
    model = build_model(tiny, MeasurementSpec(centred=False))
    assert "difficulty_offset" in model.named_vars


def test_spec_validation_and_json():
    spec = MeasurementSpec(likelihood="normal", priors={"noise_sd": 0.2})
    again = MeasurementSpec.from_json(spec.to_json())
    assert again == spec or again.to_json() == spec.to_json()
    with pytest.raises(ValueError, match="likelihood"):
        MeasurementSpec(likelihood="cauchy")
    with pytest.raises(ValueError, match="unknown prior"):
        MeasurementSpec(priors={"nope": 1})


def test_initial_capability_is_never_degenerate():
    frame = pd.DataFrame(
        {
            "model": ["a", "b", "a", "b"],
            "benchmark": ["X", "X", "Y", "Y"],
            "score": [0.5, 0.5, 0.5, 0.5],
        }
    )
    model = build_model(load_scores(frame, metadata=False))
    assert np.isfinite(model.compile_logp()(model.initial_point(0)))
