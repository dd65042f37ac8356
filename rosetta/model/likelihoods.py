"""Log-likelihoods of an observed score given the expected score, with few transcendentals.

The expected score is ``p = c + (1 - c) * sigmoid(x)`` with ``x = slope * (capability -
difficulty)`` and floor ``c``; its complement is computed as ``q = (1 - c) * sigmoid(-x)`` so that
neither underflows to 0 in the tails. The likelihood dominates the cost of every gradient, so each
expression below is written to need as few exp/log/gamma evaluations per score as possible.

Beta (ordered Beta, Kubinec 2022): exact zeros and ones get their own probability through
cutpoints ``k0 < k1`` on ``logit p``; a score strictly inside (0, 1) gets
``P(0 < y < 1) * Beta(y; p * phi, q * phi)``. Only the cutpoints the data need are used.
Beta-binomial: ``round(y * n)`` correct answers out of ``n`` items.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.math import softplus


def expected_score(x, floor):
    """Return ``(p, q)`` with ``p = c + (1 - c) sigmoid(x)`` and ``q = 1 - p``."""
    return floor + (1 - floor) * pt.sigmoid(x), (1 - floor) * pt.sigmoid(-x)


def beta_logp(y_log, y_log1m, p, q, precision, gammaln_precision):
    """Beta log-density of ``y`` (given as ``log y``, ``log(1 - y)``) with mean ``p``.

    ``gammaln_precision`` is passed in so it can be computed once per benchmark.
    """
    alpha = p * precision
    beta = q * precision
    return (
        (alpha - 1) * y_log
        + (beta - 1) * y_log1m
        + gammaln_precision
        - pt.gammaln(alpha)
        - pt.gammaln(beta)
    )


def ordered_beta_logp(y, p, q, beta_part, zero_cutpoint=None, one_cutpoint=None):
    """Ordered-Beta log-likelihood; a missing cutpoint means that end has no point mass.

    With ``logit p = log p - log q``: ``P(y = 0) = sigmoid(k0 - logit p)``,
    ``P(y = 1) = sigmoid(logit p - k1)``, and the rest is the continuous part.

    Parameters
    ----------
    y
        Observed scores (numpy, known when the graph is built).
    p, q
        Expected score and its complement.
    beta_part
        Beta log-density of the interior scores (ignored at exact 0 and 1).
    zero_cutpoint, one_cutpoint
        Cutpoints, or ``None`` when the data hold no exact 0 (resp. 1).
    """
    if zero_cutpoint is None and one_cutpoint is None:
        return beta_part
    logit_p = pt.log(p) - pt.log(q)
    interior = beta_part
    if zero_cutpoint is not None:
        interior = interior - softplus(zero_cutpoint - logit_p)
    if one_cutpoint is not None:
        interior = interior - softplus(logit_p - one_cutpoint)
    if zero_cutpoint is not None and one_cutpoint is not None:
        interior = interior + pt.log(-pt.expm1(zero_cutpoint - one_cutpoint))
    out = interior
    if zero_cutpoint is not None:
        out = pt.switch(np.asarray(y <= 0), -softplus(logit_p - zero_cutpoint), out)
    if one_cutpoint is not None:
        out = pt.switch(np.asarray(y >= 1), -softplus(one_cutpoint - logit_p), out)
    return out


def beta_binomial_logp(k, n, p, q, precision):
    """Beta-binomial log-probability of ``k`` correct out of ``n`` with mean ``p``."""
    alpha = p * precision
    beta = q * precision
    return (
        pt.gammaln(n + 1)
        - pt.gammaln(k + 1)
        - pt.gammaln(n - k + 1)
        + _betaln(k + alpha, n - k + beta)
        - _betaln(alpha, beta)
    )


def _betaln(a, b):
    return pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b)


def normal_logp(y, p, sigma):
    """Gaussian log-density of ``y`` around ``p`` (the least-squares reference)."""
    return -0.5 * ((y - p) / sigma) ** 2 - pt.log(sigma) - 0.5 * np.log(2 * np.pi)
