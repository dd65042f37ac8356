"""The bifactor extension: domain maps, the model's domain variables, and what reads them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import check_result_interface

from rosetta.domains import BENCHMARK_DOMAIN, capability_of, domain_map
from rosetta.errors import DomainMapError, RosettaError
from rosetta.prediction import effective_capability


def test_metadata_map_uses_the_flags():
    mapping = domain_map("metadata", ["GSM8K", "SWE-Bench verified", "MMLU", "LiveBench", "X"])
    assert mapping == {"GSM8K": "math", "SWE-Bench verified": "coding", "MMLU": "other"}


def test_none_means_one_number():
    assert domain_map("none", ["GSM8K"]) == {}
    assert domain_map(None, ["GSM8K"]) == {}


def test_file_map(write_csv):
    path = write_csv("benchmark,domain\nA,x\nB,y\nC,\n", "domains.csv")
    assert domain_map(path, ["A", "B", "C", "D"]) == {"A": "x", "B": "y"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bench,domain\nA,x\n", "needs columns"),
        ("benchmark,domain\nA,x\nA,y\n", "twice"),
        ("benchmark,domain\nA,x\nB,x\n", "fewer than two domains"),
    ],
)
def test_bad_file_maps(write_csv, text, message):
    with pytest.raises(DomainMapError, match=message):
        domain_map(write_csv(text, "domains.csv"), ["A", "B"])


def test_unknown_source_is_a_clear_error():
    with pytest.raises(DomainMapError, match="'none', 'metadata' or a CSV"):
        domain_map("metdata", ["A"])


def test_spec_round_trips_domains():
    from rosetta.model import MeasurementSpec

    spec = MeasurementSpec(domains={"B": "y", "A": "x", "C": ""})
    assert spec.domains == (("A", "x"), ("B", "y"))
    assert MeasurementSpec.from_json(spec.to_json()) == spec


@pytest.fixture(scope="module")
def bifactor_fit():
    """A small bifactor fit: 30 models, 8 benchmarks in 2 domains, strong deviations."""
    from rosetta.data import load_scores
    from rosetta.model import MeasurementSpec, fit
    from rosetta.scale import Scale
    from rosetta.simulate import simulate_scores

    frame, truth = simulate_scores(
        30, 8, observed_fraction=0.8, domains=2, domain_sd=0.6, precision=80, random_seed=5
    )
    table = load_scores(frame, metadata=False)
    domains = truth.benchmarks["domain"].to_dict()
    del domains["b07"]  # one benchmark measures the general capability only
    spec = MeasurementSpec(scale=Scale(benchmark="b01"), domains=domains)
    idata = fit(
        table, spec, draws=200, tune=300, chains=2, random_seed=1, progress=False, warn=False
    )
    return idata, truth


def test_bifactor_fit_has_domain_variables(bifactor_fit):
    idata, _ = bifactor_fit
    post = idata.posterior
    assert post["domain_capability"].dims == ("chain", "draw", "model", "domain")
    assert list(post["domain"].to_numpy()) == ["d0", "d1"]
    assert post[BENCHMARK_DOMAIN].sel(benchmark="b07").item() == ""
    assert post[BENCHMARK_DOMAIN].sel(benchmark="b02").item() == "d0"
    # the anchor scale is applied to the deviations as to the capabilities
    np.testing.assert_allclose(
        post["domain_capability"] - post["capability"], post["domain_deviation"], atol=1e-9
    )
    # deviations sum to zero over models and over a model's domains
    assert np.abs(post["domain_deviation"].sum("model")).max() < 1e-6
    assert np.abs(post["domain_deviation"].sum("domain")).max() < 1e-6


def test_bifactor_recovers_deviations(bifactor_fit):
    idata, truth = bifactor_fit
    truth = truth.on_benchmark_scale("b01")
    post = idata.posterior
    est = post["domain_deviation"].mean(("chain", "draw")).to_pandas()
    true = truth.deviation.loc[est.index]
    # in the fit, the general capability is the mean of the domain capabilities
    general_true = truth.capability.loc[est.index] + true.mean(axis=1)
    true = true.sub(true.mean(axis=1), axis=0)
    for domain in ("d0", "d1"):
        assert np.corrcoef(est[domain], true[domain])[0, 1] > 0.7
    general = post["capability"].mean(("chain", "draw")).to_series()
    assert np.corrcoef(general, general_true)[0, 1] > 0.95


def test_predictions_include_the_domain(bifactor_fit):
    idata, _ = bifactor_fit
    post = idata.posterior
    theta = effective_capability(post, ["m000", "m000"], ["b02", "b07"])
    np.testing.assert_allclose(
        theta.isel(pair=0), post["domain_capability"].sel(model="m000", domain="d0")
    )
    np.testing.assert_allclose(theta.isel(pair=1), post["capability"].sel(model="m000"))


def test_capability_of(bifactor_fit):
    idata, _ = bifactor_fit
    assert capability_of(idata.posterior, "d1").dims == ("chain", "draw", "model")
    with pytest.raises(RosettaError, match="not in this fit"):
        capability_of(idata.posterior, "maths")


def test_loo_prefers_the_true_bifactor(bifactor_fit, tmp_path):
    from rosetta.comparison import compare, compare_fits, pointwise_loglik
    from rosetta.io import scores_of_fit
    from rosetta.model import fit

    idata, _ = bifactor_fit
    spec = idata.spec
    one = fit(
        scores_of_fit(idata),
        replace(spec, domains=()),
        draws=200,
        tune=300,
        chains=2,
        random_seed=1,
        progress=False,
        warn=False,
    )
    ll = pointwise_loglik(idata)
    assert ll.dims == ("chain", "draw", "obs") and np.isfinite(ll).all()
    table = compare_fits({"bifactor": idata, "one": one})
    assert table.index[0] == "bifactor"
    assert table.loc["one", "elpd_diff"] > 2 * table.loc["one", "dse"]
    ranked = compare({"bifactor": idata, "one": one})
    assert ranked.to_dict()["best"] == "bifactor" and "PSIS-LOO" in ranked.summary()
    check_result_interface(ranked, tmp_path)


def test_pointwise_loglik_is_the_beta_density(tiny_fit):
    """On scores strictly inside (0, 1) the ordered Beta is the Beta density times P(inside)."""
    from scipy.stats import beta

    from rosetta.comparison import pointwise_loglik
    from rosetta.io import scores_of_fit
    from rosetta.prediction import expected_score

    idata, _ = tiny_fit
    scores = scores_of_fit(idata)
    assert scores["score"].between(0, 1, inclusive="neither").all()
    sub = idata.idata.copy()
    sub.posterior = idata.posterior.isel(chain=[0], draw=slice(0, 3))
    p = expected_score(sub.posterior, scores["model"], scores["benchmark"]).to_numpy()
    pairs = xr.DataArray(scores["benchmark"].to_numpy(), dims="pair")
    phi = sub.posterior["precision"].sel(benchmark=pairs).to_numpy()
    expected = beta.logpdf(scores["score"].to_numpy(), p * phi, (1 - p) * phi)
    np.testing.assert_allclose(pointwise_loglik(sub), expected, rtol=1e-6)


def test_pointwise_loglik_by_blocks_of_draws_is_the_same(tiny_fit, monkeypatch):
    import rosetta.comparison as comparison

    idata, _ = tiny_fit
    whole = comparison.pointwise_loglik(idata)
    block = 4 * whole.sizes["chain"] * whole.sizes["obs"]  # 4 draws of each chain
    monkeypatch.setattr(comparison, "LOGLIK_BLOCK_VALUES", block)
    blocks = comparison.pointwise_loglik(idata)
    assert whole.sizes["draw"] % 4  # the last block is a short one
    xr.testing.assert_identical(blocks, whole)


def _likelihood_model_of(idata):
    from rosetta.fitted import as_fit
    from rosetta.model.measurement import likelihood_model

    fit = as_fit(idata)
    return likelihood_model(fit.table, fit.spec)


@pytest.mark.parametrize("which", ["tiny", "bifactor"])
def test_pymc_log_likelihood_of_a_saved_fit(which, tiny_fit, bifactor_fit):
    """`pm.compute_log_likelihood` on `likelihood_model` is `pointwise_loglik`, score by score."""
    import pymc as pm

    from rosetta.comparison import pointwise_loglik

    idata = (tiny_fit if which == "tiny" else bifactor_fit)[0]
    sub = idata.idata.copy()
    sub.posterior = idata.posterior.isel(draw=slice(0, 40))
    loglik = pm.compute_log_likelihood(
        sub, model=_likelihood_model_of(sub), extend_inferencedata=False, progressbar=False
    )["score"].sortby("obs")
    # atol: a log-likelihood that cancels to near 0 (2e-6 in one draw) differs by rounding
    # (1e-13) between the two evaluation orders
    np.testing.assert_allclose(loglik, pointwise_loglik(sub), rtol=1e-9, atol=1e-11)


def test_pymc_posterior_predictive_of_a_saved_fit(tiny_fit):
    """`pm.sample_posterior_predictive` on `likelihood_model` draws like the fit's predictive."""
    import pymc as pm

    idata, _ = tiny_fit
    draws = pm.sample_posterior_predictive(
        idata.posterior, model=_likelihood_model_of(idata), random_seed=1, progressbar=False
    ).posterior_predictive["score"]
    draws = draws.sortby("obs").assign_coords(obs=idata.observed_data["obs"])
    assert ((draws >= 0) & (draws <= 1)).all()
    saved = idata.posterior_predictive["score"]
    mean = draws.mean(("chain", "draw"))
    assert float(abs(mean - saved.mean(("chain", "draw"))).max()) < 0.05
    assert float(abs(draws.std(("chain", "draw")) / saved.std(("chain", "draw")) - 1).mean()) < 0.1


