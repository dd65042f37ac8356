"""Where does a new model stand? Its capability from a few scores, without refitting (no PyMC).

For every posterior draw ``s`` of the benchmark parameters and of the capability population
``N(mu_s, sd_s)`` (the fitted models' mean and spread on the anchored scale), the new model's
capability has the one-dimensional posterior::

    p_s(theta | y)  ∝  N(theta; mu_s, sd_s) * prod_j L(y_j | theta, benchmark j in draw s)

with the fit's own likelihood (`rosetta.likelihoods`). It is integrated, in population units
``u = (theta - mu_s) / sd_s``, on an equally spaced grid of each draw's own: 17 points over +-7
Laplace sds around its mode, redone wider or narrower where that misses the density, and with the
step halved where the log-density has a steep side (a score near a benchmark's floor), until a
step spans at most about one local sd. Sums over equally spaced points converge geometrically
for smooth densities, so that is enough for the normalising constants and moments
(``tests/test_query.py`` compares with a brute-force fine grid); capability draws come from the
piecewise-linear interpolant of each draw's density, sampled exactly.

Each draw is then reweighted by its marginal likelihood ``p(y | draw s)`` (weights truncated at
``sqrt(S)`` times their mean, so a few draws cannot take over) and the draws are resampled: the
new scores update the benchmark parameters too, as if the new model had been in the fit. The
answer so carries both the noise of the new scores and the uncertainty of the benchmark
parameters; nothing is frozen at a point estimate.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from rosetta.constants import CI_PROB, DEFAULT_SEED, DIMENSION
from rosetta.data.parse import parse_cell
from rosetta.data.readers import read_file, to_raw_long
from rosetta.data.table import did_you_mean
from rosetta.domains import domain_names
from rosetta.errors import DataValidationError
from rosetta.fitted import Fit
from rosetta.intervals import interval, label
from rosetta.io import fit_info, load_fit, load_posterior
from rosetta.likelihoods import (
    beta_family_logp,
    expected_score,
    normal_logp,
)
from rosetta.prediction import (
    benchmark_scores,
    capability_reaching,
    draw_scores,
    flat_draws,
    item_benchmarks,
)
from rosetta.results import Result

#: Pilot grid (population units) and number of draws that give the first centre and scale.
_PILOT_GRID = np.linspace(-10.0, 10.0, 201)
_PILOT_DRAWS = 32
#: Newton steps (finite differences, 3 points each) that centre each draw's grid on its mode
#: (where one is not enough, the draw is redone or refined below: see `_integrate`).
_NEWTON_STEPS = 1
#: Each draw's grid: this many points over +-_GRID_SDS of its Laplace sd (the posteriors are
#: skewed, with one exponential tail). Even sums of a Gaussian are accurate to ~exp(-2 pi^2
#: (sd / step)^2) relative: 1e-11 at this step (0.875 sd). Skewed densities converge more
#: slowly: at steps of 0.8-1.0 sd their mean and sd stay within 3e-4 (of the sd) of a 4,801-point
#: grid, at 1.0-1.4 sd they drift to 1.4e-3, so the step is kept under one sd (below).
_GRID_POINTS = 17
_GRID_SDS = 7.0
#: A draw is redone on a wider grid when its density at an end of the grid exceeds this fraction
#: of its peak, and on a finer one when its sd is below the Laplace sd by more than this factor
#: (1.14 x 0.875: a step of at most one sd).
_EDGE_DENSITY = 1e-5
_SCALE_TOLERANCE = 1.14
_MAX_REDOS = 4
#: A redo narrows a grid at most this many times over: a density narrower than one step puts all
#: its weight on one point, where its sd reads 0, and a grid of width 0 has no evidence.
_MAX_NARROWING = 16.0
#: A draw's grid is refined while the log-density's second difference exceeds this where the
#: density matters (within `_NEGLIGIBLE` of its peak): a Gaussian on the 17-point grid has 0.77.
#: Smooth skewed ones have 1.0-1.3. A score near a benchmark's floor gives the posterior one
#: steep side (10-40 on that grid) whose mass sums on so coarse a grid misplace (quantiles off by
#: 0.1 sd); refined to this, every draw's mean and sd are within 1e-3 sd of a 5,601-point grid.
_ROUGHNESS = 2.0
#: ... and while the moments of every other grid point differ from all points' by more than this
#: (in sd): a side too steep for the step can pass the roughness test alone (`OSWorld=0.0`
#: alone: the worst draw's mean 2.9e-3 sd off, 1.8e-3 with this). 0.06 brings it to 2.7e-4
#: but refines a few draws of the 4-score query of `benchmarks/bench_query.py`, whose fixed
#: cost makes that query 10% slower; an error of 1e-3 sd in a few draws is far below the
#: Monte Carlo error of the answer (~1.6e-2 sd).
_HALF_GRID_AGREEMENT = 0.1
_NEGLIGIBLE = 25.0
_MAX_POINTS = 257
#: The grid pass is split over threads in chunks of at least this many (draw, grid point) cells.
#: Handing work to a thread and back costs ~0.5 ms on a shared 2-vCPU machine, as much as the
#: compiled loop spends on 20,000 cells: a 4-score query's passes (at most ~70,000 cells) ran
#: no faster on two threads than on one (19.9 against 19.0 ms, alternating), and chunks of
#: 2,000 cells made it 2.8 ms slower.
_CHUNK_CELLS = 100_000
_MAX_THREADS = 8
#: Read once: ``os.cpu_count`` costs ~60 us a call in some containers.
_CORES = os.cpu_count() or 1
#: Below this fraction of draws' effective sample size the reweighting is flagged.
_LOW_ESS_FRACTION = 0.1
#: How many of the most capable fitted models get a probability of being outranked.
DEFAULT_TOP = 5


@dataclass
class QueryResult(Result):
    """The posterior of one new model's capability and what follows from it.

    Attributes
    ----------
    name
        The new model's name.
    scores
        Its scores as used: ``benchmark``, ``score`` (fraction), ``n_items``, ``stderr``.
    capability
        Capability draws on the posterior's scale (equally weighted, one per posterior draw).
    draw_index
        For each capability draw, the posterior draw (flattened chain x draw) it pairs with.
    mean, sd
        Capability mean and sd (from the quadrature, not the draws).
    rank, percentile
        Draws of the rank among the fitted models (1 = most capable) and of the percentile
        (share of fitted models below, in %).
    n_fitted
        Number of models in the fit.
    p_above
        Probability that the new model is more capable than each of the top fitted models.
    predictions
        Per benchmark of the posterior (not those fitted from item-level responses): expected
        score ``mean``, ``lo``, ``hi`` and the interval of a new evaluation's score
        ``score_lo``, ``score_hi``; ``observed`` where given.
        Computed on first use (with its own seed, so the order of calls does not matter).
    weight_ess
        Effective sample size of the draw weights (a low value means the new scores disagree
        with much of the posterior: refitting with the model included is then safer).
    scale
        Description of the posterior's scale.
    ci_prob
        Probability mass of the reported intervals.
    """

    name: str
    scores: pd.DataFrame
    capability: np.ndarray
    draw_index: np.ndarray
    mean: float
    sd: float
    rank: np.ndarray
    percentile: np.ndarray
    n_fitted: int
    p_above: dict[str, float]
    weight_ess: float
    scale: str
    ci_prob: float = CI_PROB
    notes: list[str] = field(default_factory=list)
    _draws: _Draws | None = field(default=None, repr=False)
    _prediction_seed: int = field(default=0, repr=False)

    @cached_property
    def predictions(self) -> pd.DataFrame:
        """Predicted scores on every benchmark of the posterior (see the class attributes)."""
        rng = np.random.default_rng(self._prediction_seed)
        return _predictions(
            self._draws, self.draw_index, self.capability, self.scores, self.ci_prob, rng
        )

    def interval(self) -> tuple[float, float]:
        """Equal-tailed interval of the capability."""
        return _interval(self.capability, self.ci_prob)

    def to_dict(self) -> dict:
        """A JSON-ready summary (the keys of ``rosetta query --json``)."""
        lo, hi = self.interval()
        rank_lo, rank_hi = _interval(self.rank, self.ci_prob)
        pct_lo, pct_hi = _interval(self.percentile, self.ci_prob)
        predictions = {
            bench: {k: _num(v) for k, v in row.items() if not pd.isna(v)}
            for bench, row in self.predictions.iterrows()
        }
        return {
            "model": self.name,
            "scale": self.scale,
            "ci_prob": self.ci_prob,
            "n_scores": len(self.scores),
            "scores": dict(zip(self.scores["benchmark"], self.scores["score"], strict=True)),
            "capability": {"mean": self.mean, "sd": self.sd, "lo": lo, "hi": hi},
            "percentile": float(np.mean(self.percentile)),
            "percentile_interval": {"lo": pct_lo, "hi": pct_hi},
            "rank": {"median": float(np.median(self.rank)), "lo": rank_lo, "hi": rank_hi},
            "n_fitted_models": self.n_fitted,
            "p_above": self.p_above,
            "predictions": predictions,
            "weight_ess": self.weight_ess,
            "notes": self.notes,
        }

    def summary(self) -> str:
        """Capability, rank, percentile, outranking probabilities and predicted scores."""
        d = self.to_dict()
        cap, rank, pct = d["capability"], d["rank"], d["percentile_interval"]
        lines = [
            f"{self.name}: capability {cap['mean']:.3f} (sd {cap['sd']:.3f}; "
            f"{label(self.ci_prob)} interval {cap['lo']:.3f} to {cap['hi']:.3f})",
            f"  scale        {self.scale}",
            f"  rank         {rank['median']:.0f} of {self.n_fitted} fitted models "
            f"(interval {rank['lo']:.0f} to {rank['hi']:.0f})",
            f"  percentile   {d['percentile']:.1f} (interval {pct['lo']:.1f} to {pct['hi']:.1f})",
            *(f"  P(above {m}) = {p:.3f}" for m, p in self.p_above.items()),
            *(f"  note: {n}" for n in self.notes),
        ]
        if d["predictions"]:
            lines.append(
                "  predicted scores (expected score lo-hi; a new evaluation score_lo-score_hi)"
            )
        for bench, row in d["predictions"].items():
            seen = f"  observed {row['observed']:.3f}" if "observed" in row else ""
            lines.append(
                f"    {bench:<40} {row['mean']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]  "
                f"new [{row['score_lo']:.3f}, {row['score_hi']:.3f}]{seen}"
            )
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """Per benchmark: expected score and intervals, and the observed score where given."""
        return self.predictions.reset_index()

    def plot(self, *, path: str | Path | None = None):
        """Predicted scores on every benchmark with their intervals, observed scores marked."""
        from rosetta.plots import plot_query

        return plot_query(self, path=path)


@dataclass(frozen=True)
class Lookup(Result):
    """A score at a capability (`score_at`) or a capability at a score (`capability_at`).

    ``draws`` are the posterior draws of the answer; ``given`` the capability or score asked.
    """

    kind: str
    benchmark: str
    given: float
    draws: np.ndarray
    ci_prob: float = CI_PROB
    p_below_floor: float | None = None

    def to_dict(self) -> dict:
        """``benchmark``, the given ``capability`` or ``score``, ``mean``, ``lo``, ``hi``."""
        lo, hi = _interval(self.draws, self.ci_prob)
        given = "capability" if self.kind == "score_at" else "score"
        out = {"benchmark": self.benchmark, given: self.given}
        out.update(mean=float(self.draws.mean()), lo=lo, hi=hi)
        if self.p_below_floor is not None:
            out["p_below_floor"] = self.p_below_floor
        return out

    def summary(self) -> str:
        """One line with the answer and its interval."""
        d = self.to_dict()
        if self.kind == "score_at":
            asked = f"score on {self.benchmark} at capability {self.given:g}"
        else:
            asked = f"capability for a score of {self.given:g} on {self.benchmark}"
        return f"{asked}: {d['mean']:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"

    def plot_data(self) -> pd.DataFrame:
        """The posterior draws of the answer (column ``value``)."""
        return pd.DataFrame({"value": self.draws})

    def plot(self, *, path: str | Path | None = None):
        """Histogram of the answer's draws with its interval."""
        from rosetta.plots import plot_lookup

        return plot_lookup(self, path=path)


