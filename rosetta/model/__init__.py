"""Fit the measurement model: one score table in, one anchored InferenceData out."""

from __future__ import annotations

import os
import sys

if "pytensor" not in sys.modules and "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", ""):
    # The graph is elementwise and gathers only: no BLAS is needed, so do not search for one
    # (pip installs have none, and PyTensor would warn about it on every run).
    os.environ["PYTENSOR_FLAGS"] = ",".join(
        f for f in (os.environ.get("PYTENSOR_FLAGS", ""), "blas__ldflags=") if f
    )

import logging
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from rosetta._version import __version__
from rosetta.constants import (
    BENCHMARK,
    DEFAULT_CHAINS,
    DEFAULT_MIN_ESS,
    DEFAULT_SEED,
    DEFAULT_TARGET_ACCEPT,
    ESS_MIN,
    ITEM,
    ITEM_ADVI_ITERATIONS,
    ITEM_ADVI_LEARNING_RATE,
    ITEM_APPROX_DRAWS,
    ITEM_BATCH_SIZE,
    ITEM_BENCHMARK,
    METHODS,
    PREDICTIVE_DRAWS,
    PREDICTIVE_MIN_DRAWS,
    PREDICTIVE_VALUES,
    RHAT_MAX,
)
from rosetta.data import ScoreTable, load_scores
from rosetta.data.items import ItemTable
from rosetta.diagnostics import (
    checked_variables,
    combined,
    entry_diagnostics,
    meets,
    summarize_diagnostics,
    variable_diagnostic,
    weakest_entry,
)
from rosetta.dimensions import align_dimensions
from rosetta.domains import BENCHMARK_DOMAIN
from rosetta.errors import SamplingError
from rosetta.fitted import Fit
from rosetta.io import SINGLE_PRECISION, FitInfo
from rosetta.model.measurement import build_coords, build_model
from rosetta.model.sampling import run_advi, run_map, run_nuts, runs_score_kernel
from rosetta.model.spec import MeasurementSpec
from rosetta.prediction import predictive_scores
from rosetta.scale import apply_scale

__all__ = ["MeasurementSpec", "anchor_posterior", "anchored_diagnostics", "build_model", "fit"]

log = logging.getLogger("rosetta")


