"""Learned dimensions: the spec, the simulator's truth, the model's constraints, alignment."""

import numpy as np
import pandas as pd
import pytensor
import pytest
import xarray as xr
from scipy.linalg import sqrtm

from rosetta.constants import FACTOR_DRAWS
from rosetta.data import load_scores
from rosetta.dimensions import align_dimensions, principal_axes
from rosetta.model import MeasurementSpec, build_model, fit
from rosetta.prediction import effective_capability
from rosetta.report import build_report
from rosetta.scale import Scale, apply_scale
from rosetta.simulate import simulate_scores
from rosetta.summary import dimension_table


@pytest.fixture(scope="module")
def sim2():
    frame, truth = simulate_scores(
        40, 12, observed_fraction=0.6, dimensions=2, dimension_sd=0.8, random_seed=7
    )
    return load_scores(frame, metadata=False), truth


def test_spec_takes_dimensions_and_round_trips():
    spec = MeasurementSpec(dimensions=2)
    assert MeasurementSpec.from_json(spec.to_json()).dimensions == 2
    assert MeasurementSpec.from_json(MeasurementSpec().to_json()).dimensions == 0
    for bad in (-1, 1.5):
        with pytest.raises(ValueError, match="dimensions"):
            MeasurementSpec(dimensions=bad)
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="dimension_bound"):
            MeasurementSpec(dimensions=1, priors={"dimension_bound": bad})


def test_simulated_dimensions_follow_the_model_identification(sim2):
    _, truth = sim2
    loading, score = truth.loading.to_numpy(), truth.dimension_score.to_numpy()
    assert loading.shape == (12, 2) and score.shape == (40, 2)
    weight = truth.benchmarks["slope"].to_numpy()[:, None] ** 2  # orthogonal to the general
    np.testing.assert_allclose((weight * loading).sum(axis=0), 0, atol=1e-12)
    centred = truth.capability.to_numpy() - truth.capability.mean()
    np.testing.assert_allclose(centred @ score, 0, atol=1e-9)  # uncorrelated with capability
    again = simulate_scores(
        40, 12, observed_fraction=0.6, dimensions=2, dimension_sd=0.8, random_seed=7
    )[1]
    pd.testing.assert_frame_equal(again.loading, truth.loading)
    shifted = truth.on_benchmark_scale("b03")
    stretch = truth.benchmarks.loc["b03", "slope"]
    np.testing.assert_allclose(shifted.loading.to_numpy(), stretch * loading)


def test_model_dimensions_are_orthogonal_to_the_general_factor_and_bounded(sim2):
    table, _ = sim2
    spec = MeasurementSpec(dimensions=2, family_effects=False, priors={"dimension_bound": 0.3})
    model = build_model(table, spec)
    assert model.coords["dimension"] == ("dim1", "dim2")
    names = ("capability", "dimension_score", "dimension_loading", "slope")
    # In terms of the value variables (a graph of the random variables would draw them anew).
    outputs = model.replace_rvs_by_values([model[name] for name in names])
    draw = pytensor.function(model.value_vars, outputs, on_unused_input="ignore")
    rng = np.random.default_rng(0)
    point = {v.name: rng.normal(size=model.initial_point()[v.name].shape) for v in model.value_vars}
    point["dimension_loading_z"] *= 100  # tanh saturated: loadings at their bound
    capability, score, loading, slope = draw(*(point[v.name] for v in model.value_vars))
    np.testing.assert_allclose(capability @ score, 0, atol=1e-9)
    np.testing.assert_allclose(slope**2 @ loading, 0, atol=1e-9)
    np.testing.assert_allclose(score.sum(axis=0), 0, atol=1e-9)
    # Within the bound, less the weighted mean that makes them orthogonal (at most the bound).
    assert 0.25 < np.abs(loading).max() <= 2 * 0.3


def _posterior(loading, score, changes):
    """Draws of ``loading`` and ``score``, each changed by one invertible matrix ``A`` per draw:
    ``score A`` and ``loading A^-T``, the same product."""
    turned_l = np.einsum("bk,djk->dbj", loading, np.linalg.inv(changes))[None]
    turned_s = np.einsum("mk,dkj->dmj", score, changes)[None]
    return xr.Dataset(
        {
            "dimension_loading": (("chain", "draw", "benchmark", "dimension"), turned_l),
            "dimension_score": (("chain", "draw", "model", "dimension"), turned_s),
        }
    )


def test_alignment_undoes_rotations_flips_and_scale_without_changing_predictions():
    rng = np.random.default_rng(3)
    loading = rng.normal(size=(15, 3)) * [2.0, 1.0, 0.5]  # dimensions of unequal strength
    score = rng.normal(size=(30, 3))
    score -= score.mean(axis=0)
    rotations = np.linalg.qr(rng.normal(size=(50, 3, 3)))[0]  # random rotations and flips
    stretches = rng.uniform(0.5, 2.0, size=(50, 1, 3))  # and a split of scale per draw
    aligned = align_dimensions(_posterior(loading, score, stretches * rotations))
    turned = aligned["dimension_loading"].to_numpy()[0]
    np.testing.assert_allclose(turned, np.broadcast_to(turned[0], turned.shape), atol=1e-8)
    # Every draw is the truth with whitened scores, on its principal axes, strongest first.
    whitened = loading @ np.real(sqrtm(score.T @ score / len(score)))
    np.testing.assert_allclose(turned[0], whitened @ principal_axes(whitened), atol=1e-8)
    assert np.all(np.diff((turned[0] ** 2).sum(axis=0)) < 0)
    scores = aligned["dimension_score"].to_numpy()[0]
    covariance = np.einsum("dmk,dmj->dkj", scores, scores) / len(score)
    np.testing.assert_allclose(covariance, np.broadcast_to(np.eye(3), covariance.shape), atol=1e-8)
    before = np.einsum("mk,bk->mb", score, loading)
    after = np.einsum("dmk,dbk->dmb", scores, turned)
    np.testing.assert_allclose(after, np.broadcast_to(before, after.shape), atol=1e-8)
    strength = aligned["dimension_strength"].to_numpy()[0]
    np.testing.assert_allclose(
        strength, np.broadcast_to(np.linalg.norm(whitened, axis=1), strength.shape)
    )


