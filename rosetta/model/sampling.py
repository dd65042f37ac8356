"""Inference for the measurement model: NUTS (numpyro, nutpie or PyMC), MAP + Laplace, ADVI.

Every method returns the raw posterior as an `xarray.Dataset` with dims (chain, draw, ...) plus
sampler statistics; `rosetta.model.fit` anchors it and assembles the InferenceData.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import logging
import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from rosetta.constants import (
    ESS_CHECK_EVERY,
    MAX_DRAWS_FACTOR,
    NUTPIE_EIGVAL_CUTOFF,
    NUTS_EIGVAL_CUTOFF,
    NUTS_MAXDEPTH,
    SAMPLERS,
    SMALL_MODEL_PARAMETERS,
)
from rosetta.errors import SamplingError
from rosetta.model.numba_cache import compile_nutpie

log = logging.getLogger("rosetta")


#: Posterior variables kept from the raw fit (offsets and raw capabilities are dropped).
KEEP = (
    "capability",
    "difficulty",
    "slope",
    "floor",
    "precision",
    "sigma",
    "zero_cutpoint",
    "one_cutpoint",
    "difficulty_mu",
    "difficulty_sigma",
    "log_slope_mu",
    "log_slope_sigma",
    "log_precision_mu",
    "log_precision_sigma",
    "domain_capability",
    "domain_deviation",
    "domain_sd",
    "family_effect",
    "family_effect_sd",
    "dimension_loading",
    "dimension_score",
    "dimension_sd",
    "item_difficulty",
    "item_slope",
    "item_difficulty_sd",
    "item_log_slope_sd",
    "item_set_difficulty",  # swapped into the item benchmarks' difficulty and slope, then dropped
    "item_set_log_slope",
)


@dataclass(frozen=True)
class RawPosterior:
    """What a sampler returns: draws on the raw scale and the sampler's own statistics."""

    posterior: xr.Dataset
    sample_stats: xr.Dataset | None
    method: str
    sampler: str


#: A stopping check: whether the draws so far are enough.
Check = Callable[[RawPosterior], bool]


def nutpie_metric(eigval_cutoff: float, n_dim: int) -> dict:
    """The settings of nutpie's low-rank mass matrix for a model of ``n_dim`` free parameters.

    Its diagonal plus the directions whose variance the adaptation finds outside [1 /
    ``eigval_cutoff``, ``eigval_cutoff``] times the diagonal's (see `choose_sampler`); models of
    fewer than `SMALL_MODEL_PARAMETERS` parameters keep `NUTPIE_EIGVAL_CUTOFF`.
    """
    if n_dim < SMALL_MODEL_PARAMETERS:
        eigval_cutoff = NUTPIE_EIGVAL_CUTOFF
    return {"low_rank_modified_mass_matrix": True, "mass_matrix_eigval_cutoff": eigval_cutoff}


