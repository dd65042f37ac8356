"""The Beta-family score likelihood and its gradient as two PyTensor ops with one Numba loop each.

Written as a PyTensor graph, the likelihood of the scores gathers each score's capability,
family effect, slope, difficulty, floor and precision, evaluates `rosetta.likelihoods`'
expressions branch by branch, and its gradient scatters the per-score derivatives back: some
150 small array operations a gradient, with the arithmetic per score between them. Here one
loop over the scores computes each score's log-likelihood and its derivatives with respect to
``x = slope * (capability + effect - difficulty)``, the floor, the precision and the cutpoints
(`ScoreLoglik`), and a second loop scatters those, weighted by the incoming gradient, onto the
parameters (`ScoreLoglikGrad`). The formulas are `rosetta.likelihoods.beta_family_logp`'s; the
tests check the two agree in value and gradient on every branch.

Both ops run under Numba in PyTensor's Numba mode (nutpie's) and through a cached
``numba.njit`` function in the other modes (PyMC's samplers, MAP, ADVI). They have no JAX
implementation: the numpyro backend builds the model without them (``build_model(...,
fused=False)``).
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from scipy.special import gammaln

from rosetta.likelihoods import (
    COUNTED,
    INTERIOR,
    ONE,
    ZERO,
    item_count_pairs,
    likelihood_branch,
)
from rosetta.model import gamma_pair
from rosetta.model.gamma_pair import gammaln_digamma_positive

#: Numba's cached code of the ops is keyed by the text of this module and of `gamma_pair`: any
#: change to either recompiles them.
_CACHE_VERSION = (
    "rosetta-score-loglik-"
    + hashlib.blake2b(
        Path(__file__).read_bytes() + Path(gamma_pair.__file__).read_bytes(), digest_size=8
    ).hexdigest()
)
#: Rows of the per-score derivatives `ScoreLoglik` returns beside the log-likelihood.
D_X, D_FLOOR, D_PRECISION, D_ZERO_CUT, D_ONE_CUT = range(5)

#: Numba's options for the kernels: PyTensor's fast-math flags (none that assume finite values),
#: and NumPy's error model (no check for a division by zero; IEEE infinities instead).
_FAST = {
    "cache": True,
    "fastmath": {"arcp", "contract", "afn", "reassoc", "nsz"},
    "error_model": "numpy",
}
_positive = numba.njit(gammaln_digamma_positive, **_FAST)


@numba.njit(**_FAST)
def _gammaln_digamma(x):
    """``gammaln`` and ``digamma`` of a shape parameter (infinite and NaN at or below 0)."""
    if x > 0.0:
        return _positive(x)
    return math.inf, math.nan


@numba.njit(**_FAST)
def _log1p_ratio(a, b):
    """``softplus(t)`` and ``sigmoid(t)`` at ``t = log(a / b)``, with no exp and no log of t."""
    return math.log1p(a / b), a / (a + b)


@numba.njit(**_FAST)
def _beta_terms(kind, p, q, phi, data, i, gammaln_phi, digamma_phi, gammaln_all, digamma_all):
    """Beta (inside (0, 1)) or beta-binomial (counted) log-likelihood, d/dp, d/dq, d/dphi.

    ``gammaln_all``, ``digamma_all``: of ``n + phi`` (counted scores only).
    """
    alpha, beta = p * phi, q * phi
    g_alpha, psi_alpha = _gammaln_digamma(alpha)
    g_beta, psi_beta = _gammaln_digamma(beta)
    if kind == INTERIOR:
        log_y, log1m_y = data[0, i], data[1, i]
        out = (alpha - 1.0) * log_y + (beta - 1.0) * log1m_y + gammaln_phi - g_alpha - g_beta
        d_p, d_q = log_y - psi_alpha, log1m_y - psi_beta
        return out, phi * d_p, phi * d_q, p * d_p + q * d_q + digamma_phi
    k, total = data[0, i], data[1, i]
    g_hit, psi_hit = _gammaln_digamma(k + alpha)
    g_miss, psi_miss = _gammaln_digamma(total - k + beta)
    out = data[2, i] + g_hit + g_miss - gammaln_all - g_alpha - g_beta + gammaln_phi
    d_p, d_q = psi_hit - psi_alpha, psi_miss - psi_beta
    return out, phi * d_p, phi * d_q, p * d_p + q * d_q + digamma_phi - digamma_all


@numba.njit(**_FAST)
def _cutpoint_terms(kind, odds, e_zero, e_one, zero_end, one_end, log_gap, gap_slope):
    """Ordered Beta's cutpoint terms at odds ``p / q``; d/dlogit(p), d/dk0, d/dk1.

    Every term is ``softplus(+-(logit p - k))``, so `_log1p_ratio` of the odds and ``exp(k)``.
    """
    if kind == ZERO:
        out, t = _log1p_ratio(odds, e_zero)
        return -out, -t, t, 0.0
    if kind == ONE:
        out, t = _log1p_ratio(e_one, odds)
        return -out, t, 0.0, -t
    out = d_logit = d_zero = d_one = 0.0
    if zero_end:
        out, t = _log1p_ratio(e_zero, odds)
        out, d_logit, d_zero = -out, t, -t
    if one_end:
        term, t = _log1p_ratio(odds, e_one)
        out, d_logit, d_one = out - term, d_logit - t, t
    if zero_end and one_end:
        out, d_zero, d_one = out + log_gap, d_zero - gap_slope, d_one + gap_slope
    return out, d_logit, d_zero, d_one


def score_loglik_kernel(
    capability, effect, slope, difficulty, floor, precision, cutpoints, index, data, ends
):
    """Log-likelihood of each score and its derivatives (rows ``D_*``) in one loop.

    ``index`` rows: model, family cell (into ``effect``), benchmark, branch of each score and
    its (benchmark, item count) pair (``gammaln(n + phi)`` is computed once a pair); ``data``
    rows: ``log y``, ``log(1 - y)`` (inside (0, 1)) or ``k``, ``n`` and the log binomial
    coefficient (counted); ``ends``: whether the zero and the one cutpoints are used.
    """
    n = index.shape[1]
    loglik = np.empty(n)
    slopes = np.zeros((5, n))
    n_benchmarks = precision.shape[0]
    gammaln_phi = np.empty(n_benchmarks)
    digamma_phi = np.empty(n_benchmarks)
    for b in range(n_benchmarks):
        gammaln_phi[b], digamma_phi[b] = _gammaln_digamma(precision[b])
    n_pairs = index[4].max() + 1 if n else 0
    gammaln_all = np.full(n_pairs, np.nan)
    digamma_all = np.empty(n_pairs)
    zero_end, one_end = ends[0] != 0, ends[1] != 0
    e_zero, e_one = math.exp(cutpoints[0]), math.exp(cutpoints[1])
    log_gap = gap_slope = 0.0
    if zero_end and one_end:  # P(0 < y < 1) = 1 - exp(k0 - k1): its log, derivative in k1 (-k0)
        log_gap = math.log1p(-e_zero / e_one)
        gap_slope = e_zero / (e_one - e_zero)
    for i in range(n):
        m, c, b, kind = index[0, i], index[1, i], index[2, i], index[3, i]
        x = slope[b] * (capability[m] + effect[c] - difficulty[b])
        e = math.exp(-abs(x))  # sigmoid(x) and sigmoid(-x) from one exponential
        above, below = (
            (1.0 / (1.0 + e), e / (1.0 + e)) if x >= 0.0 else (e / (1.0 + e), 1.0 / (1.0 + e))
        )
        fl = floor[b]
        p = fl + (1.0 - fl) * above
        q = (1.0 - fl) * below
        out = d_p = d_q = d_logit = 0.0
        if kind in (INTERIOR, COUNTED):
            pair = index[4, i]
            if kind == COUNTED and math.isnan(gammaln_all[pair]):
                gammaln_all[pair], digamma_all[pair] = _gammaln_digamma(data[1, i] + precision[b])
            out, d_p, d_q, slopes[D_PRECISION, i] = _beta_terms(
                kind,
                p,
                q,
                precision[b],
                data,
                i,
                gammaln_phi[b],
                digamma_phi[b],
                gammaln_all[pair],
                digamma_all[pair],
            )
        if kind != COUNTED and (zero_end or one_end):
            term, d_logit, slopes[D_ZERO_CUT, i], slopes[D_ONE_CUT, i] = _cutpoint_terms(
                kind, p / q, e_zero, e_one, zero_end, one_end, log_gap, gap_slope
            )
            out += term
        loglik[i] = out
        # dp/dx = -dq/dx = (1 - floor) sigmoid(x) sigmoid(-x); dp/dfloor = -dq/dfloor = sigmoid(-x)
        through_p = d_p - d_q + d_logit * (1.0 / p + 1.0 / q)
        slopes[D_X, i] = through_p * (1.0 - fl) * above * below
        slopes[D_FLOOR, i] = through_p * below
    return loglik, slopes


def score_loglik_grad_kernel(grad, slopes, capability, effect, slope, difficulty, index):
    """The gradient of ``sum(grad * loglik)`` with respect to the parameters, by scattering."""
    d_capability = np.zeros_like(capability)
    d_effect = np.zeros_like(effect)
    d_slope = np.zeros_like(slope)
    d_difficulty = np.zeros_like(slope)
    d_floor = np.zeros_like(slope)
    d_precision = np.zeros_like(slope)
    d_cutpoints = np.zeros(2)
    for i in range(index.shape[1]):
        m, c, b = index[0, i], index[1, i], index[2, i]
        g = grad[i]
        d_x = g * slopes[D_X, i]
        d_measured = d_x * slope[b]
        d_capability[m] += d_measured
        d_effect[c] += d_measured
        d_difficulty[b] -= d_measured
        d_slope[b] += d_x * (capability[m] + effect[c] - difficulty[b])
        d_floor[b] += g * slopes[D_FLOOR, i]
        d_precision[b] += g * slopes[D_PRECISION, i]
        d_cutpoints[0] += g * slopes[D_ZERO_CUT, i]
        d_cutpoints[1] += g * slopes[D_ONE_CUT, i]
    return d_capability, d_effect, d_slope, d_difficulty, d_floor, d_precision, d_cutpoints


_loglik_python = numba.njit(score_loglik_kernel, **_FAST)
_grad_python = numba.njit(score_loglik_grad_kernel, **_FAST)


class ScoreLoglik(Op):
    """``(loglik, slopes)`` of the scores: `score_loglik_kernel` as a PyTensor op.

    Inputs: capability, effect, slope, difficulty, floor, precision, cutpoints (differentiable)
    and the constants index, data and ends (see `score_constants`). Only ``loglik`` may enter a
    cost that is differentiated: ``slopes`` is what its gradient is made of.
    """

    __props__ = ()

    def make_node(self, *inputs):
        """Seven float parameters, then the integer index, the float data and the ends."""
        params = [pt.as_tensor_variable(v).astype("float64") for v in inputs[:7]]
        index, data, ends = (pt.as_tensor_variable(v) for v in inputs[7:])
        return Apply(self, [*params, index, data, ends], [pt.dvector(), pt.dmatrix()])

    def perform(self, node, inputs, outputs):
        """Through the cached ``numba.njit`` kernel (modes other than Numba)."""
        loglik, slopes = _loglik_python(*inputs)
        outputs[0][0], outputs[1][0] = loglik, slopes

    def infer_shape(self, fgraph, node, shapes):
        """One entry per score; five rows of derivatives."""
        n = shapes[7][1]
        return [(n,), (5, n)]

    def connection_pattern(self, node):
        """The parameters reach both outputs; the constants neither."""
        return [[True, True]] * 7 + [[False, False]] * 3

    def L_op(self, inputs, outputs, output_grads):
        """`ScoreLoglikGrad` of the incoming gradient of ``loglik``."""
        grad, grad_of_slopes = output_grads
        if not isinstance(grad_of_slopes.type, DisconnectedType):
            raise NotImplementedError("the derivatives of the score likelihood have no gradient")
        capability, effect, slope, difficulty, *_ = inputs
        grads = score_loglik_grad(
            grad, outputs[1], capability, effect, slope, difficulty, inputs[7]
        )
        return [*grads, disconnected_type(), disconnected_type(), disconnected_type()]


class ScoreLoglikGrad(Op):
    """`score_loglik_grad_kernel` as a PyTensor op (no gradient of its own: no Hessian)."""

    __props__ = ()

    def make_node(self, grad, slopes, capability, effect, slope, difficulty, index):
        """The gradient of ``loglik`` and its ``slopes``, the parameters ``x`` is made of."""
        inputs = [pt.as_tensor_variable(v) for v in (grad, slopes, capability, effect, slope)]
        inputs += [pt.as_tensor_variable(difficulty), pt.as_tensor_variable(index)]
        outputs = [pt.dvector() for _ in range(7)]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, outputs):
        """Through the cached ``numba.njit`` kernel (modes other than Numba)."""
        for out, value in zip(outputs, _grad_python(*inputs), strict=True):
            out[0] = value

    def L_op(self, inputs, outputs, output_grads):
        """Not implemented: second derivatives need the graph (``build_model(fused=False)``)."""
        raise NotImplementedError(
            "the fused score likelihood has no second derivative; build the model with "
            "fused=False for a symbolic Hessian"
        )

    def infer_shape(self, fgraph, node, shapes):
        """Each gradient has its parameter's shape (benchmark-long for floor and precision)."""
        capability, effect, slope = shapes[2], shapes[3], shapes[4]
        return [capability, effect, slope, slope, slope, slope, (2,)]


