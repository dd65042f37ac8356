"""Algorithmic progress: how much capability comes from better methods rather than more compute.

The model (``method="bayesian"``, the default) is one hierarchical regression on the anchored
capability scale, fitted in PyMC::

    capability_m = a_f + k_f * log10(compute_m) + g * years_m + e_m,   e_m ~ Normal(0, sigma)
    k_f ~ Normal(k, k_sd),   a_f ~ Normal(a + gamma * mean_f log10(compute), a_sd)

(f: the family of model m).

- ``k`` (capability per factor 10 of training compute) is the population mean of the family
  slopes ``k_f``: a family of two sizes borrows strength from the others. The family's mean
  log-compute in its intercept (Mundlak's device) keeps ``k`` a within-family slope, as in the
  reference analysis: without it, the pooled intercepts let families that spent more compute
  (and differ in recipe) pull ``k`` (0.51 instead of 0.62 on the bundled data). ``gamma`` is the
  extra slope between families;
- ``g`` (capability per year at fixed compute) comes from how families of different dates sit
  against their compute; family intercepts are pooled, so a one-model family informs ``g`` too;
- the capability posterior's uncertainty enters as a measurement error: the fit's draws are
  first put on one common frame draw by draw (the shift and stretch of the anchor scale, which
  cancel in ``g / k``, are taken out), and their covariance over models is added to
  ``sigma**2 I``; the stretch is put back into the reported ``k`` and ``g`` draw by draw.

Sign conventions: capability rises with compute (``k > 0``) and with time at fixed compute
(``g > 0``). The compute-equivalent **efficiency gain per year** is ``10 ** (g / k)``: the factor
of training compute that a year of algorithmic progress saves at fixed capability; the
**compute halving time** is ``12 * log10(2) / (g / k)`` months.

``method="two-stage"`` is the reference analysis: ``k`` from within-family regressions (one
intercept per family) and then the trend of ``b = capability - k log10(compute)`` over date, per
posterior draw of the capabilities. The sensitivity table crosses the method, distilled models
out/in, and the population of the date trend (all models, or the frontier: models more capable
than everything released before them in at least half the draws, with ``k`` from all families).

Two **direct observations** need no regression on compute: at fixed capability (capability
buckets), the compute of the most compute-efficient models of their day falls by a factor per
year; at fixed compute (decades of compute), capability rises per year.

**Family rule** (`model_family`): the model id, lower-cased, with release-date stamps, reasoning
settings (``_high``), sizes (``7b``, ``8x7b``, ``17b-128e``), and the suffixes ``instruct``,
``chat``, ``base``, ``it``, ``hf``, ``fp8`` and dotted version tags (``v0.1``) removed:
``Llama-2-7b`` and ``Llama-2-70b`` are both ``llama-2``; ``Meta-Llama-3-70B-Instruct`` is
``meta-llama-3``; ``falcon-7b`` and ``falcon-40b`` are ``falcon``. Within a name, models released
more than `FAMILY_WINDOW_DAYS` after the first member open a new family (``falcon-11b``, a year
later, is another generation). Families whose members all have the same compute inform ``k``
only through the prior.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.errors import InsufficientDataError
from rosetta.families import model_family
from rosetta.fitted import as_fit
from rosetta.intervals import describe, interval, summarise
from rosetta.results import Result
from rosetta.trends import (
    FRONTIER_PROBABILITY,
    YEAR_DAYS,
    draw_matrix,
    frontier_mask,
    release_dates,
)

log = logging.getLogger("rosetta")

#: Members of a name family released further apart than this start a new family (a new
#: generation under an old name, e.g. falcon-11b a year after falcon-7b).
FAMILY_WINDOW_DAYS = 90
#: The estimators of `progress`.
METHODS = ("bayesian", "two-stage")
#: NUTS settings of the Bayesian regression (a few dozen parameters: short runs suffice).
REGRESSION_DRAWS = 1500
REGRESSION_TUNE = 1000
REGRESSION_CHAINS = 2
#: Spreads near zero (few families, precise capabilities) bend the geometry: small steps.
REGRESSION_TARGET_ACCEPT = 0.95
#: Capability draws used by the direct observations (each draw is a set of bucket regressions).
DIRECT_DRAWS = 400
#: A direct-observation bucket needs this many models (or record-setters) and years of dates.
DIRECT_MIN_POINTS = 3
DIRECT_MIN_YEARS = 0.5
#: Equal-width capability buckets spanning the middle 90% of the capabilities.
CAPABILITY_BUCKETS = 4


@dataclass
class ProgressResult(Result):
    """Algorithmic progress of a fitted posterior (see `progress`).

    ``k`` and ``trend`` are draws of the population compute slope and of ``g`` (capability per
    year at fixed compute), on the fit's anchored scale; ``k_by_family`` holds draws of each
    family's slope (Bayesian method) or of the common within-family slope (two-stage).
    """

    method: str
    k: np.ndarray
    trend: np.ndarray
    k_by_family: dict[str, np.ndarray]
    models: pd.DataFrame
    variants: pd.DataFrame
    direct: dict
    excluded: dict[str, int]
    include_distilled: bool
    scale: str
    diagnostics: dict = field(default_factory=dict)
    ci_prob: float = CI_PROB
    notes: list[str] = field(default_factory=list)

    @property
    def efficiency_gain(self) -> np.ndarray:
        """Draws of the compute-equivalent efficiency gain per year, ``10 ** (g / k)``."""
        return _gain(self.trend, self.k)

    @property
    def halving_time_months(self) -> np.ndarray:
        """Draws of the compute halving time in months (inf/negative when no progress)."""
        return _halving(self.trend, self.k)

    def to_dict(self) -> dict:
        """A JSON-ready summary (the keys of ``rosetta progress --json``)."""
        informing = self.models.loc[self.models["informs_k"], "family"]
        return {
            "method": self.method,
            "scale": self.scale,
            "ci_prob": self.ci_prob,
            "n_models": len(self.models),
            "models_by_compute_source": _source_counts(self.models),
            "n_families_informing_k": int(informing.nunique()),
            "families_informing_k": {
                f: sorted(informing.index[informing == f]) for f in sorted(informing.unique())
            },
            "include_distilled": self.include_distilled,
            "excluded": self.excluded,
            "k": summarise(self.k, self.ci_prob),
            "k_by_family": {f: summarise(d, self.ci_prob) for f, d in self.k_by_family.items()},
            "b_growth_per_year": summarise(self.trend, self.ci_prob),
            "efficiency_gain_per_year": summarise(self.efficiency_gain, self.ci_prob),
            "halving_time_months": _halving_summary(self.trend / self.k, self.ci_prob),
            "direct": self.direct,
            "diagnostics": self.diagnostics,
            "variants": self.variants.reset_index().to_dict(orient="records"),
            "notes": self.notes,
        }

    def summary(self) -> str:
        """Estimates, per-family slopes, direct observations, sensitivity and diagnostics."""
        d = self.to_dict()

        def text(key, unit=""):
            return describe(d[key], self.ci_prob, unit=unit)

        sources = ", ".join(f"{n} {s}" for s, n in d["models_by_compute_source"].items())
        direct = {
            key: describe(self.direct[key], self.ci_prob, unit=unit)
            for key, unit in (
                ("compute_reduction_per_year", "x"),
                ("capability_gain_per_year", ""),
                ("compute_equivalent_gain_per_year", "x"),
            )
        }
        lines = [
            f"method: {self.method}; {d['n_models']} models with a release date and training "
            f"compute ({sources}; distilled "
            f"{'included' if self.include_distilled else 'excluded'}); excluded: "
            + ", ".join(f"{n} {why}" for why, n in self.excluded.items() if n),
            f"k (capability per 10x compute)   {text('k')}",
            f"g (growth per year, fixed compute) {text('b_growth_per_year')}",
            f"efficiency gain per year         {text('efficiency_gain_per_year', 'x')}",
            f"compute halving time             {text('halving_time_months', ' months')}",
            f"k by family ({d['n_families_informing_k']} families with several sizes):",
            *(
                f"  {family:<24} {describe(d['k_by_family'][family], self.ci_prob)}  "
                + ", ".join(members)
                for family, members in d["families_informing_k"].items()
            ),
            "direct observations (no regression on compute):",
            "  compute reduction per year at fixed capability  "
            + direct["compute_reduction_per_year"],
            "  capability gain per year at fixed compute       "
            + direct["capability_gain_per_year"]
            + "  = "
            + direct["compute_equivalent_gain_per_year"]
            + " compute-equivalent",
            "sensitivity (median gain per year [interval], median halving time):",
            *(_variant_line(row) for row in d["variants"]),
        ]
        if self.diagnostics:
            diag = self.diagnostics
            lines.append(
                f"regression sampler: max R-hat {diag['max_rhat']:.3f}, min ESS "
                f"{diag['min_ess']:.0f}, {diag['divergences']} divergences"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """Per model: family, compute, release date, capability mean and interval."""
        return self.models

    def plot(self, *, path: str | Path | None = None):
        """Capability against training compute with a line per family informing ``k``."""
        from rosetta.plots import plot_progress

        return plot_progress(self, path=path)


def _variant_line(row: dict) -> str:
    halving = row["halving_months_median"]
    return (
        f"  {row['method']:<9} distilled {row['distilled']:<9} {row['population']:<8} "
        f"n={row['n_models']:<4} k {row['k_median']:.2f}  gain {row['gain_median']:.2f}x "
        f"[{row['gain_lo']:.2f}, {row['gain_hi']:.2f}]  halving "
        + ("n/a" if halving is None else f"{halving:.1f} months")
    )


def progress(
    fit,
    *,
    method: str = "bayesian",
    include_distilled: bool = False,
    families: dict[str, str] | None = None,
    since=None,
    sensitivity: bool = True,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> ProgressResult:
    """Algorithmic progress from a fitted posterior with release dates and training compute.

    Parameters
    ----------
    fit
        A fit (`rosetta.fit` / `rosetta.load`) or a ``.nc`` path; compute, dates and the
        distilled flag come from its table (the bundled metadata or the user's columns).
    method
        ``"bayesian"`` (one hierarchical regression, see the module docstring) or
        ``"two-stage"`` (within-family ``k``, then the date trend of ``b``).
    include_distilled
        Keep distilled models (excluded by default: their compute understates what they
        inherited).
    families
        Model -> family overrides of `model_family`.
    since
        Use models released on or after this date only.
    sensitivity
        Also fit the other method and the other distilled choice for the sensitivity table
        (the frontier rows are always there).
    ci_prob
        Probability mass of the intervals.
    random_seed
        Seed of the regression draws.

    Returns
    -------
    ProgressResult

    Raises
    ------
    InsufficientDataError
        When too few models have a date and compute, or no family has several compute values.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    fit = as_fit(fit)
    rng = np.random.default_rng(random_seed)
    table, excluded = usable_models(fit, include_distilled, since, families)
    draws = capability_draws(fit, table.index)
    est = _estimate(draws, table, method, rng)
    variants = _variants(draws, table, est, method, include_distilled, rng, ci_prob)
    if sensitivity:
        variants += _variants_of_other_choices(
            fit, draws, table, est, method, include_distilled, since, families, rng, ci_prob
        )
    return ProgressResult(
        method=method,
        k=est["k"],
        trend=est["trend"],
        k_by_family=est["k_by_family"],
        models=_with_capability(table, draws, ci_prob),
        variants=pd.DataFrame(variants).set_index(["method", "distilled", "population"]),
        direct=direct_observations(draws, table, est["k"], rng, ci_prob),
        excluded=excluded,
        include_distilled=include_distilled,
        scale=fit.info.scale_description,
        diagnostics=est.get("diagnostics", {}),
        ci_prob=ci_prob,
        notes=_notes(est),
    )


def _with_capability(table: pd.DataFrame, draws: np.ndarray, ci_prob: float) -> pd.DataFrame:
    """The model table with each capability's mean and interval (``mean``, ``lo``, ``hi``)."""
    lo, hi = interval(draws, ci_prob, axis=0)
    return table.assign(mean=draws.mean(axis=0), lo=lo, hi=hi)


def _estimate(draws: np.ndarray, table: pd.DataFrame, method: str, rng) -> dict:
    """``k``, ``trend`` (g) and per-family ``k`` draws of one method on the models of ``table``."""
    if int(table["informs_k"].sum()) < 3:
        raise InsufficientDataError(
            f"too few models in families with several compute values to estimate k "
            f"({int(table['informs_k'].sum())} models in {table['family'].nunique()} families); "
            "pass families= or use more data"
        )
    if method == "bayesian":
        return bayesian_regression(draws, table, rng)
    return two_stage(draws, table, rng)


def _notes(est: dict) -> list[str]:
    notes = []
    k = est["k"]
    if np.mean(k <= 0) > 0.05:
        notes.append(f"P(k <= 0) = {np.mean(k <= 0):.2f}: compute barely orders capability here")
    diagnostics = est.get("diagnostics") or {}
    if diagnostics and not diagnostics["converged"]:
        notes.append(
            "the regression's sampler did not converge "
            f"(max R-hat {diagnostics['max_rhat']:.3f}, min ESS {diagnostics['min_ess']:.0f}, "
            f"{diagnostics['divergences']} divergences): treat the intervals with care"
        )
    return notes


def capability_draws(fit, models) -> np.ndarray:
    """Capability draws ``(draw, model)`` of the given models, chains stacked."""
    return draw_matrix(fit.posterior["capability"].sel(model=np.asarray(models)))


def usable_models(fit, include_distilled: bool, since, families) -> tuple[pd.DataFrame, dict]:
    """Models with a date and compute (and not distilled unless asked), with exclusion counts.

    Adds each model's ``family``, whether its family has several compute values
    (``informs_k``), its ``compute_source`` where the fit knows it, and whether it is on the
    capability frontier of all dated models in at least half the draws (``frontier``).
    """
    models = fit.posterior["model"].to_numpy().astype(str)
    const = fit.constant_data
    dates = release_dates(fit)
    table = pd.DataFrame(
        {
            "date": dates.to_numpy(),
            "compute": const["compute"].to_numpy(),
            "compute_source": (
                const["compute_source"].to_numpy().astype(str)
                if "compute_source" in const
                else np.where(const["compute"].to_numpy() > 0, "published", "")
            ),
            "distilled": const["distilled"].to_numpy() == 1,
            "frontier": _frontier_models(fit, dates),
        },
        index=pd.Index(models, name="model"),
    )
    excluded = {}
    keep = np.ones(len(table), dtype=bool)
    for reason, bad in (
        ("no release date", table["date"].isna()),
        ("no training compute", ~(table["compute"] > 0)),
        ("distilled", table["distilled"] & (not include_distilled)),
        ("released before since", table["date"] < pd.Timestamp(since) if since else False),
    ):
        bad = np.asarray(bad, dtype=bool) & keep
        excluded[reason] = int(bad.sum())
        keep &= ~bad
    table = table[keep].copy()
    if len(table) < 5:
        raise InsufficientDataError(
            f"{len(table)} models have a release date and training compute "
            f"(excluded: {excluded}); algorithmic progress needs at least 5"
        )
    family = pd.Series([model_family(m) for m in table.index], index=table.index)
    family = _split_generations(family, table["date"])
    if families:
        family.update(pd.Series(families))
    table["family"] = family
    spread = np.log10(table["compute"]).groupby(family).transform(lambda x: x.max() - x.min())
    table["informs_k"] = spread > 0.05
    return table, excluded


def _frontier_models(fit, dates: pd.Series) -> np.ndarray:
    """Whether each fitted model is on the capability frontier in at least half the draws."""
    dated = dates.notna().to_numpy()
    out = np.zeros(len(dates), dtype=bool)
    if dated.sum() >= 2:
        draws = capability_draws(fit, dates.index[dated])
        share = frontier_mask(draws, dates[dated].to_numpy()).mean(axis=0)
        out[dated] = share >= FRONTIER_PROBABILITY
    return out


def _split_generations(family: pd.Series, dates: pd.Series) -> pd.Series:
    """Suffix ``#2``, ``#3``... to members released long after their family's first one."""
    out = family.copy()
    for name, members in family.groupby(family):
        first, generation = None, 1
        for model in dates[members.index].sort_values().index:
            if first is not None and (dates[model] - first).days > FAMILY_WINDOW_DAYS:
                generation += 1
                first = None
            first = dates[model] if first is None else first
            out[model] = name if generation == 1 else f"{name}#{generation}"
    return out


def _years(table: pd.DataFrame) -> np.ndarray:
    return (table["date"] - table["date"].min()).dt.days.to_numpy() / YEAR_DAYS


def common_frame(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draws put on one frame: each draw's shift and stretch over the models taken out.

    Returns the draws with every draw's mean and sd over models set to their averages, and
    each draw's stretch (its sd over the average sd): a slope in the frame times a draw's
    stretch is that slope on the draw's own anchored scale.
    """
    centre = draws.mean(axis=1, keepdims=True)
    spread = draws.std(axis=1, keepdims=True)
    frame = (draws - centre) / spread * spread.mean() + centre.mean()
    return frame, spread[:, 0] / spread.mean()


def bayesian_regression(draws: np.ndarray, table: pd.DataFrame, rng) -> dict:
    """The hierarchical regression of the module docstring, sampled with NUTS.

    The family intercepts and slope deviations are Gaussian, so they are integrated out of the
    likelihood exactly (seven parameters remain, a geometry NUTS crosses without divergences);
    each family's slope is then drawn from its conditional posterior, draw by draw.

    Returns ``k`` (population mean slope), ``trend`` (g) and ``k_by_family`` draws on the fit's
    anchored scale, and the sampler's ``diagnostics``.
    """
    frame, stretch = common_frame(draws)
    parts = _RegressionData.of(table, frame)
    idata = _sample(_regression_model(parts), int(rng.integers(2**31)))
    post = {
        name: idata.posterior[name].to_numpy().reshape(-1)
        for name in ("k_mu", "k_sd", "gamma", "a_mu", "a_sd", "g", "sigma")
    }
    scale = stretch[rng.integers(len(stretch), size=len(post["g"]))]
    informing = table.loc[table["informs_k"], "family"].unique()
    columns = [list(parts.names).index(f) for f in informing]
    deviation = parts.slope_deviations(post, columns, rng)
    return {
        "k": post["k_mu"] * scale,
        "trend": post["g"] * scale,
        "k_by_family": {
            f: (post["k_mu"] + deviation[:, i]) * scale for i, f in enumerate(informing)
        },
        "diagnostics": _diagnostics(idata),
    }


@dataclass(frozen=True)
class _RegressionData:
    """What the regression sees, on the common frame.

    Capability means and their posterior covariance, centred log-compute and years, and each
    model's family (one-hot ``Z``).
    """

    mean: np.ndarray
    noise: np.ndarray
    log_c: np.ndarray
    family_log_c: np.ndarray
    years: np.ndarray
    same_family: np.ndarray
    Z: np.ndarray
    names: pd.Index

    @classmethod
    def of(cls, table: pd.DataFrame, frame: np.ndarray) -> _RegressionData:
        log_c = np.log10(table["compute"].to_numpy())
        years = _years(table)
        family, names = pd.factorize(table["family"])
        Z = np.eye(len(names))[family]
        return cls(
            mean=frame.mean(axis=0),
            noise=np.cov(frame.T),
            log_c=log_c - log_c.mean(),
            family_log_c=Z @ ((Z.T @ log_c) / Z.sum(axis=0)) - log_c.mean(),
            years=years - years.mean(),
            same_family=Z @ Z.T,
            Z=Z,
            names=names,
        )

    def covariance(self, sigma, a_sd, k_sd):
        """Covariance of the capability means given the spreads (numpy or PyTensor values)."""
        n = len(self.mean)
        return (
            self.noise
            + sigma**2 * np.eye(n)
            + a_sd**2 * self.same_family
            + k_sd**2 * (self.same_family * np.outer(self.log_c, self.log_c))
        )

    def slope_deviations(self, post: dict, columns: list[int], rng) -> np.ndarray:
        """One draw of the chosen families' slope deviations ``k_f - k`` per posterior draw."""
        sd = {k: post[k][:, None, None] for k in ("sigma", "a_sd", "k_sd")}
        cov = self.covariance(sd["sigma"], sd["a_sd"], sd["k_sd"])
        fitted = (
            post["a_mu"][:, None]
            + post["gamma"][:, None] * self.family_log_c
            + post["k_mu"][:, None] * self.log_c
            + post["g"][:, None] * self.years
        )
        loads = (self.Z * self.log_c[:, None])[:, columns]  # (model, family)
        rhs = np.concatenate(
            [(self.mean - fitted)[:, :, None], np.broadcast_to(loads, (len(cov), *loads.shape))],
            axis=2,
        )
        solved = np.linalg.solve(cov, rhs)
        var = post["k_sd"][:, None] ** 2
        mean = var * (solved[:, :, 0] @ loads)
        cond = var[:, :, None] * np.eye(len(columns)) - var[:, :, None] ** 2 * np.einsum(
            "mf,smg->sfg", loads, solved[:, :, 1:]
        )
        chol = np.linalg.cholesky(cond + 1e-12 * np.eye(len(columns)))
        return mean + np.einsum("sfg,sg->sf", chol, rng.standard_normal(mean.shape))


def _regression_model(data: _RegressionData):
    """The PyMC model: capability means ~ MvNormal(a + k log-compute + g years, covariance).

    The covariance is the capability posterior's (measurement error) plus ``sigma**2`` (model
    scatter) plus the family intercepts' and slopes' shares; priors are scaled to the data.
    """
    import pymc as pm

    y_scale = float(data.mean.std())
    k_scale = y_scale / float(data.log_c.std())
    with pm.Model() as model:
        k_mu = pm.Normal("k_mu", 0.0, 2 * k_scale)
        k_sd = pm.HalfNormal("k_sd", 0.5 * k_scale)
        gamma = pm.Normal("gamma", 0.0, k_scale)
        a_mu = pm.Normal("a_mu", float(data.mean.mean()), 2 * y_scale)
        a_sd = pm.HalfNormal("a_sd", y_scale)
        g = pm.Normal("g", 0.0, 2 * y_scale / float(data.years.std()))
        sigma = pm.HalfNormal("sigma", y_scale)
        pm.MvNormal(
            "capability_mean",
            mu=a_mu + gamma * data.family_log_c + k_mu * data.log_c + g * data.years,
            cov=data.covariance(sigma, a_sd, k_sd),
            observed=data.mean,
        )
    return model


def _sample(model, seed: int):
    import warnings

    import pymc as pm
    from threadpoolctl import threadpool_limits

    # PyMC's own NUTS, one process per chain. Its 70 x 70 factorisations gain nothing from
    # BLAS threads, and two chains' thread pools on two cores took 120-155 s instead of 13-15 s
    # on the bundled data: one BLAS thread per chain. (NumPyro's XLA pool slows tenfold the
    # same way when another process shares the cores.)
    with model, threadpool_limits(1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*[Tt]he effective sample size.*")
        warnings.filterwarnings("ignore", ".*rhat statistic.*")
        warnings.filterwarnings("ignore", ".*divergen.*")
        # Only matrices of a few dozen rows here: no BLAS to miss.
        warnings.filterwarnings("ignore", ".*could not link to a BLAS.*")
        return pm.sample(
            draws=REGRESSION_DRAWS,
            tune=REGRESSION_TUNE,
            chains=REGRESSION_CHAINS,
            cores=min(REGRESSION_CHAINS, os.cpu_count() or 1),
            target_accept=REGRESSION_TARGET_ACCEPT,
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )


def _diagnostics(idata) -> dict:
    import arviz as az

    names = ["k_mu", "k_sd", "gamma", "g", "sigma", "a_sd"]
    summary = az.summary(idata, var_names=names, kind="diagnostics")
    out = {
        "max_rhat": float(summary["r_hat"].max()),
        "min_ess": float(summary["ess_bulk"].min()),
        "divergences": int(idata.sample_stats["diverging"].sum()),
    }
    out["converged"] = out["max_rhat"] <= 1.01 and out["min_ess"] >= 400 and not out["divergences"]
    return out


def two_stage(draws: np.ndarray, table: pd.DataFrame, rng) -> dict:
    """The reference estimator, one coefficient draw per capability draw.

    ``k`` is the slope of capability on log-compute with one intercept per family (families with
    several compute values), then ``b = capability - k log10(compute)`` is regressed on date.
    """
    log_c = np.log10(table["compute"].to_numpy())
    informs = table["informs_k"].to_numpy()
    groups = pd.factorize(table["family"][informs])[0]
    k = _within_slope(log_c[informs], draws[:, informs], groups, rng)
    trend = _slope(_years(table), draws - k[:, None] * log_c[None, :], rng)
    by_family = {}  # each family's least-squares slope per capability draw
    for family, members in table[informs].groupby("family"):
        position = table.index.get_indexer(members.index)
        x = log_c[position] - log_c[position].mean()
        by_family[family] = draws[:, position] @ x / (x @ x)
    return {"k": k, "trend": trend, "k_by_family": by_family}


def _frontier_trend(draws, table, k, rng):
    """``g`` from the frontier models only: the date trend of ``b`` with the method's ``k``."""
    mask = table["frontier"].to_numpy()
    if mask.sum() < 3:
        return None, None
    # Two-stage k is drawn alongside each capability draw; Bayesian k draws are paired at random.
    paired = k if len(k) == len(draws) else k[rng.integers(len(k), size=len(draws))]
    log_c = np.log10(table["compute"].to_numpy()[mask])
    b = draws[:, mask] - paired[:, None] * log_c[None, :]
    return paired, _slope(_years(table)[mask], b, rng)


def _variants(draws, table, est, method, include_distilled, rng, ci_prob) -> list[dict]:
    """Sensitivity rows of one method and one distilled choice: all models and the frontier."""
    distilled = "included" if include_distilled else "excluded"
    k_frontier, g_frontier = _frontier_trend(draws, table, est["k"], rng)
    rows = [_variant_row(method, distilled, "all", len(table), est["k"], est["trend"], ci_prob)]
    if g_frontier is not None:
        n = int(table["frontier"].sum())
        rows.append(_variant_row(method, distilled, "frontier", n, k_frontier, g_frontier, ci_prob))
    return rows


def _variants_of_other_choices(
    fit, draws, table, est, method, include_distilled, since, families, rng, ci_prob
) -> list[dict]:
    """The rows of the other method, and of both methods with the other distilled choice."""
    other_method = next(m for m in METHODS if m != method)
    rows = _variants(
        draws, table, _estimate(draws, table, other_method, rng), other_method,
        include_distilled, rng, ci_prob,
    )  # fmt: skip
    other, _ = usable_models(fit, not include_distilled, since, families)
    if len(other) != len(table):
        other_draws = capability_draws(fit, other.index)
        for name in METHODS:
            rows += _variants(
                other_draws, other, _estimate(other_draws, other, name, rng), name,
                not include_distilled, rng, ci_prob,
            )  # fmt: skip
    return rows


def _variant_row(method, distilled, population, n_models, k, trend, ci_prob) -> dict:
    gain = summarise(_gain(trend, k), ci_prob)
    return {
        "method": method,
        "distilled": distilled,
        "population": population,
        "n_models": n_models,
        "k_median": float(np.median(k)),
        "gain_median": gain["median"],
        "gain_lo": gain["lo"],
        "gain_hi": gain["hi"],
        "halving_months_median": _halving_summary(trend / k, ci_prob)["median"],
    }


def direct_observations(draws, table, k, rng, ci_prob: float = CI_PROB) -> dict:
    """The two regression-free checks, over capability draws (see the module docstring).

    ``compute_reduction_per_year``: at fixed capability (equal-width capability buckets over the
    middle 90% of the posterior means), the models that used less compute than every earlier
    model of their bucket, log10(compute) on date, pooled over buckets. ``capability_gain_per_
    year``: at fixed compute (decades of compute), capability on date, pooled; with
    ``compute_equivalent_gain_per_year = 10 ** (gain / k)``.
    """
    pick = rng.choice(len(draws), size=min(DIRECT_DRAWS, len(draws)), replace=False)
    log_c = np.log10(table["compute"].to_numpy())
    years = _years(table)
    edges = np.linspace(*np.quantile(draws.mean(axis=0), [0.05, 0.95]), CAPABILITY_BUCKETS + 1)
    capability_buckets = [np.digitize(row, edges) - 1 for row in draws[pick]]
    reduction = np.array([_pooled_slope(years, log_c, b, records=True) for b in capability_buckets])
    compute_bucket = np.floor(log_c).astype(int)
    gain = np.array([_pooled_slope(years, row, compute_bucket) for row in draws[pick]])
    paired = k[rng.integers(len(k), size=len(gain))]
    ok_r, ok_g = np.isfinite(reduction), np.isfinite(gain)
    return {
        "compute_reduction_per_year": summarise(10.0 ** -reduction[ok_r], ci_prob),
        "capability_gain_per_year": summarise(gain[ok_g], ci_prob),
        "compute_equivalent_gain_per_year": summarise(_gain(gain[ok_g], paired[ok_g]), ci_prob),
        "share_of_draws_with_buckets": {
            "capability": float(ok_r.mean()),
            "compute": float(ok_g.mean()),
        },
    }


def _pooled_slope(x, y, bucket, *, records: bool = False) -> float:
    """Slope of ``y`` on ``x`` within each bucket, averaged with weights = points per bucket.

    With ``records``, a bucket keeps only its record-setters in ``x`` order: the points whose
    ``y`` is below every earlier point's (the compute-efficient models of their day).
    """
    slopes, weights = [], []
    for b in np.unique(bucket):
        member = np.flatnonzero(bucket == b)
        member = member[np.argsort(x[member], kind="stable")]
        if records:
            best = np.minimum.accumulate(y[member])
            member = member[np.r_[True, y[member][1:] < best[:-1]]]
        if len(member) < DIRECT_MIN_POINTS or np.ptp(x[member]) < DIRECT_MIN_YEARS:
            continue
        slopes.append(np.polyfit(x[member], y[member], 1)[0])
        weights.append(len(member))
    return float(np.average(slopes, weights=weights)) if slopes else np.nan


def _source_counts(models: pd.DataFrame) -> dict[str, int]:
    counts = models["compute_source"].replace("", "unknown").value_counts()
    return {str(source): int(n) for source, n in counts.items()}


def _within_slope(x, y, groups, rng) -> np.ndarray:
    """Slope of ``y`` on ``x`` with one intercept per group, drawn from its posterior per row."""
    dummies = np.eye(groups.max() + 1)[groups][:, np.unique(groups)]
    design = np.column_stack([x, dummies])
    return _ols_draws(design, y, rng)[:, 0]


def _slope(x, y, rng) -> np.ndarray:
    design = np.column_stack([x, np.ones_like(x)])
    return _ols_draws(design, y, rng)[:, 0]


def _ols_draws(design: np.ndarray, y: np.ndarray, rng) -> np.ndarray:
    """Per row of ``y`` (draws x points): one coefficient draw from the flat-prior posterior."""
    n, p = design.shape
    if n - p < 1:
        raise InsufficientDataError(f"{n} points cannot fit {p} coefficients with a residual")
    xtx_inv = np.linalg.inv(design.T @ design)
    coef = y @ design @ xtx_inv  # (draws, p)
    resid = y - coef @ design.T
    sigma2 = (resid**2).sum(axis=1) / rng.chisquare(n - p, size=len(y))
    chol = np.linalg.cholesky(xtx_inv)
    noise = rng.standard_normal((len(y), p)) @ chol.T
    return coef + np.sqrt(sigma2)[:, None] * noise


def _gain(trend, k):
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return 10.0 ** (trend / k)


def _halving(trend, k):
    with np.errstate(divide="ignore", invalid="ignore"):
        return 12 * math.log10(2) / (trend / k)


def _halving_summary(rate: np.ndarray, ci_prob: float) -> dict:
    """Median and interval of the halving time, from the quantiles of the rate ``g / k``.

    The halving time falls as the rate rises, so its interval ends come from the rate's
    opposite ends; a rate interval reaching 0 or below leaves the upper end unbounded (None).
    """
    lo, hi = interval(rate, ci_prob, axis=None)
    median = np.quantile(rate, 0.5)

    def months(r):
        return float(_halving(r, 1.0)) if r > 0 else None

    return {"median": months(median), "lo": months(hi), "hi": months(lo)}
