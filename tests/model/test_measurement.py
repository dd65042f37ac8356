import json
import warnings

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


def test_the_spread_of_log_precisions_is_log_normal(tiny):
    """Away from zero: a spread near zero pushed trajectories into one-sided bounds."""
    import pymc as pm

    spec = MeasurementSpec(
        priors={"log_precision_sigma_median": 0.8, "log_precision_sigma_log_sd": 0.3}
    )
    model = build_model(tiny, spec)
    sigma = model["log_precision_sigma"]
    draws = pm.draw(sigma, draws=4000, random_seed=1)
    assert np.median(np.log(draws)) == pytest.approx(np.log(0.8), abs=0.02)
    assert np.std(np.log(draws)) == pytest.approx(0.3, rel=0.05)
    kept = tiny.scores["benchmark"].isin(tiny.benchmarks[:2])
    two = load_scores(tiny.scores[kept], metadata=False)
    fixed = build_model(two, spec)["log_precision_sigma"].eval()  # too few to learn from
    assert fixed == pytest.approx(np.hypot(1.5, 0.8 * np.exp(0.3**2)))


def test_specs_saved_with_a_half_normal_precision_spread_read_back():
    saved = json.loads(MeasurementSpec().to_json())
    saved["priors"].pop("log_precision_sigma_median")
    saved["priors"].pop("log_precision_sigma_log_sd")
    saved["priors"]["log_precision_sigma_sd"] = 1.0
    assert MeasurementSpec.from_json(json.dumps(saved)) == MeasurementSpec()


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


def _all_branches(tiny):
    """The tiny table with an exact zero, an exact one and item counts on its last benchmark."""
    scores = tiny.scores[["model", "benchmark", "score", "floor"]].copy()
    counted = (scores["benchmark"] == tiny.benchmarks[-1]).to_numpy()
    scores["n_items"] = np.where(counted, 40.0, np.nan)
    scores.loc[counted, "score"] = np.round(scores.loc[counted, "score"] * 40) / 40
    plain = np.flatnonzero(~counted)
    scores.loc[plain[3], "score"], scores.loc[plain[7], "score"] = 0.0, 1.0
    return load_scores(scores, metadata=False)


def test_score_distribution_is_the_shared_likelihood(tiny):
    """``score``'s logp is `beta_family_logp` in NumPy, score by score, at any point."""
    from pymc.blocking import DictToArrayBijection
    from scipy.special import gammaln

    from rosetta.likelihoods import beta_family_logp, expected_score, likelihood_branch

    table = _all_branches(tiny)
    model = build_model(table)
    start = DictToArrayBijection.map(model.initial_point(0))
    rng = np.random.default_rng(0)
    point = DictToArrayBijection.rmap(
        start._replace(data=start.data + 0.3 * rng.standard_normal(start.data.size))
    )
    names = ["capability", "difficulty", "slope", "floor", "precision"]
    names += ["zero_cutpoint", "one_cutpoint"]
    [loglik] = model.logp(vars=[model["score"]], sum=False)
    outputs = [loglik, *model.replace_rvs_by_values([model[n] for n in names])]
    evaluate = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    loglik, cap, diff, slope, floor, precision, zero, one = evaluate(point)

    scores = table.scores
    m = table.models.get_indexer(scores["model"])
    b = table.benchmarks.get_indexer(scores["benchmark"])
    y, n = scores["score"].to_numpy(float), scores["n_items"].to_numpy(float)
    p, q = expected_score(slope[b] * (cap[m] - diff[b]), floor[b])
    order = np.argsort(likelihood_branch(y, n), kind="stable")
    phi = precision[b][order]
    expected = np.empty(len(y))
    expected[order] = beta_family_logp(
        y[order], n[order], p[order], q[order], phi, gammaln(phi), zero, one
    )
    held = np.asarray(model.coords["obs"])
    assert sorted(held) == list(range(len(y)))
    np.testing.assert_allclose(loglik, expected[held], rtol=1e-10)


def test_posterior_predictive_of_the_model(tiny):
    """`pm.sample_posterior_predictive` draws scores in [0, 1], counts where items are known."""
    import pymc as pm

    table = _all_branches(tiny)
    model = build_model(table, MeasurementSpec(centred=False))  # no flat gaps: a prior to draw
    with model, warnings.catch_warnings():  # parameter draws only: the potentials do not matter
        warnings.filterwarnings("ignore", "The effect of Potentials", UserWarning)
        prior = pm.sample_prior_predictive(draws=40, random_seed=1)
        draws = pm.sample_posterior_predictive(prior.prior, random_seed=2, progressbar=False)
    score = draws.posterior_predictive["score"].sortby("obs")
    assert score.sizes["obs"] == table.n_scores
    assert ((score >= 0) & (score <= 1)).all()
    counted = np.isfinite(table.scores["n_items"].to_numpy(float))
    hits = score.isel(obs=np.flatnonzero(counted)).to_numpy() * 40
    np.testing.assert_allclose(hits, np.round(hits), atol=1e-9)
    plain = score.isel(obs=np.flatnonzero(~counted)).to_numpy()
    assert (plain == 0).any() and (plain == 1).any()  # the cutpoints' point masses
    assert ((plain > 0) & (plain < 1)).mean() > 0.5


@pytest.mark.slow  # compiling PyTensor's symbolic Hessian takes about a minute
def test_laplace_hessian_matches_the_symbolic_one(tiny):
    """`run_map`'s central-difference Hessian agrees with PyTensor's symbolic one.

    Numeric on the fused model `run_map` fits, symbolic on the graph (the fused score
    likelihood has no second derivative).
    """
    from pymc.blocking import DictToArrayBijection

    from rosetta.model.sampling import hessian

    spec = MeasurementSpec(family_effects=False)
    model, graph = (build_model(tiny, spec, fused=fused) for fused in (True, False))
    point = model.initial_point(0)
    raveled = DictToArrayBijection.map(point)
    gradient = model.compile_dlogp(jacobian=True)
    numeric = hessian(
        lambda x: gradient(DictToArrayBijection.rmap(raveled._replace(data=x))), raveled.data
    )
    with warnings.catch_warnings():  # PyMC's note that it will stop negating the Hessian
        warnings.filterwarnings("ignore", "hessian will stop negating", FutureWarning)
        symbolic = graph.compile_d2logp(jacobian=True, negate_output=False)(point)
    np.testing.assert_allclose(numeric, symbolic, rtol=1e-5, atol=1e-5 * np.abs(symbolic).max())


def test_weighted_scores_are_the_pointwise_loglik_times_their_weight(tiny):
    import pymc as pm

    plain = build_model(tiny)
    weighted = build_model(tiny, weighted=True)
    assert "score" not in weighted.named_vars and "score_weight" in weighted.named_vars
    point = plain.initial_point(0)
    (terms,) = plain.logp(vars=[plain["score"]], sum=False)
    pointwise = plain.compile_fn(
        terms, inputs=plain.value_vars, on_unused_input="ignore", point_fn=True
    )(point)
    assert pointwise.shape == (tiny.n_scores,)
    weight = np.random.default_rng(0).integers(0, 2, tiny.n_scores).astype(float)
    with weighted:
        pm.set_data({"score_weight": weight})
    potential = weighted.compile_fn(
        weighted.replace_rvs_by_values([weighted["score_loglik"]])[0],
        inputs=weighted.value_vars,
        on_unused_input="ignore",
        point_fn=True,
    )(point)
    np.testing.assert_allclose(potential, np.sum(weight * pointwise), rtol=1e-10)
