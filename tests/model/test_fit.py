import itertools
import json
import warnings

import h5py
import numpy as np
import pytest
from helpers import check_result_interface

from rosetta.errors import ConvergenceWarning, IncompatibleFitError
from rosetta.io import load_fit, save_fit
from rosetta.model import MeasurementSpec, fit
from rosetta.prediction import predict
from rosetta.scale import Scale


def test_groups_names_and_attrs(tiny_fit, tiny_sim):
    idata, _ = tiny_fit
    table, _ = tiny_sim
    assert {
        "posterior",
        "posterior_predictive",
        "observed_data",
        "constant_data",
        "sample_stats",
    } <= set(idata.groups())
    post = idata.posterior
    for name in (
        "capability",
        "difficulty",
        "slope",
        "floor",
        "precision",
        "capability_mu",
        "capability_sigma",
    ):
        assert name in post and np.isfinite(post[name]).all()
    assert not any(name.endswith("_offset") for name in post.data_vars)
    assert post.sizes["model"] == len(table.models) and post.sizes["chain"] == 2
    attrs = post.attrs
    assert attrs["data_sha256"] == table.sha256()
    assert json.loads(attrs["scale"])["benchmark"] == "b01"
    assert attrs["likelihood"] == "beta" and attrs["sampler"] == "nutpie"
    assert {"pymc", "arviz", "numpy"} <= set(json.loads(attrs["versions"]))
    assert idata.posterior_predictive["score"].sizes["obs"] == table.n_scores


def test_anchor_sits_exactly_in_every_draw(tiny_fit):
    post = tiny_fit[0].posterior
    np.testing.assert_allclose(post["difficulty"].sel(benchmark="b01"), 0, atol=1e-9)
    np.testing.assert_allclose(post["slope"].sel(benchmark="b01"), 1)


def test_diagnostics_recorded(tiny_fit):
    diagnostics = json.loads(tiny_fit[0].posterior.attrs["diagnostics"])
    assert {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "ok"} <= set(diagnostics)
    assert diagnostics["max_rhat"] < 1.2


def test_capabilities_track_the_truth(tiny_fit, tiny_sim):
    post = tiny_fit[0].posterior
    truth = tiny_sim[1].capability
    estimate = post["capability"].mean(("chain", "draw")).to_series()
    assert np.corrcoef(estimate, truth.loc[estimate.index])[0, 1] > 0.9


def test_save_load_round_trip(tiny_fit, tmp_path):
    idata, path = tiny_fit
    loaded = load_fit(path)
    assert set(loaded.groups()) == set(idata.groups())
    assert loaded.posterior.attrs == idata.posterior.attrs
    # written in single precision, read back in double
    assert loaded.posterior["capability"].dtype == np.float64
    np.testing.assert_allclose(
        loaded.posterior["capability"], idata.posterior["capability"], rtol=1e-6, atol=1e-7
    )
    with h5py.File(path) as raw:
        assert raw["posterior"]["capability"].dtype == np.float32
    assert list(loaded.posterior["model"].values) == list(idata.posterior["model"].values)
    save_fit(loaded, tmp_path / "again.nc")  # re-saving a loaded fit works (file was closed)


def test_load_refuses_bad_files(tmp_path, tiny_fit):
    with pytest.raises(FileNotFoundError):
        load_fit(tmp_path / "missing.nc")
    junk = tmp_path / "junk.nc"
    junk.write_text("not a netcdf file")
    with pytest.raises(IncompatibleFitError, match="cannot read"):
        load_fit(junk)
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(tiny_fit[1].read_bytes()[:5000])
    with pytest.raises(IncompatibleFitError):
        load_fit(truncated)


def test_predict_api(tiny_fit):
    idata, _ = tiny_fit
    draws = predict(idata, ["m000", "m001"], ["b02", "b03"])
    assert draws.dims == ("chain", "draw", "pair")
    assert ((draws >= 0) & (draws <= 1)).all()
    mean = predict(idata, ["m000"], ["b02"], kind="mean")
    assert float(mean.std()) > 0
    with pytest.raises(KeyError, match="unknown model"):
        predict(idata, ["nobody"], ["b02"])