def test_domain_table_and_trends(bifactor_fit, tmp_path):
    from rosetta.summary import domain_table
    from rosetta.trends import domain_trends, models_scored_in

    idata, _ = bifactor_fit
    table = domain_table(idata)
    assert {"d0", "d0_deviation", "d0_lo", "d0_hi", "d0_scores"} <= set(table.columns)
    assert table["capability"].is_monotonic_decreasing
    dated = idata.idata.copy()
    n = dated.posterior.sizes["model"]
    dated.constant_data["release_date"] = (
        "model",
        pd.date_range("2023-01-01", periods=n, freq="20D").to_numpy(),
    )
    result = domain_trends(dated)
    check_result_interface(result, tmp_path)
    trends = result.to_dict()
    assert set(trends) == {"d0", "d1"}
    assert trends["d0"]["n_models"] == len(models_scored_in(dated, "d0"))
    assert 0 <= trends["d1"]["p_faster_than_general"] <= 1


@pytest.mark.slow  # end to end: fits, then every analysis
def test_cli_bifactor_fit_trend_compare_report(capsys, tmp_path, bifactor_fit):
    """The command line end to end on the bifactor fit's scores (MAP fits, for speed)."""
    from rosetta.cli import main
    from rosetta.io import scores_of_fit

    idata, truth = bifactor_fit
    scores = scores_of_fit(idata)
    scores["date"] = pd.Timestamp("2023-01-01") + pd.to_timedelta(
        scores["model"].str[1:].astype(int) * 20, unit="D"
    )
    data = tmp_path / "scores.csv"
    scores[["model", "benchmark", "score", "floor", "date"]].to_csv(data, index=False)
    domains = tmp_path / "domains.csv"
    truth.benchmarks["domain"].reset_index().to_csv(domains, index=False)
    common = ["--method", "map", "--draws", "100", "--chains", "1", "--anchor-benchmark", "b01"]
    fits = {}
    for name, choice in (("bifactor", str(domains)), ("one", "none")):
        fits[name] = tmp_path / f"{name}.nc"
        args = ["fit", str(data), *common, "--domains", choice, "--out", str(fits[name])]
        assert main([*args, "--tables", str(tmp_path / name), "--json"]) == 0
        payload = json.loads(capsys.readouterr().out)
        assert payload["domains"] == (["d0", "d1"] if name == "bifactor" else [])
    assert (tmp_path / "bifactor" / "domains.csv").exists()
    assert not (tmp_path / "one" / "domains.csv").exists()

    assert main(["trend", str(fits["bifactor"]), "--domain", "d0", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["domain"] == "d0" and set(payload["domains"]) == {"d0", "d1"}
    assert main(["trend", str(fits["one"]), "--domain", "d0"]) == 2
    assert "one-number fit" in capsys.readouterr().err

    assert main(["compare", str(fits["bifactor"]), str(fits["one"]), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload["fits"]) == {"bifactor", "one"}
    assert payload["fits"][payload["best"]]["elpd_diff"] == 0

    report = tmp_path / "report.html"
    assert main(["report", str(fits["bifactor"]), "--out", str(report)]) == 0
    assert 'id="domains"' in report.read_text()

    assert main(["fit", str(data), *common, "--domains", "nonsense", "--out", "x.nc"]) == 2
    assert "'none', 'metadata' or a CSV" in capsys.readouterr().err


@pytest.mark.slow
def test_validate_compares_with_one_number_and_reference(capsys, tmp_path, bifactor_fit):
    """``--compare-one-number`` drops the domains; the reference drops domains and families."""
    from rosetta.cli import main
    from rosetta.io import scores_of_fit

    idata, truth = bifactor_fit
    data = tmp_path / "scores.csv"
    scores_of_fit(idata)[["model", "benchmark", "score", "floor"]].to_csv(data, index=False)
    domains = tmp_path / "domains.csv"
    truth.benchmarks["domain"].reset_index().to_csv(domains, index=False)
    args = ["validate", str(data), "--method", "map", "--draws", "50", "--chains", "1"]
    args += ["--anchor-benchmark", "b01", "--folds", "2", "--json"]
    assert (
        main([*args, "--domains", str(domains), "--compare-one-number", "--compare-reference"]) == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["domains"] == ["d0", "d1"] and payload["family_effects"]
    for key in ("one_number", "reference"):
        assert payload[key]["n_heldout"] == payload["n_heldout"]
    reduction = 1 - payload["rmse"] / payload["one_number"]["rmse"]
    assert payload["rmse_reduction_vs_one_number"] == pytest.approx(reduction, abs=1e-4)
    assert main([*args, "--compare-one-number"]) == 2
    assert "needs --domains" in capsys.readouterr().err


def test_query_on_a_bifactor_fit_says_it_uses_the_general_capability(bifactor_fit):
    from rosetta.placement import query

    idata, _ = bifactor_fit
    result = query(idata, {"b02": 0.6, "b03": 0.5, "b07": 0.55})
    assert any("general capability" in note for note in result.notes)
