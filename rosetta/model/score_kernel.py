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

The first loop is branch-free (every branch computed, the score's kind selecting) and uses
`rosetta.vector_math`'s ``log``, ``exp`` and shifted Stirling series, so that it runs on the
CPU's vector units: 0.39 times the time of the same loop with the C library's functions and
branches on the bundled table, 0.53 on a 300 x 200 table of counted scores.

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

from rosetta import vector_math as vm
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

#: Numba's cached code of the ops is keyed by the text of this module, `gamma_pair` and
#: `rosetta.vector_math`: any change to them recompiles it.
_CACHE_VERSION = (
    "rosetta-score-loglik-"
    + hashlib.blake2b(
        b"".join(Path(f).read_bytes() for f in (__file__, gamma_pair.__file__, vm.__file__)),
        digest_size=8,
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
#: The log-likelihood kernel and its loops over the scores: no fast-math flags, which would let
#: LLVM reassociate the range reductions of `rosetta.vector_math` (inlined here) and lose their
#: accuracy, and made freshly compiled and cached code differ.
_EXACT = {"cache": True, "error_model": "numpy"}
_positive = numba.njit(gammaln_digamma_positive, **_FAST)


@numba.njit(**_FAST)
def _gammaln_digamma(x):
    """``gammaln`` and ``digamma`` of a shape parameter (infinite and NaN at or below 0)."""
    if x > 0.0:
        return _positive(x)
    return math.inf, math.nan


@numba.njit(inline="always", **_EXACT)
def _gammaln_digamma_pair(a, b):
    """``gammaln(a) + gammaln(b)``, ``digamma(a)``, ``digamma(b)`` for ``a, b >= 0``, branch-free.

    One ``log`` of the two rising products, one division for the two digamma corrections.
    """
    lgamma_a, digamma_a = vm.lgamma_digamma_shifted(a)
    lgamma_b, digamma_b = vm.lgamma_digamma_shifted(b)
    rising_a, slope_a = vm.rising_slope(a)
    rising_b, slope_b = vm.rising_slope(b)
    both = rising_a * rising_b
    inverse = 1.0 / both
    return (
        lgamma_a + lgamma_b - vm.log(both),
        digamma_a - slope_a * rising_b * inverse,
        digamma_b - slope_b * rising_a * inverse,
    )


@numba.njit(inline="always", **_EXACT)
def _score(x, fl, phi, kind, data, gammas, cuts, counted):
    """One score's log-likelihood and its derivatives in x, floor, phi and the two cutpoints.

    Branch-free, so that a loop over the scores vectorises: every branch is computed and the
    score's kind selects. ``counted`` (a constant where inlined) chooses the beta-binomial over
    the Beta and the cutpoints. ``data``: the score's column of `score_constants`' data;
    ``gammas``: gammaln and digamma of its phi and of its n + phi (counted).
    """
    gammaln_phi, digamma_phi, gammaln_all, digamma_all = gammas
    e_zero, e_one, k_zero, k_one, zero_end, one_end, log_gap, gap_slope = cuts
    e = vm.exp(-abs(x))  # sigmoid(x) and sigmoid(-x) from one exponential
    r = 1.0 / (1.0 + e)
    above = r if x >= 0.0 else e * r
    below = e * r if x >= 0.0 else r
    p = fl + (1.0 - fl) * above
    q = (1.0 - fl) * below
    alpha, beta = p * phi, q * phi
    gammaln_ab, digamma_a, digamma_b = _gammaln_digamma_pair(alpha, beta)
    d_logit = d_zero = d_one = 0.0
    if counted:
        k, total, log_choose = data
        gammaln_kn, digamma_k, digamma_n = _gammaln_digamma_pair(k + alpha, total - k + beta)
        value = log_choose + gammaln_kn - gammaln_all - gammaln_ab + gammaln_phi
        d_p, d_q = digamma_k - digamma_a, digamma_n - digamma_b
        d_phi = p * d_p + q * d_q + digamma_phi - digamma_all
    else:
        inside = kind == INTERIOR
        log_y, log1m_y, _ = data
        beta_value = (alpha - 1.0) * log_y + (beta - 1.0) * log1m_y + gammaln_phi - gammaln_ab
        value = beta_value if inside else 0.0
        d_p = log_y - digamma_a if inside else 0.0
        d_q = log1m_y - digamma_b if inside else 0.0
        d_phi = p * d_p + q * d_q + digamma_phi if inside else 0.0
        # Ordered Beta's cutpoints: each term is softplus(+-(logit p - k)), a log of a sum.
        odds = p / q
        log_odds = vm.log(odds)
        to_zero, to_one = vm.log(e_zero + odds), vm.log(odds + e_one)
        t_zero, t_one = e_zero / (e_zero + odds), odds / (odds + e_one)
        is_zero, is_one = kind == ZERO, kind == ONE
        with_zero, with_one = inside and zero_end, inside and one_end
        with_gap = with_zero and with_one
        value += log_odds - to_zero if with_zero else 0.0
        value += k_one - to_one if with_one else 0.0
        value += log_gap if with_gap else 0.0
        value = k_zero - to_zero if is_zero else value
        value = log_odds - to_one if is_one else value
        d_logit = (t_zero if with_zero else 0.0) - (t_one if with_one else 0.0)
        d_logit = t_zero - 1.0 if is_zero else d_logit
        d_logit = 1.0 - t_one if is_one else d_logit
        d_zero = (-t_zero if with_zero else 0.0) - (gap_slope if with_gap else 0.0)
        d_zero = 1.0 - t_zero if is_zero else d_zero
        d_one = (t_one if with_one else 0.0) + (gap_slope if with_gap else 0.0)
        d_one = t_one - 1.0 if is_one else d_one
    # d_p, d_q are per unit of alpha = p phi and beta = q phi.
    # dp/dx = -dq/dx = (1 - floor) sigmoid(x) sigmoid(-x); dp/dfloor = -dq/dfloor = sigmoid(-x)
    through_p = phi * (d_p - d_q) + d_logit * (1.0 / p + 1.0 / q)
    return value, through_p * (1.0 - fl) * above * below, through_p * below, d_phi, d_zero, d_one


@numba.njit(inline="always", **_EXACT)
def _score_column(work, i, cuts, counted):
    """`_score` of column ``i`` of ``work`` (rows as `_gather`'s)."""
    return _score(
        work[0, i],
        work[1, i],
        work[2, i],
        work[3, i],
        (work[4, i], work[5, i], work[6, i]),
        (work[7, i], work[8, i], work[9, i], work[10, i]),
        cuts,
        counted,
    )


@numba.njit(**_EXACT)
def _every_score(counted, work, cuts, out):
    """`_score` of every column of ``work`` into the rows of ``out``.

    As beta-binomial scores if ``counted``. Two loops, each with its branch a constant.
    """
    if counted:
        for i in range(work.shape[1]):
            out[0, i], out[1, i], out[2, i], out[3, i], out[4, i], out[5, i] = _score_column(
                work, i, cuts, True
            )
    else:
        for i in range(work.shape[1]):
            out[0, i], out[1, i], out[2, i], out[3, i], out[4, i], out[5, i] = _score_column(
                work, i, cuts, False
            )


@numba.njit(**_EXACT)
def _gather(capability, effect, slope, difficulty, floor, precision, index, data, gammas):
    """Per score (columns), what `_score` reads: ``x``, floor, phi, branch, ``data``'s rows.

    Then gammaln and digamma of phi and of n + phi (``gammas``: per benchmark in rows 0-1, per
    (benchmark, item count) pair in rows 2-3).
    """
    n = index.shape[1]
    work = np.empty((11, n))
    for i in range(n):
        m, c, b, pair = index[0, i], index[1, i], index[2, i], index[4, i]
        work[0, i] = slope[b] * (capability[m] + effect[c] - difficulty[b])
        work[1, i], work[2, i], work[3, i] = floor[b], precision[b], index[3, i]
        work[4, i], work[5, i], work[6, i] = data[0, i], data[1, i], data[2, i]
        work[7, i], work[8, i] = gammas[0, b], gammas[1, b]
        work[9, i], work[10, i] = gammas[2, pair], gammas[3, pair]
    return work


def score_loglik_kernel(
    capability, effect, slope, difficulty, floor, precision, cutpoints, index, data, ends
):
    """Log-likelihood of each score and its derivatives (rows ``D_*``).

    ``index`` rows: model, family cell (into ``effect``), benchmark, branch of each score and
    its (benchmark, item count) pair (``gammaln(n + phi)`` is computed once a pair); ``data``
    rows: ``log y``, ``log(1 - y)`` (inside (0, 1)) or ``k``, ``n`` and the log binomial
    coefficient (counted); ``ends``: whether the zero and the one cutpoints are used.

    The parameters are gathered per score (`_gather`), then one branch-free loop over the
    scores (`_score`) vectorises; where only some scores are counted, those are redone as
    beta-binomial.
    """
    n = index.shape[1]
    n_benchmarks = precision.shape[0]
    n_pairs = index[4].max() + 1 if n else 0
    # gammaln and digamma of each benchmark's phi (rows 0, 1), of each pair's n + phi (2, 3)
    gammas = np.zeros((4, max(n_benchmarks, n_pairs)))
    for b in range(n_benchmarks):
        gammas[0, b], gammas[1, b] = _gammaln_digamma(precision[b])
    counted = np.nonzero(index[3] == COUNTED)[0]
    for i in counted:
        pair = index[4, i]
        gammas[2, pair], gammas[3, pair] = _gammaln_digamma(data[1, i] + precision[index[2, i]])
    zero_end, one_end = ends[0] != 0, ends[1] != 0
    e_zero, e_one = math.exp(cutpoints[0]), math.exp(cutpoints[1])
    log_gap = gap_slope = 0.0
    if zero_end and one_end:  # P(0 < y < 1) = 1 - exp(k0 - k1): its log, derivative in k1 (-k0)
        log_gap = math.log1p(-e_zero / e_one)
        gap_slope = e_zero / (e_one - e_zero)
    cuts = (e_zero, e_one, cutpoints[0], cutpoints[1], zero_end, one_end, log_gap, gap_slope)
    work = _gather(capability, effect, slope, difficulty, floor, precision, index, data, gammas)
    out = np.empty((6, n))
    _every_score(counted.size == n, work, cuts, out)
    if 0 < counted.size < n:
        part = np.empty((6, counted.size))
        _every_score(True, work[:, counted], cuts, part)
        out[:, counted] = part
    return out[0].copy(), out[1:]


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


_loglik_python = numba.njit(score_loglik_kernel, **_EXACT)
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
    # Without PyTensor's fast-math flags, as `_loglik_python`: LLVM inlines the loops into it,
    # and with them fresh and cached code had differed in the last digits.
    loglik = numba_basic.numba_njit(score_loglik_kernel, error_model="numpy", fastmath=False)
    grad = numba_basic.numba_njit(score_loglik_grad_kernel, error_model="numpy")

    @register_funcify_and_cache_key(ScoreLoglik)
    def _numba_funcify_score_loglik(op, node, **kwargs):
        return loglik, f"{_CACHE_VERSION}-loglik"

    @register_funcify_and_cache_key(ScoreLoglikGrad)
    def _numba_funcify_score_loglik_grad(op, node, **kwargs):
        return grad, f"{_CACHE_VERSION}-grad"
