"""Predicted scores from posterior draws, in numpy and xarray only (no PyMC import).

The expected score and the score a new evaluation would show, for any (model, benchmark) pair in
the posterior, draw by draw. The anchor scale does not matter: ``slope * (capability -
difficulty)`` is invariant under it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from rosetta.constants import DEFAULT_SEED, DIMENSION, FAMILY_CELL
from rosetta.domains import benchmark_domains, domain_names
from rosetta.families import model_family
from rosetta.fitted import as_fit
from rosetta.likelihoods import expected_score as score_mean


def expected_score(
    posterior: xr.Dataset, models: Sequence[str], benchmarks: Sequence[str]
) -> xr.DataArray:
    """Expected score ``p`` for pairs ``(models[i], benchmarks[i])``, per draw.

    Parameters
    ----------
    posterior
        Posterior group with ``capability``, ``difficulty``, ``slope``, ``floor`` (and the
        domain deviations and family effects of fits that have them).
    models, benchmarks
        Equal-length sequences naming the pairs.

    Returns
    -------
    xarray.DataArray
        Dims ``(chain, draw, pair)``.
    """
    models, benchmarks = list(models), list(benchmarks)
    if len(models) != len(benchmarks):
        raise ValueError("models and benchmarks must have the same length")
    _check_names(posterior, "model", models)
    _check_names(posterior, "benchmark", benchmarks)
    p, _ = score_parts(posterior, models, benchmarks)
    return p.drop_vars(["model", "benchmark"], errors="ignore").rename("score_mean")


def score_parts(posterior: xr.Dataset, models, benchmarks) -> tuple[xr.DataArray, xr.DataArray]:
    """``(p, 1 - p)`` per draw and pair, the complement computed without cancellation."""
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
    """
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
        draws of the expected score.
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
        out = expected_score(posterior, models, benchmarks)
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