def test_same_seed_same_posterior(tiny_sim):
    table, _ = tiny_sim
    spec = MeasurementSpec(scale=Scale(benchmark="b01"))
    kwargs = {
        "draws": 30,
        "tune": 30,
        "chains": 2,
        "random_seed": 9,
        "progress": False,
        "warn": False,
    }
    a = fit(table, spec, **kwargs).posterior["capability"]
    b = fit(table, spec, **kwargs).posterior["capability"]
    np.testing.assert_array_equal(a, b)


def test_sampling_stops_at_the_first_checkpoint_with_enough_effective_draws(tiny_sim):
    from rosetta.constants import ESS_CHECK_EVERY

    table, _ = tiny_sim
    spec = MeasurementSpec(scale=Scale(benchmark="b01"))
    kwargs = {"draws": 3000, "tune": 200, "random_seed": 4, "progress": False, "warn": False}
    a = fit(table, spec, min_ess=150, **kwargs)
    kept = a.posterior.sizes["draw"]
    assert kept < 3000 and kept % ESS_CHECK_EVERY == 0 and a.info.draws == kept
    assert a.diagnostics["min_ess_bulk"] >= 150 and a.diagnostics["divergences"] == 0
    # the same seed stops at the same checkpoint with the same draws, however fast it ran
    b = fit(table, spec, min_ess=150, **kwargs)
    np.testing.assert_array_equal(a.posterior["capability"], b.posterior["capability"])
    everything = fit(table, spec, min_ess=None, **{**kwargs, "draws": 400})
    assert everything.posterior.sizes["draw"] == 400


def test_an_unconverged_run_samples_on_with_the_same_first_draws(tiny_sim):
    from rosetta.constants import MAX_DRAWS_FACTOR

    table, _ = tiny_sim
    spec = MeasurementSpec(scale=Scale(benchmark="b01"))
    kwargs = {"draws": 100, "tune": 200, "random_seed": 4, "progress": False, "warn": False}
    planned = fit(table, spec, min_ess=None, **kwargs)
    assert not planned.diagnostics["ok"]  # 100 draws per chain are too few here
    on = fit(table, spec, **kwargs)
    assert on.info.draws == on.posterior.sizes["draw"] == 100 * MAX_DRAWS_FACTOR
    assert on.diagnostics["min_ess_bulk"] > planned.diagnostics["min_ess_bulk"]
    first = on.posterior["capability"].isel(draw=slice(100))
    np.testing.assert_array_equal(first, planned.posterior["capability"])


def test_the_early_stop_check_gives_the_full_summarys_verdict(tiny_sim):
    """Checked one variable at a time up to the first shortfall: the verdict of all of them."""
    from rosetta.model import _enough, anchored_diagnostics, build_model
    from rosetta.model.sampling import RawPosterior, run_nuts

    table, _ = tiny_sim
    spec = MeasurementSpec(scale=Scale(benchmark="b01")).resolved_for(table)
    settings = {"tune": 200, "chains": 2, "random_seed": 4, "sampler": "nutpie"}
    raw = run_nuts(
        build_model(table, spec), draws=1200, target_accept=0.9, progress=False, **settings
    )  # 1,200 draws: the last window converges with room (R-hat 1.005; 600 gave 1.0145 here)
    verdicts = []
    for min_ess, tail in itertools.product((100, 300, 600, 900), (True, False)):
        check = _enough(spec, table, min_ess, tail=tail)  # one per run: it remembers shortfalls
        for kept in (100, 300, 1200):
            window = RawPosterior(
                raw.posterior.isel(draw=slice(kept)),
                raw.sample_stats.isel(draw=slice(kept)),
                "nuts",
                "nutpie",
            )
            _, full = anchored_diagnostics(window, spec, table)
            expected = (
                full["max_rhat"] <= 1.01
                and full["min_ess_bulk"] >= min_ess
                and (not tail or full["min_ess_tail"] >= min_ess)
                and full["divergences"] == 0
            )
            assert check(window) == expected, (min_ess, tail, kept, full)
            verdicts.append(expected)
    assert True in verdicts and False in verdicts  # both verdicts exercised
    diverged = raw.sample_stats.copy()
    diverged["diverging"] = diverged["diverging"].copy(data=np.zeros_like(diverged["diverging"]))
    diverged["diverging"][0, 5] = True
    assert not _enough(spec, table, 1)(RawPosterior(raw.posterior, diverged, "nuts", "nutpie"))


