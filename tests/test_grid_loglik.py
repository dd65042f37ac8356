"""rosetta.grid_loglik: the compiled query loops equal their vectorised NumPy forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from rosetta.grid_loglik import (
    count_above,
    density_summary,
    grid_loglik,
    sample_rows,
    score_constants,
    score_kinds,
)
from rosetta.likelihoods import expected_score, likelihood_branch
from rosetta.placement import score_loglik

#: One score of each branch: inside (0, 1), exactly 0, exactly 1, counted, with a standard error.
Y = np.array([0.42, 0.0, 1.0, 0.3, 0.65, 0.93])
N_ITEMS = np.array([np.nan, np.nan, np.nan, 40.0, np.nan, 200.0])
STDERR = np.array([np.nan, np.nan, np.nan, np.nan, 0.04, np.nan])


def parameters(rng, n_draws: int, n_scores: int) -> dict:
    return {
        "slope": rng.lognormal(0.0, 0.5, (n_draws, n_scores)),
        "difficulty": rng.normal(0.0, 1.0, (n_draws, n_scores)),
        "floor": rng.uniform(0.0, 0.3, (n_draws, n_scores)),
        "precision": rng.lognormal(3.0, 1.0, (n_draws, n_scores)),
        "sigma": rng.uniform(0.02, 0.2, n_draws),
        "k0": rng.normal(-4.0, 0.5, n_draws),
        "k1": rng.normal(4.0, 0.5, n_draws),
    }


def vectorised(theta, y, n_items, stderr, par, beta: bool, k0, k1) -> np.ndarray:
    """The same sum with `rosetta.placement.score_loglik` (scores grouped by branch first)."""
    order = np.argsort(likelihood_branch(y, n_items), kind="stable")
    y, n_items, stderr = y[order], n_items[order], stderr[order]
    pick = {k: v[:, order] for k, v in par.items() if np.ndim(v) == 2}
    x = pick["slope"][:, None, :] * (theta[:, :, None] - pick["difficulty"][:, None, :])
    p, q = expected_score(x, pick["floor"][:, None, :])
    if not beta:
        return score_loglik(y, n_items, stderr, p, q, sigma=par["sigma"][:, None, None]).sum(-1)
    precision = pick["precision"][:, None, :]
    loglik = score_loglik(
        y,
        n_items,
        stderr,
        p,
        q,
        precision=precision,
        gammaln_precision=gammaln(precision),
        zero_cutpoint=None if k0 is None else k0[:, None, None],
        one_cutpoint=None if k1 is None else k1[:, None, None],
    )
    return loglik.sum(-1)


@pytest.mark.parametrize("cutpoints", ["both", "zero", "one", "none"])
@pytest.mark.parametrize("beta", [True, False])
def test_compiled_loop_matches_the_fits_likelihood(cutpoints, beta):
    rng = np.random.default_rng(7)
    n_draws = 5
    theta = rng.normal(0.0, 2.0, (n_draws, 9))
    keep = np.ones(len(Y), bool)
    if cutpoints in ("one", "none"):
        keep &= Y != 0.0
    if cutpoints in ("zero", "none"):
        keep &= Y != 1.0
    y, n_items, stderr = Y[keep], N_ITEMS[keep], STDERR[keep]
    par = parameters(rng, n_draws, len(y))
    k0 = par["k0"] if cutpoints in ("both", "zero") else None
    k1 = par["k1"] if cutpoints in ("both", "one") else None
    kind = score_kinds(y, n_items, stderr, beta)
    precision = par["precision"] if beta else None
    nan = np.full(n_draws, np.nan)
    arguments = (
        theta,
        kind,
        y,
        n_items,
        stderr,
        par["slope"],
        par["difficulty"],
        par["floor"],
        par["precision"] if beta else np.zeros((n_draws, len(y))),
        score_constants(kind, y, n_items, precision) if beta else np.zeros((n_draws, len(y))),
        par["sigma"],
        nan if k0 is None else k0,
        nan if k1 is None else k1,
    )
    compiled = grid_loglik(*arguments)
    # The same loop as plain Python: NumPy checks every index the compiled loop does not.
    np.testing.assert_allclose(grid_loglik.py_func(*arguments), compiled, rtol=1e-12)
    expected = vectorised(theta, y, n_items, stderr, par, beta, k0, k1)
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(compiled, expected, rtol=1e-9, atol=1e-9)


def test_count_above_counts_the_larger_entries_of_each_chosen_row():
    rng = np.random.default_rng(3)
    capability = rng.normal(size=(50, 7))
    index = rng.integers(0, 50, size=200)
    value = rng.normal(size=200)
    value[:50] = capability[index[:50], 0]  # ties are not above
    expected = (capability[index] > value[:, None]).sum(axis=1)
    np.testing.assert_array_equal(count_above(capability, index, value), expected)


def densities(rng, n_rows: int = 40, n_points: int = 17):
    """Skewed log-densities on even grids of their own, some falling to exactly zero."""
    grid = rng.normal(0, 1, (n_rows, 1)) + rng.uniform(0.05, 0.5, (n_rows, 1)) * np.arange(n_points)
    centre = grid[:, n_points // 2, None]
    log_density = -(np.abs(grid - centre) ** rng.uniform(1.0, 3.0, (n_rows, 1))) * 4
    log_density[:3, :4] = -np.inf
    return grid, log_density


def test_density_summary_matches_its_numpy_form():
    grid, log_density = densities(np.random.default_rng(5))
    got = density_summary(grid, log_density, 25.0)

    def moments(ld, x):
        w = np.exp(ld - ld.max(axis=1, keepdims=True))
        mean = (w * x).sum(1) / w.sum(1)
        sd = np.sqrt((w * x**2).sum(1) / w.sum(1) - mean**2)
        return mean, sd, ld.max(1) + np.log(w.sum(1) * (x[:, 1] - x[:, 0]))

    peak = log_density.max(axis=1, keepdims=True)
    triples = log_density[:, :-2], log_density[:, 1:-1], log_density[:, 2:]
    matters = np.maximum(np.maximum(*triples[:2]), triples[2]) - peak > -25.0
    with np.errstate(invalid="ignore"):
        second = np.abs(triples[0] - 2 * triples[1] + triples[2])
    expected = (
        *moments(log_density, grid),
        *moments(log_density[:, ::2], grid[:, ::2])[:2],
        np.where(matters, second, 0.0).max(axis=1),
        np.maximum(log_density[:, 0], log_density[:, -1]) - peak[:, 0],
    )
    assert np.isnan(expected[5][:3]).all()  # a fall to exactly zero beside mass: NaN
    for value, reference in zip(got, expected, strict=True):
        np.testing.assert_allclose(value, reference, rtol=1e-10, atol=1e-12)


def test_sample_rows_inverts_the_interpolants_cdf_and_keeps_each_rows_moments():
    rng = np.random.default_rng(6)
    grid, log_density = densities(rng, n_rows=2)
    mean, sd, *_ = density_summary(grid, log_density, 25.0)
    n = 200_000
    rows = np.repeat([0, 1], n)
    pick, position = rng.random(2 * n), rng.random(2 * n)
    u = sample_rows(grid[rows], log_density[rows], mean[rows], sd[rows], pick, position)
    for r in (0, 1):
        got = u[rows == r]
        assert abs(got.mean() - mean[r]) < 4 * sd[r] / np.sqrt(n)
        assert got.std() == pytest.approx(sd[r], rel=0.01)
    # Uniforms at a cell's mass boundary land on its grid point (before the shrink).
    f = np.exp(log_density[0] - log_density[0].max())
    mass = np.cumsum(f[:-1] + f[1:])
    at = sample_rows(
        grid[:1], log_density[:1], np.zeros(1), np.full(1, 1e100), mass[4:5] / mass[-1], np.zeros(1)
    )
    assert at[0] == pytest.approx(grid[0, 4])