def choose_sampler(sampler: str = "auto") -> str:
    """Resolve ``"auto"`` to the fastest NUTS backend installed: nutpie, numpyro, then PyMC.

    nutpie comes first for its low-rank mass-matrix adaptation: the posterior has a few
    directions where many benchmarks and models move together (old benchmarks against new ones,
    linked through few models), which a diagonal mass matrix crosses only with long trajectories.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if sampler != "auto":
        if sampler != "pymc" and importlib.util.find_spec(sampler) is None:
            package = "'rosetta[jax]'" if sampler == "numpyro" else sampler
            raise SamplingError(f"sampler {sampler!r} is not installed: pip install {package}")
        return sampler
    for name in ("nutpie", "numpyro"):
        if importlib.util.find_spec(name) is not None:
            return name
    return "pymc"


def runs_score_kernel(sampler: str = "auto") -> bool:
    """Whether the NUTS backend ``sampler`` can run `rosetta.model.score_kernel` (not JAX's)."""
    return choose_sampler(sampler) != "numpyro"


def run_nuts(
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int,
    sampler: str,
    target_accept: float,
    progress: bool,
    maxdepth: int = NUTS_MAXDEPTH,
    eigval_cutoff: float = NUTS_EIGVAL_CUTOFF,
    enough: Check | None = None,
    converged: Check | None = None,
) -> RawPosterior:
    """Sample with NUTS through the chosen backend, trees at most ``maxdepth`` deep.

    ``eigval_cutoff``: nutpie's low-rank mass matrix (`nutpie_metric`); other backends adapt a
    diagonal one.

    With nutpie and ``enough``, sampling stops at the first checkpoint (every
    `ESS_CHECK_EVERY` draws per chain) where ``enough`` holds for the draws so far, which are
    then the posterior. With ``converged`` too, a run that reaches ``draws`` without it goes on,
    up to `MAX_DRAWS_FACTOR` times ``draws``, to the first checkpoint where ``converged`` holds
    or a divergence shows (`first_stop`). Checkpoints are taken in order on completed draws
    only, so the same seed gives the same posterior however fast the machine is.
    """
    backend = choose_sampler(sampler)
    cores = min(chains, os.cpu_count() or 1)
    if backend == "nutpie":
        return _run_nutpie(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            target_accept=target_accept,
            maxdepth=maxdepth,
            eigval_cutoff=eigval_cutoff,
            progress=progress,
            enough=enough,
            converged=converged,
        )
    kwargs: dict = {"max_treedepth": maxdepth}
    if backend == "numpyro":
        _allow_parallel_jax_chains(chains)
        kwargs = {
            "nuts_sampler_kwargs": {
                "chain_method": _numpyro_chain_method(chains),
                "nuts_kwargs": {"max_tree_depth": maxdepth},
            }
        }
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*[Tt]he effective sample size.*")
        warnings.filterwarnings("ignore", ".*rhat statistic.*")
        warnings.filterwarnings("ignore", ".*divergen.*")
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            target_accept=target_accept,
            progressbar=progress,
            nuts_sampler=backend,
            compute_convergence_checks=False,
            var_names=_kept(model),
            **kwargs,
        )
    return RawPosterior(idata.posterior, idata.sample_stats, "nuts", backend)


