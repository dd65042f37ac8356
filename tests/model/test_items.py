"""The item-level model: items nested in benchmarks, alone or mixed with benchmark scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from rosetta.likelihoods import response_logp
from rosetta.simulate import simulate_items


@pytest.mark.parametrize("floor", [None, 0.25])
def test_response_logp_is_the_binomial_kernel(floor):
    x = np.array([-3.0, 0.2, 4.0])
    n, k = np.array([1, 5, 3]), np.array([0, 2, 3])
    p = (floor or 0.0) + (1 - (floor or 0.0)) / (1 + np.exp(-x))
    got = response_logp(k, n - k, x, floor)
    coefficient = binom.logpmf(k, n, 0.5) - n * np.log(0.5)
    np.testing.assert_allclose(got + coefficient, binom.logpmf(k, n, p))


def test_simulated_items_follow_their_seed_and_attempts():
    one, truth = simulate_items(8, 3, 5, attempts=4, observed_fraction=0.6, random_seed=5)
    two, _ = simulate_items(8, 3, 5, attempts=4, observed_fraction=0.6, random_seed=5)
    pd.testing.assert_frame_equal(one, two)
    assert set(np.unique(one["correct"] * 4)) <= {0, 1, 2, 3, 4}
    assert len(truth.items) == 15
    pairs = one[["model", "benchmark"]].drop_duplicates()
    assert len(one) == 5 * len(pairs) < 5 * 8 * 3


@pytest.fixture(scope="module")
def mixed():
    """Item-level responses on four benchmarks, benchmark-level scores on two more."""
    from rosetta.data import load_scores
    from rosetta.data.items import load_items

    responses, truth = simulate_items(
        30, 6, 15, floors=[0.25, 0, 0, 0, 0, 0], item_log_slope_sd=0.2, random_seed=4
    )
    aggregate = responses["benchmark"].isin(["b04", "b05"])
    scores = (
        responses[aggregate]
        .groupby(["model", "benchmark"], as_index=False)
        .agg(score=("correct", "mean"), n_items=("item", "size"))
    )
    table = load_scores(scores, metadata=False)
    return load_items(responses[~aggregate], table, metadata=False), truth


def test_mixed_graph_has_items_and_scores(mixed):
    from rosetta.model import build_model

    items, _ = mixed
    model = build_model(items)
    names = set(model.named_vars)
    assert {"response_loglik", "score", "item_difficulty", "item_slope"} <= names
    assert set(model.coords["obs"]) == set(items.score_rows)  # item-level scores are not in it
    assert len(model.coords["item"]) == 4 * 15
    assert list(model.coords["item_benchmark"]) == ["b00", "b01", "b02", "b03"]
    assert model.compile_logp()(model.initial_point()) > -np.inf


@pytest.fixture(scope="module")
def mixed_advi(mixed):
    from rosetta.model import fit

    items, truth = mixed
    idata = fit(
        items, method="advi", draws=200, chains=1, random_seed=1, progress=False, batch_size=500
    )  # minibatches of a third of the responses
    return idata, truth


def test_advi_recovers_capabilities_and_items(mixed_advi):
    idata, truth = mixed_advi
    posterior = idata.posterior
    anchor = json_scale(posterior)["benchmark"]
    true = truth.on_benchmark_scale(anchor)
    mean = posterior["capability"].mean(("chain", "draw")).to_series()
    assert np.corrcoef(mean, true.capability.reindex(mean.index))[0, 1] > 0.95
    items = posterior["item_difficulty"].mean(("chain", "draw")).to_series()
    labels = true.items["benchmark"] + " | " + true.items["item"]
    known = true.items.set_index(labels)["difficulty"].reindex(items.index)
    assert np.corrcoef(items, known)[0, 1] > 0.9
    assert posterior["item_difficulty"].dtype == np.float32
    assert int(posterior.attrs["n_responses"]) == 30 * 4 * 15
    assert posterior.attrs["batch_size"] == 500
    predictive = idata.posterior_predictive["score"]
    item_rows = idata.constant_data["benchmark_idx"].isin([0, 1, 2, 3]).to_numpy()
    assert predictive.isel(obs=item_rows).isnull().all()
    assert predictive.isel(obs=~item_rows).notnull().all()
    assert idata.observed_data["correct"].size == 30 * 4 * 15


def test_an_item_benchmark_is_its_set_of_items(mixed_advi):
    """Its difficulty and slope are its items' mean and geometric mean, draw by draw."""
    idata, truth = mixed_advi
    posterior = idata.posterior
    owner = posterior["item"].to_index().str.split(" | ").str[0]
    for benchmark in ["b00", "b01", "b02", "b03"]:
        items = posterior.isel(item=np.flatnonzero(owner == benchmark))
        np.testing.assert_allclose(
            items["item_difficulty"].mean("item"),
            posterior["difficulty"].sel(benchmark=benchmark),
            atol=1e-5,
        )
        np.testing.assert_allclose(
            np.exp(np.log(items["item_slope"]).mean("item")),
            posterior["slope"].sel(benchmark=benchmark),
            rtol=1e-5,
        )
        drawn = truth.items[truth.items["benchmark"] == benchmark]
        assert truth.benchmarks.loc[benchmark, "difficulty"] == pytest.approx(
            drawn["difficulty"].mean()
        )
    assert "item_set_difficulty" not in posterior
    assert posterior["difficulty"].sel(benchmark=json_scale(posterior)["benchmark"]).std() == 0
    aggregate = posterior["difficulty"].sel(benchmark="b04")  # benchmark-level: its own variable
    assert aggregate.std() > 0


