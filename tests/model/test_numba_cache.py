import ctypes

import numpy as np
import pymc as pm
import pytest

from rosetta.model import MeasurementSpec, build_model
from rosetta.model.numba_cache import compile_nutpie, register_cacheable_digamma

nutpie = pytest.importorskip("nutpie")
_DOUBLE = ctypes.POINTER(ctypes.c_double)


def _logp_and_gradient(compiled, x: np.ndarray) -> tuple[int, float, np.ndarray]:
    gradient, logp = np.zeros_like(x), np.zeros(())
    code = compiled.compiled_logp_func.ctypes(
        x.size,
        x.ctypes.data_as(_DOUBLE),
        gradient.ctypes.data_as(_DOUBLE),
        logp.ctypes.data_as(_DOUBLE),
        None,
    )
    return code, float(logp), gradient


def test_the_cached_callbacks_compute_what_nutpies_own_do_and_load_from_disk(tiny_sim):
    table, _ = tiny_sim
    model = build_model(table, MeasurementSpec().resolved_for(table))
    ours = compile_nutpie(model)
    register_cacheable_digamma()  # the same digamma in both
    theirs = nutpie.compile_pymc_model(model)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.normal(0, 0.5, ours.n_dim)
        code, logp, gradient = _logp_and_gradient(ours, x)
        expected = _logp_and_gradient(theirs, x)
        assert code == expected[0] == 0
        assert logp == expected[1]
        np.testing.assert_array_equal(gradient, expected[2])
    x[0] = np.nan  # nutpie's error codes: a non-finite gradient is 3
    assert _logp_and_gradient(ours, x)[0] == _logp_and_gradient(theirs, x)[0] == 3

    again = compile_nutpie(model)
    assert again.compiled_logp_func.cache_hits == 1
    assert again.compiled_expand_func.cache_hits == 1


def test_a_model_with_shared_data_keeps_nutpies_callbacks():
    with pm.Model() as model:
        y = pm.Data("y", np.array([0.1, -0.3, 0.4]))
        mu = pm.Normal("mu")
        pm.Normal("obs", mu, 1.0, observed=y)
    compiled = compile_nutpie(model)
    assert compiled.compiled_logp_func.cache_hits == 0
    assert "rosetta" not in compiled.compiled_logp_func.__qualname__
    trace = nutpie.sample(
        compiled.with_data(y=np.array([5.0, 5.2, 4.8])),
        draws=200,
        tune=200,
        chains=1,
        seed=1,
        progress_bar=False,
    )
    assert float(trace.posterior["mu"].mean()) == pytest.approx(15 / 4, abs=0.3)  # the new data
