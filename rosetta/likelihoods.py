"""Log-likelihoods of an observed score given the expected score, for NumPy and PyTensor alike.

The expected score is ``p = c + (1 - c) * sigmoid(x)`` with ``x = slope * (capability -
difficulty)`` and floor ``c``; its complement is computed as ``q = (1 - c) * sigmoid(-x)`` so that
neither underflows to 0 in the tails. The likelihood dominates the cost of every gradient, so each
expression below is written to need as few exp/log/gamma evaluations per score as possible.

Beta (ordered Beta, Kubinec 2022): exact zeros and ones get their own probability through
cutpoints ``k0 < k1`` on ``logit p``; a score strictly inside (0, 1) gets
``P(0 < y < 1) * Beta(y; p * phi, q * phi)``. Only the cutpoints the data need are used.
Beta-binomial: ``round(y * n)`` correct answers out of ``n`` items.

Every function takes the elementwise operations it needs as ``ops``: `NUMPY` (the default, used by
`rosetta.query` without importing PyMC) or the PyTensor set the PyMC model passes in, so the fit
and the query evaluate one and the same likelihood.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln


@dataclass(frozen=True)
class Ops:
    """The elementwise functions the likelihoods need, taken from one array library."""

    sigmoid: Callable
    log: Callable
    expm1: Callable
    softplus: Callable
    gammaln: Callable
    where: Callable


def _softplus(x):
    """``log(1 + exp(x))`` without overflow (faster than ``np.logaddexp(0, x)``)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


NUMPY = Ops(
    sigmoid=expit,
    log=np.log,
    expm1=np.expm1,
    softplus=_softplus,
    gammaln=gammaln,
    where=np.where,
)


def expected_score(x, floor, ops: Ops = NUMPY):
    """Return ``(p, q)`` with ``p = c + (1 - c) sigmoid(x)`` and ``q = 1 - p``."""
    return floor + (1 - floor) * ops.sigmoid(x), (1 - floor) * ops.sigmoid(-x)


def beta_logp(y_log, y_log1m, p, q, precision, gammaln_precision, ops: Ops = NUMPY):
    """Beta log-density of ``y`` (given as ``log y``, ``log(1 - y)``) with mean ``p``.

    ``gammaln_precision`` is passed in so it can be computed once per benchmark.
    """
    alpha = p * precision
    beta = q * precision
    return (
        (alpha - 1) * y_log
        + (beta - 1) * y_log1m
        + gammaln_precision
        - ops.gammaln(alpha)
        - ops.gammaln(beta)
    )


def ordered_beta_logp(y, p, q, beta_part, zero_cutpoint=None, one_cutpoint=None, ops: Ops = NUMPY):
    """Ordered-Beta log-likelihood; a missing cutpoint means that end has no point mass.

    With ``logit p = log p - log q``: ``P(y = 0) = sigmoid(k0 - logit p)``,
    ``P(y = 1) = sigmoid(logit p - k1)``, and the rest is the continuous part.

    Parameters
    ----------
    y
        Observed scores (a NumPy array).
    p, q
        Expected score and its complement.
    beta_part
        Beta log-density of the interior scores (ignored at exact 0 and 1).
    zero_cutpoint, one_cutpoint
        Cutpoints, or ``None`` when the data hold no exact 0 (resp. 1).
    ops
        Elementwise operations (`NUMPY` or PyTensor's).
    """
    if zero_cutpoint is None and one_cutpoint is None:
        return beta_part
    logit_p = ops.log(p) - ops.log(q)
    interior = beta_part
    if zero_cutpoint is not None:
        interior = interior - ops.softplus(zero_cutpoint - logit_p)
    if one_cutpoint is not None:
        interior = interior - ops.softplus(logit_p - one_cutpoint)
    if zero_cutpoint is not None and one_cutpoint is not None:
        interior = interior + ops.log(-ops.expm1(zero_cutpoint - one_cutpoint))
    out = interior
    zeros, ones = np.asarray(y <= 0), np.asarray(y >= 1)
    if zero_cutpoint is not None and zeros.any():
        out = ops.where(zeros, -ops.softplus(logit_p - zero_cutpoint), out)
    if one_cutpoint is not None and ones.any():
        out = ops.where(ones, -ops.softplus(one_cutpoint - logit_p), out)
    return out


def beta_binomial_logp(k, n, p, q, precision, ops: Ops = NUMPY):
    """Beta-binomial log-probability of ``k`` correct out of ``n`` with mean ``p``."""
    alpha = p * precision
    beta = q * precision
    g = ops.gammaln
    return (
        g(n + 1)
        - g(k + 1)
        - g(n - k + 1)
        + g(k + alpha)
        + g(n - k + beta)
        - g(n + precision)
        - g(alpha)
        - g(beta)
        + g(precision)
    )


def beta_family_logp(
    y,
    n_items,
    p,
    q,
    precision,
    gammaln_precision,
    zero_cutpoint=None,
    one_cutpoint=None,
    ops: Ops = NUMPY,
):
    """Ordered Beta for plain scores, beta-binomial where ``n_items`` is known (not NaN).

    ``y`` and ``n_items`` are NumPy arrays known in advance; the other arguments broadcast
    against them.
    """
    y = np.asarray(y, dtype=float)
    n_items = np.asarray(n_items, dtype=float)
    counted = np.isfinite(n_items)
    inside = (y > 0) & (y < 1)
    y_safe = np.where(inside, y, 0.5)  # boundary scores never use the Beta density
    beta_part = beta_logp(
        np.log(y_safe), np.log1p(-y_safe), p, q, precision, gammaln_precision, ops
    )
    loglik = ordered_beta_logp(y, p, q, beta_part, zero_cutpoint, one_cutpoint, ops)
    if counted.any():
        n = np.where(counted, n_items, 1.0)
        k = np.round(np.where(counted, y, 0.0) * n)
        loglik = ops.where(counted, beta_binomial_logp(k, n, p, q, precision, ops), loglik)
    return loglik


def normal_logp(y, p, sigma, ops: Ops = NUMPY):
    """Gaussian log-density of ``y`` around ``p`` (the least-squares reference)."""
    return -0.5 * ((y - p) / sigma) ** 2 - ops.log(sigma) - 0.5 * np.log(2 * np.pi)