def test_saved_item_fit_reads_back(mixed_advi, tmp_path):
    from rosetta.io import load_fit, save_fit
    from rosetta.summary import benchmark_table, capability_table

    idata, _ = mixed_advi
    back = load_fit(save_fit(idata, tmp_path / "items.nc"))
    assert back.constant_data["response_item"].size == 30 * 4 * 15
    assert len(capability_table(back)) == 30
    assert len(benchmark_table(back)) == 6


def test_report_figures_of_an_item_fit(mixed_advi):
    import matplotlib.pyplot as plt

    from rosetta.plots import _expected_share_correct, plot_ppc, plot_residuals

    idata, _ = mixed_advi
    plt.close(plot_ppc(idata))  # the scores of the two benchmark-level benchmarks
    plt.close(plot_residuals(idata))
    shares = _expected_share_correct(idata, np.full(idata.observed_data["score"].size, -1.0))
    items = idata.constant_data["benchmark_idx"].isin([0, 1, 2, 3]).to_numpy()
    assert ((shares[items] > 0) & (shares[items] < 1)).all() and (shares[~items] == -1).all()
    residual = idata.observed_data["score"].to_numpy()[items] - shares[items]
    assert abs(residual.mean()) < 0.03


def test_map_is_refused_for_items(mixed):
    from rosetta.errors import SamplingError
    from rosetta.model import fit

    with pytest.raises(SamplingError, match="degenerate"):
        fit(mixed[0], method="map", progress=False)


@pytest.mark.slow
def test_nuts_on_items_converges_and_agrees_with_truth():
    from rosetta.data.items import load_items
    from rosetta.model import fit

    responses, truth = simulate_items(30, 6, 15, random_seed=9)
    idata = fit(
        load_items(responses, metadata=False),
        draws=600,
        tune=400,
        chains=2,
        random_seed=3,
        progress=False,
        warn=False,
    )
    diagnostics = json_scale(idata.posterior, "diagnostics")
    assert diagnostics["divergences"] == 0
    assert diagnostics["max_rhat"] < 1.02
    true = truth.on_benchmark_scale(json_scale(idata.posterior)["benchmark"]).capability
    mean = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    assert np.corrcoef(mean, true.reindex(mean.index))[0, 1] > 0.95


def json_scale(posterior, key="scale"):
    import json

    return json.loads(posterior.attrs[key])


