"""The item-level model: items nested in benchmarks, alone or mixed with benchmark scores."""

from __future__ import annotations

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
