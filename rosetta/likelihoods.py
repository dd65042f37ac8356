"""Log-likelihoods of an observed score given the expected score, for NumPy and PyTensor alike.

The expected score is ``p = c + (1 - c) * sigmoid(x)`` with ``x = slope * (capability -
difficulty)`` and floor ``c``; its complement is computed as ``q = (1 - c) * sigmoid(-x)`` so that
neither underflows to 0 in the tails. The likelihood dominates the cost of every gradient, so each
expression below is written to need as few exp/log/gamma evaluations per score as possible.

Beta (ordered Beta, Kubinec 2022): exact zeros and ones get their own probability through
cutpoints ``k0 < k1`` on ``logit p``; a score strictly inside (0, 1) gets
``P(0 < y < 1) * Beta(y; p * phi, q * phi)``. Only the cutpoints the data need are used.
Beta-binomial: ``round(y * n)`` correct answers out of ``n`` items. Scores are grouped by the
branch they need, so each costs only its own branch's transcendentals.

Every function takes the elementwise operations it needs as ``ops``: `NUMPY` (the default, used by
`rosetta.placement` without importing PyMC) or the PyTensor set the PyMC model passes in, so the fit
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
    log1p: Callable
    expm1: Callable
    softplus: Callable
    gammaln: Callable
    round: Callable
    concat: Callable


def _softplus(x):
    """``log(1 + exp(x))`` without overflow (faster than ``np.logaddexp(0, x)``)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


NUMPY = Ops(
    sigmoid=expit,
    log=np.log,
    log1p=np.log1p,
    expm1=np.expm1,
    softplus=_softplus,
    gammaln=gammaln,
    round=np.round,
    concat=lambda parts: np.concatenate(parts, axis=-1),
)


#: Precisions are kept smoothly below this: a beta-binomial this precise is binomial for any
#: benchmark of fewer than 10^5 items, and far beyond it gammaln(k + alpha) - gammaln(alpha)
#: cancels to noise in double precision (a chain whose precisions drifted to 1e17 on scores no
#: noisier than binomial diverged at every step).
MAX_PRECISION = 1e6


def capped_precision(log_precision, exp=np.exp):
    """``exp(log_precision)`` kept smoothly below `MAX_PRECISION`.

    ``1 / (exp(-log_precision) + 1 / MAX_PRECISION)``: the same below about 1e4.
    """
    return 1.0 / (exp(-log_precision) + 1.0 / MAX_PRECISION)


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


def beta_binomial_logp(
    k, n, p, q, precision, gammaln_precision=None, gammaln_n_precision=None, ops: Ops = NUMPY
):
    """Beta-binomial log-probability of ``k`` correct out of ``n`` with mean ``p``.

    ``gammaln_precision`` and ``gammaln_n_precision`` (``gammaln(n + precision)``), when given,
    save computing them per score: they depend on the benchmark and ``n`` only.
    """
    alpha = p * precision
    beta = q * precision
    g = ops.gammaln
    if gammaln_precision is None:
        gammaln_precision = g(precision)
    if gammaln_n_precision is None:
        gammaln_n_precision = g(n + precision)
    return (
        g(n + 1)
        - g(k + 1)
        - g(n - k + 1)
        + g(k + alpha)
        + g(n - k + beta)
        - gammaln_n_precision
        - g(alpha)
        - g(beta)
        + gammaln_precision
    )


#: Branches of the Beta-family likelihood, in the order rows must be grouped.
INTERIOR, ZERO, ONE, COUNTED = range(4)