def test_loadings_are_stretched_with_the_scale_and_enter_predictions(sim2, tmp_path):
    table, _ = sim2
    result = fit(
        table,
        MeasurementSpec(dimensions=2, family_effects=False, scale=Scale(benchmark="b00")),
        method="map",
        draws=50,
        chains=1,
        progress=False,
    )
    post = result.posterior
    assert {"dimension_loading", "dimension_score", "dimension_sd", "dimension_strength"} <= set(
        post
    )
    table = dimension_table(result)
    assert list(table.columns[:3]) == ["strength", "strength_lo", "strength_hi"]
    assert {"dim1", "dim2_lo"} <= set(table.columns) and len(table) == 12
    assert table["strength"].is_monotonic_decreasing
    page = build_report(result, tmp_path / "report.html", static=True).read_text()
    assert "Learned dimensions" in page and "Benchmarks by strength" in page
    models, benchmarks = ["m001", "m002"], ["b03", "b05"]
    theta = effective_capability(post, models, benchmarks)
    by_hand = post["capability"].sel(model=models).to_numpy() + np.einsum(
        "cdpk,cdpk->cdp",
        post["dimension_score"].sel(model=models).to_numpy(),
        post["dimension_loading"].sel(benchmark=benchmarks).to_numpy(),
    )
    np.testing.assert_allclose(theta.to_numpy(), by_hand)
    raw = xr.Dataset(
        {
            "capability": post["capability"],
            "difficulty": post["difficulty"],
            "slope": post["slope"],
            "dimension_loading": post["dimension_loading"],
            "dimension_sd": post["dimension_sd"],
        }
    )
    order = post["capability"].mean(("chain", "draw")).to_series().sort_values().index
    doubled = apply_scale(raw, Scale.from_models({order[0]: 0.0, order[-1]: 1.0}))
    stretch = doubled["scale_stretch"]
    np.testing.assert_allclose(
        doubled["dimension_loading"].to_numpy(),
        (stretch * post["dimension_loading"]).to_numpy(),
    )


def test_nuts_fit_starts_its_chains_from_the_best_short_run(sim2, caplog):
    table, truth = sim2
    spec = MeasurementSpec(dimensions=2, family_effects=False, scale=Scale(benchmark="b00"))
    with caplog.at_level("INFO", logger="rosetta"):
        result = fit(table, spec, draws=100, tune=150, random_seed=2, progress=False, warn=False)
    assert "learned dimensions: start from run" in caplog.text
    assert result.posterior.sizes["dimension"] == 2
    assert not result.posterior["dimension_strength"].isnull().any()
    general = result.posterior["capability"].mean(("chain", "draw")).to_series()
    assert general.corr(truth.capability.reindex(general.index), method="spearman") > 0.9


def test_chains_of_a_dimensions_model_start_where_the_best_short_run_ended(sim2):
    from rosetta.model.numba_cache import compile_nutpie
    from rosetta.model.sampling import _best_start

    table, _ = sim2
    model = build_model(table, MeasurementSpec(dimensions=1, family_effects=False))
    compiled = compile_nutpie(model)
    started = _best_start(compiled, model, cores=1, random_seed=3)
    first = started.initial_point_func(0)
    assert first.shape == (compiled.n_dim,) and np.all(np.isfinite(first))
    # Every chain starts there, whatever its seed: no jitter.
    np.testing.assert_array_equal(started.initial_point_func(99), first)
    assert not np.array_equal(compiled.initial_point_func(0), first)
    # The same search on the same data and seed gives the same start.
    again = _best_start(compiled, model, cores=1, random_seed=3).initial_point_func(0)
    np.testing.assert_array_equal(again, first)


def test_nuts_with_dimensions_samples_on_from_the_default_draws(sim2, monkeypatch):
    import rosetta.model as fitting

    class Drawn(Exception):
        pass

    def record(model, *, draws, converged, **_):
        raise Drawn(draws, converged is not None)

    monkeypatch.setattr(fitting, "run_nuts", record)
    spec = MeasurementSpec(dimensions=1, family_effects=False, scale=Scale(benchmark="b00"))
    with pytest.raises(Drawn) as drawn:
        fit(sim2[0], spec, progress=False)
    # Slower mixing is met by sampling on until converged (up to MAX_DRAWS_FACTOR x draws).
    assert drawn.value.args == (FACTOR_DRAWS, True)


def test_loadings_are_centred_for_nuts_and_not_for_the_mode(sim2):
    spec = MeasurementSpec(dimensions=1, family_effects=False, scale=Scale(benchmark="b00"))
    assert "dimension_loading_z" in build_model(sim2[0], spec).named_vars
    mode = build_model(sim2[0], spec, centred=False).named_vars
    assert "dimension_loading_offset" in mode and "dimension_loading_z" not in mode
