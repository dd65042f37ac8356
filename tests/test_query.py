"""rosetta.placement: the grid integration, agreement with the fit, inputs and errors."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from helpers import check_result_interface

from rosetta.errors import DataValidationError, IncompatibleFitError

# ``rosetta.placement`` is the function; import_module gives the module of the same name.
q = importlib.import_module("rosetta.placement")


def scores_of(idata, model: str) -> dict[str, float]:
    """The observed scores of one fitted model, by benchmark."""
    observed = idata.observed_data["score"].to_numpy()
    const = idata.constant_data
    models = idata.posterior["model"].to_numpy()
    benchmarks = idata.posterior["benchmark"].to_numpy()
    rows = np.flatnonzero(models[const["model_idx"].to_numpy()] == model)
    return {str(benchmarks[const["benchmark_idx"].to_numpy()[i]]): float(observed[i]) for i in rows}


@pytest.fixture(scope="module")
def draws(tiny_fit):
    return q._Draws.from_posterior(tiny_fit[0].posterior)


@pytest.mark.parametrize(
    "scores",
    [
        {"b00": 0.8, "b02": 0.6, "b03": 0.35},
        {"b01": 0.0, "b04": 0.97},  # a boundary score and a score near the ceiling
        {"b05": {"score": 0.4, "n_items": 50}, "b02": {"score": 0.7, "stderr": 0.05}},
    ],
)
def test_grid_integration_matches_a_brute_force_grid(draws, scores):
    loglik = q._LogLik(draws, q._as_score_frame(scores, "x"), [])
    densities = q._integrate(loglik, draws.n_draws)
    mean, sd, log_evidence = densities.mean, densities.sd, densities.log_evidence
    fine = np.linspace(-12, 12, 4801)
    ref_mean, ref_sd, ref_evidence = q._summarise(loglik(np.arange(draws.n_draws), fine), fine)[:3]
    for ids, grid, _ in densities.blocks:
        assert grid.shape[1] <= q._MAX_POINTS
        # Skewed densities need a step of at most one sd for 1e-3 accuracy (see _GRID_POINTS).
        assert np.all(grid[:, 1] - grid[:, 0] <= sd[ids])
    np.testing.assert_array_less(np.abs(mean - ref_mean), 1e-3 * ref_sd)
    np.testing.assert_allclose(sd, ref_sd, rtol=1e-3)
    # Single precision: log-densities near -50 carry ~1e-4 of rounding; weights move by 0.1%.
    np.testing.assert_allclose(log_evidence, ref_evidence, atol=1e-3)


def test_each_draw_is_sampled_from_its_own_density(draws):
    loglik = q._LogLik(draws, q._as_score_frame({"b00": 0.8, "b03": 0.35}, "x"), [])
    densities = q._integrate(loglik, draws.n_draws)
    mean, sd = densities.mean, densities.sd
    # The draw whose density lies farthest from draw 0's, sampled alone and among the others.
    far = int(np.argmax(np.abs(mean - mean[0]) / sd))
    assert abs(mean[far] - mean[0]) > 0.5 * sd[far]
    index = np.tile([0, far], 20000)
    u = densities.sample(index, np.random.default_rng(0))
    for d in (0, far):
        got = u[index == d]
        assert abs(got.mean() - mean[d]) < 4 * sd[d] / np.sqrt(len(got))
        assert got.std() == pytest.approx(sd[d], rel=0.03)


def test_a_steep_sided_density_is_integrated_and_sampled_on_a_finer_grid():
    # A standard normal cut off above 0.3 by a fall of width 0.02, as a score near a
    # benchmark's floor makes it: on 17 points, quantiles and moments come out wrong.
    def loglik(index, grid):
        grid = np.broadcast_to(grid, (len(index), np.shape(grid)[-1]))
        return -(grid**2) / 2 - (np.maximum(grid - 0.3, 0) / 0.02) ** 2 / 2

    densities = q._integrate(loglik, 3)
    assert all(grid.shape[1] > q._GRID_POINTS for _, grid, _ in densities.blocks)
    fine = np.linspace(-10, 1, 200_001)
    ref_mean, ref_sd, ref_evidence = (v[0] for v in q._summarise(loglik([0], fine), fine)[:3])
    np.testing.assert_array_less(np.abs(densities.mean - ref_mean), 1e-3 * ref_sd)
    np.testing.assert_allclose(densities.sd, ref_sd, rtol=1e-3)
    np.testing.assert_allclose(densities.log_evidence, ref_evidence, atol=1e-3)
    u = densities.sample(np.zeros(40_000, dtype=int), np.random.default_rng(1))
    cdf = np.cumsum(np.exp(loglik([0], fine)[0]))
    for p in (0.05, 0.5, 0.95):
        exact = fine[np.searchsorted(cdf / cdf[-1], p)]
        assert np.quantile(u, p) == pytest.approx(exact, abs=0.03 * ref_sd)


def test_querying_a_fitted_model_with_its_scores_lands_on_its_capability(tiny_fit):
    idata, _ = tiny_fit
    fitted = idata.posterior["capability"]
    misses = 0
    for model in ["m000", "m005", "m010", "m015", "m020"]:
        result = q.query(idata, scores_of(idata, model))
        own = fitted.sel(model=model)
        misses += abs(result.mean - float(own.mean())) > float(own.std())
        lo, hi = result.interval()
        assert lo < float(own.mean()) < hi
    assert misses <= 1


def test_a_fit_keeps_its_flattened_draws_and_answers_as_its_posterior(tiny_fit):
    import rosetta

    fit = rosetta.load(tiny_fit[1])
    scores = {"b00": 0.8, "b03": 0.35}
    answer = q.query(fit, scores)
    assert fit.query_draws is fit.query_draws  # made once, then kept with the fit
    np.testing.assert_array_equal(answer.capability, q.query(fit.posterior, scores).capability)


def test_result_summary_and_predictions(tiny_fit, tmp_path):
    idata, _ = tiny_fit
    result = q.query(idata, {"b00": 0.8, "b02": "60%", "b03": 35}, name="new", top=3)
    check_result_interface(result, tmp_path)
    both = q.QueryAnswers([result, result], [q.score_at(idata, "b03", 0.0)])
    check_result_interface(both, tmp_path)
    assert len(both.to_dict()["models"]) == 2 and len(both.to_dict()["score_at"]) == 1
    out = result.to_dict()
    cap = out["capability"]
    assert cap["lo"] < cap["mean"] < cap["hi"] and cap["sd"] > 0
    assert 0 <= out["percentile"] <= 100 and 1 <= out["rank"]["median"] <= 26
    assert len(out["p_above"]) == 3 and all(0 <= p <= 1 for p in out["p_above"].values())
    assert set(out["predictions"]) == set(idata.posterior["benchmark"].to_numpy())
    b02 = out["predictions"]["b02"]
    assert b02["observed"] == pytest.approx(0.6)
    assert b02["score_lo"] <= b02["lo"] < b02["mean"] < b02["hi"] <= b02["score_hi"]
    # Percent strings and percent numbers mean the same as fractions.
    again = q.query(idata, {"b00": "80%", "b02": 0.6, "b03": 0.35}, name="new", top=3)
    assert again.mean == pytest.approx(result.mean)


def test_more_scores_narrow_the_interval_and_seeds_reproduce(tiny_fit):
    idata, _ = tiny_fit
    scores = scores_of(idata, "m010")
    first = dict(list(scores.items())[:1])
    one, every = q.query(idata, first), q.query(idata, scores)
    assert len(scores) >= 3 and every.sd < one.sd
    again = q.query(idata, scores)
    np.testing.assert_array_equal(every.capability, again.capability)
    bench, value = next(iter(first.items()))
    noisy = q.query(idata, {bench: {"score": value, "stderr": 0.2}})
    assert noisy.sd > one.sd


def test_weights_are_truncated():
    raw = np.array([1.0] * 99 + [np.exp(5.0)])
    weights = q._truncated_weights(np.log(raw))
    cap = raw.mean() * 10  # sqrt(100) times the mean
    assert weights[-1] == pytest.approx(cap / (99 + cap)) and weights.sum() == pytest.approx(1)


def test_inverse_questions_agree(tiny_fit, tmp_path):
    idata, _ = tiny_fit
    at = q.capability_at(idata, "b03", 0.5).to_dict()
    assert at["lo"] < at["mean"] < at["hi"] and at["p_below_floor"] == 0
    back = q.score_at(idata, "b03", at["mean"])
    assert back.to_dict()["mean"] == pytest.approx(0.5, abs=0.05)
    assert "capability" in back.summary() and len(back.plot_data()) == back.draws.size
    check_result_interface(back, tmp_path)
    with pytest.raises(DataValidationError, match="floor"):
        q.capability_at(idata, "b04", 0.3)  # b04 has a floor of 0.5


def test_query_table_reads_long_and_wide_files(tiny_fit, write_csv):
    _, path = tiny_fit
    long = write_csv("model,benchmark,score\nx,b00,0.8\nx,b02,0.6\ny,b01,40%\n", "long.csv")
    results = q.query_table(path, long)
    assert list(results) == ["x", "y"]
    wide = write_csv("model,b00,b02,b01\nx,0.8,0.6,\ny,,,40%\n", "wide.csv")
    again = q.query_table(path, wide)
    assert again["x"].mean == pytest.approx(results["x"].mean, abs=0.05)
    single = write_csv("benchmark,score\nb00,0.8\nb02,0.6\n", "lab.csv")
    assert list(q.query_table(path, single)) == ["lab"]


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({"B00": 0.5}, "did you mean 'b00'"),
        ({"b00": -0.1}, "outside"),
        ({"b00": "101%"}, "outside"),
        ({"b00": 150}, "outside"),
        ({"b00": "high"}, "non-numeric"),
        ({}, "no scores"),
        ({"b00": {"score": 0.5, "n_items": 0}}, "n_items"),
    ],
)
def test_bad_queries_are_refused(tiny_fit, scores, message):
    with pytest.raises(DataValidationError, match=message):
        q.query(tiny_fit[0], scores)


def test_posterior_files_are_checked(tiny_fit, tmp_path):
    with pytest.raises(FileNotFoundError):
        q.query(tmp_path / "missing.nc", {"b00": 0.5})
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(tiny_fit[1].read_bytes()[:5000])
    with pytest.raises(IncompatibleFitError, match="truncated"):
        q.query(truncated, {"b00": 0.5})
    foreign = tmp_path / "foreign.nc"
    pd.DataFrame({"a": [1.0]}).to_xarray().to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(IncompatibleFitError, match="not a rosetta posterior"):
        q.query(foreign, {"b00": 0.5})


def test_threaded_grid_pass_gives_the_same_answer(tiny_fit, monkeypatch):
    idata, _ = tiny_fit
    scores = {"b00": 0.8, "b02": 0.6}
    monkeypatch.setattr(q, "_CHUNK_CELLS", 10**9)  # one chunk, no threads
    single = q.query(idata, scores)
    monkeypatch.setattr(q, "_CHUNK_CELLS", 1)  # as many chunks as cores allow
    threaded = q.query(idata, scores)
    np.testing.assert_array_equal(single.capability, threaded.capability)


def test_draws_on_grids_of_different_sizes_are_each_sampled_from_their_own():
    # Even draws: a standard normal; odd draws: a normal centred at 3 cut off above 3.2 by a
    # steep fall, whose grids are refined. Resampled draws mix both blocks.
    def loglik(index, grid):
        grid = np.broadcast_to(grid, (len(index), np.shape(grid)[-1]))
        steep = (np.asarray(index) % 2 == 1)[:, None]
        cut = -((grid - 3) ** 2) / 2 - (np.maximum(grid - 3.2, 0) / 0.02) ** 2 / 2
        return np.where(steep, cut, -(grid**2) / 2)

    densities = q._integrate(loglik, 6)
    sizes = {grid.shape[1] for _, grid, _ in densities.blocks}
    assert len(densities.blocks) >= 2 and len(sizes) >= 2
    index = np.tile(np.arange(6), 8000)
    u = densities.sample(index, np.random.default_rng(2))
    assert np.isfinite(u).all()
    for d in range(6):
        got = u[index == d]
        assert got.mean() == pytest.approx(densities.mean[d], abs=4 * densities.sd[d] / 90)
        assert got.std() == pytest.approx(densities.sd[d], rel=0.03)
    fine = np.linspace(-10, 10, 400_001)
    ref_mean, ref_sd, _ = q._summarise(loglik(np.arange(2), fine), fine)[:3]
    # The fall's kink (a jump in the second derivative) converges slowest: 2e-3 sd here.
    np.testing.assert_allclose(densities.mean[:2], ref_mean, atol=2e-3 * ref_sd.min())
    np.testing.assert_allclose(densities.sd[:2], ref_sd, rtol=2e-3)


def test_a_density_narrower_than_a_grid_step_is_integrated_on_a_finer_grid():
    from rosetta.placement import _integrate

    def loglik(index, grid):  # a normal density of sd 1e-4 at 0.3, for every draw
        grid = np.broadcast_to(grid, (len(index), np.shape(grid)[-1]))
        return -(((grid - 0.3) / 1e-4) ** 2) / 2

    densities = _integrate(loglik, 5)
    mean, sd, log_evidence = densities.mean, densities.sd, densities.log_evidence
    assert all((np.diff(grid, axis=1) > 0).all() for _, grid, _ in densities.blocks)
    np.testing.assert_allclose(mean, 0.3, atol=1e-6)
    np.testing.assert_allclose(sd, 1e-4, rtol=1e-3)
    np.testing.assert_allclose(log_evidence, np.log(np.sqrt(2 * np.pi) * 1e-4), rtol=1e-6)
