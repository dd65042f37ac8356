import numpy as np
import pytest
import xarray as xr

from rosetta.errors import RosettaError
from rosetta.scale import Scale, apply_scale


@pytest.fixture
def raw_posterior():
    rng = np.random.default_rng(0)
    dims = ("chain", "draw")
    return xr.Dataset(
        {
            "capability": ((*dims, "model"), rng.normal(size=(2, 50, 4))),
            "difficulty": ((*dims, "benchmark"), rng.normal(size=(2, 50, 3))),
            "slope": ((*dims, "benchmark"), np.exp(rng.normal(size=(2, 50, 3)))),
        },
        coords={"model": ["a", "b", "c", "d"], "benchmark": ["X", "Y", "Z"]},
    )


def predicted_logit(posterior):
    return posterior["slope"] * (posterior["capability"] - posterior["difficulty"])


def test_benchmark_anchor_is_exact_in_every_draw(raw_posterior):
    out = apply_scale(raw_posterior, Scale(benchmark="Y", difficulty=0.0, slope=1.0))
    np.testing.assert_allclose(out["difficulty"].sel(benchmark="Y"), 0.0, atol=1e-12)
    np.testing.assert_allclose(out["slope"].sel(benchmark="Y"), 1.0)
    xr.testing.assert_allclose(predicted_logit(out), predicted_logit(raw_posterior))


def test_model_anchor_pins_two_models(raw_posterior):
    out = apply_scale(
        raw_posterior.assign(
            capability=raw_posterior["capability"].sortby("model")
            + xr.DataArray([0, 0, 0, 5.0], dims="model", coords={"model": list("abcd")})
        ),
        Scale.from_models({"a": 130, "d": 150}),
    )
    np.testing.assert_allclose(out["capability"].sel(model="a"), 130)
    np.testing.assert_allclose(out["capability"].sel(model="d"), 150)
    np.testing.assert_allclose(
        out["capability_mu"] + 0 * out["capability_sigma"], out["scale_shift"]
    )


def test_model_anchor_that_flips_is_refused(raw_posterior):
    with pytest.raises(RosettaError, match="flips the scale"):
        apply_scale(raw_posterior, Scale.from_models({"a": 130, "b": 150}))


def test_resolve_fallback_and_errors():
    scale = Scale().resolve(["m"], ["A", "B"], {"A": 3, "B": 7})
    assert scale.benchmark == "B" and "Winogrande absent" in scale.describe()
    with pytest.raises(RosettaError, match="'Q' is not in the data"):
        Scale(benchmark="Q").resolve(["m"], ["A"])
    with pytest.raises(RosettaError, match="anchor model"):
        Scale.from_models({"x": 1, "y": 2}).resolve(["x"], ["A"])
    with pytest.raises(ValueError, match="two different values"):
        Scale.from_models({"x": 1, "y": 1})
    assert Scale.from_json(Scale.from_models({"x": 1, "y": 2}).to_json()).models == (
        ("x", 1.0),
        ("y", 2.0),
    )
