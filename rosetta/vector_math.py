"""``log``, ``exp`` and ``lgamma`` in plain arithmetic, so that compiled loops vectorise.

A numba loop that calls ``math.log``, ``math.exp`` or ``math.lgamma`` makes one call into the C
library per element: LLVM vectorises such calls only with a vector math library, which the pip
builds of llvmlite lack. Written as arithmetic on the float's bits (range reduction, then a
polynomial), the same functions inline, and a loop over many elements runs on the CPU's vector
units (4 or 8 doubles at a time). Accuracy: within a few units in the last place of the C
library's for ``log`` and ``exp`` (subnormal, zero and infinite arguments included), within
2e-14 of ``lgamma`` relative to ``max(1, |lgamma|)`` on ``x > 0``; ``tests/test_vector_math.py``
checks all three. Only worth it in long loops: a lone call is slower than the C library's.
"""

from __future__ import annotations

import math

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def _bits(typingctx, x):
    """The 64 bits of a float64, as an int64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, bits):
    """The float64 whose 64 bits are those of an int64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


#: log(2) split in two, the first with trailing zero bits, so that ``k * _LN2_HI`` is exact.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SMALLEST_NORMAL = 2.2250738585072014e-308
_MANTISSA = (1 << 52) - 1
_ONE_BITS = 1023 << 52
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: lgamma(x) is Stirling's series at x + _SHIFT (accurate to ~1e-14 from 8 on), less log of the
#: rising product x (x + 1) ... (x + _SHIFT - 1).
_SHIFT = 8.0

#: Inlined by Numba, so that the loops calling them vectorise; they then take the caller's
#: fast-math flags, so callers must not allow reassociation (it would undo the split of log(2)).
_JIT = {"cache": True, "nogil": True, "inline": "always", "error_model": "numpy"}


@numba.njit(**_JIT)
def log(x):
    """Natural logarithm: ``x = m 2**e`` with ``m`` in [sqrt(1/2), sqrt(2)), then atanh's series."""
    subnormal = x < _SMALLEST_NORMAL
    bits = _bits(x * 18014398509481984.0 if subnormal else x)  # times 2**54
    exponent = (bits >> 52) - (1023 + 54 if subnormal else 1023)
    m = _float((bits & _MANTISSA) | _ONE_BITS)
    high = m > math.sqrt(2.0)
    m = 0.5 * m if high else m
    e = float(exponent + 1 if high else exponent)
    # log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| <= 0.172: eleven terms reach 1e-17.
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    # Estrin's scheme: a shallow tree of products, not Horner's chain of dependent steps.
    z2 = z * z
    z4 = z2 * z2
    low = (1.0 / 3.0 + z * (1.0 / 5.0)) + z2 * (1.0 / 7.0 + z * (1.0 / 9.0))
    middle = (1.0 / 11.0 + z * (1.0 / 13.0)) + z2 * (1.0 / 15.0 + z * (1.0 / 17.0))
    high = (1.0 / 19.0 + z * (1.0 / 21.0)) + z2 * (1.0 / 23.0)
    series = low + z4 * (middle + z4 * high)
    result = e * _LN2_HI + (2.0 * s + (2.0 * s * z * series + e * _LN2_LO))
    result = -math.inf if x == 0.0 else result
    result = x if x == math.inf else result
    return result if x >= 0.0 else math.nan


@numba.njit(**_JIT)
def exp(x):
    """Exponential: ``x = k log(2) + r`` with ``|r| <= log(2) / 2``, then Taylor's series."""
    # Beyond these exp(x) is 0 or inf; within them both factors of 2**k below are normal floats.
    y = min(max(x, -1400.0), 710.0)
    k = math.floor(y * (1.0 / math.log(2.0)) + 0.5)
    r = (y - k * _LN2_HI) - k * _LN2_LO
    # Taylor's series to r^12 / 12! (the next term is below 2e-16), by Estrin's scheme.
    r2 = r * r
    r4 = r2 * r2
    low = (1.0 + r) + r2 * (1.0 / 2.0 + r * (1.0 / 6.0))
    middle = (1.0 / 24.0 + r * (1.0 / 120.0)) + r2 * (1.0 / 720.0 + r * (1.0 / 5040.0))
    high = (1.0 / 40320.0 + r * (1.0 / 362880.0)) + r2 * (1.0 / 3628800.0 + r * (1.0 / 39916800.0))
    series = low + r4 * (middle + r4 * (high + r4 * (1.0 / 479001600.0)))
    # 2**k in two factors, each a normal float, so that subnormal results come out right.
    half = int(k) >> 1
    result = series * _float((half + 1023) << 52) * _float((int(k) - half + 1023) << 52)
    return result if x == x else x  # NaN in, NaN out