def test_query_weighs_scores_of_aggregate_benchmarks_only(mixed_advi):
    from rosetta.errors import DataValidationError
    from rosetta.placement import query

    idata, _ = mixed_advi
    result = query(idata, {"b04": 0.6, "b05": 0.4})
    assert np.isfinite(result.capability.mean())
    with pytest.raises(DataValidationError, match="item-level responses"):
        query(idata, {"b00": 0.5, "b04": 0.6})


def test_approximate_item_fits_default_to_item_approx_draws_in_python_too(mixed, monkeypatch):
    """The Python fit and the command share the default draws (decided in `fit`, not the CLI)."""
    import rosetta.model
    from rosetta.constants import DEFAULT_DRAWS, ITEM_APPROX_DRAWS

    asked = {}

    class Stop(Exception):
        pass

    def record(model, method, items, settings, *args):
        asked[method] = settings["draws"] * settings["chains"]
        raise Stop

    monkeypatch.setattr(rosetta.model, "_sample", record)
    items, _ = mixed
    for method in ("advi", "nuts"):
        with pytest.raises(Stop):
            rosetta.model.fit(items, method=method, chains=2, progress=False)
    assert asked == {"advi": ITEM_APPROX_DRAWS, "nuts": 2 * DEFAULT_DRAWS}


def test_one_benchmark_of_items_has_a_fixed_benchmark_population():
    from rosetta.data.items import load_items
    from rosetta.model import build_model
    from rosetta.model.measurement import POOLING_MIN_BENCHMARKS

    frame, _ = simulate_items(10, 1, 30, difficulty_mean=1.5, difficulty_sd=0.0, random_seed=2)
    model = build_model(load_items(frame))
    free = {rv.name for rv in model.free_RVs}
    assert POOLING_MIN_BENCHMARKS > 1
    assert not {"difficulty_mu", "difficulty_sigma", "log_slope_mu", "log_slope_sigma"} & free
    assert float(model["difficulty_sigma"].eval()) == pytest.approx(np.hypot(1.5, 1.5))
    assert np.isfinite(model.compile_logp()(model.initial_point(0)))


# --- downstream of an item fit: an item benchmark's curve is the mean of its items' ------------

ITEM_SETS = ["b00", "b01", "b02", "b03"]


def item_curves(idata, benchmark, theta):
    """By hand, per draw: the mean over the benchmark's items of their curves at ``theta``.

    ``theta`` is ``(S, K)`` per draw or ``(K,)``; draws flattened chain first.
    """
    from scipy.special import expit

    posterior = idata.posterior
    owner = idata.constant_data["item_benchmark_idx"].to_numpy()
    mine = np.flatnonzero(owner == list(posterior["benchmark"].to_numpy()).index(benchmark))
    assert mine.size == 15
    items = posterior.isel(item=mine)
    n = posterior.sizes["chain"] * posterior.sizes["draw"]
    d = items["item_difficulty"].transpose("chain", "draw", "item").to_numpy().reshape(n, -1)
    s = items["item_slope"].transpose("chain", "draw", "item").to_numpy().reshape(n, -1)
    floor = posterior["floor"].sel(benchmark=benchmark).to_numpy().reshape(n, 1)
    theta = np.broadcast_to(theta, (n, np.shape(theta)[-1]))
    shares = np.mean([expit(s[:, [i]] * (theta - d[:, [i]])) for i in range(d.shape[1])], axis=0)
    return floor + (1 - floor) * shares


def one_curve(idata, benchmark, theta):
    """The single logistic at the benchmark's difficulty and slope, per draw."""
    from rosetta.likelihoods import expected_score

    bench = idata.posterior.sel(benchmark=benchmark)
    n = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    par = {v: bench[v].to_numpy().reshape(n, 1) for v in ("difficulty", "slope", "floor")}
    return expected_score(par["slope"] * (theta - par["difficulty"]), par["floor"])[0]