@dataclass
class QueryAnswers(Result):
    """The answers of one ``rosetta query``: new models placed, and score/capability lookups."""

    results: list[QueryResult]
    lookups: list[Lookup] = field(default_factory=list)
    #: Next-benchmark suggestions by model name (`rosetta.suggestion.Suggestions`), if asked.
    suggestions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """One model's keys at the top level, several under ``models``; lookups by kind."""
        models = [self._model_dict(r) for r in self.results]
        out = models[0] if len(models) == 1 else {}
        if len(models) > 1:
            out["models"] = models
        for kind in ("score_at", "capability_at"):
            rows = [look.to_dict() for look in self.lookups if look.kind == kind]
            if rows:
                out[kind] = rows
        return out

    def _model_dict(self, result: QueryResult) -> dict:
        out = result.to_dict()
        if result.name in self.suggestions:
            ranked = self.suggestions[result.name].to_dict()
            out["suggestions"] = ranked["suggestions"]
            out["notes"] = out.get("notes", []) + ranked["notes"]
        return out

    def summary(self) -> str:
        """Each model's summary (and suggestions), then a line per lookup."""
        blocks = [
            r.summary()
            + ("\n" + self.suggestions[r.name].summary() if r.name in self.suggestions else "")
            + "\n"
            for r in self.results
        ]
        return "\n".join(blocks + [look.summary() for look in self.lookups]).rstrip()

    def plot_data(self) -> pd.DataFrame:
        """One row per queried model: ``model``, ``mean`` and its interval."""
        rows = []
        for r in self.results:
            lo, hi = r.interval()
            rows.append({"model": r.name, "mean": r.mean, "lo": lo, "hi": hi})
        return pd.DataFrame(rows, columns=["model", "mean", "lo", "hi"])

    def plot(self, *, path: str | Path | None = None):
        """The queried models' capabilities with their intervals."""
        from rosetta.plots import plot_capabilities

        ci_prob = self.results[0].ci_prob if self.results else CI_PROB
        return plot_capabilities(self.plot_data(), ci_prob, columns=("lo", "hi"), path=path)


