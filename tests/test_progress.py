"""rosetta.progress: the family rule, the estimators on known draws, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rosetta.cli import main
from rosetta.progress import _ols_draws, model_family, progress
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
    return az.InferenceData(posterior=posterior, constant_data=constant)


def test_progress_intervals_cover_a_known_efficiency_gain():
    """Over 10 worlds with nearly exact capabilities, the 90% intervals cover the truth."""
    covered = []
    for seed in range(10):
        frame, truth = simulate_progress(n_families=30, n_single=30, random_seed=seed)
        exact = truth.scores.capability
        noise = np.random.default_rng(seed).normal(0, 0.05, (400, len(exact)))
        draws = pd.DataFrame(exact.to_numpy() + noise, columns=exact.index)
        result = progress(_fake_fit(frame, draws), families=truth.models["family"].to_dict())
        gain = result.to_dict()["efficiency_gain_per_year"]
        covered.append(gain["lo"] < truth.efficiency_gain < gain["hi"])
        assert np.median(result.k) == pytest.approx(truth.k, rel=0.2)
    assert sum(covered) >= 7  # P(< 7 of 10) = 1.3% at the nominal 90%
    assert result.to_dict()["n_families_informing_k"] == 30
    assert {v for v, _ in result.variants.index} == {
        "within-family k, then b(date)",
        "joint: log-compute + date",
    }


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
    assert payload["n_models"] == 24 and payload["variants"]
    assert payload["excluded"]["no training compute"] == 0