def run_nuts_each(
    model: pm.Model,
    data: Iterable[dict],
    seeds: Iterable[int],
    *,
    draws: int,
    tune: int,
    chains: int,
    sampler: str,
    target_accept: float,
    maxdepth: int = NUTS_MAXDEPTH,
    eigval_cutoff: float = NUTS_EIGVAL_CUTOFF,
    concurrent: int | None = None,
    enough: Iterable[Check | None] | None = None,
) -> Iterator[RawPosterior]:
    """NUTS on one model under several values of its `pymc.Data`, one posterior per value.

    With nutpie the model is compiled once and only its data change; up to ``concurrent``
    samplers (default: cores // chains, at least 1) run at once, and the next one starts before
    a finished posterior is handed over, so whatever the caller does with it overlaps the next
    sampling; a model with learned dimensions finds each data's start first (`_best_start`).
    Other backends set the data and sample in turn. Posteriors come in the order of
    ``data``; the same seeds give the same posteriors whatever ``concurrent`` is.

    ``enough`` (nutpie only) holds one check per value of ``data`` (or ``None``): the run of
    that value stops at the first checkpoint where its check holds, as in `run_nuts`.
    """
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "target_accept": target_accept,
        "maxdepth": maxdepth,
    }
    data = list(data)
    checks = list(enough) if enough is not None else [None] * len(data)
    jobs = list(zip(data, seeds, checks, strict=True))
    if choose_sampler(sampler) != "nutpie":
        for values, seed, _ in jobs:
            with model:
                pm.set_data(values)
            yield run_nuts(model, random_seed=seed, sampler=sampler, progress=False, **settings)
        return
    import nutpie

    compiled = compile_nutpie(model, _kept(model))
    cores = min(chains, os.cpu_count() or 1)
    at_once = max(1, concurrent or (os.cpu_count() or 1) // chains)
    running: deque = deque()
    pending = iter(jobs)

    def start() -> None:
        for values, seed, check in itertools.islice(pending, 1):
            fold = _best_start(compiled.with_data(**values), model, cores, seed)
            running.append(
                (
                    check,
                    nutpie.sample(
                        fold,
                        cores=cores,
                        seed=seed,
                        progress_bar=False,
                        save_warmup=False,
                        blocking=False,
                        **nutpie_metric(eigval_cutoff, fold.n_dim),
                        **settings,
                    ),
                )
            )

    names = _kept(model)
    try:
        for _ in range(at_once):
            start()
        while running:
            check, background = running.popleft()  # cancelled by `_until_stop` if it fails
            if check is None:
                raw = _nutpie_raw(background.wait(), names)
            else:
                raw = _until_stop(background, names, compiled.coords, draws, draws, check, None)
            start()
            yield raw
    finally:
        for _, background in running:
            background.cancel()


#: Models with learned dimensions: short runs from random starts, the best one the chains' start.
DIMENSION_STARTS = 6
#: ... each this many tuning steps long,
_START_STEPS = 150
#: ... with trajectories of at most 2**this - 1 leapfrog steps: the runs only look for the mode.
_START_MAXDEPTH = 6


def _start_runs(
    compiled,
    cores: int,
    random_seed: int,
    *,
    runs: int = DIMENSION_STARTS,
    steps: int = _START_STEPS,
    maxdepth: int = _START_MAXDEPTH,
):
    """The start search's short runs (see `_best_start`): one draw after ``steps`` of warm-up each.

    Warm-up statistics are kept, so ``n_steps`` counts the search's gradient evaluations
    (`benchmarks/start_search.py` varies ``runs``, ``steps`` and ``maxdepth``).
    """
    import nutpie

    with warnings.catch_warnings():  # ArviZ: more chains than draws, as intended
        warnings.simplefilter("ignore", UserWarning)
        return nutpie.sample(
            compiled,
            draws=1,
            tune=steps,
            chains=runs,
            cores=cores,
            seed=random_seed,
            progress_bar=False,
            store_unconstrained=True,
            **nutpie_metric(NUTPIE_EIGVAL_CUTOFF, compiled.n_dim),
            maxdepth=maxdepth,
        )


def _best_start(compiled, model: pm.Model, cores: int, random_seed: int):
    """``compiled`` with every chain starting at the best of several short runs, if need be.

    Factor models have local modes: on the bundled table a chain started at random or near the
    one-number solution could settle in a rotation of general capability and dimension whose
    log density was some 60 below the best mode's, and stay there for good. For a model with
    learned dimensions, `DIMENSION_STARTS` short runs (`_START_STEPS` steps of warm-up each)
    explore from random starts; the chains then all start, without jitter, where the run with
    the highest log density ended. The runs' trajectories are capped at `_START_MAXDEPTH`: in
    their first steps, before the mass matrix adapts, full-depth trees cost some 125,000
    gradients on the bundled table, capped ones 50,000, and in 72 capped runs (seeds 2030-2035,
    both at 150 and 100 steps) every capability ranked the models at Spearman 0.955 or more with
    the one-number model's (`benchmarks/start_search.py`). Other models are returned as they are.
    """
    if "dimension_loading" not in model.named_vars:
        return compiled
    trace = _start_runs(compiled, cores, random_seed)
    logp = trace.sample_stats["logp"].isel(draw=-1).to_numpy()
    best = int(np.argmax(logp))
    log.info(
        "learned dimensions: start from run %d of %d (log density %.1f; worst %.1f)",
        best + 1,
        len(logp),
        logp[best],
        logp.min(),
    )
    point = trace.sample_stats["unconstrained_draw"].isel(chain=best, draw=-1).to_numpy()
    point = np.ascontiguousarray(point, dtype=np.float64)
    return dataclasses.replace(compiled, initial_point_func=lambda seed: point.copy())


def _run_nutpie(
    model,
    *,
    draws,
    tune,
    chains,
    cores,
    random_seed,
    target_accept,
    maxdepth,
    eigval_cutoff,
    progress,
    enough,
    converged,
):
    import nutpie

    limit = draws * MAX_DRAWS_FACTOR if enough and converged else draws
    compiled = _best_start(compile_nutpie(model, _kept(model)), model, cores, random_seed)
    background = nutpie.sample(
        compiled,
        draws=limit,
        tune=tune,
        chains=chains,
        cores=cores,
        seed=random_seed,
        target_accept=target_accept,
        progress_bar=progress,
        maxdepth=maxdepth,
        save_warmup=False,  # not used, and each look at a running sampler would copy it
        **nutpie_metric(eigval_cutoff, compiled.n_dim),
        blocking=False,
    )
    if enough is None:
        return _nutpie_raw(background.wait(), _kept(model))
    return _until_stop(background, _kept(model), compiled.coords, draws, limit, enough, converged)


def _nutpie_raw(trace, names: list[str]) -> RawPosterior:
    """Variables ``names`` of a nutpie trace (ArviZ) and its sampler statistics."""
    return RawPosterior(trace.posterior[names], trace.sample_stats, "nuts", "nutpie")


def _until_stop(background, names, coords, draws, limit, enough, converged) -> RawPosterior:
    """The draws of a running nutpie sampler up to its stop (see `run_nuts`); cancels it there.

    ``names``: the variables kept; ``coords``: the compiled model's.
    """
    looks = _Looks(background, names, coords)

    def draws_at(checkpoint: int) -> RawPosterior:  # the trace a stop was checked on is kept
        so_far = looks.trace_with(checkpoint)
        window = {"draw": slice(0, checkpoint)}
        kept = so_far.posterior.isel(window), so_far.sample_stats.isel(window)
        return dataclasses.replace(so_far, posterior=kept[0], sample_stats=kept[1])

    try:
        stop = first_stop(draws, limit, draws_at, enough, converged)
        if stop is None:
            return looks.final if looks.final is not None else _nutpie_raw(background.wait(), names)
        if looks.final is None:
            background.cancel()
        return draws_at(stop)
    except BaseException:
        if looks.final is None:
            background.cancel()
        raise


def checkpoints(draws: int, limit: int) -> list[int]:
    """Draws per chain at which a run of ``draws`` (sampling on up to ``limit``) is checked."""
    return sorted({*range(ESS_CHECK_EVERY, limit, ESS_CHECK_EVERY), draws} - {limit})


def first_stop(
    draws: int,
    limit: int,
    draws_at: Callable[[int], RawPosterior],
    enough: Check,
    converged: Check | None,
) -> int | None:
    """The checkpoint where NUTS stops (see `run_nuts`), or ``None`` if it samples to ``limit``.

    ``draws_at(n)`` gives the draws so far at checkpoint ``n`` (draws per chain).
    """
    for checkpoint in checkpoints(draws, limit):
        so_far = draws_at(checkpoint)
        if checkpoint < draws:
            if enough(so_far):
                log.info("stopped at %d draws per chain: enough effective draws", checkpoint)
                return checkpoint
        elif so_far.sample_stats["diverging"].any():
            return checkpoint
        elif converged is not None and converged(so_far):
            if checkpoint > draws:
                log.info("sampled on to %d draws per chain: converged there", checkpoint)
            return checkpoint
    return None


class _Looks:
    """Looks at a running nutpie sampler's draws of variables ``names``, as few as a wait allows.

    ``coords``: the compiled model's.

    Each look copies the draws so far, work taken from the sampling cores, so a wait for ``n``
    draws looks again only once they are due at the rate seen between the last two looks
    (`_POLL_SECONDS` after the last look while no rate is known), asking meanwhile whether the
    sampler has finished, which costs nothing; a look that has the draws is used again.
    """

    def __init__(self, background, names: list[str], coords: dict):
        self.background = background
        self.names, self.coords = names, coords  # the variables looked at, the model's coords
        self.final: RawPosterior | None = None  # the finished sampler's draws, taken once
        self.trace: RawPosterior | None = None  # the last look
        self.seen: list[tuple[float, int]] = []  # (time, draws per chain) of the looks

    def trace_with(self, draws: int) -> RawPosterior:
        """The draws once every chain has ``draws`` (all of them if the sampler has finished)."""
        while self.final is None:
            if self.seen:
                if self.seen[-1][1] >= draws:
                    return self.trace
                deadline = self.seen[-1][0] + self._wait(draws)
                while time.monotonic() < deadline and not self.finished():
                    time.sleep(_FINISH_POLL_SECONDS)
            if self.finished():
                self.final = _nutpie_raw(self.background.wait(), self.names)
                break
            self._look()
        return self.final

    def finished(self) -> bool:
        try:
            return self.background.is_finished
        except TimeoutError:  # nutpie's way of saying "still running"
            return False

    def _look(self) -> None:
        sampler = getattr(self.background, "_sampler", None)  # private to nutpie
        raw = sampler.inspect() if hasattr(sampler, "inspect") else None
        if hasattr(raw, "get_arrow_trace"):  # its arrow trace, read directly
            self.trace, have = arrow_draws(raw.get_arrow_trace(), self.names, self.coords)
        else:  # another nutpie: its public look, converted to ArviZ first
            with warnings.catch_warnings():  # ArviZ warns of a trace still in its warm-up
                warnings.simplefilter("ignore")
                self.trace = _nutpie_raw(self.background.inspect(), self.names)
            have = _complete_draws(self.trace.posterior)
        self.seen.append((time.monotonic(), have))

    def _wait(self, draws: int) -> float:
        """Seconds until ``draws`` are due, from the last two looks (a little after, capped)."""
        (then, before), (now, have) = ([(0.0, 0), *self.seen])[-2:]
        if before == 0 or have <= before:
            return _POLL_SECONDS
        due = (draws - have) * (now - then) / (have - before)
        return min(_MAX_WAIT_SECONDS, 1.05 * due + _FINISH_POLL_SECONDS)


def _complete_draws(posterior: xr.Dataset) -> int:
    """Draws per chain that every chain has completed (later ones are NaN in some chain)."""
    if not posterior.data_vars or not posterior.sizes.get("draw", 0):
        return 0
    first = next(iter(posterior.data_vars.values()))
    inner = [d for d in first.dims if d not in ("chain", "draw")]
    missing = first.isnull().any(inner) if inner else first.isnull()
    return first.sizes["draw"] - int(missing.sum("draw").max())


def arrow_draws(batches, names: list[str], coords: dict) -> tuple[RawPosterior, int]:
    """What nutpie's ``inspect()`` holds, read from its arrow trace without ArviZ's conversion.

    ``batches``: nutpie's per-chain record batches of draws and of sampler statistics. Returns
    the draws after warm-up of the variables ``names`` and the scalar statistics (``coords``:
    the compiled model's), chains padded to the longest as nutpie pads them (NaN, or 0 for
    integers and flags), and the draws per chain that every chain has.
    """
    draw_batches, stat_batches = batches
    warm = [int(np.sum(stats.column("tuning").to_numpy())) for stats in stat_batches]
    kept = [stats.num_rows - n for stats, n in zip(stat_batches, warm, strict=True)]
    length = max(kept, default=0)
    first = stat_batches[0]
    scalars = [
        name
        for name in first.column_names
        if name not in ("chain", "draw") and b"shape" not in first.column(name).field.metadata
    ]
    posterior = _padded(draw_batches, names, warm, length, coords)
    stats = _padded(stat_batches, scalars, warm, length, coords)
    return RawPosterior(posterior, stats, "nuts", "nutpie"), min(kept, default=0)


def _padded(batches, names, skip: list[int], length: int, coords: dict) -> xr.Dataset:
    """Columns ``names`` of per-chain ``batches`` after their first ``skip`` rows, padded."""
    import pyarrow  # nutpie's own dependency, which its arrow trace comes from

    data = {}
    for name in names:
        field = batches[0].column(name).field
        dims = [d for d in field.metadata.get(b"dims", b"").decode().split(",") if d]
        shape = [int(n) for n in field.metadata.get(b"shape", b"").decode().split(",") if n]
        columns = [
            pyarrow.array(b.column(name)).slice(n) for b, n in zip(batches, skip, strict=True)
        ]
        values = [(c.flatten() if shape else c).to_numpy(zero_copy_only=False) for c in columns]
        array = np.zeros((len(columns), length, *shape), dtype=values[0].dtype)
        if array.dtype.kind == "f":
            array[:] = np.nan
        for chain, (column, value) in enumerate(zip(columns, values, strict=True)):
            filled = ~column.is_null().to_numpy(zero_copy_only=False)
            array[chain, : len(column)][filled] = value.reshape(-1, *shape)
        data[name] = (["chain", "draw", *dims], array)
    used = {dim for dims, _ in data.values() for dim in dims[2:]}
    index = {"chain": np.arange(len(batches)), "draw": np.arange(length)}
    return xr.Dataset(data, coords={**index, **{d: list(coords[d]) for d in used}})


#: How long to wait for draws before the sampler's rate is known (seconds): a look at the arrow
#: trace costs 0.01-0.04 s, while on the bundled table 5 s (as when a look cost up to 0.9 s) let
#: nutpie sample on to its limit past the stop (seed 2025: looks at 5.1 s, with ~580 draws, and
#: 10.1 s, with all 2,000, for a stop at 1,400) ...
_POLL_SECONDS = 0.5
#: ... and at most, once it is.
_MAX_WAIT_SECONDS = 30.0
#: How often whether the sampler has finished, which costs nothing, is asked.
_FINISH_POLL_SECONDS = 0.1


def _kept(model: pm.Model) -> list[str]:
    return [name for name in KEEP if name in model.named_vars]


def _allow_parallel_jax_chains(chains: int) -> None:
    """Let JAX see one CPU device per core so chains can run in parallel (before JAX starts)."""
    if importlib.util.find_spec("jax") is None or "jax" in sys.modules:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        count = max(1, min(chains, os.cpu_count() or 1))
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()


def _numpyro_chain_method(chains: int) -> str:
    import jax

    return "parallel" if jax.local_device_count() >= chains else "vectorized"


def run_map(
    model: pm.Model, *, draws: int, chains: int, random_seed: int, progress: bool
) -> RawPosterior:
    """Posterior mode with a Laplace (Gaussian) approximation in the unconstrained space.

    The mode comes from `pymc.find_MAP`. Directions where the log density is flatter than a unit
    normal (a hierarchical scale near zero at the mode, say) are given unit variance, so the
    approximation stays proper. The ``chains * draws`` draws are returned as one chain.
    """
    from pymc.blocking import DictToArrayBijection

    with model:
        mode = pm.find_MAP(progressbar=progress, seed=random_seed, include_transformed=True)
    mode = {v.name: mode[v.name] for v in model.value_vars}
    raveled = DictToArrayBijection.map(mode)
    gradient = model.compile_dlogp(jacobian=True)
    covariance = laplace_covariance(
        -hessian(
            lambda x: gradient(DictToArrayBijection.rmap(raveled._replace(data=x))), raveled.data
        )
    )
    rng = np.random.default_rng(random_seed)
    samples = rng.multivariate_normal(
        raveled.data, covariance, size=chains * draws, method="cholesky"
    )
    names = _kept(model)
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    evaluate = model.compile_fn(
        outputs, inputs=model.value_vars, on_unused_input="ignore", point_fn=True
    )
    values = [evaluate(DictToArrayBijection.rmap(raveled._replace(data=x))) for x in samples]
    return RawPosterior(_stack(model, names, values), None, "map", "laplace")


def hessian(gradient, x0: np.ndarray) -> np.ndarray:
    """Hessian by central differences of a gradient function (no symbolic Hessian to compile)."""
    step = 1e-5 * np.maximum(1.0, np.abs(x0))
    columns = []
    for i in range(x0.size):
        up, down = x0.copy(), x0.copy()
        up[i] += step[i]
        down[i] -= step[i]
        columns.append((np.asarray(gradient(up)) - np.asarray(gradient(down))) / (2 * step[i]))
    matrix = np.column_stack(columns)
    return (matrix + matrix.T) / 2


def laplace_covariance(curvature: np.ndarray) -> np.ndarray:
    """Invert the negative Hessian with its eigenvalues floored at 1 (unit-normal curvature)."""
    eigval, eigvec = np.linalg.eigh((curvature + curvature.T) / 2)
    flat = int((eigval < 1.0).sum())
    if flat:
        log.info("Laplace: %d direction(s) flatter than a unit normal given unit variance", flat)
    return (eigvec / np.maximum(eigval, 1.0)) @ eigvec.T


def run_advi(
    model: pm.Model,
    *,
    draws: int,
    chains: int,
    random_seed: int,
    progress: bool,
    iterations: int = 30_000,
    learning_rate: float | None = None,
) -> RawPosterior:
    """Mean-field ADVI, then ``chains * draws`` draws from the approximation (one chain).

    By default PyMC's adaptive step sizes run until the parameters settle (or ``iterations``).
    With ``learning_rate`` (item-level data, whose gradients come from random minibatches and
    never settle) Adam takes exactly ``iterations`` steps at that rate.
    """
    settings = {"callbacks": [pm.callbacks.CheckParametersConvergence(tolerance=1e-3)]}
    if learning_rate is not None:
        settings = {"obj_optimizer": pm.adam(learning_rate=learning_rate)}
    with model:
        approx = pm.fit(
            n=iterations,
            method="advi",
            random_seed=random_seed,
            progressbar=progress,
            **settings,
        )
        if not np.isfinite(approx.hist[-1]):
            raise SamplingError(
                "ADVI diverged (the loss is not finite); try a smaller learning rate"
            )
        idata = approx.sample(chains * draws, random_seed=random_seed)
    return RawPosterior(idata.posterior[_kept(model)], None, "advi", "advi")


def _stack(model, names, values) -> xr.Dataset:
    """Turn per-draw value tuples into a one-chain (chain, draw, ...) Dataset with model dims."""
    data = {}
    for i, name in enumerate(names):
        array = np.stack([v[i] for v in values])[np.newaxis]
        dims = ["chain", "draw", *(model.named_vars_to_dims.get(name) or ())]
        data[name] = (dims, array)
    used = {d for name in names for d in model.named_vars_to_dims.get(name) or ()}
    coords = {k: list(v) for k, v in model.coords.items() if k in used}
    return xr.Dataset(data, coords={"chain": [0], "draw": np.arange(len(values)), **coords})
