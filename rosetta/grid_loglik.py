"""The query's hot loops: a new model's log-likelihood on a grid of capabilities, per draw.

`rosetta.placement` evaluates ``sum_j log L(y_j | theta)`` for every posterior draw at some
twenty capabilities each: about 4000 x 20 x (number of scores) evaluations of the fit's
likelihood per query. As NumPy expressions these make a dozen temporary arrays each; here they are
one compiled loop (numba, which PyMC's PyTensor already depends on; loaded by the first query)
that keeps every intermediate in registers. Its innermost loop runs over the draws, with the
branch-free ``log``, ``exp`` and ``lgamma`` of `rosetta.vector_math`, so that it runs on the
CPU's vector units: half the time of the same loop with the C library's functions (one call per
element), a sixth of NumPy's. It releases the GIL, so threads share the draws.

The formulas are those of `rosetta.likelihoods` (the fit's), per score, in double precision;
``tests/test_grid_loglik.py`` checks the two agree on every branch. Whatever depends on the draw
and the score but not on the capability (``gammaln(precision)``, the beta-binomial's constant
terms) is computed once by `score_constants`, outside the loop.

`density_summary` reads every draw's density off its grid (moments, evidence and the checks of
the grid's resolution) and `sample_rows` draws from it, each in one pass with one ``exp`` per
point, where NumPy's expressions made a dozen ``(draw, point)`` temporaries. `count_above` ranks
the new model's capability draws among the fitted models' without the ``(draw, model)``
temporaries of the NumPy comparison (four times faster).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.special import gammaln

from rosetta import vector_math as vm
from rosetta.likelihoods import COUNTED, ONE, ZERO, likelihood_branch

#: How each score enters, beyond `rosetta.likelihoods`' Beta-family branches: Normal around the
#: expected score with the fit's ``sigma`` (a least-squares fit), or Normal with the reported
#: standard error added to the benchmark's own spread.
FIT_NORMAL, STDERR_NORMAL = 4, 5

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_TINY = 1e-300


def score_kinds(y, n_items, stderr, beta: bool) -> np.ndarray:
    """The branch of each score (`likelihood_branch`, `FIT_NORMAL` or `STDERR_NORMAL`)."""
    if not beta:
        return np.full(len(y), FIT_NORMAL)
    return np.where(np.isfinite(stderr), STDERR_NORMAL, likelihood_branch(y, n_items))


def score_constants(kind, y, n_items, precision) -> np.ndarray:
    """``(draw, score)`` terms of the Beta-family log-likelihood not depending on the capability."""
    constant = _lgamma(np.ascontiguousarray(precision, dtype=float))
    counted = kind == COUNTED
    if counted.any():
        n = n_items[counted]
        k = np.round(y[counted] * n)
        constant[:, counted] += (
            gammaln(n + 1)
            - gammaln(k + 1)
            - gammaln(n - k + 1)
            - gammaln(n + precision[:, counted])
        )
    return constant


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _lgamma(values):
    """``lgamma`` of every entry (positive), in one vectorised loop."""
    out = np.empty_like(values)
    flat, result = values.ravel(), out.ravel()
    for i in range(flat.size):
        result[i] = vm.lgamma(flat[i])
    return out


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _expected(x, floor):
    """``(p, q)`` of `rosetta.likelihoods.expected_score`, with one exp and one division."""
    e = vm.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    up = r if x >= 0.0 else e * r  # sigmoid(x)
    down = e * r if x >= 0.0 else r  # sigmoid(-x)
    return floor + (1.0 - floor) * up, (1.0 - floor) * down


@numba.njit(cache=True, nogil=True, error_model="numpy")
def grid_loglik(
    theta, kind, y, n_items, stderr, slope, difficulty, floor, precision, constant, sigma, k0, k1
):
    """``sum_j log L(y_j | theta[s, g])`` for draws ``s`` and grid points ``g``.

    ``theta`` is ``(draw, point)``; ``kind``, ``y``, ``n_items``, ``stderr`` are per score;
    ``slope``, ``difficulty``, ``floor``, ``precision``, ``constant`` are ``(draw, score)``
    (a Normal fit's ``precision`` and ``constant`` are not read: zeros do);
    ``sigma``, ``k0``, ``k1`` are per draw, NaN where the fit has none.

    The innermost loop runs over the draws, thousands long, so that it vectorises
    (`rosetta.vector_math`); a grid has only a few points.
    """
    n_draws, n_points = theta.shape
    points = np.ascontiguousarray(theta.T)
    out = np.zeros((n_points, n_draws))
    # exp(k0), exp(-k1): P(0 < y < 1) = p q / ((p + exp(k0) q) (q + exp(-k1) p)).
    e0, e1, gap = np.zeros(n_draws), np.zeros(n_draws), np.zeros(n_draws)
    for s in range(n_draws):
        e0[s] = 0.0 if math.isnan(k0[s]) else math.exp(k0[s])
        e1[s] = 0.0 if math.isnan(k1[s]) else math.exp(-k1[s])
        gap[s] = 0.0 if e0[s] == 0.0 or e1[s] == 0.0 else math.log(-math.expm1(k0[s] - k1[s]))
    for j in range(kind.size):
        code = kind[j]
        a = np.ascontiguousarray(slope[:, j])
        b = np.ascontiguousarray(difficulty[:, j])
        c = np.ascontiguousarray(floor[:, j])
        phi = np.ascontiguousarray(precision[:, j])
        if code in (FIT_NORMAL, STDERR_NORMAL):
            se2 = 0.0 if math.isnan(stderr[j]) else stderr[j] ** 2
            fixed = sigma**2 + se2 if code == FIT_NORMAL else np.full(n_draws, np.nan)
            for g in range(n_points):
                _add_normal(out[g], points[g], y[j], se2, a, b, c, phi, fixed)
        elif code in (ZERO, ONE):
            for g in range(n_points):
                _add_end(out[g], points[g], code == ZERO, a, b, c, e0, e1)
        elif code == COUNTED:
            fixed = np.ascontiguousarray(constant[:, j])
            k, n = round(y[j] * n_items[j]), n_items[j]
            for g in range(n_points):
                _add_counted(out[g], points[g], k, n, a, b, c, phi, fixed)
        else:
            log_y, log1m_y = math.log(y[j]), math.log1p(-y[j])
            fixed = constant[:, j] + gap - log_y - log1m_y
            for g in range(n_points):
                _add_interior(out[g], points[g], log_y, log1m_y, a, b, c, phi, fixed, e0, e1)
    return np.ascontiguousarray(out.T)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _add_normal(row, theta, y, se2, a, b, c, phi, fixed_var):
    """Normal around the expected score, of variance ``fixed_var``.

    Where that is NaN: ``p q / (1 + phi) + se2``, the Beta family's own spread widened by a
    reported standard error.
    """
    for s in range(row.size):
        p, q = _expected(a[s] * (theta[s] - b[s]), c[s])
        var = p * q / (1.0 + phi[s]) + se2 if math.isnan(fixed_var[s]) else fixed_var[s]
        row[s] -= 0.5 * (y - p) ** 2 / var + 0.5 * vm.log(var) + _HALF_LOG_2PI


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _add_end(row, theta, zero, a, b, c, e0, e1):
    """Only the point mass of an exact 0 (``zero``) or 1."""
    for s in range(row.size):
        p, q = _expected(a[s] * (theta[s] - b[s]), c[s])
        row[s] -= vm.log(1.0 + (p / (e0[s] * q) if zero else q / (e1[s] * p)))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _add_counted(row, theta, k, n, a, b, c, phi, fixed):
    """Beta-binomial: ``k`` of ``n`` items; ``fixed`` holds the terms free of the capability."""
    for s in range(row.size):
        p, q = _expected(a[s] * (theta[s] - b[s]), c[s])
        alpha, beta = p * phi[s], q * phi[s]
        # lgamma(k + alpha) + lgamma(n - k + beta) - lgamma(alpha) - lgamma(beta)
        shifted = (
            vm.lgamma_shifted(k + alpha)
            + vm.lgamma_shifted(n - k + beta)
            - vm.lgamma_shifted(alpha)
            - vm.lgamma_shifted(beta)
        )
        up = vm.log(vm.rising(k + alpha) * vm.rising(n - k + beta))
        row[s] += fixed[s] + shifted - up + vm.log(vm.rising(alpha) * vm.rising(beta))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _add_interior(row, theta, log_y, log1m_y, a, b, c, phi, fixed, e0, e1):
    """The Beta density times P(0 < y < 1); ``fixed`` holds the terms free of the capability."""
    for s in range(row.size):
        p, q = _expected(a[s] * (theta[s] - b[s]), c[s])
        alpha, beta = p * phi[s], q * phi[s]
        # -lgamma(alpha) - lgamma(beta) + log P(0 < y < 1), where P(0 < y < 1) is
        # p q / ((p + exp(k0) q) (q + exp(-k1) p)): one log for the rising products and P. It
        # is floored far out (p q below ~1e-150), where the density is nil either way.
        inside = p * q / ((p + e0[s] * q) * (q + e1[s] * p))
        logs = vm.log(max(vm.rising(alpha) * vm.rising(beta) * inside, _TINY))
        shifted = vm.lgamma_shifted_sum(alpha, beta)
        row[s] += fixed[s] + alpha * log_y + beta * log1m_y - shifted + logs


@numba.njit(cache=True, nogil=True)
def count_above(capability, index, value):
    """For each ``i``: how many entries of ``capability[index[i]]`` exceed ``value[i]``."""
    out = np.empty(index.size, dtype=np.int64)
    for i in range(index.size):
        row = capability[index[i]]
        n = 0
        for m in range(row.size):
            n += row[m] > value[i]
        out[i] = n
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _relative(log_density):
    """Each row's peak, and ``exp(log_density - peak)`` (one vectorised loop over every cell)."""
    n_rows, n_points = log_density.shape
    peak = np.empty(n_rows)
    for i in range(n_rows):
        peak[i] = log_density[i, 0]
        for k in range(1, n_points):
            peak[i] = max(peak[i], log_density[i, k])
    shifted = (log_density - np.repeat(peak, n_points).reshape(n_rows, n_points)).ravel()
    density = np.empty(shifted.size)
    for cell in range(shifted.size):
        density[cell] = vm.exp(shifted[cell])
    return peak, density.reshape(n_rows, n_points)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def density_summary(grid, log_density, negligible):
    """Per row, what the query reads off ``exp(log_density)`` on the even grid of that row.

    Returns seven arrays: the mean, sd and log normalising constant; the mean and sd from every
    other point alone (from the first); the largest absolute second difference of the
    log-density over the points within ``negligible`` of its peak (NaN where the density falls
    to exactly zero beside such a point); and the higher end's log-density below the peak. A row
    with no density anywhere has NaN moments and evidence, and roughness 0.
    """
    n_rows, n_points = log_density.shape
    mean, sd, log_evidence = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    half_mean, half_sd = np.empty(n_rows), np.empty(n_rows)
    roughness, end_drop = np.empty(n_rows), np.empty(n_rows)
    peaks, density = _relative(log_density)
    for i in range(n_rows):
        row, x, peak = log_density[i], grid[i], peaks[i]
        total = first = second = half_total = half_first = half_second = 0.0
        for k in range(n_points):
            w = density[i, k]
            total += w
            first += w * x[k]
            second += w * x[k] * x[k]
            if k % 2 == 0:
                half_total += w
                half_first += w * x[k]
                half_second += w * x[k] * x[k]
        mean[i], half_mean[i] = first / total, half_first / half_total
        sd[i] = math.sqrt(max(second / total - mean[i] ** 2, 0.0))
        half_sd[i] = math.sqrt(max(half_second / half_total - half_mean[i] ** 2, 0.0))
        log_evidence[i] = peak + math.log(total * (x[1] - x[0]))
        rough = 0.0
        for k in range(1, n_points - 1):
            lower, middle, upper = row[k - 1], row[k], row[k + 1]
            if max(lower, middle, upper) - peak > -negligible:
                step = abs(lower - 2.0 * middle + upper)
                if math.isnan(step):
                    rough = np.nan
                    break
                rough = max(rough, step)
        roughness[i] = rough
        end_drop[i] = max(row[0], row[n_points - 1]) - peak
    return mean, sd, log_evidence, half_mean, half_sd, roughness, end_drop


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sample_rows(grid, log_density, mean, sd, pick, position):
    """One draw per row from the piecewise-linear interpolant of ``exp(log_density)``.

    ``pick`` and ``position`` are uniform on [0, 1), one of each per row: the first chooses the
    cell (by its mass), the second the place in it (inverse CDF of the linear density there).
    The interpolant adds ``step**2 / 6`` to the variance of the density it interpolates; each
    draw is shrunk towards its row's ``mean`` to take that back, so draws keep the exact mean and
    ``sd``.
    """
    n_rows, n_points = log_density.shape
    out = np.empty(n_rows)
    mass = np.empty(n_points - 1)
    density = _relative(log_density)[1]
    for i in range(n_rows):
        x, w = grid[i], density[i]
        total = 0.0
        for k in range(n_points - 1):
            total += w[k] + w[k + 1]
            mass[k] = total
        target = pick[i] * total
        k = 0
        while k < n_points - 2 and mass[k] < target:
            k += 1
        a, b = w[k], w[k + 1]
        v = position[i]
        # Inverse CDF of the density a(1 - t) + b t on [0, 1], in its cancellation-free form.
        t = v * (a + b) / (a + math.sqrt(a * a + (b * b - a * a) * v))
        step = x[1] - x[0]
        u = x[k] + t * step
        shrink = math.sqrt(sd[i] ** 2 / (sd[i] ** 2 + step * step / 6.0))
        out[i] = mean[i] + shrink * (u - mean[i])
    return out
