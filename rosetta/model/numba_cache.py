"""Let Numba cache the compiled log density on disk, so a repeated fit skips most compilation.

Two obstacles, one section each: PyTensor's digamma, and nutpie's C callbacks.

PyTensor's Numba backend caches every compiled function whose ops all have a cache key. Its
digamma (``Psi``, the derivative of ``gammaln`` in every Beta gradient) calls SciPy's Cython
function through a pointer, which Numba cannot cache; so the whole log-density graph was
compiled from scratch on every fit (about 5 s of nutpie's 15 s compile on a laptop).
`register_cacheable_digamma` gives ``Psi`` a pure-Numba implementation with a cache key.
It agrees with SciPy to about 1e-15 relative and is no slower.
"""

from __future__ import annotations

import math
import threading

from rosetta.model.gamma_pair import register_gamma_pair

_REGISTERED = False
#: `compile_nutpie` swaps nutpie's callback factories: one compile at a time.
_SWAP_LOCK = threading.Lock()


def _digamma_positive(x: float) -> float:
    """Digamma for x > 0: recurrence up to x >= 10, then the asymptotic series."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    z = 1.0 / (x * x)
    series = z * (
        1.0 / 12
        - z
        * (
            1.0 / 120
            - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760 - z / 12.0))))
        )
    )
    return result + math.log(x) - 0.5 / x - series


def register_cacheable_digamma() -> None:
    """Register the Numba implementation of PyTensor's ``Psi`` (once; no-op if unsupported)."""
    global _REGISTERED
    if _REGISTERED:
        return
    try:
        from pytensor.link.numba.dispatch import basic as numba_basic
        from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key
        from pytensor.link.numba.dispatch.scalar import scalar_op_cache_key
        from pytensor.scalar.math import Psi
    except ImportError:  # an older PyTensor: keep its (uncached) digamma
        _REGISTERED = True
        return

    positive = numba_basic.numba_njit(_digamma_positive)

    @register_funcify_and_cache_key(Psi)
    def _numba_funcify_psi(op, node, **kwargs):
        @numba_basic.numba_njit
        def digamma(x):
            if x <= 0.0:
                if x == math.floor(x):
                    return math.nan
                return positive(1.0 - x) - math.pi / math.tan(math.pi * x)
            return positive(x)

        return digamma, scalar_op_cache_key(op, cache_version="rosetta-digamma-1")

    _REGISTERED = True


# nutpie calls the log density through a C callback (a Numba ``cfunc``) that wraps PyTensor's
# compiled function. Numba links the wrapped function's code into the callback and generates
# machine code for all of it again, on every fit: about 10 of the bundled model's 14 s of
# compiling, even when PyTensor's own function came from its cache. nutpie's callbacks cannot
# be cached (their closures pickle differently in every process), so `compile_nutpie` gives
# nutpie callbacks of its own, defined from source and cached under a key made of the wrapped
# function's PyTensor cache key: the second fit of the same model loads them from disk.

_LOGP_SOURCE = """
def rosetta_logp(dim, x_ptr, grad_ptr, logp_ptr, user_data):
    if dim != N_DIM:
        return -1
    try:
        x = numba.carray(x_ptr, (N_DIM,))
        logp, grad = INNER(x)
        numba.carray(logp_ptr, ())[()] = logp
        numba.carray(grad_ptr, (N_DIM,))[:] = grad
        if not np.all(np.isfinite(grad)):
            return 3
        if not np.isfinite(logp):
            return 4
    except Exception:
        return 1
    return 0
"""

_EXPAND_SOURCE = """
def rosetta_expand(dim, expanded, x_ptr, out_ptr, user_data):
    if dim != N_DIM or expanded != N_EXPANDED:
        return -1
    try:
        (values,) = INNER(numba.carray(x_ptr, (N_DIM,)))
        numba.carray(out_ptr, (N_EXPANDED,))[:] = values
    except Exception:
        return -2
    return 0
"""


class _NotCacheable(Exception):
    """The model's callbacks cannot be cached (shared data, or an op without a cache key)."""


def _cached_source_function(source: str, name: str, inner, shared_names, **sizes):
    """``name`` from ``source``, calling ``inner``, registered with PyTensor's Numba cache."""
    import hashlib

    import numba
    import numpy as np
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

    if shared_names:  # nutpie passes shared data through ``user_data``, which these ignore
        raise _NotCacheable("shared data")
    py_func = getattr(inner, "py_func", None)  # a Numba dispatcher's Python function
    inner_key = None if py_func is None else CACHED_SRC_FUNCTIONS.get(py_func)
    if inner_key is None:
        raise _NotCacheable(name)
    parts = [source, inner_key, __name__, *(f"{k}={v}" for k, v in sorted(sizes.items()))]
    text = "\n".join(parts)
    key = "rosetta-nutpie-" + hashlib.sha256(text.encode()).hexdigest()
    # the module a cached callback's environment is rebuilt from when Numba loads it
    env = {"__name__": __name__, "numba": numba, "np": np, "INNER": inner, **sizes}
    return compile_numba_function_src(source, name, env, cache_key=key)


def _logp_callback(n_dim, logp_fn, user_data, shared_names, shared_data):
    """Stands in for nutpie's ``_make_c_logp_func``: (function, C signature)."""
    from numba import types

    function = _cached_source_function(
        _LOGP_SOURCE, "rosetta_logp", logp_fn, shared_names, N_DIM=n_dim
    )
    double = types.CPointer(types.double)
    return function, types.int64(types.uint64, double, double, double, types.voidptr)


def _expand_callback(n_dim, n_expanded, expand_fn, user_data, shared_names, shared_data):
    """Stands in for nutpie's ``_make_c_expand_func``: (function, C signature)."""
    from numba import types

    function = _cached_source_function(
        _EXPAND_SOURCE,
        "rosetta_expand",
        expand_fn,
        shared_names,
        N_DIM=n_dim,
        N_EXPANDED=n_expanded,
    )
    double = types.CPointer(types.double)
    return function, types.int64(types.uint64, types.uint64, double, double, types.voidptr)


def compile_nutpie(model, var_names=None):
    """``nutpie.compile_pymc_model(model)``, with callbacks Numba caches on disk where it can.

    Models with shared data (compiled once, data swapped per fold) and graphs PyTensor does not
    cache get nutpie's own callbacks, compiled afresh. One compile at a time (threads too):
    nutpie's callback factories are swapped for the duration. ``var_names``: the variables its
    traces hold (default: all of the model's).
    """
    import nutpie
    from nutpie import compile_pymc
    from pytensor import config

    register_cacheable_digamma()
    register_gamma_pair()
    factories = ("_make_c_logp_func", "_make_c_expand_func")  # private to nutpie
    # no stack trace recorded for each of the rewrites' many new nodes: they name lines of
    # PyTensor and rosetta, not of a user's code (about 0.2 s of a 4 s compile)
    with _SWAP_LOCK, config.change_flags(traceback__limit=0):
        if not model.data_vars and all(hasattr(compile_pymc, name) for name in factories):
            originals = compile_pymc._make_c_logp_func, compile_pymc._make_c_expand_func
            compile_pymc._make_c_logp_func = _logp_callback
            compile_pymc._make_c_expand_func = _expand_callback
            try:
                return nutpie.compile_pymc_model(model, cache=True, var_names=var_names)
            except _NotCacheable:
                pass
            finally:
                compile_pymc._make_c_logp_func, compile_pymc._make_c_expand_func = originals
        return nutpie.compile_pymc_model(model, var_names=var_names)
