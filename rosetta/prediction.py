"""Predicted scores from posterior draws, in numpy and xarray only (no PyMC import).

The expected score and the score a new evaluation would show, for any (model, benchmark) pair in
the posterior, draw by draw. The anchor scale does not matter: ``slope * (capability -
difficulty)`` is invariant under it.

A benchmark fitted from item-level responses is its set of items: its expected score is the mean
over its items of ``floor + (1 - floor) * sigmoid(item_slope * (capability - item_difficulty))``
(`benchmark_scores`), not the one logistic at its reported ``difficulty`` and ``slope`` (its
items' mean and geometric mean). Its items are mapped to it in the fit's ``constant_data``, so
that needs the fit, not only its posterior; and it has no benchmark-level score noise, so a new
evaluation's score there is not predicted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit, logit

from rosetta.constants import DEFAULT_SEED, DIMENSION, FAMILY_CELL, ITEM_BENCHMARK
from rosetta.domains import benchmark_domains, domain_names
from rosetta.errors import DataValidationError
from rosetta.families import model_family
from rosetta.fitted import as_fit
from rosetta.likelihoods import expected_score as score_mean

#: (draw, capability, item) values evaluated at once for an item benchmark's curve.
_ITEM_BLOCK = 1 << 22
#: Bisection steps that invert an item benchmark's curve (`capability_reaching`): the bracket,
#: its items' own crossings (a few capability units wide), narrowed 2^32-fold (to ~1e-9).
_BISECTIONS = 32


def expected_score(posterior, models: Sequence[str], benchmarks: Sequence[str]) -> xr.DataArray:
    """Expected score ``p`` for pairs ``(models[i], benchmarks[i])``, per draw.

    Parameters
    ----------
    posterior
        A `rosetta.Fit` (or its InferenceData), or its posterior group: ``capability``,
        ``difficulty``, ``slope``, ``floor`` (and the domain deviations and family effects of
        fits that have them). A benchmark fitted from item-level responses is the mean of its
        items' curves (`benchmark_scores`), which needs the fit: its posterior alone raises
        `rosetta.errors.DataValidationError` for such a benchmark.
    models, benchmarks
        Equal-length sequences naming the pairs.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, pair)``.
    """
    fit, posterior = posterior, _posterior(posterior)
    models, benchmarks = list(models), list(benchmarks)
    if len(models) != len(benchmarks):
        raise ValueError("models and benchmarks must have the same length")
    _check_names(posterior, "model", models)
    _check_names(posterior, "benchmark", benchmarks)
    p, _ = score_parts(posterior, models, benchmarks)
    p = p.drop_vars(["model", "benchmark"], errors="ignore").rename("score_mean")
    sets = np.flatnonzero(np.isin(benchmarks, item_benchmarks(posterior)))
    if not sets.size:
        return p
    named = [benchmarks[k] for k in sets]
    theta = effective_capability(posterior, [models[k] for k in sets], named)
    p = p.transpose("chain", "draw", "pair").copy()
    p.values[..., sets] = benchmark_scores(fit, flat_draws(theta), named).reshape(*p.shape[:2], -1)
    return p


def benchmark_scores(fit, theta, benchmarks: Sequence[str]) -> np.ndarray:
    """Expected score on ``benchmarks[k]`` at capability ``theta[..., k]``, per draw.

    ``floor + (1 - floor) * sigmoid(slope * (theta - difficulty))``; for a benchmark fitted from
    item-level responses, the mean over its items of their curves ``floor + (1 - floor) *
    sigmoid(item_slope * (theta - item_difficulty))`` (item parameters are on the anchored scale
    too).

    Parameters
    ----------
    fit
        A `rosetta.Fit` or its InferenceData (its ``constant_data`` maps items to benchmarks); a
        posterior group serves benchmarks not fitted from items.
    theta
        Capabilities on the posterior's scale: ``(S, P)``, per draw (chain and draw flattened,
        chain first), or ``(P,)``, the same in every draw.
    benchmarks
        ``P`` names of fitted benchmarks.

    Returns
    -------
    numpy.ndarray
        ``(S, P)``.

    Raises
    ------
    rosetta.errors.DataValidationError
        For an item benchmark without the fit's item map (a posterior group given).
    """
    posterior, names = _posterior(fit), list(benchmarks)
    _check_names(posterior, "benchmark", names)
    b = xr.DataArray(names, dims="pair")
    par = {v: flat_draws(posterior[v].sel(benchmark=b)) for v in ("difficulty", "slope", "floor")}
    theta = np.broadcast_to(np.asarray(theta, dtype=float), par["slope"].shape)
    p, _ = score_mean(par["slope"] * (theta - par["difficulty"]), par["floor"])
    for name in set(names) & set(item_benchmarks(posterior)):
        columns = [k for k, n in enumerate(names) if n == name]
        floor = par["floor"][:, columns]
        p[:, columns] = floor + (1 - floor) * _item_mean(theta[:, columns], *_items(fit, name))
    return p


def capability_reaching(fit, benchmark: str, level: float) -> np.ndarray:
    """Per draw, the capability at which the expected score on ``benchmark`` equals ``level``.

    ``-inf`` in draws where ``level`` is at or below the floor. The curve of a benchmark fitted
    from item-level responses (`benchmark_scores`) is inverted by bisection, between the
    capabilities at which its items' own curves reach the level.

    Parameters
    ----------
    fit
        As for `benchmark_scores`.
    benchmark
        A fitted benchmark.
    level
        An expected score in (0, 1).

    Returns
    -------
    numpy.ndarray
        ``(S,)``, draws flattened as in `benchmark_scores`.
    """
    posterior = _posterior(fit)
    _check_names(posterior, "benchmark", [benchmark])
    if not 0.0 < level < 1.0:
        raise DataValidationError([f"score level {level:g} must lie strictly between 0 and 1"])
    floor, difficulty, slope = (
        flat_draws(posterior[v].sel(benchmark=benchmark)) for v in ("floor", "difficulty", "slope")
    )
    reachable = level > floor
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(reachable, logit((level - floor) / (1 - floor)), 0.0)
    if benchmark not in item_benchmarks(posterior):
        return difficulty + np.where(reachable, gap, -np.inf) / slope
    item_difficulty, item_slope = _items(fit, benchmark)
    # The set's curve is a mean of its items': it crosses where the first and the last of them do.
    crossings = item_difficulty + gap[:, None] / item_slope
    lo, hi = crossings.min(axis=1), crossings.max(axis=1)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        below = _item_mean(mid[:, None], item_difficulty, item_slope)[:, 0] < expit(gap)
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(reachable, 0.5 * (lo + hi), -np.inf)


def item_benchmarks(fit) -> list[str]:
    """The benchmarks of a fit (or of its posterior group) fitted from item-level responses."""
    posterior = _posterior(fit)
    if ITEM_BENCHMARK not in posterior.coords:
        return []
    return [str(name) for name in posterior[ITEM_BENCHMARK].to_numpy()]


def _posterior(fit) -> xr.Dataset:
    return fit if isinstance(fit, xr.Dataset) else fit.posterior


def flat_draws(values) -> np.ndarray:
    """A DataArray or Variable with dims ``chain`` and ``draw`` as ``(S, ...)``, chain first.

    The other dims keep their order. Transposed as an array: xarray's own transpose costs more
    than the copy.
    """
    order = [values.dims.index(d) for d in ("chain", "draw")]
    order += [i for i in range(values.ndim) if i not in order]
    array = np.transpose(values.to_numpy(), order)
    return array.reshape(-1, *array.shape[2:])


def _items(fit, benchmark: str) -> tuple[np.ndarray, np.ndarray]:
    """``item_difficulty`` and ``item_slope`` ``(S, I)`` of the items of ``benchmark``."""
    constant = None if isinstance(fit, xr.Dataset) else getattr(fit, "constant_data", None)
    if constant is None or "item_benchmark_idx" not in constant:
        raise DataValidationError(
            [
                f"benchmark {benchmark!r} was fitted from item-level responses: its expected "
                "score is the mean of its items' curves, and the fit's constant_data says which "
                "items are its; pass the fit, not its posterior"
            ]
        )
    posterior = fit.posterior
    owner = constant["item_benchmark_idx"].to_numpy()
    mine = np.flatnonzero(owner == posterior.indexes["benchmark"].get_loc(benchmark))
    names = ("item_difficulty", "item_slope")
    return tuple(flat_draws(posterior[v].isel(item=mine)) for v in names)


def _item_mean(theta: np.ndarray, difficulty: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """``mean_i sigmoid(slope_i * (theta - difficulty_i))``: ``theta (S, P)``, items ``(S, I)``.

    Summed a block of items at a time (`_ITEM_BLOCK`), so memory stays near the result's.
    """
    total = np.zeros(theta.shape)
    step = max(1, _ITEM_BLOCK // max(theta.size, 1))
    for start in range(0, difficulty.shape[1], step):
        block = slice(start, start + step)
        x = slope[:, None, block] * (theta[..., None] - difficulty[:, None, block])
        total += expit(x).sum(axis=-1)
    return total / difficulty.shape[1]


def score_parts(posterior: xr.Dataset, models, benchmarks) -> tuple[xr.DataArray, xr.DataArray]:
    """``(p, 1 - p)`` per draw and pair, the complement computed without cancellation.

    The one logistic at each benchmark's ``difficulty`` and ``slope``: not the curve of a
    benchmark fitted from item-level responses (`benchmark_scores`).
    """
    b = xr.DataArray(list(benchmarks), dims="pair")
    theta = effective_capability(posterior, models, benchmarks)
    x = posterior["slope"].sel(benchmark=b) * (theta - posterior["difficulty"].sel(benchmark=b))
    return score_mean(x, posterior["floor"].sel(benchmark=b))


def effective_capability(posterior: xr.Dataset, models, benchmarks) -> xr.DataArray:
    """What benchmark ``benchmarks[i]`` measures of model ``models[i]``, per draw (dim ``pair``).

    The general capability; plus, in a bifactor fit, the model's deviation in the benchmark's
    domain; plus, with learned dimensions, the model's dimension scores times the benchmark's
    loadings; plus, with family effects, the effect of the model's family on that benchmark (0
    where the fit had no such cell).
    """
    models, benchmarks = list(models), list(benchmarks)
    theta = posterior["capability"].sel(model=xr.DataArray(models, dims="pair"))
    domains = benchmark_domains(posterior).reindex(benchmarks).to_numpy()
    if domain_names(posterior) and (domains != "").any():
        deviation = posterior["domain_deviation"]
        general = xr.zeros_like(deviation.isel(domain=[0])).assign_coords(domain=[""])
        padded = xr.concat([deviation, general], "domain")
        picked = padded.sel(
            model=xr.DataArray(models, dims="pair"), domain=xr.DataArray(domains, dims="pair")
        )
        theta = theta + picked.drop_vars(["model", "domain"])
    if "dimension_loading" in posterior:
        score = posterior["dimension_score"].sel(model=xr.DataArray(models, dims="pair"))
        pair_benchmarks = xr.DataArray(benchmarks, dims="pair")
        loading = posterior["dimension_loading"].sel(benchmark=pair_benchmarks)
        theta = theta + (score * loading).sum(DIMENSION).drop_vars(["model", "benchmark"])
    if "family_effect" in posterior:
        known = pd.Index(posterior[FAMILY_CELL].to_numpy().astype(str))
        labels = [f"{model_family(m)} | {b}" for m, b in zip(models, benchmarks, strict=True)]
        where = known.get_indexer(labels)
        effect = posterior["family_effect"].isel(
            {FAMILY_CELL: xr.DataArray(np.maximum(where, 0), dims="pair")}
        )
        theta = theta + effect.drop_vars(FAMILY_CELL).where(
            xr.DataArray(where >= 0, dims="pair"), 0.0
        )
    return theta


def predictive_scores(
    posterior: xr.Dataset,
    models: Sequence[str],
    benchmarks: Sequence[str],
    *,
    likelihood: str = "beta",
    n_items: Sequence[float] | None = None,
    random_seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> xr.DataArray:
    """Draw the score a new evaluation of each pair would show (posterior predictive).

    Parameters
    ----------
    posterior
        Posterior group (``precision`` and cutpoints for ``beta``, ``sigma`` for ``normal``).
    models, benchmarks
        Equal-length sequences naming the pairs.
    likelihood
        ``"beta"`` or ``"normal"``, as in the fit.
    n_items
        Items per pair (NaN where unknown); known counts give beta-binomial draws.
    random_seed
        Seed or generator.

    Returns
    -------
    xarray.DataArray
        Score draws, dims ``(chain, draw, pair)``.

    Raises
    ------
    rosetta.errors.DataValidationError
        For a benchmark fitted from item-level responses: the fit has no benchmark-level score
        noise there (its expected score is `expected_score`'s).
    """
    sets = sorted(set(benchmarks) & set(item_benchmarks(posterior)))
    if sets:
        raise DataValidationError(
            [
                f"benchmark(s) {sets} were fitted from item-level responses: the fit has no "
                "benchmark-level noise for a new evaluation's score there; predict the expected "
                "score (kind='mean') instead"
            ]
        )
    p = expected_score(posterior, models, benchmarks)
    pair_benchmarks = xr.DataArray(list(benchmarks), dims="pair")

    def per_draw(name):
        return posterior[name].to_numpy()[..., np.newaxis] if name in posterior else None

    draws = draw_scores(
        p.to_numpy(),
        precision=(
            posterior["precision"].sel(benchmark=pair_benchmarks).to_numpy()
            if likelihood != "normal"
            else None
        ),
        sigma=per_draw("sigma") if likelihood == "normal" else None,
        zero_cutpoint=per_draw("zero_cutpoint"),
        one_cutpoint=per_draw("one_cutpoint"),
        n_items=n_items,
        rng=np.random.default_rng(random_seed),
    )
    return p.copy(data=draws).rename("score")


def draw_scores(
    mean: np.ndarray,
    *,
    precision: np.ndarray | None = None,
    sigma: np.ndarray | None = None,
    zero_cutpoint: np.ndarray | None = None,
    one_cutpoint: np.ndarray | None = None,
    n_items=None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Scores a new evaluation would show, given expected scores and the noise parameters.

    Ordered Beta when ``precision`` is given (cutpoints where the fit had them; beta-binomial
    where ``n_items`` is known), otherwise Normal with sd ``sigma``. Every argument broadcasts
    against ``mean``.
    """
    if precision is None:
        return rng.normal(mean, sigma)
    mean = np.clip(mean, 1e-12, 1 - 1e-12)
    draws = rng.beta(mean * precision, (1 - mean) * precision)
    logit_p = np.log(mean) - np.log1p(-mean)
    u = rng.random(mean.shape)
    if zero_cutpoint is not None:
        draws = np.where(u < expit(zero_cutpoint - logit_p), 0.0, draws)
    if one_cutpoint is not None:
        draws = np.where(u > 1 - expit(logit_p - one_cutpoint), 1.0, draws)
    if n_items is not None:
        n = np.asarray(n_items, dtype=float)
        counted = np.isfinite(n)
        if counted.any():
            q = rng.beta(mean * precision, (1 - mean) * precision)
            k = rng.binomial(np.where(counted, n, 1).astype(int), q)
            draws = np.where(counted, k / np.where(counted, n, 1), draws)
    return draws


def predict(
    idata,
    models: Sequence[str],
    benchmarks: Sequence[str],
    *,
    kind: str = "score",
    random_seed: int | None = DEFAULT_SEED,
) -> xr.DataArray:
    """Predicted score draws for (model, benchmark) pairs of a fitted posterior.

    Parameters
    ----------
    idata
        A `rosetta.Fit` (or its InferenceData, or the path of a saved fit).
    models, benchmarks
        Equal-length sequences naming the pairs; each name must be in the posterior.
    kind
        ``"score"`` for predictive draws of an observed score (noise included), ``"mean"`` for
        draws of the expected score. A benchmark fitted from item-level responses has an
        expected score (the mean of its items' curves) but no benchmark-level score noise:
        ``"score"`` there raises `rosetta.errors.DataValidationError`.
    random_seed
        Seed of the predictive noise.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, pair)`` with ``model`` and ``benchmark`` coordinates on ``pair``.
    """
    fit = as_fit(idata)
    posterior = fit.posterior
    if kind == "mean":
        out = expected_score(fit, models, benchmarks)
    elif kind == "score":
        out = predictive_scores(
            posterior, models, benchmarks, likelihood=fit.info.likelihood, random_seed=random_seed
        )
    else:
        raise ValueError(f"kind must be 'score' or 'mean', got {kind!r}")
    return out.assign_coords(model=("pair", list(models)), benchmark=("pair", list(benchmarks)))


def _check_names(posterior: xr.Dataset, dim: str, names: list[str]) -> None:
    known = set(posterior[dim].to_numpy().tolist())
    unknown = sorted({n for n in names if n not in known})
    if unknown:
        raise KeyError(f"unknown {dim}(s) {unknown[:5]}: not in the fitted posterior")