@pytest.mark.parametrize("method", ["map", "advi"])
def test_approximate_methods(tiny_sim, method):
    table, truth = tiny_sim
    idata = fit(
        table,
        MeasurementSpec(scale=Scale(benchmark="b01")),
        method=method,
        draws=100,
        chains=2,
        progress=False,
    )
    post = idata.posterior
    assert post.sizes["chain"] == 1 and post.sizes["draw"] == 200
    assert "sample_stats" not in idata.groups()
    estimate = post["capability"].mean(("chain", "draw")).to_series()
    assert np.corrcoef(estimate, truth.capability.loc[estimate.index])[0, 1] > 0.85


def test_approximation_accuracy_against_nuts(tiny_fit, tiny_sim):
    from rosetta.comparison import approximation_accuracy

    nuts, _ = tiny_fit
    same = approximation_accuracy(nuts, nuts)
    assert same.loc["capability", "entries"] == len(tiny_sim[0].models)
    assert same.loc["difficulty", "entries"] == len(tiny_sim[0].benchmarks) - 1  # the anchor
    assert np.allclose(same[["mean_corr", "sd_ratio", "interval_overlap"]], 1.0)
    assert np.allclose(same["max_mean_shift_sd"], 0.0)
    # an "approximation" half as wide and shifted by one sd: the figures say so
    narrow = nuts.idata.copy()
    capability = narrow.posterior["capability"]
    mean, sd = capability.mean(("chain", "draw")), capability.std(("chain", "draw"))
    narrow.posterior["capability"] = mean + sd + 0.5 * (capability - mean)
    row = approximation_accuracy(narrow, nuts).loc["capability"]
    assert row["sd_ratio"] == pytest.approx(0.5)
    assert row["mean_shift_sd"] == pytest.approx(1.0, rel=0.01)
    assert row["mean_corr"] > 0.99
    # its 90% interval, mean + sd +- 0.82 sd, covers (1.645 - 0.18) / 3.29 of NUTS's
    assert row["interval_overlap"] == pytest.approx(0.445, abs=0.05)
    other = nuts.idata.copy()
    other.posterior.attrs["data_sha256"] = "a fit of other scores"
    with pytest.raises(IncompatibleFitError, match="same scores"):
        approximation_accuracy(other, nuts)
    with pytest.raises(ValueError, match=r"not in both posteriors.*dimension_loading"):
        approximation_accuracy(nuts, nuts, names=("capability", "dimension_loading"))


def test_bad_convergence_warns(tiny_sim):
    table, _ = tiny_sim
    with pytest.warns(ConvergenceWarning, match="may not be reliable"):
        fit(
            table,
            MeasurementSpec(scale=Scale(benchmark="b01")),
            draws=5,
            tune=5,
            chains=2,
            progress=False,
        )


@pytest.mark.parametrize(
    ("problems", "divergences", "says", "not_said"),
    [
        (["3 divergent transitions"], 3, "--target-accept", "--draws"),
        (["max R-hat 1.030 > 1.01"], 0, "--draws", "--target-accept"),
        (["max R-hat 1.030 > 1.01", "3 divergent transitions"], 3, "--draws", None),
    ],
)
def test_the_convergence_warning_says_what_to_try(problems, divergences, says, not_said):
    from rosetta.diagnostics import warn_unconverged

    summary = {"problems": problems, "divergences": divergences}
    with pytest.warns(ConvergenceWarning) as caught:
        warn_unconverged(summary)
    text = str(caught[0].message)
    assert says in text and (not_said is None or not_said not in text)
    assert ("--target-accept" in text) == bool(divergences)


def test_bad_arguments(tiny_sim):
    table, _ = tiny_sim
    with pytest.raises(ValueError, match="method"):
        fit(table, method="gibbs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match="anchor benchmark 'Nope'"):
            fit(table, MeasurementSpec(scale=Scale(benchmark="Nope")))


def test_a_missing_optional_sampler_says_which_extra_to_install(monkeypatch):
    import importlib.util

    from rosetta.errors import SamplingError
    from rosetta.model.sampling import choose_sampler

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "numpyro" else real(name, *a)
    )
    with pytest.raises(SamplingError, match=r"rosetta\[jax\]"):
        choose_sampler("numpyro")


