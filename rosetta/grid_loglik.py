"""The query's hot loops: a new model's log-likelihood on a grid of capabilities, per draw.

`rosetta.placement` evaluates ``sum_j log L(y_j | theta)`` for every posterior draw at some
twenty capabilities each: about 4000 x 20 x (number of scores) evaluations of the fit's
likelihood per query. As NumPy expressions these make a dozen temporary arrays each; here they are
one compiled loop (numba, which PyMC's PyTensor already depends on; loaded by the first query)
that keeps every intermediate in registers, about twice as fast. It releases the GIL, so threads
share the draws.

The formulas are those of `rosetta.likelihoods` (the fit's), per score, in double precision;
``tests/test_grid_loglik.py`` checks the two agree on every branch. Whatever depends on the draw
and the score but not on the capability (``gammaln(precision)``, the beta-binomial's constant
terms) is computed once by `score_constants`, outside the loop.

`count_above` ranks the new model's capability draws among the fitted models' without the
``(draw, model)`` temporaries of the NumPy comparison (four times faster).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.special import gammaln

from rosetta.likelihoods import COUNTED, ONE, ZERO, likelihood_branch

#: How each score enters, beyond `rosetta.likelihoods`' Beta-family branches: Normal around the
#: expected score with the fit's ``sigma`` (a least-squares fit), or Normal with the reported
#: standard error added to the benchmark's own spread.
FIT_NORMAL, STDERR_NORMAL = 4, 5

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def score_kinds(y, n_items, stderr, beta: bool) -> np.ndarray:
    """The branch of each score (`likelihood_branch`, `FIT_NORMAL` or `STDERR_NORMAL`)."""
    if not beta:
        return np.full(len(y), FIT_NORMAL)
    return np.where(np.isfinite(stderr), STDERR_NORMAL, likelihood_branch(y, n_items))


def score_constants(kind, y, n_items, precision) -> np.ndarray:
    """``(draw, score)`` terms of the Beta-family log-likelihood not depending on the capability."""
    constant = gammaln(precision)
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


@numba.njit(cache=True, nogil=True, inline="always")
def _expected(x, floor):
    """``(p, q)`` of `rosetta.likelihoods.expected_score`, with one exp and one division."""
    e = math.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    up, down = (r, e * r) if x >= 0 else (e * r, r)  # sigmoid(x), sigmoid(-x)
    return floor + (1.0 - floor) * up, (1.0 - floor) * down


@numba.njit(cache=True, nogil=True)
def grid_loglik(
    theta, kind, y, n_items, stderr, slope, difficulty, floor, precision, constant, sigma, k0, k1
):
    """``sum_j log L(y_j | theta[s, g])`` for draws ``s`` and grid points ``g``.

    ``theta`` is ``(draw, point)``; ``kind``, ``y``, ``n_items``, ``stderr`` are per score;
    ``slope``, ``difficulty``, ``floor``, ``precision``, ``constant`` are ``(draw, score)``
    (a Normal fit's ``precision`` and ``constant`` are not read: zeros do);
    ``sigma``, ``k0``, ``k1`` are per draw, NaN where the fit has none.
    """
    n_draws, n_points = theta.shape
    out = np.zeros((n_draws, n_points))
    for s in range(n_draws):
        # exp(k0), exp(-k1): P(0 < y < 1) = 1 / (1 + exp(k0) q / p + exp(-k1) p / q + both).
        e0 = 0.0 if math.isnan(k0[s]) else math.exp(k0[s])
        e1 = 0.0 if math.isnan(k1[s]) else math.exp(-k1[s])
        gap = 0.0 if e0 == 0.0 or e1 == 0.0 else math.log(-math.expm1(k0[s] - k1[s]))
        row = out[s]
        for j in range(kind.size):
            a, b, c = slope[s, j], difficulty[s, j], floor[s, j]
            code = kind[j]
            phi = precision[s, j]
            if code in (FIT_NORMAL, STDERR_NORMAL):
                se2 = 0.0 if math.isnan(stderr[j]) else stderr[j] ** 2
                for g in range(n_points):
                    p, q = _expected(a * (theta[s, g] - b), c)
                    var = sigma[s] ** 2 + se2 if code == FIT_NORMAL else p * q / (1 + phi) + se2
                    row[g] -= 0.5 * (y[j] - p) ** 2 / var + 0.5 * math.log(var) + _HALF_LOG_2PI
            elif code in (ZERO, ONE):  # only the point mass of an exact end
                for g in range(n_points):
                    p, q = _expected(a * (theta[s, g] - b), c)
                    row[g] -= math.log1p(p / (e0 * q) if code == ZERO else q / (e1 * p))
            elif code == COUNTED:
                n = n_items[j]
                k = round(y[j] * n)
                for g in range(n_points):
                    p, q = _expected(a * (theta[s, g] - b), c)
                    alpha, beta = p * phi, q * phi
                    row[g] += (
                        constant[s, j]
                        + math.lgamma(k + alpha)
                        + math.lgamma(n - k + beta)
                        - math.lgamma(alpha)
                        - math.lgamma(beta)
                    )
            else:  # INTERIOR: the Beta density times P(0 < y < 1)
                log_y, log1m_y = math.log(y[j]), math.log1p(-y[j])
                fixed = constant[s, j] + gap - log_y - log1m_y
                for g in range(n_points):
                    p, q = _expected(a * (theta[s, g] - b), c)
                    alpha, beta = p * phi, q * phi
                    odds = q / p
                    row[g] += (
                        fixed
                        + alpha * log_y
                        + beta * log1m_y
                        - math.lgamma(alpha)
                        - math.lgamma(beta)
                        - math.log1p(e0 * odds + e1 / odds + e0 * e1)
                    )
    return out


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