score_loglik = ScoreLoglik()
score_loglik_grad = ScoreLoglikGrad()


def score_constants(y, n_items, model_idx, cell_idx, bench_idx) -> tuple[np.ndarray, np.ndarray]:
    """``(index, data)`` of the scores for `score_loglik` (rows as in `score_loglik_kernel`)."""
    y = np.asarray(y, dtype=float)
    n_items = np.asarray(n_items, dtype=float)
    branch = likelihood_branch(y, n_items)
    pair = item_count_pairs(bench_idx, n_items)[1]
    index = np.stack([model_idx, cell_idx, bench_idx, branch, pair]).astype(np.int64)
    data = np.zeros((3, y.size))
    inside = branch == INTERIOR
    data[0, inside], data[1, inside] = np.log(y[inside]), np.log1p(-y[inside])
    counted = branch == COUNTED
    n = n_items[counted]
    k = np.round(y[counted] * n)
    data[0, counted], data[1, counted] = k, n
    data[2, counted] = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return index, data


@functools.cache
def register_score_kernels() -> None:
    """Give both ops their Numba code in PyTensor's Numba mode (once; no-op if unsupported)."""
    try:
        from pytensor.link.numba.dispatch import basic as numba_basic
        from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key
    except ImportError:
        return
    loglik = numba_basic.numba_njit(score_loglik_kernel, error_model="numpy")
    grad = numba_basic.numba_njit(score_loglik_grad_kernel, error_model="numpy")

    @register_funcify_and_cache_key(ScoreLoglik)
    def _numba_funcify_score_loglik(op, node, **kwargs):
        return loglik, f"{_CACHE_VERSION}-loglik"

    @register_funcify_and_cache_key(ScoreLoglikGrad)
    def _numba_funcify_score_loglik_grad(op, node, **kwargs):
        return grad, f"{_CACHE_VERSION}-grad"