def test_the_fit_object(tiny_fit, tiny_sim, tmp_path):
    from rosetta import Fit
    from rosetta.fitted import as_fit

    fit, path = tiny_fit
    table, _ = tiny_sim
    assert isinstance(fit, Fit) and as_fit(fit) is fit and as_fit(fit.idata).info == fit.info
    assert as_fit(path).info == fit.info
    assert fit.info.data_sha256 == table.sha256() == fit.table.sha256()
    assert fit.spec.likelihood == "beta" and fit.scale.benchmark == "b01"
    assert fit.info.converged == fit.diagnostics["ok"] and fit.info.approximate is False
    assert fit.to_dict(top=3)["top_models"] == fit.capabilities().head(3)["mean"].round(3).to_dict()
    check_result_interface(fit, tmp_path)
    with pytest.raises(TypeError, match="expected a rosetta Fit"):
        as_fit(42)


def test_the_stored_predictive_is_thinned_unless_asked(tiny_sim):
    """`PREDICTIVE_DRAWS` predictive draws by default (spread over the chain), all on request."""
    from rosetta.constants import PREDICTIVE_DRAWS

    table, _ = tiny_sim
    quick = {"method": "advi", "draws": 1200, "chains": 1, "progress": False}
    thinned = fit(table, **quick).posterior_predictive["score"]
    assert thinned.sizes["draw"] == PREDICTIVE_DRAWS
    assert int(thinned["draw"][0]) == 0 and int(thinned["draw"][-1]) == 1199
    full = fit(table, predictive_draws=None, **quick)
    assert full.posterior_predictive["score"].sizes["draw"] == 1200
    assert full.posterior.sizes["draw"] == 1200


def test_small_models_keep_nutpies_own_low_rank_cutoff():
    from rosetta.constants import NUTPIE_EIGVAL_CUTOFF, SMALL_MODEL_PARAMETERS
    from rosetta.model.sampling import nutpie_metric

    for n_dim, cutoff in ((SMALL_MODEL_PARAMETERS - 1, NUTPIE_EIGVAL_CUTOFF), (538, 10.0)):
        metric = nutpie_metric(10.0, n_dim)
        assert metric["low_rank_modified_mass_matrix"]
        assert metric["mass_matrix_eigval_cutoff"] == cutoff


def test_warm_up_length_follows_the_model_and_trees_are_capped(tiny_sim, monkeypatch):
    from rosetta.constants import (
        DEFAULT_DRAWS,
        DEFAULT_TUNE,
        FACTOR_DRAWS,
        FACTOR_MAXDEPTH,
        FACTOR_TUNE,
        NUTPIE_EIGVAL_CUTOFF,
        NUTS_EIGVAL_CUTOFF,
        NUTS_MAXDEPTH,
    )
    from rosetta.model import sampling

    one = MeasurementSpec()
    assert (one.default_draws, one.default_tune, one.maxdepth, one.eigval_cutoff) == (
        DEFAULT_DRAWS,
        DEFAULT_TUNE,
        NUTS_MAXDEPTH,
        NUTS_EIGVAL_CUTOFF,
    )
    for factor in (MeasurementSpec(dimensions=1), MeasurementSpec(domains={"b01": "math"})):
        settings = (factor.default_draws, factor.default_tune, factor.maxdepth)
        assert (*settings, factor.eigval_cutoff) == (
            FACTOR_DRAWS,
            FACTOR_TUNE,
            FACTOR_MAXDEPTH,
            NUTPIE_EIGVAL_CUTOFF,
        )
    table, _ = tiny_sim
    monkeypatch.setattr(MeasurementSpec, "maxdepth", 2)
    # a cutoff just above 1 keeps (nearly) every direction in nutpie's low-rank mass matrix
    monkeypatch.setattr(MeasurementSpec, "eigval_cutoff", 1.0 + 1e-9)
    monkeypatch.setattr(sampling, "SMALL_MODEL_PARAMETERS", 0)  # the tiny table's model is small
    result = fit(
        table,
        MeasurementSpec(scale=Scale(benchmark="b01")),
        draws=30,
        chains=2,
        random_seed=1,
        progress=False,
        warn=False,
        min_ess=None,
    )
    assert result.info.tune == DEFAULT_TUNE
    stats = result.idata.sample_stats
    assert int(stats["depth"].max()) == 2 and bool(stats["maxdepth_reached"].any())
    assert int(stats["num_eigenvalues"].min()) >= 10
