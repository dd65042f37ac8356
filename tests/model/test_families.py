"""Family effects: variants of one model share benchmark quirks."""

from __future__ import annotations

import numpy as np
import pytest

from rosetta.families import family_cells, model_family


def test_cells_need_two_scores_of_one_family():
    models = ["llama-2-7b", "Llama-2-70b", "falcon-7b", "llama-2-7b", "o3_high", "o3_low"]
    benchmarks = ["X", "X", "X", "Y", "Y", "Y"]
    cell, cells = family_cells(models, benchmarks)
    assert cells.to_dict(orient="records") == [
        {"family": "llama-2", "benchmark": "X"},
        {"family": "o3", "benchmark": "Y"},
    ]
    np.testing.assert_array_equal(cell, [0, 0, -1, -1, 1, 1])
    assert model_family("m007") == "m007"  # plain ids are families of one


@pytest.fixture(scope="module")
def family_fit():
    """Pairs of variants that share a large quirk on one benchmark each."""
    from rosetta.data import load_scores
    from rosetta.model import MeasurementSpec, fit
    from rosetta.scale import Scale
    from rosetta.simulate import simulate_scores

    frame, _ = simulate_scores(
        24, 6, observed_fraction=1.0, precision=150, slope_median=2.0, random_seed=8
    )
    # models 2k and 2k+1 become two sizes of family fk; family k has a quirk on benchmark k % 6
    names = {f"m{i:03d}": f"f{i // 2}-{7 if i % 2 else 70}b" for i in range(24)}
    frame["model"] = frame["model"].map(names)
    quirk = frame["benchmark"] == frame["model"].map(lambda m: f"b0{int(m[1:].split('-')[0]) % 6}")
    frame.loc[quirk, "score"] = np.clip(frame.loc[quirk, "score"] - 0.25, 0.01, None)
    table = load_scores(frame, metadata=False)
    spec = MeasurementSpec(scale=Scale(benchmark="b01"), family_effects=True)
    idata = fit(
        table, spec, draws=200, tune=300, chains=2, random_seed=2, progress=False, warn=False
    )
    return idata, frame, quirk


def test_family_effects_find_the_quirks(family_fit):
    idata, frame, quirk = family_fit
    effect = idata.posterior["family_effect"].mean(("chain", "draw")).to_series()
    assert len(effect) == 12 * 6  # every (family, benchmark) cell has both variants
    quirky = {
        f"{model_family(m)} | {b}" for m, b in frame.loc[quirk, ["model", "benchmark"]].values
    }
    assert effect[list(quirky)].max() < 0
    assert effect[list(quirky)].mean() < effect.drop(list(quirky)).mean() - 0.3


def test_predictions_carry_the_family_effect(family_fit):
    from rosetta.prediction import effective_capability

    idata, _, _ = family_fit
    post = idata.posterior
    theta = effective_capability(post, ["f0-70b", "f0-70b"], ["b00", "b03"])
    cell = post["family_effect"].sel(family_cell="f0 | b00")
    np.testing.assert_allclose(theta.isel(pair=0), post["capability"].sel(model="f0-70b") + cell)
    assert "family_effect_sd" in post and float(post["family_effect_sd"].mean()) > 0


def test_fits_saved_before_family_effects_read_back_without_them():
    import json

    from rosetta.model import MeasurementSpec

    text = json.loads(MeasurementSpec().to_json())
    del text["family_effects"]
    assert MeasurementSpec().family_effects
    assert not MeasurementSpec.from_json(json.dumps(text)).family_effects