def query(
    posterior,
    scores: Mapping[str, object] | pd.DataFrame,
    *,
    name: str = "new model",
    top: int = DEFAULT_TOP,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> QueryResult:
    """Capability of a new model from its scores, conditional on a fitted posterior.

    Parameters
    ----------
    posterior
        A fit (`rosetta.fit` / `rosetta.load`), its ``posterior`` Dataset, or a ``.nc`` path.
    scores
        ``{benchmark: score}`` where a score is a fraction (``0.71``), a percent number (``71``:
        plain numbers above 1 are percentages) or a string (``"71%"``); or ``{benchmark:
        {"score": ..., "n_items": ..., "stderr": ...}}``; or a DataFrame with columns
        ``benchmark``, ``score`` and optionally ``n_items``, ``stderr``.
    name
        Name of the new model in the result.
    top
        Report the probability of outranking this many of the most capable fitted models.
    ci_prob
        Probability mass of the reported intervals.
    random_seed
        Seed of the resampling and of the predictive draws: the same query gives the same answer.

    Returns
    -------
    QueryResult
    """
    draws = _draws_of(posterior)
    observed = _as_score_frame(scores, name)
    _check_benchmarks(observed["benchmark"], draws)
    return _query_one(draws, observed, name, top, ci_prob, np.random.default_rng(random_seed))


def query_table(
    posterior,
    scores: pd.DataFrame | str | Path,
    *,
    layout: str = "auto",
    top: int = DEFAULT_TOP,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> dict[str, QueryResult]:
    """Query several new models at once from a long or wide table (or CSV path).

    A long table has ``model``, ``benchmark``, ``score`` (+ ``n_items``, ``stderr``); without a
    ``model`` column every row belongs to one model named after the file. A wide table has the
    model in its first column and one column per benchmark.

    Returns
    -------
    dict
        Model name -> `QueryResult`, in the table's order.
    """
    source = str(scores) if isinstance(scores, str | Path) else "DataFrame"
    frame = read_file(scores) if isinstance(scores, str | Path) else scores.copy()
    columns = {str(c).strip().lower() for c in frame.columns}
    if "model" not in columns and {"benchmark", "score"} <= columns:
        frame.insert(0, "model", Path(source).stem if source != "DataFrame" else "new model")
    raw = to_raw_long(frame, layout=layout, source=source)
    draws = _draws_of(posterior)
    _check_benchmarks(raw["benchmark"].astype(str).str.strip(), draws, source)
    rng = np.random.default_rng(random_seed)
    results = {}
    for model, rows in raw.groupby("model", sort=False):
        observed = _score_frame(rows.to_dict(orient="records"), source)
        results[str(model)] = _query_one(draws, observed, str(model), top, ci_prob, rng)
    return results


def score_at(posterior, benchmark: str, capability: float, *, ci_prob: float = CI_PROB) -> Lookup:
    """Expected score on ``benchmark`` of a model with the given capability (posterior scale).

    For a benchmark fitted from item-level responses, the mean of its items' curves
    (`rosetta.prediction.benchmark_scores`): that needs the fit (or its file), not its posterior.

    Returns
    -------
    Lookup
        The expected score's draws; ``to_dict()`` gives ``mean``, ``lo``, ``hi``.
    """
    fit = _lookup_source(posterior, benchmark)
    p = benchmark_scores(fit, np.array([float(capability)]), [benchmark])[:, 0]
    return Lookup("score_at", benchmark, float(capability), p, ci_prob)


def capability_at(posterior, benchmark: str, score: float, *, ci_prob: float = CI_PROB) -> Lookup:
    """Capability at which the expected score on ``benchmark`` equals ``score``.

    Draws where ``score`` is at or below the benchmark's floor have no such capability and are
    left out (their share is reported as ``p_below_floor``). Item benchmarks as in `score_at`.

    Returns
    -------
    Lookup
        The capability's draws; ``to_dict()`` gives ``mean``, ``lo``, ``hi``, ``p_below_floor``.
    """
    fit = _lookup_source(posterior, benchmark)
    value = _parse_one(score, f"score for {benchmark!r}")
    if not 0.0 < value < 1.0:
        raise DataValidationError([f"score {value:g} must lie strictly between 0 and 1"])
    theta = capability_reaching(fit, benchmark, value)
    reachable = np.isfinite(theta)
    if not reachable.any():
        raise DataValidationError([f"score {value:g} is at or below the floor of {benchmark!r}"])
    return Lookup(
        "capability_at", benchmark, value, theta[reachable], ci_prob, float(1 - reachable.mean())
    )


def _lookup_source(posterior, benchmark: str):
    """What a lookup reads: the posterior, or the whole fit for an item benchmark's file."""
    dataset = _as_posterior(posterior)
    _check_known([benchmark], pd.Index(dataset["benchmark"].to_numpy().astype(str)))
    if isinstance(posterior, str | Path):
        return load_fit(posterior) if benchmark in item_benchmarks(dataset) else dataset
    return posterior


# --- the computation -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draws:
    """Posterior draws flattened over (chain, draw) as plain arrays: ``(S,)`` or ``(S, J)``."""

    models: pd.Index
    benchmarks: pd.Index
    capability: np.ndarray
    difficulty: np.ndarray
    slope: np.ndarray
    floor: np.ndarray
    precision: np.ndarray | None
    sigma: np.ndarray | None
    zero_cutpoint: np.ndarray | None
    one_cutpoint: np.ndarray | None
    mu: np.ndarray
    sd: np.ndarray
    scale: str
    domains: tuple[str, ...] = ()
    dimensions: int = 0
    item_benchmarks: tuple[str, ...] = ()

    @classmethod
    def from_posterior(cls, posterior: xr.Dataset) -> _Draws:
        def flat(name):
            var = posterior.variables.get(name)
            return None if var is None else flat_draws(var)

        missing = [n for n in ("capability", "difficulty", "slope", "floor") if n not in posterior]
        if missing:
            raise DataValidationError([f"the posterior lacks {missing}"], "posterior")
        capability = flat("capability")
        info = fit_info(posterior)
        mu = capability.mean(axis=1)
        # One pass, no temporary: capabilities are O(1), so E[x^2] - mu^2 loses nothing.
        second = np.einsum("sm,sm->s", capability, capability) / capability.shape[1]
        sd = np.sqrt(np.maximum(second - mu**2, 0.0))
        return cls(
            models=pd.Index(posterior["model"].to_numpy().astype(str)),
            benchmarks=pd.Index(posterior["benchmark"].to_numpy().astype(str)),
            capability=capability,
            difficulty=flat("difficulty"),
            slope=flat("slope"),
            floor=flat("floor"),
            precision=flat("precision"),
            sigma=flat("sigma"),
            zero_cutpoint=flat("zero_cutpoint"),
            one_cutpoint=flat("one_cutpoint"),
            mu=mu,
            sd=sd,
            scale=info.scale_description,
            domains=tuple(domain_names(posterior)),
            dimensions=int(posterior.sizes.get(DIMENSION, 0)),
            item_benchmarks=info.item_benchmarks,
        )

    @property
    def n_draws(self) -> int:
        return self.capability.shape[0]

    @cached_property
    def ranking(self) -> np.ndarray:
        """The fitted models, most capable (posterior mean) first."""
        return np.argsort(-self.capability.mean(axis=0))

    def take(self, index: np.ndarray | None, columns: np.ndarray) -> dict:
        """Benchmark parameters of draws ``index`` (rows; None: all) and benchmarks ``columns``."""
        if index is None:
            index = slice(None)
        names = ("difficulty", "slope", "floor", "precision")
        # Columns first: a query reads a few benchmarks of every draw.
        out = {
            name: getattr(self, name).take(columns, axis=1)[index]
            for name in names
            if getattr(self, name) is not None
        }
        for name in ("sigma", "zero_cutpoint", "one_cutpoint"):
            value = getattr(self, name)
            out[name] = None if value is None else value[index][:, None]
        return out


def _query_one(
    draws: _Draws, observed: pd.DataFrame, name: str, top: int, ci_prob: float, rng
) -> QueryResult:
    notes = []
    if draws.domains:
        notes.append(
            f"bifactor fit ({', '.join(draws.domains)}): a new model's domain deviations are "
            "taken as 0, so this is its general capability and its predictions ignore domain "
            "strengths; refit with its scores for a domain profile"
        )
    if draws.dimensions:
        notes.append(
            f"{draws.dimensions} learned dimensions: a new model's dimension scores are taken as "
            "0, so this is its general capability and its predictions follow the general "
            "factor alone; refit with its scores for its profile on the dimensions"
        )
    # Here, not at the top: numba loads in ~0.3 s, which only a query needs to pay.
    from rosetta.grid_loglik import count_above

    if draws.item_benchmarks:
        notes.append(
            f"no predicted scores on {', '.join(draws.item_benchmarks)}: fitted from item-level "
            "responses, their expected score is the mean of their items' curves "
            "(`rosetta.predict` with the fit gives it)"
        )
    loglik = _LogLik(draws, observed, notes)
    densities = _integrate(loglik, draws.n_draws)
    cond_mean, cond_sd, log_evidence = densities.mean, densities.sd, densities.log_evidence
    if densities.unresolved:
        notes.append(
            f"{densities.unresolved} of {draws.n_draws} draws' capability densities were not "
            "resolved by their grids (mass beyond an end, or a side steeper than the finest "
            "grid): their moments may be off by ~1% of their sd"
        )

    weights = _truncated_weights(log_evidence)
    weight_ess = float(1.0 / np.sum(weights**2))
    if weight_ess < _LOW_ESS_FRACTION * draws.n_draws:
        notes.append(
            f"the scores move the benchmark parameters a lot (weight ESS {weight_ess:.0f} of "
            f"{draws.n_draws} draws): refitting with this model is safer"
        )
    index = _systematic_resample(weights, rng)
    u = densities.sample(index, rng)
    capability = draws.mu[index] + draws.sd[index] * u

    mean_theta = draws.mu + draws.sd * cond_mean
    mean = float(np.sum(weights * mean_theta))
    second = np.sum(weights * (mean_theta**2 + (draws.sd * cond_sd) ** 2))
    sd = float(math.sqrt(max(second - mean**2, 0.0)))

    n_above = count_above(draws.capability, index, capability)
    rank = 1 + n_above
    # Capabilities are continuous: no fitted model ties the new one.
    percentile = 100.0 * (1.0 - n_above / len(draws.models))
    leaders = draws.ranking[: max(top, 0)]
    p_above = {
        str(draws.models[k]): float(np.mean(draws.capability[index, k] <= capability))
        for k in leaders
    }

    return QueryResult(
        name=name,
        scores=observed,
        capability=capability,
        draw_index=index,
        mean=mean,
        sd=sd,
        rank=rank,
        percentile=percentile,
        n_fitted=len(draws.models),
        p_above=p_above,
        _draws=draws,
        _prediction_seed=int(rng.integers(2**63)),
        weight_ess=weight_ess,
        scale=draws.scale,
        ci_prob=ci_prob,
        notes=notes,
    )


class _LogLik:
    """``log N(u; 0, 1) + sum_j log L(y_j | mu_s + sd_s * u)`` on a grid of ``u``, per draw.

    The likelihood is the fit's, evaluated by the compiled loop of `rosetta.grid_loglik`.
    """

    def __init__(self, draws: _Draws, observed: pd.DataFrame, notes: list[str]) -> None:
        # Here, not at the top: numba loads in ~0.3 s, which only a query needs to pay.
        from rosetta.grid_loglik import grid_loglik, score_constants, score_kinds

        self.kernel = grid_loglik
        self.draws = draws
        columns = draws.benchmarks.get_indexer(observed["benchmark"])
        n_items = observed["n_items"].to_numpy(dtype=float)
        stderr = observed["stderr"].to_numpy(dtype=float)
        y = read_ends(observed["score"].to_numpy(dtype=float), n_items, draws, notes)
        kind = score_kinds(y, n_items, stderr, beta=draws.precision is not None)
        # Every draw's parameters for these scores, gathered once.
        par = draws.take(None, columns)
        per_draw = {
            name: np.full(draws.n_draws, np.nan) if par[name] is None else par[name][:, 0]
            for name in ("sigma", "zero_cutpoint", "one_cutpoint")
        }
        precision = par.get("precision")
        unused = np.zeros_like(par["slope"])  # a Normal fit has no precision
        self.scores = (kind, y, n_items, stderr)
        self.par = (
            par["slope"],
            par["difficulty"],
            par["floor"],
            unused if precision is None else precision,
            unused if precision is None else score_constants(kind, y, n_items, precision),
            per_draw["sigma"],
            per_draw["zero_cutpoint"],
            per_draw["one_cutpoint"],
        )

    def __call__(self, index: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Evaluate draws ``index`` on ``grid`` (shared, or one row per draw), on all cores.

        The compiled loop releases the GIL, so threads share the work; small work stays in one
        chunk.
        """
        cells = len(index) * np.shape(grid)[-1]
        chunks = min(_CORES, _MAX_THREADS, cells // _CHUNK_CELLS, len(index))
        if chunks <= 1:
            return self._evaluate(index, grid)
        bounds = np.linspace(0, len(index), chunks + 1).astype(int)
        rows = [slice(lo, hi) for lo, hi in pairwise(bounds)]
        per_row = np.ndim(grid) == 2
        parts = _pool().map(lambda r: self._evaluate(index[r], grid[r] if per_row else grid), rows)
        return np.concatenate(list(parts))

    def _evaluate(self, index: np.ndarray, grid: np.ndarray) -> np.ndarray:
        d = self.draws
        # A contiguous run of draws is a view, not a copy.
        rows = slice(index[0], index[-1] + 1) if np.all(np.diff(index) == 1) else index
        par = [v[rows] for v in self.par]
        theta = d.mu[rows, None] + d.sd[rows, None] * grid  # (S, G)
        # Far out on a grid an expected score can round to exactly 0 or 1: its log-likelihood is
        # then -inf (no density there), which is right.
        loglik = self.kernel(np.ascontiguousarray(theta), *self.scores, *par)
        return loglik - 0.5 * grid**2 - 0.5 * math.log(2 * math.pi)


def score_loglik(
    y,
    n_items,
    stderr,
    p,
    q,
    *,
    sigma=None,
    precision=None,
    gammaln_precision=None,
    zero_cutpoint=None,
    one_cutpoint=None,
) -> np.ndarray:
    """Log-likelihood of scores ``y`` (last axis, grouped by `likelihood_branch`) at ``p``.

    The fit's likelihood: Normal with sd ``sigma`` without ``precision``, else ordered Beta or
    beta-binomial (where ``n_items`` is known); a reported ``stderr`` adds to the spread (the
    score is then read as Normal around ``p``). Parameters broadcast against ``p``.
    """
    has_se = np.isfinite(stderr)
    if precision is None:
        return normal_logp(y, p, np.sqrt(sigma**2 + np.where(has_se, stderr, 0.0) ** 2))
    precision = np.broadcast_to(precision, np.shape(p))
    loglik = beta_family_logp(
        y,
        n_items,
        p,
        q,
        precision,
        np.broadcast_to(gammaln_precision, np.shape(p)),
        zero_cutpoint,
        one_cutpoint,
    )
    if has_se.any():
        # A reported standard error widens the benchmark's own residual spread.
        spread = np.sqrt(p * q / (1 + precision) + np.where(has_se, stderr, 0.0) ** 2)
        loglik = np.where(has_se, normal_logp(y, p, spread), loglik)
    return loglik


def read_ends(y: np.ndarray, n_items: np.ndarray, draws: _Draws, notes: list[str]) -> np.ndarray:
    """Plain scores of exactly 0 or 1 where the fit has no point mass there, read just inside."""
    if draws.precision is None:
        return y
    counted = np.isfinite(n_items)
    ends = ((0.0, draws.zero_cutpoint, 1e-3), (1.0, draws.one_cutpoint, 1 - 1e-3))
    for end, cut, value in ends:
        hit = (y == end) & ~counted
        if hit.any() and cut is None:
            notes.append(f"the fit saw no score of exactly {end:g}; read as {value:g} instead")
            y = np.where(hit, value, y)
    return y


@cache
def _pool() -> ThreadPoolExecutor:
    """One pool of worker threads for the whole process, started on first use."""
    return ThreadPoolExecutor(min(_CORES, _MAX_THREADS))


@dataclass
class _Densities:
    """Every draw's density of ``u`` on an even grid of its own, with its mean, sd and evidence.

    ``blocks`` are ``(draws, grid, log_density)``: the draws (ascending) whose grids have the same
    number of points, and their ``(draw, point)`` grids and log-densities.
    """

    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    mean: np.ndarray
    sd: np.ndarray
    log_evidence: np.ndarray
    #: Draws whose density still reached an end of its grid after the redos, or was still too
    #: coarse at `_MAX_POINTS`: their moments may be off by ~1e-2 sd.
    unresolved: int = 0

    def sample(self, index: np.ndarray, rng) -> np.ndarray:
        """One value of ``u`` from the density of each draw in ``index`` (draws may repeat)."""
        u = np.full(len(index), np.nan)
        for ids, grid, log_density in self.blocks:
            rows = np.minimum(np.searchsorted(ids, index), len(ids) - 1)
            at = np.flatnonzero(ids[rows] == index)
            if at.size:
                mean, sd = self.mean[index[at]], self.sd[index[at]]
                rows = rows[at]
                u[at] = _sample_grid(log_density[rows], grid[rows], mean, sd, rng)
        return u


def _integrate(loglik: _LogLik, n_draws: int) -> _Densities:
    """Each draw's density of ``u`` on its own even grid, with its mean, sd and log evidence.

    A pilot on a wide grid over a subset of draws gives a first centre and scale; a
    finite-difference Newton step per draw moves them to the draw's mode and Laplace sd; the
    grid spans +-7 of those sds. A draw whose density still reaches an end of its grid is
    evaluated again on a wider grid, one much narrower than its Laplace sd on a finer one,
    centred on its mean; one whose density is too rough for its grid (a steep side) on finer
    ones (`_refine`).
    """
    pilot = np.linspace(0, n_draws - 1, min(_PILOT_DRAWS, n_draws)).astype(int)
    first = _summarise(loglik(pilot, _PILOT_GRID), _PILOT_GRID)
    everyone = np.arange(n_draws)
    centre = np.full(n_draws, np.median(first.mean))
    scale = np.full(n_draws, max(float(np.median(first.sd)), 1e-3))
    for _ in range(_NEWTON_STEPS):
        centre, scale = _newton_step(loglik, everyone, centre, scale)
    unit = np.linspace(-_GRID_SDS, _GRID_SDS, _GRID_POINTS)
    grid = centre[:, None] + scale[:, None] * unit
    log_density = loglik(everyone, grid)
    summary = _summarise(log_density, grid)
    widened = np.zeros(n_draws, dtype=bool)
    for _ in range(_MAX_REDOS):
        edges = _edges(summary)
        # Once widened, a grid is not narrowed again: a density with a peak and a long tail
        # would swing between the two (`_refine` resolves its peak instead).
        redo = edges | (~widened & (summary.sd * _SCALE_TOLERANCE < scale))
        if not redo.any():
            break
        widened |= edges
        narrower = np.maximum(summary.sd[redo], scale[redo] / _MAX_NARROWING)
        scale[redo] = np.where(edges[redo], 1.5 * scale[redo], narrower)
        grid[redo] = summary.mean[redo, None] + scale[redo, None] * unit
        log_density[redo] = loglik(everyone[redo], grid[redo])
        for whole, part in zip(summary, _summarise(log_density[redo], grid[redo]), strict=True):
            whole[redo] = part
    unresolved = int(_edges(summary).sum())
    rough = ~_fine_enough(grid, summary)
    blocks = [(everyone[~rough], grid[~rough], log_density[~rough])]
    if rough.any():
        refined, coarse = _refine(loglik, everyone[rough], grid[rough], log_density[rough], summary)
        blocks, unresolved = blocks + refined, unresolved + coarse
    blocks = [b for b in blocks if len(b[0])]
    return _Densities(blocks, summary.mean, summary.sd, summary.log_evidence, unresolved)


def _refine(loglik, ids, grid, log_density, summary: _Summary) -> tuple[list, int]:
    """Finer grids for draws ``ids``: halved steps until their densities are smooth on them.

    The grids are first cut to the points where the density is not negligible, plus one step
    each side, on a window of the same length for every draw (the longest needed); each halving
    evaluates only the new midpoints. Draws leave as their grids become fine enough
    (`_fine_enough`), as blocks of `_Densities`, or at `_MAX_POINTS` (counted: the second value
    returned); each one's entries of ``summary`` (every draw's) are then those of its last grid.
    """
    n_points = grid.shape[1]
    matters = log_density - log_density.max(axis=1, keepdims=True) > -_NEGLIGIBLE
    first = matters.argmax(axis=1)
    last = n_points - 1 - matters[:, ::-1].argmax(axis=1)
    # A draw with no density anywhere (all -inf) does not widen everyone's window.
    steps = min(n_points - 1, int(np.max(last - first, where=matters.any(axis=1), initial=0)) + 2)
    start = np.clip(first - 1, 0, n_points - 1 - steps)
    window = (np.arange(len(ids))[:, None], start[:, None] + np.arange(steps + 1))
    grid, log_density = grid[window], log_density[window]
    blocks, coarse = [], 0
    while len(ids):
        current = _summarise(log_density, grid)
        fine = _fine_enough(grid, current)
        done = fine | (2 * grid.shape[1] - 1 > _MAX_POINTS)
        coarse += int((done & ~fine).sum())
        if done.any():
            blocks.append((ids[done], grid[done], log_density[done]))
            for whole, part in zip(summary, current, strict=True):
                whole[ids[done]] = part[done]
        ids, grid, log_density = ids[~done], grid[~done], log_density[~done]
        if len(ids):
            midpoints = (grid[:, 1:] + grid[:, :-1]) / 2
            grid = _interleave(grid, midpoints)
            log_density = _interleave(log_density, loglik(ids, midpoints))
    return blocks, coarse


def _interleave(points: np.ndarray, midpoints: np.ndarray) -> np.ndarray:
    """Rows of ``points`` with ``midpoints`` between them."""
    out = np.empty((len(points), points.shape[1] + midpoints.shape[1]))
    out[:, ::2], out[:, 1::2] = points, midpoints
    return out


def _fine_enough(grid, summary: _Summary) -> np.ndarray:
    """Per draw, whether its grid is fine enough for its density (`_summarise`).

    A step of at most one sd, a log-density smooth at that step (its second difference at most
    `_ROUGHNESS` where the density matters, a Gaussian on the first grid has 0.77), and the
    moments of every other point alone within `_HALF_GRID_AGREEMENT` sd of all points'.
    """
    with np.errstate(invalid="ignore"):
        gap = np.maximum(
            np.abs(summary.half_mean - summary.mean), np.abs(summary.half_sd - summary.sd)
        )
        agree = gap <= _HALF_GRID_AGREEMENT * summary.sd
    step = grid[:, 1] - grid[:, 0]
    return (step <= summary.sd) & (summary.roughness <= _ROUGHNESS) & agree


def _newton_step(loglik, index, centre, scale):
    """One Newton step per draw on finite differences at ``centre +- scale``.

    Where the log-density is not concave there, the centre moves two scales uphill instead.
    """
    f_minus, f_0, f_plus = loglik(index, centre[:, None] + scale[:, None] * [-1.0, 0.0, 1.0]).T
    slope = (f_plus - f_minus) / (2 * scale)
    curvature = (f_plus - 2 * f_0 + f_minus) / scale**2
    concave = curvature < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(concave, -slope / curvature, 2 * scale * np.sign(slope))
        new_scale = np.where(concave, 1 / np.sqrt(-curvature), scale)
    step = np.clip(step, -3 * scale, 3 * scale)
    return centre + step, np.clip(new_scale, 1e-3, 10.0)


def _edges(summary: _Summary) -> np.ndarray:
    """Per draw, whether its density at an end of its grid exceeds `_EDGE_DENSITY` of its peak."""
    return summary.end_drop > math.log(_EDGE_DENSITY)


class _Summary(NamedTuple):
    """Per draw, what `_integrate` reads off a density on its grid (`_summarise`)."""

    mean: np.ndarray
    sd: np.ndarray
    log_evidence: np.ndarray
    #: the mean and sd from every other grid point alone (from the first)
    half_mean: np.ndarray
    half_sd: np.ndarray
    #: the largest second difference of the log-density where the density matters (NaN where
    #: it drops to exactly zero beside mass: read as rough)
    roughness: np.ndarray
    #: the higher end's log-density below the peak
    end_drop: np.ndarray


def _summarise(log_density: np.ndarray, grid: np.ndarray) -> _Summary:
    """`_Summary` of densities on even grids: one ``(point,)`` for all draws or one per draw.

    One compiled pass per draw (`rosetta.grid_loglik.density_summary`).
    """
    from rosetta.grid_loglik import density_summary

    grid = np.broadcast_to(grid, log_density.shape)
    return _Summary(*density_summary(grid, log_density, _NEGLIGIBLE))


def _sample_grid(log_density, grid, mean, sd, rng) -> np.ndarray:
    """One draw per row from the piecewise-linear interpolant of ``exp(log_density)``.

    Each draw keeps the exact ``mean`` and ``sd`` of its row (`rosetta.grid_loglik.sample_rows`).
    """
    from rosetta.grid_loglik import sample_rows

    pick, position = rng.random(len(log_density)), rng.random(len(log_density))
    grid = np.broadcast_to(grid, log_density.shape)
    return sample_rows(grid, log_density, mean, sd, pick, position)


def _truncated_weights(log_evidence: np.ndarray) -> np.ndarray:
    """Normalised importance weights, each capped at ``sqrt(S)`` times their mean.

    Truncated importance sampling (Ionides 2008): when the new scores sit badly with some
    benchmark draws, a handful of weights would otherwise carry the whole answer.
    """
    # A draw with no density on its grid (NaN evidence) gets no weight.
    log_evidence = np.where(np.isnan(log_evidence), -np.inf, log_evidence)
    weights = np.exp(log_evidence - log_evidence.max())
    weights = np.minimum(weights, weights.mean() * math.sqrt(len(weights)))
    return weights / weights.sum()


def _systematic_resample(weights: np.ndarray, rng) -> np.ndarray:
    positions = (rng.random() + np.arange(len(weights))) / len(weights)
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), len(weights) - 1)


def _predictions(draws, index, capability, observed, ci_prob, rng) -> pd.DataFrame:
    """The new model's expected and new-evaluation scores on the posterior's benchmarks.

    Benchmarks fitted from item-level responses are left out: their expected score is the mean
    of their items' curves, whose parameters the query's draws do not hold, and they have no
    benchmark-level score noise for a new evaluation's.
    """
    columns = np.flatnonzero(~draws.benchmarks.isin(draws.item_benchmarks))
    par = draws.take(index, columns)
    p, _ = expected_score(par["slope"] * (capability[:, None] - par["difficulty"]), par["floor"])
    noisy = draw_scores(
        p,
        precision=par.get("precision"),
        sigma=par["sigma"],
        zero_cutpoint=par["zero_cutpoint"],
        one_cutpoint=par["one_cutpoint"],
        rng=rng,
    )
    n = p.shape[1]
    lower, upper = interval(np.concatenate([p, noisy], axis=1), ci_prob, axis=0)
    frame = pd.DataFrame(
        {
            "mean": p.mean(axis=0),
            "lo": lower[:n],
            "hi": upper[:n],
            "score_lo": lower[n:],
            "score_hi": upper[n:],
        },
        index=pd.Index(draws.benchmarks[columns], name="benchmark"),
    )
    frame["observed"] = observed.set_index("benchmark")["score"].reindex(frame.index)
    return frame


# --- input -----------------------------------------------------------------------------------


def _draws_of(posterior) -> _Draws:
    """The draws of a fit, a posterior Dataset or a ``.nc`` path.

    A fit's are made once and kept on it (`rosetta.Fit.query_draws`).
    """
    if isinstance(posterior, Fit):
        return posterior.query_draws
    return _Draws.from_posterior(_as_posterior(posterior))


def _as_posterior(posterior) -> xr.Dataset:
    if isinstance(posterior, str | Path):
        return load_posterior(posterior)
    if isinstance(posterior, xr.Dataset):
        return posterior
    if hasattr(posterior, "posterior"):
        return posterior.posterior
    raise TypeError(
        f"expected a fit, a posterior Dataset or a .nc path, got {type(posterior).__name__}"
    )


def _as_score_frame(scores, name: str) -> pd.DataFrame:
    if isinstance(scores, pd.DataFrame):
        frame = scores.rename(columns=lambda c: str(c).strip().lower())
        records = frame.to_dict(orient="records")
    elif isinstance(scores, Mapping):
        records = [
            {"benchmark": bench, **(value if isinstance(value, Mapping) else {"score": value})}
            for bench, value in scores.items()
        ]
    else:
        raise TypeError(f"scores must be a mapping or a DataFrame, got {type(scores).__name__}")
    for record in records:
        record["where"] = f"{name}: benchmark {record.get('benchmark')!r}"
    return _score_frame(records, name)


def _score_frame(records: list[dict], source: str) -> pd.DataFrame:
    """Parse and check one model's scores (plain Python: a query has a handful of them).

    Returns a frame with ``benchmark``, ``score``, ``n_items`` and ``stderr``.
    """
    if not records or any("score" not in r or "benchmark" not in r for r in records):
        raise DataValidationError(["no scores given: a query needs at least one score"], source)
    rows, lines = [], []
    for record in records:
        bench = str(record["benchmark"]).strip()
        score, problem = _parse_score(record["score"])
        problems = [problem] if problem else []
        extra = {}
        for column, low, high in (("n_items", 1.0, math.inf), ("stderr", 0.0, 1.0)):
            value, problem = _parse_number(record.get(column), column)
            if not problem and not (math.isnan(value) or low <= value <= high):
                problem = f"{column} {value:g} outside [{low:g}, {high:g}]"
            problems += [problem] if problem else []
            extra[column] = value
        if problems:
            lines.append(f"{record.get('where', bench)}: {'; '.join(problems)}")
        rows.append((bench, score, extra["n_items"], extra["stderr"]))
    names = [row[0] for row in rows]
    lines += [
        f"benchmark {b!r} is given more than once"
        for b in sorted({b for b in names if names.count(b) > 1})
    ]
    if lines:
        raise DataValidationError(lines, source)
    return pd.DataFrame(rows, columns=["benchmark", "score", "n_items", "stderr"])


def _parse_score(cell) -> tuple[float, str]:
    """A fraction, a percent string, or a plain number above 1 read as a percentage."""
    value, problem = parse_cell(cell, 1.0)
    if problem:
        return value, problem
    if not str(cell).strip().endswith("%") and 1 < value <= 100:
        value /= 100
    if not 0.0 <= value <= 1.0:
        return value, f"score {value:g} outside [0, 1] (or 0-100%)"
    return value, ""


def _parse_number(cell, column: str) -> tuple[float, str]:
    """An optional number: blanks give NaN, anything else must parse."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or not str(cell).strip():
        return math.nan, ""
    try:
        return float(cell), ""
    except (TypeError, ValueError):
        return math.nan, f"non-numeric {column} {cell!r}"


def _parse_one(value, what: str) -> float:
    score, problem = _parse_score(value)
    if problem:
        raise DataValidationError([f"{what}: {problem}"])
    return score


def _check_known(names, known: pd.Index, source: str | None = None) -> None:
    """Every benchmark of ``names`` is one of ``known`` (else a did-you-mean error)."""
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        raise DataValidationError(
            [
                f"benchmark {n!r} is not in the posterior{did_you_mean(n, list(known))}"
                for n in unknown
            ],
            source,
        )


def _check_benchmarks(names: pd.Series, draws: _Draws, source: str | None = None) -> None:
    _check_known(names, draws.benchmarks, source)
    items = [n for n in dict.fromkeys(names) if n in draws.item_benchmarks]
    if items:
        raise DataValidationError(
            [
                f"benchmark(s) {items} were fitted from item-level responses: the posterior "
                "describes their items, not a score's noise, so a benchmark-level score there "
                "cannot be weighed; fit the new model's responses with the others instead"
            ],
            source,
        )


def _interval(values: np.ndarray, ci_prob: float) -> tuple[float, float]:
    lo, hi = interval(values, ci_prob, axis=None)
    return float(lo), float(hi)


def _num(value):
    return float(value) if isinstance(value, float | np.floating | int | np.integer) else value
