"""``gammaln`` and its derivative ``digamma`` of one argument, computed together under Numba.

Every Beta-family score costs ``gammaln`` of two or four arguments in the log density, and the
gradient needs ``digamma`` of the very same arguments: eight special functions per score, most of
the cost of a gradient on a large table. Both come from one recurrence and one asymptotic series,
so one pass gives both for little more than the price of one: shift ``x`` up to 8 (keeping the
product of the shifts and its derivative), then Stirling's series for ``gammaln`` and its
derivative for ``digamma``.

`register_gamma_pair` adds a rewrite to PyTensor's Numba mode only (the mode nutpie compiles
with): inside each fused elementwise loop, a ``gammaln(x)`` and a ``digamma(x)`` of the same ``x``
become the two outputs of one `GammaLnPsi`. Other modes and graphs are untouched, and
``get_mode("NUMBA").excluding(REWRITE)`` compiles without it. Change `gammaln_digamma_positive`
and its Numba cache version (``rosetta-gammaln-psi-N``) together, or cached code stays old.
"""

from __future__ import annotations

import math

from pytensor.compile import optdb
from pytensor.graph.replace import graph_replace
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.scalar.basic import Composite, ScalarOp, upgrade_to_float
from pytensor.scalar.math import GammaLn, Psi
from pytensor.tensor.elemwise import Elemwise
from scipy import special

#: Shift arguments up to this before the asymptotic series (8 terms: below 1e-14 from there on).
_SERIES_FROM = 8.0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: Stirling's series of gammaln (B_2k / (2k (2k - 1)), powers 1 / x^(2k - 1)) and of digamma
#: (B_2k / 2k, powers 1 / x^2k), k = 8 down to 1.
_SERIES = (
    (-3617 / 122400, -3617 / 8160),
    (1 / 156, 1 / 12),
    (-691 / 360360, -691 / 32760),
    (1 / 1188, 1 / 132),
    (-1 / 1680, -1 / 240),
    (1 / 1260, 1 / 252),
    (-1 / 360, -1 / 120),
    (1 / 12, 1 / 12),
)
_REGISTERED = False
#: The rewrite's name in PyTensor's rewrite database.
REWRITE = "rosetta_pair_gammaln_psi"


def gammaln_digamma_positive(x: float) -> tuple[float, float]:
    """``(gammaln(x), digamma(x))`` for x > 0 from one recurrence and series."""
    product, derivative = 1.0, 0.0  # prod (x + j) over the shifts, and its derivative in x
    while x < _SERIES_FROM:
        derivative = derivative * x + product
        product *= x
        x += 1.0
    inverse = 1.0 / x
    z = inverse * inverse
    gammaln_series = digamma_series = 0.0
    for gammaln_term, digamma_term in _SERIES:  # Horner's rule in 1 / x^2
        gammaln_series = gammaln_series * z + gammaln_term
        digamma_series = digamma_series * z + digamma_term
    log_x = math.log(x)
    gammaln = (x - 0.5) * log_x - x + _HALF_LOG_2PI + inverse * gammaln_series
    if product != 1.0:  # shifted (no log of 1 for arguments already past the shift)
        gammaln -= math.log(product)
    digamma = log_x - 0.5 * inverse - z * digamma_series - derivative / product
    return gammaln, digamma


class GammaLnPsi(ScalarOp):
    """``(gammaln(x), digamma(x))``: one scalar op, two outputs (its C code keeps it hashable)."""

    nin, nout = 1, 2

    def output_types(self, types):
        """Two outputs of the input's float type."""
        (out,) = upgrade_to_float(*types)
        return [out, out]

    def impl(self, x):
        """SciPy's functions, for PyTensor's Python mode."""
        return special.gammaln(x), special.digamma(x)

    def c_support_code(self, **kwargs):
        """PyTensor's own C digamma."""
        return Psi().c_support_code(**kwargs)

    def c_code(self, node, name, inputs, outputs, sub):
        """The C library's ``lgamma`` and PyTensor's C digamma."""
        (x,), (gammaln, digamma) = inputs, outputs
        return f"{gammaln} = lgamma((double){x});\n{digamma} = _psi((double){x});"

    def c_code_cache_version(self):
        """Version of the C code above."""
        return (1,)

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))


gammaln_psi = GammaLnPsi(name="gammaln_psi")


@node_rewriter([Elemwise])
def pair_gammaln_psi(fgraph, node):
    """In a fused loop, compute ``gammaln(x)`` and ``digamma(x)`` of one ``x`` together."""
    loop = node.op.scalar_op
    if not isinstance(loop, Composite):
        return None
    inner = loop.fgraph
    found: dict = {}
    for apply in inner.apply_nodes:
        if isinstance(apply.op, GammaLn | Psi):
            found.setdefault(apply.inputs[0], {})[type(apply.op)] = apply.outputs[0]
    replace = {}
    for x, outputs in found.items():
        if len(outputs) == 2:
            replace[outputs[GammaLn]], replace[outputs[Psi]] = gammaln_psi(x)
    if not replace:
        return None
    paired = Composite(inner.inputs, graph_replace(inner.outputs, replace, strict=False))
    return Elemwise(paired, inplace_pattern=node.op.inplace_pattern)(*node.inputs, return_list=True)


def register_gamma_pair() -> None:
    """Give `GammaLnPsi` its Numba code and add its rewrite to the Numba mode (once).

    A no-op on a PyTensor whose Numba backend has no cache keys (the functions stay separate).
    """
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    try:
        from pytensor.link.numba.dispatch import basic as numba_basic
        from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key
        from pytensor.link.numba.dispatch.scalar import scalar_op_cache_key
    except ImportError:
        return
    positive = numba_basic.numba_njit(gammaln_digamma_positive)

    @register_funcify_and_cache_key(GammaLnPsi)
    def _numba_funcify_gammaln_psi(op, node, **kwargs):
        @numba_basic.numba_njit
        def gammaln_digamma(x):
            if x > 0.0:
                return positive(x)
            if x == math.floor(x):
                return math.inf, math.nan
            # reflection, as SciPy: digamma(x) = digamma(1 - x) - pi / tan(pi x)
            return math.lgamma(x), positive(1.0 - x)[1] - math.pi / math.tan(math.pi * x)

        return gammaln_digamma, scalar_op_cache_key(op, cache_version="rosetta-gammaln-psi-2")

    # after elementwise fusion (49) has built the loops, before in-place rewrites (49.5)
    optdb.register(REWRITE, in2out(pair_gammaln_psi), "numba", position=49.2)