def fit(
    data: ScoreTable | ItemTable | pd.DataFrame | str | Path | None = None,
    spec: MeasurementSpec | None = None,
    *,
    method: str = "nuts",
    sampler: str = "auto",
    draws: int | None = None,
    tune: int | None = None,
    chains: int = DEFAULT_CHAINS,
    random_seed: int = DEFAULT_SEED,
    target_accept: float = DEFAULT_TARGET_ACCEPT,
    progress: bool = True,
    warn: bool = True,
    batch_size: int = ITEM_BATCH_SIZE,
    predictive_draws: int | str | None = "auto",
    min_ess: int | None = DEFAULT_MIN_ESS,
) -> Fit:
    """Fit the measurement model and return the anchored posterior.

    Parameters
    ----------
    data
        A `ScoreTable`, anything `rosetta.load_scores` reads, ``None`` for the bundled data, or
        an `ItemTable` of item-level responses (`rosetta.data.items.load_items`).
    spec
        Likelihood, floors, priors and anchor scale; `MeasurementSpec()` by default.
    method
        ``"nuts"`` (default), ``"map"`` (posterior mode + Laplace) or ``"advi"``.
    sampler
        NUTS backend: ``"auto"`` (nutpie, else numpyro, else PyMC), or one of them by name.
    draws, tune, chains
        NUTS settings; approximate methods return ``chains * draws`` draws as one chain. By
        default ``draws`` is ``spec.default_draws`` (`DEFAULT_DRAWS`, or `FACTOR_DRAWS` with
        dimensions or domains), and for approximate item-level fits `ITEM_APPROX_DRAWS` in all
        (their draws are cheap and independent); ``tune`` is ``spec.default_tune``
        (`DEFAULT_TUNE`, or `FACTOR_TUNE` with dimensions or domains).
    random_seed
        The same table, settings and seed give the same posterior.
    target_accept
        NUTS step-size adaptation target.
    progress
        Show a progress bar.
    warn
        Emit a `ConvergenceWarning` when the diagnostics are bad.
    batch_size
        Item-level ADVI: responses per minibatch.
    predictive_draws
        Posterior-predictive draws to store (evenly thinned over each chain). ``"auto"``:
        `PREDICTIVE_DRAWS`, fewer on big tables (`PREDICTIVE_VALUES` values in all, at least
        `PREDICTIVE_MIN_DRAWS` draws); ``None`` stores one per posterior draw. More can be
        drawn later from the saved posterior (`rosetta.model.measurement.likelihood_model` with
        `pymc.sample_posterior_predictive`).
    min_ess
        NUTS with nutpie: stop before ``draws`` at the first checkpoint (every
        `ESS_CHECK_EVERY` draws per chain) where every checked quantity has bulk and tail ESS
        of at least this, R-hat at most `RHAT_MAX` and no divergence; if the convergence bars
        (`summarize_diagnostics`'s) are not met at ``draws``, sample on, up to
        `MAX_DRAWS_FACTOR` times ``draws``, to the first checkpoint where they are (or a
        divergence shows). ``None`` draws exactly ``draws``. ``info.draws`` is the number kept.

    Returns
    -------
    rosetta.Fit
        Its ``idata`` has groups ``posterior`` (``capability``, ``difficulty``, ``slope``,
        ``floor``, ... on the anchor scale), ``posterior_predictive`` (``score``),
        ``observed_data``, ``constant_data`` and, for NUTS, ``sample_stats``; ``info`` says how
        it was made (spec, scale, data hash, settings, diagnostics, versions).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    items = data if isinstance(data, ItemTable) else None
    if items is not None and method == "map":
        raise SamplingError(
            "--method map is not offered for item-level data: the joint mode of a model "
            "with items nested in benchmarks is degenerate (the spread of the items shrinks "
            "to zero), so neither it nor a Laplace approximation around it is a posterior "
            "summary; use --method advi (fast, minibatches) or nuts"
        )
    if items is not None:
        table = items.table
    else:
        table = data if isinstance(data, ScoreTable) else load_scores(data)
    spec = spec or MeasurementSpec()
    spec = spec.resolved_for(table)
    tune = spec.default_tune if tune is None else tune
    batched = items is not None and method == "advi"
    if draws is None:
        approximate_items = items is not None and method != "nuts"
        draws = max(1, ITEM_APPROX_DRAWS // chains) if approximate_items else spec.default_draws
    model = build_model(
        items or table,
        spec,
        batch_size=batch_size if batched else None,
        centred=method == "nuts",
        fused=method != "nuts" or runs_score_kernel(sampler),
    )
    log.info(
        "fitting %d scores%s of %d models on %d benchmarks (%s)",
        table.n_scores,
        f" ({items.n_responses} item responses)" if items is not None else "",
        len(table.models),
        len(table.benchmarks),
        method,
    )
    if predictive_draws == "auto":
        fitting = table.n_scores if items is None else items.score_rows.size
        predictive_draws = min(
            PREDICTIVE_DRAWS, max(PREDICTIVE_MIN_DRAWS, PREDICTIVE_VALUES // max(fitting, 1))
        )
    settings = {"draws": draws, "chains": chains, "random_seed": random_seed}
    nuts = {
        "tune": tune,
        "maxdepth": spec.maxdepth,
        "eigval_cutoff": spec.eigval_cutoff,
        "target_accept": target_accept,
    }
    if min_ess and method == "nuts":
        nuts["enough"] = _enough(spec, table, min_ess)
        nuts["converged"] = _enough(spec, table, ESS_MIN, tail=False)
    start = time.perf_counter()
    raw = _sample(model, method, items, settings, sampler, nuts, progress)
    wall = time.perf_counter() - start
    if method == "nuts":
        settings["draws"] = raw.posterior.sizes["draw"]
    posterior = anchor_posterior(raw.posterior, spec, table)
    idata = _assemble(table, spec, raw, posterior, random_seed, items, predictive_draws)
    diagnostics = summarize_diagnostics(idata, warn=warn and method == "nuts")
    batch = int(min(batch_size, items.n_responses)) if batched else None
    settings.update(tune=tune, wall=wall, batch_size=batch)
    info = _info(table, items, spec, raw, settings, diagnostics)
    return Fit.stamped(idata, info)


def _sample(model, method, items, settings, sampler, nuts, progress):
    """Run ``method`` on ``model``; turn numerical failures into a `SamplingError`.

    ``nuts``: NUTS's own settings (`run_nuts`: tune, maxdepth, target_accept, stopping checks).
    """
    try:
        if method == "nuts":
            return run_nuts(model, sampler=sampler, progress=progress, **nuts, **settings)
        if method == "map":
            return run_map(model, progress=progress, **settings)
        advi = {}
        if items is not None:
            advi = {"iterations": ITEM_ADVI_ITERATIONS, "learning_rate": ITEM_ADVI_LEARNING_RATE}
        return run_advi(model, progress=progress, **settings, **advi)
    except (FloatingPointError, ValueError, RuntimeError) as err:
        if isinstance(err, SamplingError):
            raise
        raise SamplingError(
            f"{method} failed ({type(err).__name__}: {err}); try --method nuts with the pymc "
            "sampler, more --tune, or check the data with `rosetta data`"
        ) from err


def _enough(spec: MeasurementSpec, table, min_ess: int, *, tail: bool = True):
    """Whether raw draws so far meet the convergence bars with ``min_ess`` effective draws.

    Every checked quantity's bulk ESS (and tail ESS too, if ``tail``) at least ``min_ess``,
    R-hat at most `RHAT_MAX`, no divergence: with ``ESS_MIN`` and no ``tail``, the verdict of
    `summarize_diagnostics`. Reached sooner than a full summary: a divergence fails at once,
    the one entry that fell short at the previous checkpoint is checked alone first, then the
    variables one at a time, its variable first, up to the first that falls short. Most
    checkpoints fail, and these checks run beside the sampler, on its cores.
    """
    weakest: dict = {}  # the entry that fell short last: variable, diagnostic, position
    # cheapest first
    bars = {"min_ess_bulk": min_ess, "min_ess_tail": min_ess, "max_rhat": RHAT_MAX}
    if not tail:
        del bars["min_ess_tail"]

    def still_short(posterior) -> bool:
        if not weakest:
            return False
        name, key = weakest["name"], weakest["key"]
        entry = posterior[[name]].isel(weakest["at"])
        return not meets(key, variable_diagnostic(entry, name, key), bars[key])

    def falls_short(posterior, name: str) -> bool:  # up to the first shortfall
        for key, bar in bars.items():
            values = entry_diagnostics(posterior, name, key)
            if not meets(key, combined(values, key), bar):
                weakest.update(name=name, key=key, at=weakest_entry(values, key))
                return True
        return False

    def check(raw) -> bool:
        stats = raw.sample_stats
        if raw.posterior.sizes["chain"] < 2 or ("diverging" in stats and stats["diverging"].any()):
            return False
        posterior = anchor_posterior(raw.posterior, spec, table)
        if still_short(posterior):
            return False
        names = sorted(checked_variables(posterior), key=lambda name: name != weakest.get("name"))
        return not any(falls_short(posterior, name) for name in names)

    return check


def anchored_diagnostics(raw, spec: MeasurementSpec, table) -> tuple[xr.Dataset, dict]:
    """The anchored posterior of raw NUTS draws and its convergence summary (no warning)."""
    posterior = anchor_posterior(raw.posterior, spec, table)
    stats = az.InferenceData(posterior=posterior, sample_stats=raw.sample_stats)
    return posterior, summarize_diagnostics(stats, warn=False)


def anchor_posterior(raw_posterior: xr.Dataset, spec: MeasurementSpec, table) -> xr.Dataset:
    """The posterior on the anchor scale, in the form a fit stores.

    Item benchmarks as their item sets (`_benchmarks_as_item_sets`), item parameters in single
    precision, domains named, learned dimensions in one orientation (`align_dimensions`).
    """
    posterior = _benchmarks_as_item_sets(raw_posterior)
    posterior = align_dimensions(apply_scale(posterior, spec.scale))
    for name in SINGLE_PRECISION:  # thousands per draw
        if name in posterior:
            posterior[name] = posterior[name].astype(np.float32)
    if spec.domains:
        domains = dict(spec.domains)
        posterior = posterior.assign_coords(
            {BENCHMARK_DOMAIN: (BENCHMARK, [domains.get(b, "") for b in table.benchmarks])}
        )
    return posterior


def _benchmarks_as_item_sets(raw_posterior: xr.Dataset) -> xr.Dataset:
    """Raw draws with each item benchmark's difficulty and slope those of its set of items.

    Its items' mean difficulty and geometric-mean slope (``item_set_difficulty`` and
    ``item_set_log_slope``, which are dropped), not the location of the population the items
    are drawn from (see ``rosetta.model.measurement._item_sets``). Other draws are unchanged.
    """
    if "item_set_difficulty" not in raw_posterior:
        return raw_posterior
    sets = {ITEM_BENCHMARK: BENCHMARK}
    where = {BENCHMARK: raw_posterior.indexes[ITEM_BENCHMARK]}
    difficulty, slope = raw_posterior["difficulty"].copy(), raw_posterior["slope"].copy()
    dims = difficulty.dims
    difficulty.loc[where] = raw_posterior["item_set_difficulty"].rename(sets).transpose(*dims)
    slope.loc[where] = np.exp(raw_posterior["item_set_log_slope"].rename(sets)).transpose(*dims)
    dropped = raw_posterior.drop_vars(["item_set_difficulty", "item_set_log_slope"])
    return dropped.assign(difficulty=difficulty, slope=slope)


def _assemble(
    table, spec, raw, posterior, random_seed, items=None, predictive_draws=None
) -> az.InferenceData:
    """The InferenceData of a fit, with ``predictive_draws`` predictive draws (None: all)."""
    coords, model_idx, bench_idx = build_coords(table)
    scores = table.scores
    obs = {"obs": coords["obs"]}
    observed = xr.Dataset({"score": ("obs", scores["score"].to_numpy(dtype=float))}, coords=obs)
    info = table.model_info()
    distilled = info["distilled"].astype("float").to_numpy()
    constant = xr.Dataset(
        {
            "model_idx": ("obs", model_idx),
            "benchmark_idx": ("obs", bench_idx),
            "n_items": ("obs", scores["n_items"].to_numpy(dtype=float, na_value=np.nan)),
            "stderr": ("obs", scores["stderr"].to_numpy(dtype=float)),
            "nominal_floor": ("benchmark", table.benchmark_info()["floor"].to_numpy(dtype=float)),
            "release_date": ("model", info["date"].to_numpy(dtype="datetime64[ns]")),
            "compute": ("model", info["compute"].to_numpy(dtype=float)),
            "compute_source": ("model", info["compute_source"].fillna("").to_numpy(dtype=str)),
            "distilled": ("model", distilled),
        },
        coords={**obs, "model": coords["model"], "benchmark": coords["benchmark"]},
    )
    # Scores of item-level benchmarks are summaries of responses, which the model predicts
    # one by one: they get no predictive draws (NaN).
    rows = items.score_rows if items is not None else np.arange(len(scores))
    thinned = _thinned(posterior, predictive_draws)
    draws = thinned.sizes["chain"], thinned.sizes["draw"]
    predictive = xr.DataArray(
        np.full((*draws, len(scores)), np.nan, dtype=np.float32),
        dims=("chain", "draw", "obs"),
        coords={"chain": thinned["chain"], "draw": thinned["draw"], "obs": coords["obs"]},
        name="score",
    )
    if rows.size:
        predictive[..., rows] = predictive_scores(
            thinned,
            scores["model"].iloc[rows].tolist(),
            scores["benchmark"].iloc[rows].tolist(),
            likelihood=spec.likelihood,
            n_items=constant["n_items"].to_numpy()[rows],
            random_seed=np.random.default_rng([random_seed, 1]),
        ).to_numpy()  # single precision halves the file; scores need no more
    groups = {
        "posterior": posterior,
        "posterior_predictive": xr.Dataset({"score": predictive}),
        "observed_data": observed,
        "constant_data": constant,
    }
    if items is not None:
        _add_responses(groups, items)
    if raw.sample_stats is not None:
        groups["sample_stats"] = raw.sample_stats
    return az.InferenceData(**groups)


def _thinned(posterior: xr.Dataset, kept: int | None) -> xr.Dataset:
    """About ``kept`` draws in all, evenly spaced within each chain (all of them for None)."""
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if kept is None or kept >= n_chains * n_draws:
        return posterior
    per_chain = max(1, -(-kept // n_chains))
    return posterior.isel(draw=np.unique(np.linspace(0, n_draws - 1, per_chain).astype(int)))


def _add_responses(groups: dict, items: ItemTable) -> None:
    """Store the item-level responses (dim ``response``) beside the scores they summarise."""
    index = items.indices
    responses = items.responses
    response = {"response": np.arange(items.n_responses)}
    groups["observed_data"]["correct"] = xr.DataArray(
        responses["correct"].to_numpy(dtype=np.float32), dims="response", coords=response
    )
    constant = groups["constant_data"]
    constant["response_pair"] = ("response", index["pair"].astype(np.int32))
    constant["response_item"] = ("response", index["item"].astype(np.int32))
    constant["attempts"] = ("response", responses["attempts"].to_numpy(dtype=np.int32))
    constant["item_benchmark_idx"] = xr.DataArray(
        index["item_benchmark"].astype(np.int32),
        dims=ITEM,
        coords={ITEM: items.items["label"].to_numpy()},
    )


def _info(table, items, spec, raw, settings, diagnostics) -> FitInfo:
    import pymc

    versions = {
        "python": platform.python_version(),
        "pymc": pymc.__version__,
        "arviz": az.__version__,
        "numpy": np.__version__,
        "xarray": xr.__version__,
        "pandas": pd.__version__,
    }
    item_level = {}
    if items is not None:
        item_level = {
            "n_responses": items.n_responses,
            "n_items": len(items.items),
            "item_benchmarks": tuple(items.item_benchmarks),
            "batch_size": settings["batch_size"],
        }
    return FitInfo(
        rosetta_version=__version__,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        spec_json=spec.to_json(),
        scale=spec.scale,
        scale_description=spec.scale.describe(),
        likelihood=spec.likelihood,
        floors=spec.floors,
        method=raw.method,
        sampler=raw.sampler,
        random_seed=int(settings["random_seed"]),
        draws=int(settings["draws"]),
        tune=int(settings["tune"]),
        chains=int(settings["chains"]),
        wall_seconds=round(settings["wall"], 2),
        data_source=table.source,
        data_sha256=items.sha256() if items is not None else table.sha256(),
        data_dropped=dict(table.dropped),
        n_models=len(table.models),
        n_benchmarks=len(table.benchmarks),
        n_scores=table.n_scores,
        diagnostics=diagnostics,
        versions=versions,
        **item_level,
    )