def item_count_pairs(bench_idx, n_items) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (benchmark, item count) pairs of the scores, and each score's pair.

    ``gammaln(n + precision)`` of the beta-binomial depends on these only, so it is computed
    once a pair. Scores without an item count (NaN) pair with a count of 0.
    """
    counts = np.where(np.isfinite(n_items), n_items, 0.0)
    pairs, pair_of = np.unique(np.column_stack([bench_idx, counts]), axis=0, return_inverse=True)
    return pairs, pair_of.ravel()


def likelihood_branch(y, n_items) -> np.ndarray:
    """Which branch of the Beta-family likelihood each score needs.

    ``INTERIOR`` (a score strictly inside (0, 1)), ``ZERO``, ``ONE`` (exact ends, ordered Beta)
    or ``COUNTED`` (``n_items`` known: beta-binomial). A stable argsort of the result groups the
    rows as `beta_family_logp` needs them.
    """
    y = np.asarray(y, dtype=float)
    branch = np.select([y <= 0, y >= 1], [ZERO, ONE], INTERIOR)
    return np.where(np.isfinite(np.asarray(n_items, dtype=float)), COUNTED, branch)


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
    branch=None,
    gammaln_n_precision=None,
):
    """Ordered Beta for plain scores, beta-binomial where ``n_items`` is known (not NaN).

    With ``logit p = log p - log q``: ``P(y = 0) = sigmoid(k0 - logit p)``, ``P(y = 1) =
    sigmoid(logit p - k1)``, and a score inside (0, 1) has ``P(0 < y < 1)`` times the Beta
    density; a missing cutpoint means that end has no point mass (the data never reach it).

    Scores run along the last axis of ``p``, ``q``, ``precision`` and ``gammaln_precision`` and
    must be grouped by `likelihood_branch` (the log-likelihood is a sum, so their order is
    free): each branch is then computed on its own rows only, without evaluating the terms of the
    others. ``n_items`` is a NumPy array known in advance; so is ``y``, unless its branches are
    given as ``branch`` (then ``y`` may be symbolic, the value of a PyMC distribution).
    ``gammaln_n_precision``, per score like ``precision``, is ``gammaln(n_items + precision)``
    for the counted scores (computed here when not given).

    Returns
    -------
    The log-likelihood per score, in the given order.
    """
    n_items = np.asarray(n_items, dtype=float)
    if branch is None:
        y = np.asarray(y, dtype=float)
        branch = likelihood_branch(y, n_items)
    if np.any(np.diff(branch) < 0):
        raise ValueError("scores must be grouped by likelihood branch")
    parts = []
    for kind in np.unique(branch):
        rows = np.flatnonzero(branch == kind)
        part = slice(rows[0], rows[-1] + 1)
        p_, q_, phi = p[..., part], q[..., part], precision[..., part]
        if kind == COUNTED:
            n = n_items[part]
            k = ops.round(y[part] * n)
            known = None if gammaln_n_precision is None else gammaln_n_precision[..., part]
            parts.append(
                beta_binomial_logp(k, n, p_, q_, phi, gammaln_precision[..., part], known, ops)
            )
            continue
        if kind in (ZERO, ONE) and (zero_cutpoint if kind == ZERO else one_cutpoint) is None:
            raise ValueError("a score of exactly 0 or 1 needs the cutpoint of that end")
        logit_p = (
            ops.log(p_) - ops.log(q_)
            if kind != INTERIOR or zero_cutpoint is not None or one_cutpoint is not None
            else None
        )
        if kind == ZERO:
            parts.append(-ops.softplus(logit_p - zero_cutpoint))
        elif kind == ONE:
            parts.append(-ops.softplus(one_cutpoint - logit_p))
        else:
            inside = y[part]
            out = beta_logp(
                ops.log(inside), ops.log1p(-inside), p_, q_, phi, gammaln_precision[..., part], ops
            )
            if zero_cutpoint is not None:
                out = out - ops.softplus(zero_cutpoint - logit_p)
            if one_cutpoint is not None:
                out = out - ops.softplus(logit_p - one_cutpoint)
            if zero_cutpoint is not None and one_cutpoint is not None:
                out = out + ops.log(-ops.expm1(zero_cutpoint - one_cutpoint))
            parts.append(out)
    return parts[0] if len(parts) == 1 else ops.concat(parts)


def normal_logp(y, p, sigma, ops: Ops = NUMPY):
    """Gaussian log-density of ``y`` around ``p`` (the least-squares reference)."""
    return -0.5 * ((y - p) / sigma) ** 2 - ops.log(sigma) - 0.5 * np.log(2 * np.pi)


def response_logp(hits, misses, x, floor=None, ops: Ops = NUMPY):
    """Binomial log-likelihood kernel of item responses: ``hits log p + misses log(1 - p)``.

    ``p = floor + (1 - floor) sigmoid(x)``; ``floor=None`` means a floor of exactly zero, for
    which both logs are softplus terms that never underflow. The binomial coefficient, a
    constant, is left out (it is 0 for single attempts).
    """
    if floor is None:
        return -hits * ops.softplus(-x) - misses * ops.softplus(x)
    log_q = ops.log(1 - floor) - ops.softplus(x)
    return hits * ops.log(floor + (1 - floor) * ops.sigmoid(x)) + misses * log_q
