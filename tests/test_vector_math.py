"""rosetta.vector_math: log, exp and lgamma in arithmetic agree with the C library's."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from rosetta import vector_math as vm


@numba.njit
def _over(function, x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = function(x[i])
    return out


def _spread(rng, low: float, high: float, n: int = 200_000) -> np.ndarray:
    """``n`` values log-uniform between ``low`` and ``high``."""
    return np.exp(rng.uniform(math.log(low), math.log(high), n))


def test_log_is_within_an_ulp_or_two_everywhere():
    rng = np.random.default_rng(1)
    x = np.concatenate([_spread(rng, 5e-324, 1.7e308), rng.uniform(0.5, 2.0, 100_000)])
    x = np.concatenate([x, [5e-324, 1e-310, 2.2250738585072014e-308, 0.7071067811865476, 1.0, 2.0]])
    exact = np.log(x)
    assert np.max(np.abs(_over(vm.log, x) - exact) / np.maximum(np.abs(exact), 1e-300)) < 5e-16
    # Near 1 the result is small: its error is relative to itself, not to 1.
    near_one = 1.0 + rng.uniform(-1e-6, 1e-6, 10_000)
    assert np.allclose(_over(vm.log, near_one), np.log(near_one), rtol=1e-15, atol=0)


def test_log_keeps_the_c_librarys_special_values():
    special = np.array([0.0, math.inf, -1.0, math.nan])
    out = _over(vm.log, special)
    assert out[0] == -math.inf and out[1] == math.inf
    assert np.isnan(out[2:]).all()


def test_exp_is_within_an_ulp_or_two_down_to_its_subnormal_results():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-708.0, 709.0, 200_000), rng.uniform(-30.0, 30.0, 100_000)])
    assert np.allclose(_over(vm.exp, x), np.exp(x), rtol=5e-16, atol=0)
    # Subnormal results (below 2.2e-308) keep their few bits; far below, exactly 0.
    tiny = np.array([-710.0, -740.0, -745.0, -746.0, -1e4, -math.inf])
    assert np.allclose(_over(vm.exp, tiny), np.exp(tiny), rtol=1e-3, atol=0)
    assert _over(vm.exp, np.array([710.0, math.inf]))[1] == math.inf
    assert np.isnan(_over(vm.exp, np.array([math.nan]))[0])


@pytest.mark.parametrize("low, high", [(1e-300, 1e-3), (1e-3, 8.0), (8.0, 1e6), (1e6, 1e25)])
def test_lgamma_agrees_with_the_c_librarys(low, high):
    x = _spread(np.random.default_rng(3), low, high)
    exact = np.array([math.lgamma(v) for v in x])
    error = np.abs(_over(vm.lgamma, x) - exact) / np.maximum(1.0, np.abs(exact))
    assert error.max() < 2e-14


def test_lgamma_at_its_zeros_and_pole():
    # lgamma(1) = lgamma(2) = 0: the shifted series and the rising product's log cancel there.
    assert np.allclose(_over(vm.lgamma, np.array([1.0, 2.0])), 0.0, atol=3e-14)
    assert _over(vm.lgamma, np.array([0.0]))[0] == math.inf


def test_the_shifted_form_is_lgamma_of_the_shifted_argument():
    x = _spread(np.random.default_rng(4), 1e-6, 1e4, 1000)
    shifted = _over(vm.lgamma_shifted, x)
    rising = _over(vm.rising, x)
    assert np.allclose(shifted, [math.lgamma(v + 8.0) for v in x], rtol=1e-14, atol=1e-14)
    assert np.allclose(rising, [math.prod(v + k for k in range(8)) for v in x], rtol=1e-14)


def test_digamma_from_the_shifted_series_and_the_rising_products_slope():
    from scipy.special import digamma

    x = _spread(np.random.default_rng(5), 1e-8, 1e5, 2000)
    shifted = np.array([vm.lgamma_digamma_shifted(v) for v in x])
    assert np.allclose(shifted[:, 0], [math.lgamma(v + 8.0) for v in x], rtol=1e-14, atol=1e-14)
    assert np.allclose(shifted[:, 1], digamma(x + 8.0), rtol=1e-14, atol=1e-14)
    rising = np.array([vm.rising_slope(v) for v in x])
    # digamma(x) = digamma(x + 8) - sum_j 1 / (x + j) = digamma(x + 8) - slope / rising
    recovered = shifted[:, 1] - rising[:, 1] / rising[:, 0]
    error = np.abs(recovered - digamma(x)) / np.maximum(1.0, np.abs(digamma(x)))
    assert error.max() < 1e-13


def test_the_shifted_sum_is_the_sum_of_the_shifted():
    rng = np.random.default_rng(6)
    a, b = _spread(rng, 1e-8, 1e4, 1000), _spread(rng, 1e-8, 1e4, 1000)
    pairs = [vm.lgamma_shifted_sum(x, y) for x, y in zip(a, b, strict=True)]
    exact = [math.lgamma(x + 8.0) + math.lgamma(y + 8.0) for x, y in zip(a, b, strict=True)]
    assert np.allclose(pairs, exact, rtol=1e-14, atol=1e-13)
