"""Log-likelihoods of an observed score given the expected score, in stable log space.

The expected score is ``p = c + (1 - c) * sigmoid(x)`` with ``x = slope * (capability -
difficulty)`` and floor ``c``. Working with ``x`` directly keeps ``log p``, ``log(1 - p)`` and
``logit(p)`` exact in the tails (no clipping of ``p``)::

    log p       = softplus(log c - x) - softplus(-x)
    log(1 - p)  = log(1 - c) - softplus(x)
    logit p     = x + softplus(log c - x) - log(1 - c)

Beta (ordered Beta, Kubinec 2022): exact zeros and ones get their own probability through
cutpoints ``k0 < k1`` on the logit of the expected score; scores strictly inside (0, 1) get
``P(0 < y < 1) * Beta(y; p * phi, (1 - p) * phi)``. Only the cutpoints the data need are used.
Beta-binomial: ``round(y * n)`` correct answers out of ``n`` items.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.math import softplus


def expected_score_logs(x, log_floor, log1m_floor):
    """Return ``(log p, log(1 - p), logit p)`` for ``p = c + (1 - c) sigmoid(x)``."""
    lift = softplus(log_floor - x)
    log_p = lift - softplus(-x)
    log1m_p = log1m_floor - softplus(x)
    return log_p, log1m_p, x + lift - log1m_floor


def beta_logp(y_log, y_log1m, log_p, log1m_p, precision):
    """Beta log-density of ``y`` (given as ``log y``, ``log(1 - y)``) with mean ``p``."""
    alpha = pt.exp(log_p) * precision
    beta = pt.exp(log1m_p) * precision
    return (
        (alpha - 1) * y_log
        + (beta - 1) * y_log1m
        + pt.gammaln(precision)
        - pt.gammaln(alpha)
        - pt.gammaln(beta)
    )


def ordered_beta_logp(y, logit_p, beta_part, zero_cutpoint=None, one_cutpoint=None):
    """Ordered-Beta log-likelihood; a missing cutpoint means that end has no point mass.

    Parameters
    ----------
    y
        Observed scores (numpy, known when the graph is built).
    logit_p
        Logit of the expected score.
    beta_part
        Beta log-density of the interior scores (ignored at exact 0 and 1).
    zero_cutpoint, one_cutpoint
        Cutpoints, or ``None`` when the data hold no exact 0 (resp. 1).
    """
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


def beta_binomial_logp(k, n, log_p, log1m_p, precision):
    """Beta-binomial log-probability of ``k`` correct out of ``n`` with mean ``p``."""
    alpha = pt.exp(log_p) * precision
    beta = pt.exp(log1m_p) * precision
    return (
        pt.gammaln(n + 1)
        - pt.gammaln(k + 1)
        - pt.gammaln(n - k + 1)
        + _betaln(k + alpha, n - k + beta)
        - _betaln(alpha, beta)
    )


def _betaln(a, b):
    return pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b)


def normal_logp(y, log_p, sigma):
    """Gaussian log-density of ``y`` around ``p`` (the least-squares reference)."""
    return -0.5 * ((y - pt.exp(log_p)) / sigma) ** 2 - pt.log(sigma) - 0.5 * np.log(2 * np.pi)