@numba.njit(**_JIT)
def _lgamma_series(w2):
    """``S`` in ``lgamma(z) = (z - 1/2) log z - z + log(2 pi) / 2 + S / z``; ``w2 = 1 / z**2``.

    Stirling's series, six terms (error below 2e-14 from ``z = 8``), by Estrin's scheme.
    """
    w4 = w2 * w2
    low = 1.0 / 12.0 - w2 * (1.0 / 360.0)
    middle = 1.0 / 1260.0 - w2 * (1.0 / 1680.0)
    high = 1.0 / 1188.0 - w2 * (691.0 / 360360.0)
    return low + w4 * (middle + w4 * high)


@numba.njit(**_JIT)
def _digamma_series(w2):
    """``S`` in ``digamma(z) = log z - 1 / (2 z) - S / z**2``; ``w2 = 1 / z**2``.

    Seven terms (error 2e-15 at ``z = 8``), by Estrin's scheme.
    """
    w4 = w2 * w2
    low = 1.0 / 12.0 - w2 * (1.0 / 120.0)
    middle = 1.0 / 252.0 - w2 * (1.0 / 240.0)
    high = 1.0 / 132.0 - w2 * (691.0 / 32760.0)
    return low + w4 * (middle + w4 * (high + w4 * (1.0 / 12.0)))


@numba.njit(**_JIT)
def rising(x):
    """``x (x + 1) ... (x + 7)``: ``lgamma(x) = lgamma_shifted(x) - log(rising(x))``."""
    return ((x * (x + 1.0)) * ((x + 2.0) * (x + 3.0))) * (
        ((x + 4.0) * (x + 5.0)) * ((x + 6.0) * (x + 7.0))
    )


@numba.njit(**_JIT)
def rising_slope(x):
    """`rising` and its derivative: ``digamma(x) = digamma(x + 8) - slope / rising``."""
    # Straight-line (a loop here would stop the caller's loop from vectorising).
    slope, product = 1.0, x
    slope, product = slope * (x + 1.0) + product, product * (x + 1.0)
    slope, product = slope * (x + 2.0) + product, product * (x + 2.0)
    slope, product = slope * (x + 3.0) + product, product * (x + 3.0)
    slope, product = slope * (x + 4.0) + product, product * (x + 4.0)
    slope, product = slope * (x + 5.0) + product, product * (x + 5.0)
    slope, product = slope * (x + 6.0) + product, product * (x + 6.0)
    return product * (x + 7.0), slope * (x + 7.0) + product


@numba.njit(**_JIT)
def lgamma_shifted(x):
    """``lgamma(x + 8)``: ``lgamma(x) = lgamma_shifted(x) - log(rising(x))`` for ``x >= 0``.

    Apart, so that the logs of several rising products can be taken as one.
    """
    z = x + _SHIFT
    w = 1.0 / z
    return (z - 0.5) * log(z) - z + _HALF_LOG_2PI + w * _lgamma_series(w * w)


@numba.njit(**_JIT)
def lgamma_shifted_sum(a, b):
    """``lgamma_shifted(a) + lgamma_shifted(b)``, with one division for both series."""
    za, zb = a + _SHIFT, b + _SHIFT
    inverse = 1.0 / (za * zb)
    wa, wb = zb * inverse, za * inverse
    return (
        (za - 0.5) * log(za)
        + (zb - 0.5) * log(zb)
        - za
        - zb
        + 2.0 * _HALF_LOG_2PI
        + wa * _lgamma_series(wa * wa)
        + wb * _lgamma_series(wb * wb)
    )


@numba.njit(**_JIT)
def lgamma_digamma_shifted(x):
    """``(lgamma(x + 8), digamma(x + 8))`` for ``x >= 0``, sharing one ``log``.

    With `rising_slope`, ``lgamma(x)`` and ``digamma(x)``.
    """
    z = x + _SHIFT
    w = 1.0 / z
    w2 = w * w
    log_z = log(z)
    lgamma_z = (z - 0.5) * log_z - z + _HALF_LOG_2PI + w * _lgamma_series(w2)
    return lgamma_z, log_z - 0.5 * w - w2 * _digamma_series(w2)


@numba.njit(**_JIT)
def lgamma(x):
    """``lgamma(x)`` for ``x >= 0`` (``inf`` at 0)."""
    return lgamma_shifted(x) - log(rising(x))