def test_item_benchmark_scores_are_the_mean_of_their_item_curves(mixed_advi):
    from rosetta.prediction import benchmark_scores, capability_reaching, item_benchmarks

    idata, _ = mixed_advi
    assert item_benchmarks(idata) == ITEM_SETS
    grid = np.linspace(-3.0, 4.0, 9)
    for name in ITEM_SETS:
        got = benchmark_scores(idata, grid, [name] * len(grid))
        np.testing.assert_allclose(got, item_curves(idata, name, grid), rtol=1e-12)
        assert np.abs(got - one_curve(idata, name, grid)).max() > 0.01  # not the set's logistic
    capability = idata.posterior["capability"].to_numpy().reshape(-1, 30)
    mixed = benchmark_scores(idata, capability[:, :4], ["b00", "b04", "b01", "b04"])
    np.testing.assert_allclose(mixed[:, 0], item_curves(idata, "b00", capability[:, :1])[:, 0])
    np.testing.assert_allclose(mixed[:, 2], item_curves(idata, "b01", capability[:, 2:3])[:, 0])
    for k in (1, 3):  # a benchmark-level benchmark: its one logistic, as before
        np.testing.assert_array_equal(
            mixed[:, k], one_curve(idata, "b04", capability[:, k : k + 1])[:, 0]
        )
    for level in (0.4, 0.8):  # the inverse: where the items' mean reaches the level
        theta = capability_reaching(idata, "b00", level)
        np.testing.assert_allclose(item_curves(idata, "b00", theta[:, None])[:, 0], level)
    assert np.isneginf(capability_reaching(idata, "b00", 0.2)).all()  # below its 0.25 floor


def test_predict_gives_item_benchmarks_their_item_curves_and_no_score_noise(mixed_advi):
    from rosetta.errors import DataValidationError
    from rosetta.prediction import expected_score, predict, predictive_scores

    idata, _ = mixed_advi
    models = ["m003", "m011", "m003", "m020"]
    benchmarks = ["b00", "b02", "b04", "b05"]
    mean = predict(idata, models, benchmarks, kind="mean").to_numpy().reshape(-1, 4)
    capability = idata.posterior["capability"].sel(model=models).to_numpy().reshape(-1, 4)
    for k, name in enumerate(benchmarks):
        by = item_curves if name in ITEM_SETS else one_curve
        np.testing.assert_allclose(mean[:, k], by(idata, name, capability[:, k : k + 1])[:, 0])
    ordinary = expected_score(idata.posterior, models[2:], benchmarks[2:])  # no items: as before
    np.testing.assert_array_equal(ordinary.to_numpy().reshape(-1, 2), mean[:, 2:])
    with pytest.raises(DataValidationError, match="pass the fit, not its posterior"):
        expected_score(idata.posterior, ["m003"], ["b00"])
    with pytest.raises(DataValidationError, match=r"\['b00', 'b02'\].*no benchmark-level noise"):
        predict(idata, models, benchmarks)
    with pytest.raises(DataValidationError, match="no benchmark-level noise"):
        predictive_scores(idata.posterior, ["m003"], ["b01"])
    noisy = predict(idata, models[2:], benchmarks[2:])
    assert noisy.notnull().all() and noisy.sizes["pair"] == 2


def test_item_benchmark_figures_draw_their_item_curves(mixed_advi):
    import matplotlib.pyplot as plt

    from rosetta.plots import plot_iccs, plot_residuals

    idata, _ = mixed_advi
    fig = plot_iccs(idata, ["b00", "b04"])
    capability = idata.posterior["capability"].mean(("chain", "draw")).to_numpy()
    grid = np.linspace(capability.min() - 1, capability.max() + 1, 120)
    for ax, curve in zip(fig.axes, (item_curves, one_curve), strict=False):
        median = ax.lines[0].get_ydata()
        name = ax.get_title()
        np.testing.assert_allclose(median, np.median(curve(idata, name, grid), axis=0))
    plt.close(fig)
    plt.close(plot_residuals(idata))  # item pairs: the items each answered, not the set curve


