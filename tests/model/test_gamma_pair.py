import numpy as np
import pytensor
import pytensor.tensor as pt
from pymc.blocking import DictToArrayBijection
from pytensor.compile.mode import get_mode
from scipy import special

from rosetta.model import MeasurementSpec, build_model
from rosetta.model.gamma_pair import REWRITE, gammaln_digamma_positive, register_gamma_pair
from rosetta.model.numba_cache import register_cacheable_digamma


def _op_names(function) -> list[str]:
    """The scalar ops inside a compiled function's elementwise loops."""
    names = []
    for node in function.maker.fgraph.apply_nodes:
        loop = getattr(node.op, "scalar_op", None)
        inner = getattr(loop, "fgraph", None)
        names += (
            [type(n.op).__name__ for n in inner.apply_nodes] if inner else [type(loop).__name__]
        )
    return names


def test_one_series_gives_gammaln_and_digamma_to_double_precision():
    x = np.concatenate([np.logspace(-10, 10, 2001), np.linspace(0.01, 30, 6001)])
    pairs = np.array([gammaln_digamma_positive(v) for v in x])
    for got, expected in zip(pairs.T, (special.gammaln(x), special.digamma(x)), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)


def test_numba_mode_computes_the_pair_together_and_other_modes_do_not():
    register_gamma_pair()
    x = pt.vector("x")
    inputs = np.array([1e-6, 0.3, 1.0, 7.9, 55.5, -1.5])  # negative: reflection
    gammaln, digamma = special.gammaln(inputs), special.digamma(inputs)
    expected = gammaln + digamma, gammaln - digamma
    modes = {  # mode: (paired, rtol); PyTensor's C digamma is good to about 1e-10
        "NUMBA": (True, 1e-13),
        get_mode("NUMBA").excluding(REWRITE): (False, 1e-13),
        "FAST_RUN": (False, 1e-9),
    }
    for mode, (paired, rtol) in modes.items():
        outputs = [pt.gammaln(x) + pt.psi(x), pt.gammaln(x) - pt.psi(x)]  # one fused loop
        function = pytensor.function([x], outputs, mode=mode)
        names = _op_names(function)
        assert ("GammaLnPsi" in names) is paired
        assert ("GammaLn" in names) is not paired
        for got, want in zip(function(inputs), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=rtol)


def test_the_models_log_density_and_gradient_are_unchanged(tiny_sim):
    register_cacheable_digamma()
    register_gamma_pair()
    table, _ = tiny_sim
    model = build_model(table, MeasurementSpec().resolved_for(table), fused=False)  # the graph
    start = model.initial_point()
    x = DictToArrayBijection.map({v.name: start[v.name] for v in model.value_vars}).data
    paired = model.logp_dlogp_function(mode="NUMBA", ravel_inputs=True)
    reference = model.logp_dlogp_function(
        mode=get_mode("NUMBA").excluding(REWRITE), ravel_inputs=True
    )
    assert "GammaLnPsi" in _op_names(paired._pytensor_function)
    assert "GammaLnPsi" not in _op_names(reference._pytensor_function)
    for function in (paired, reference):
        function.set_extra_values({})
    rng = np.random.default_rng(0)
    for scale in (0.0, 0.3, 1.0):
        point = x + scale * rng.standard_normal(x.size)
        (logp, gradient), (logp_ref, gradient_ref) = paired(point), reference(point)
        np.testing.assert_allclose(logp, logp_ref, rtol=1e-13)
        np.testing.assert_allclose(gradient, gradient_ref, rtol=1e-12, atol=1e-12)
