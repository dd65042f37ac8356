"""rosetta.algorithmic_progress: the family rule, the estimators on known draws, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import check_result_interface, rosetta_attrs

from rosetta.algorithmic_progress import _ols_draws, model_family, progress
from rosetta.cli import main
from rosetta.simulate import simulate_progress


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("Llama-2-7b", "llama-2"),
        ("Llama-2-70b-chat-hf", "llama-2"),
        ("Meta-Llama-3-70B-Instruct", "meta-llama-3"),
        ("falcon-180B", "falcon"),
        ("Qwen2.5-72B", "qwen2-5"),
        ("qwen2.5-72b-instruct", "qwen2-5"),
        ("Mixtral-8x7B-v0.1", "mixtral"),
        ("Llama-4-Maverick-17B-128E-Instruct-FP8", "llama-4-maverick"),
        ("gpt-4o-2024-05-13", "gpt-4o"),
        ("claude-3-7-sonnet-20250219_16K", "claude-3-7-sonnet"),
        ("DeepSeek-V3-0324", "deepseek-v3"),
        ("gemma-2-9b-it", "gemma-2"),
    ],
)
def test_family_rule(model, family):
    assert model_family(model) == family


def test_ols_draws_centre_on_least_squares():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 40)
    design = np.column_stack([x, np.ones_like(x)])
    y = 2.0 * x + 1 + rng.normal(0, 0.1, 40)
    coef = _ols_draws(design, np.tile(y, (4000, 1)), rng)
    exact = np.linalg.lstsq(design, y, rcond=None)[0]
    np.testing.assert_allclose(coef.mean(axis=0), exact, atol=0.01)


def _fake_fit(frame, capability_draws):
    """A fit-shaped object around given capability draws (no sampling)."""
    import arviz as az
    import xarray as xr

    models = capability_draws.columns
    info = frame.groupby("model")[["date", "compute"]].first().reindex(models)
    posterior = xr.Dataset(
        {"capability": (("chain", "draw", "model"), capability_draws.to_numpy()[None])},
        coords={"model": models},
    )
    constant = xr.Dataset(
        {
            "release_date": ("model", info["date"].to_numpy()),
            "compute": ("model", info["compute"].to_numpy()),
            "distilled": ("model", np.zeros(len(models))),
        },
        coords={"model": models},
    )
    posterior.attrs.update(rosetta_attrs())
    return az.InferenceData(posterior=posterior, constant_data=constant)


def _exact_world(seed, noise=0.05, **world):
    """A simulated world and a fake fit whose capability draws scatter around the truth."""
    frame, truth = simulate_progress(random_seed=seed, **world)
    exact = truth.scores.capability
    draws = np.random.default_rng(seed).normal(0, noise, (400, len(exact)))
    return _fake_fit(frame, pd.DataFrame(exact.to_numpy() + draws, columns=exact.index)), truth


def test_two_stage_intervals_cover_a_known_efficiency_gain(tmp_path):
    """Over 10 worlds with nearly exact capabilities, the 90% intervals cover the truth."""
    covered = []
    for seed in range(10):
        fit, truth = _exact_world(seed, n_families=30, n_single=30)
        families = truth.models["family"].to_dict()
        result = progress(fit, method="two-stage", families=families, sensitivity=False)
        if seed == 0:
            check_result_interface(result, tmp_path)
        gain = result.to_dict()["efficiency_gain_per_year"]
        covered.append(gain["lo"] < truth.efficiency_gain < gain["hi"])
        assert np.median(result.k) == pytest.approx(truth.k, rel=0.2)
    assert sum(covered) >= 7  # P(< 7 of 10) = 1.3% at the nominal 90%
    assert result.to_dict()["n_families_informing_k"] == 30


def test_bayesian_regression_recovers_family_slopes_and_the_gain():
    world = {"n_families": 8, "n_single": 20, "k_sd": 0.15, "residual_sd": 0.1}
    fit, truth = _exact_world(3, **world)
    result = progress(fit, families=truth.models["family"].to_dict(), random_seed=3)
    out = result.to_dict()
    assert out["method"] == "bayesian" and out["diagnostics"]["converged"]
    assert out["k"]["lo"] < truth.k < out["k"]["hi"]
    gain = out["efficiency_gain_per_year"]
    assert gain["lo"] < truth.efficiency_gain < gain["hi"]
    true_k = truth.models.groupby("family")["k"].first()
    inside = [
        out["k_by_family"][f]["lo"] < true_k[f] < out["k_by_family"][f]["hi"]
        for f in out["k_by_family"]
    ]
    assert len(inside) == 8 and sum(inside) >= 6
    # Partial pooling: family slopes sit between their own fit and the mean.
    spread = np.std([v["median"] for v in out["k_by_family"].values()])
    assert spread < true_k[list(out["k_by_family"])].std() * 1.5
    rows = result.variants.reset_index()
    assert set(rows["method"]) == {"bayesian", "two-stage"}
    assert set(rows["population"]) <= {"all", "frontier"}


def test_direct_observations_see_progress_at_fixed_compute_and_capability():
    fit, truth = _exact_world(1, n_families=20, n_single=40, b_growth=0.6)
    families = truth.models["family"].to_dict()
    out = progress(fit, method="two-stage", families=families, sensitivity=False)
    direct = out.to_dict()["direct"]
    assert direct["capability_gain_per_year"]["lo"] > 0
    assert direct["compute_reduction_per_year"]["median"] > 1
    assert direct["share_of_draws_with_buckets"]["compute"] == 1.0


def test_too_few_models_with_compute_is_a_clear_error():
    from rosetta.errors import RosettaError

    fit, _ = _exact_world(0, n_families=1, sizes_per_family=2, n_single=2)
    with pytest.raises(RosettaError, match="at least 5"):
        progress(fit)


@pytest.mark.slow  # end to end: fits, then every analysis
def test_progress_cli(capsys, tmp_path):
    from rosetta.io import save_fit
    from rosetta.model import fit

    frame, truth = simulate_progress(n_families=6, n_single=6, n_benchmarks=6, random_seed=2)
    # Ids the family rule reads: sizes as "7b"-like tokens after the family name.
    size = truth.models.groupby("family").cumcount() + 1
    frame["model"] = frame["model"].map(lambda m: f"{truth.models.loc[m, 'family']}-{size[m]}b")
    idata = fit(frame, method="map", draws=200, chains=1, progress=False)
    path = tmp_path / "progress.nc"
    save_fit(idata, path)
    code = main(["progress", str(path), "--json", "--plot", str(tmp_path / "p.png")])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("efficiency_gain_per_year", "halving_time_months", "k"):
        assert {"median", "lo", "hi"} <= set(payload[key])
    assert payload["n_models"] == 24 and payload["method"] == "bayesian"
    assert set(payload["k_by_family"]) == set(payload["families_informing_k"])
    assert len(payload["k_by_family"]) == 6
    assert payload["models_by_compute_source"] == {"published": 24}
    assert {row["method"] for row in payload["variants"]} == {"bayesian", "two-stage"}
    assert payload["excluded"]["no training compute"] == 0
    code = main(["progress", str(path), "--method", "two-stage", "--no-sensitivity"])
    text = capsys.readouterr().out
    assert code == 0 and "method: two-stage" in text and "k by family" in text


def test_progress_cli_without_compute_exits_with_one_line(capsys, tmp_path):
    from rosetta.io import save_fit
    from rosetta.model import fit

    frame, _ = simulate_progress(n_families=3, n_single=3, n_benchmarks=5, random_seed=4)
    idata = fit(frame.drop(columns="compute"), method="map", draws=100, chains=1, progress=False)
    path = tmp_path / "nocompute.nc"
    save_fit(idata, path)
    code = main(["progress", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "training compute" in err and "Traceback" not in err


def test_common_frame_takes_out_each_draws_shift_and_stretch():
    from rosetta.algorithmic_progress import common_frame

    rng = np.random.default_rng(0)
    draws = rng.normal(0, 1, (300, 12)) * 0.1 + np.linspace(-1, 1, 12)
    shift, stretch = rng.normal(0, 0.5, (300, 1)), rng.uniform(0.5, 2.0, (300, 1))
    frame, scale = common_frame(draws)
    moved, moved_scale = common_frame(shift + stretch * draws)
    # The same frame up to one affine map, and the stretch recovered draw by draw.
    slope, intercept = np.polyfit(frame.ravel(), moved.ravel(), 1)
    np.testing.assert_allclose(moved, slope * frame + intercept, atol=1e-10)
    ratio = moved_scale / scale
    np.testing.assert_allclose(ratio / ratio.mean(), stretch[:, 0] / stretch.mean(), rtol=1e-10)