def test_saturation_of_an_item_benchmark_follows_its_item_curves(mixed_advi):
    from rosetta.saturation_forecast import saturation
    from rosetta.trends import trend

    idata, _ = mixed_advi
    mean = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    days = 60 * mean.rank().to_numpy() + np.random.default_rng(2).normal(0, 40, len(mean))
    dated = pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(days, "D"), index=mean.index)
    levels = (0.5, 0.8, 0.97)
    result = saturation(idata, ["b00", "b04"], dates=dated, levels=levels, horizon_years=40)
    table = result.table.set_index(["benchmark", "level"])
    capability = idata.posterior["capability"].sel(model=dated.index).to_numpy().reshape(-1, 30)
    for name, curve in (("b00", item_curves), ("b04", one_curve)):
        expected = curve(idata, name, capability)
        for level in levels:
            reached = (expected >= level).any(axis=1).mean()
            assert table.loc[(name, level), "p_reached"] == pytest.approx(reached), (name, level)
    # Where no fitted model is at the level, half the draws' frontier lines reach the items'
    # mean curve's level by the median date.
    result = saturation(idata, "b01", dates=dated, levels=[0.97], line="frontier", horizon_years=40)
    row = result.table.iloc[0]
    assert row["status"] == "forecast" and row["p_reached"] == 0
    line = trend(idata, dates=dated, horizon_years=1.0).frontier_line
    theta = line.predict([row["median"]], np.random.default_rng(0), noise=False)
    assert np.mean(item_curves(idata, "b01", theta)[:, 0] >= 0.97) == pytest.approx(0.5, abs=0.06)
    assert np.mean(one_curve(idata, "b01", theta)[:, 0] >= 0.97) != pytest.approx(0.5, abs=0.1)


def test_query_leaves_item_benchmarks_out_of_its_predictions(mixed_advi):
    from rosetta.placement import query

    idata, _ = mixed_advi
    result = query(idata, {"b04": 0.6, "b05": 0.4})
    predictions = result.predictions
    assert list(predictions.index) == ["b04", "b05"]
    assert predictions[["mean", "lo", "hi", "score_lo", "score_hi"]].notnull().all().all()
    assert set(result.to_dict()["predictions"]) == {"b04", "b05"}
    assert not any(line.strip().startswith("b01") for line in result.summary().splitlines())
    assert any(n.startswith("no predicted scores on") and "b01" in n for n in result.notes)


def test_lookups_on_an_item_benchmark_follow_its_item_curves(mixed_advi, tmp_path, capsys):
    from rosetta.cli import main
    from rosetta.errors import DataValidationError
    from rosetta.io import save_fit
    from rosetta.placement import capability_at, score_at

    idata, _ = mixed_advi
    path = save_fit(idata, tmp_path / "items.nc")
    expected = item_curves(idata, "b01", np.array([0.5]))[:, 0]
    for source in (idata, path):  # the fit, or its file (the whole fit is read)
        at = score_at(source, "b01", 0.5)
        np.testing.assert_allclose(at.draws, expected, rtol=1e-5)
        back = capability_at(source, "b01", float(np.median(expected)))
        assert back.to_dict()["mean"] == pytest.approx(0.5, abs=0.1)
    # A score lookup of each draw's crossing gives back the level, draw by draw.
    theta = capability_at(idata, "b01", 0.6).draws
    np.testing.assert_allclose(item_curves(idata, "b01", theta[:, None])[:, 0], 0.6, atol=1e-6)
    with pytest.raises(DataValidationError, match="pass the fit"):
        score_at(idata.posterior, "b01", 0.5)
    # The command reads the whole fit when a lookup names an item benchmark.
    main(["query", str(path), "--score-at", "b01=0.5", "--capability-at", "b04=0.6", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert payload["score_at"][0]["mean"] == pytest.approx(expected.mean(), rel=1e-5)


def test_loo_refuses_a_fit_with_item_benchmarks(mixed_advi):
    from rosetta.comparison import pointwise_loglik
    from rosetta.errors import DataValidationError

    with pytest.raises(DataValidationError, match="item-level responses"):
        pointwise_loglik(mixed_advi[0])
