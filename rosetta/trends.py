"""Progress over time: the frontier per draw, growth per year and forecasts, with honest intervals.

Everything here is computed draw by draw from the capability posterior, so the uncertainty of each
capability reaches every number:

- the **frontier** (models more capable than every model released before or with them) is found
  in each draw; a model's frontier probability is the share of draws where it is on it;
- **growth per year** is a linear regression of capability on release date in each draw (the
  frontier models of that draw, or all models; for all models, the models released on one day,
  typically variants of one model, enter as their mean, since their deviations from the trend are
  shared and would otherwise count as independent evidence), and from each draw's regression one
  set of coefficients is drawn from its posterior (flat prior: ``sigma^2 ~ RSS / chi2(n - 2)``, the
  coefficients normal given ``sigma``). The mixture over draws holds both the capability and the
  regression uncertainty;
- a **forecast** at a date is the predictive distribution of a new frontier model there: the
  drawn line plus the drawn residual noise, not only the interval of the mean line.

`backtest` refits the measurement model on the scores of models released before a cutoff, so no
capability estimated from later data leaks into the forecast it checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.domains import capability_of, domain_names, scores_per_domain
from rosetta.errors import InsufficientDataError, RosettaError
from rosetta.fitted import as_fit
from rosetta.intervals import bounds, describe, label, summarise
from rosetta.results import Result

#: Days per year for rates per year.
YEAR_DAYS = 365.25
#: Default forecast horizon (years beyond the latest release in the data), and points per year.
DEFAULT_HORIZON_YEARS = 2.0
FORECAST_POINTS_PER_YEAR = 4
#: A model is listed as frontier when it is on the frontier in at least this share of draws.
FRONTIER_PROBABILITY = 0.5


@dataclass
class LineDraws:
    """One drawn regression line per posterior draw: ``value = intercept + slope * years``.

    ``years`` counts from ``origin``; lines where a draw had fewer than 3 points are NaN.
    """

    intercept: np.ndarray
    slope: np.ndarray
    sigma: np.ndarray
    origin: pd.Timestamp
    n_points: np.ndarray

    def years(self, dates) -> np.ndarray:
        """Years from the origin to ``dates``."""
        return years_since(dates, self.origin)

    def predict(self, dates, rng: np.random.Generator, *, noise: bool = True) -> np.ndarray:
        """Draws ``(draw, date)`` of the line at ``dates``, plus residual noise if ``noise``."""
        t = self.years(dates)
        line = self.intercept[:, None] + self.slope[:, None] * t[None, :]
        if not noise:
            return line
        return line + self.sigma[:, None] * rng.standard_normal(line.shape)


@dataclass
class BacktestResult(Result):
    """A refit before a cutoff, forecasting the later frontier (see `backtest`).

    ``models`` has one row per later frontier model: ``date``, ``actual`` (full-fit capability),
    ``median``, ``lo``, ``hi`` (the forecast of a new frontier model at that date).
    """

    cutoff: pd.Timestamp
    n_train_models: int
    n_train_scores: int
    models: pd.DataFrame
    train_frontier_growth: np.ndarray
    diagnostics: dict
    ci_prob: float = CI_PROB

    @property
    def errors(self) -> np.ndarray:
        """Forecast median minus actual capability, per later frontier model."""
        return (self.models["median"] - self.models["actual"]).to_numpy()

    @property
    def coverage(self) -> float:
        """Share of later frontier models inside their forecast interval."""
        rows = self.models
        return float(((rows["lo"] <= rows["actual"]) & (rows["actual"] <= rows["hi"])).mean())

    def to_dict(self) -> dict:
        """``cutoff``, sizes, ``mae``, ``bias``, ``coverage``, per-model rows, diagnostics."""
        return {
            "cutoff": self.cutoff.date().isoformat(),
            "n_train_models": self.n_train_models,
            "n_train_scores": self.n_train_scores,
            "n_test": len(self.models),
            "mae": float(np.mean(np.abs(self.errors))),
            "bias": float(np.mean(self.errors)),
            "coverage": self.coverage,
            "ci_prob": self.ci_prob,
            "train_frontier_growth_per_year": summarise(self.train_frontier_growth, self.ci_prob),
            "models": [
                {
                    "model": m,
                    "date": row["date"].date().isoformat(),
                    **{k: float(row[k]) for k in ("actual", "median", "lo", "hi")},
                }
                for m, row in self.models.iterrows()
            ],
            "diagnostics": self.diagnostics,
        }

    def summary(self) -> str:
        """One line: the forecast's error and coverage on the later frontier."""
        d = self.to_dict()
        return (
            f"back-test from {d['cutoff']}: {d['n_test']} later frontier models, MAE "
            f"{d['mae']:.3f}, bias {d['bias']:+.3f}, {label(self.ci_prob)} interval coverage "
            f"{d['coverage']:.2f}"
        )

    def plot_data(self) -> pd.DataFrame:
        """Per later frontier model: date, actual capability and forecast interval."""
        return self.models.reset_index()

    def plot(self, *, path: str | Path | None = None):
        """Forecast intervals against the capabilities the full fit found."""
        from rosetta.plots import plot_backtest

        return plot_backtest(self, path=path)


@dataclass
class DomainTrends(Result):
    """Growth per year of each domain of a bifactor fit, and of its gain over the general."""

    rows: pd.DataFrame
    draws: dict[str, np.ndarray]
    ci_prob: float = CI_PROB

    def to_dict(self) -> dict:
        """Domain -> ``n_models``, growth summaries and ``p_faster_than_general``."""
        out = {}
        for domain, row in self.rows.iterrows():
            out[domain] = {
                "n_models": int(row["n_models"]),
                **{
                    key: summarise(self.draws[f"{domain}/{key}"], self.ci_prob)
                    for key in (
                        "frontier_growth_per_year",
                        "all_models_growth_per_year",
                        "deviation_growth_per_year",
                    )
                },
                "p_faster_than_general": row["p_faster_than_general"],
            }
        return out

    def summary(self) -> str:
        """A line per domain: its growth and its gain over the general capability."""
        lines = []
        for name, row in self.to_dict().items():
            lines.append(
                f"domain {name} ({row['n_models']} models): all-models growth "
                f"{describe(row['all_models_growth_per_year'], self.ci_prob, '{:.3f}')} per "
                f"year; gain over general "
                f"{describe(row['deviation_growth_per_year'], self.ci_prob, '{:.3f}')} per year, "
                f"P(faster than general) {row['p_faster_than_general']:.2f}"
            )
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """Per domain: the median and interval of its gain over the general capability."""
        rows = []
        for domain in self.rows.index:
            d = summarise(self.draws[f"{domain}/deviation_growth_per_year"], self.ci_prob)
            rows.append({"domain": domain, **d})
        return pd.DataFrame(rows)

    def plot(self, *, path: str | Path | None = None):
        """Each domain's gain per year over the general capability, with its interval."""
        from rosetta.plots import plot_domain_trends

        return plot_domain_trends(self, path=path)


@dataclass
class TrendResult(Result):
    """Frontier, growth rates and forecast of a fitted posterior (see `trend`)."""

    capability: pd.DataFrame
    frontier_probability: pd.Series
    frontier: list[str]
    frontier_line: LineDraws
    all_line: LineDraws
    forecast: pd.DataFrame
    excluded: dict[str, int]
    scale: str
    ci_prob: float = CI_PROB
    backtest: BacktestResult | None = None
    domains: DomainTrends | None = None
    domain: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def frontier_growth(self) -> np.ndarray:
        """Draws of the frontier's growth per year (capability units)."""
        return _finite(self.frontier_line.slope)

    @property
    def all_models_growth(self) -> np.ndarray:
        """Draws of the growth per year of all models."""
        return _finite(self.all_line.slope)

    def to_dict(self) -> dict:
        """A JSON-ready summary (the keys of ``rosetta trend --json``)."""
        out = {
            "scale": self.scale,
            "ci_prob": self.ci_prob,
            "domain": self.domain,
            "n_models": len(self.capability),
            "excluded": self.excluded,
            "frontier_growth_per_year": summarise(self.frontier_growth, self.ci_prob),
            "all_models_growth_per_year": summarise(self.all_models_growth, self.ci_prob),
            "frontier": self.frontier,
            "frontier_probability": {
                m: round(float(p), 4) for m, p in self.frontier_probability.items() if p > 0
            },
            "forecast": [
                {"date": d.date().isoformat(), **{k: float(v) for k, v in row.items()}}
                for d, row in self.forecast.iterrows()
            ],
            "notes": self.notes,
        }
        if self.backtest is not None:
            out["backtest"] = self.backtest.to_dict()
        if self.domains is not None:
            out["domains"] = self.domains.to_dict()
        return out

    def summary(self) -> str:
        """Growth rates, the frontier, the forecast, and the back-test and domains if run."""
        d = self.to_dict()

        def growth(key):
            return describe(d[key], self.ci_prob, "{:.3f}") + " per year"

        lines = [
            *([f"capability in domain {self.domain}"] if self.domain else []),
            f"{d['n_models']} models with a release date ({self.scale}); excluded: "
            + (", ".join(f"{n} {why}" for why, n in self.excluded.items()) or "none"),
            f"frontier growth    {growth('frontier_growth_per_year')}",
            f"all-models growth  {growth('all_models_growth_per_year')}",
            "frontier (P >= 0.5, by release date): " + ", ".join(self.frontier),
            f"forecast of a new frontier model (median [{label(self.ci_prob)} predictive "
            "interval]):",
        ]
        lines += [
            f"  {date.date()}  {row['median']:.2f} [{row['lo']:.2f}, {row['hi']:.2f}]"
            for date, row in self.forecast.iterrows()
        ]
        lines += [r.summary() for r in (self.backtest, self.domains) if r is not None]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """Per model: release date, capability mean and interval, frontier probability."""
        return self.capability.reset_index()

    def plot(self, *, title: str | None = None, path: str | Path | None = None):
        """Capability against release date with the frontier trend and forecast fan."""
        from rosetta.plots import plot_trend

        return plot_trend(self, title=title, path=path)


def release_dates(fit, dates=None) -> pd.Series:
    """Release date per fitted model: ``dates`` (a mapping or Series) over the fit's own.

    Returns
    -------
    pandas.Series
        Indexed by model (all fitted models, in the posterior's order); NaT where unknown.
    """
    models = pd.Index(fit.posterior["model"].to_numpy().astype(str), name="model")
    own = pd.Series(pd.NaT, index=models, dtype="datetime64[ns]")
    if "constant_data" in fit.groups() and "release_date" in fit.constant_data:
        own = fit.constant_data["release_date"].to_series().reindex(models)
    if dates is not None:
        given = pd.to_datetime(pd.Series(dates), errors="raise").reindex(models)
        own = given.where(given.notna(), own)
    return own.astype("datetime64[ns]")


def frontier_mask(capability: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Per draw, which models beat every model released before or on their release date.

    Parameters
    ----------
    capability
        Draws ``(draw, model)``.
    dates
        Release dates ``(model,)`` (no NaT).

    Returns
    -------
    numpy.ndarray
        Boolean ``(draw, model)``.
    """
    order = np.argsort(dates, kind="stable")
    sorted_dates = np.asarray(dates)[order]
    running = np.maximum.accumulate(capability[:, order], axis=1)
    # The best so far at the end of each release date: same-day rivals count as earlier.
    last_of_day = np.searchsorted(sorted_dates, sorted_dates, side="right") - 1
    best_by_then = running[:, last_of_day]
    on_frontier = np.empty_like(capability, dtype=bool)
    on_frontier[:, order] = capability[:, order] >= best_by_then
    return on_frontier


def fit_lines(
    years: np.ndarray, values: np.ndarray, use: np.ndarray, origin, rng: np.random.Generator
) -> LineDraws:
    """One regression line per draw through the points ``use`` marks, drawn from its posterior.

    Parameters
    ----------
    years
        Time of each point ``(model,)`` in years from ``origin``.
    values
        Draws ``(draw, model)``.
    use
        Boolean ``(draw, model)`` or ``(model,)``: the points of each draw's regression.
    origin
        The date where ``years`` is 0.
    rng
        Generator for the coefficient and noise draws.
    """
    w = np.broadcast_to(use, values.shape).astype(float)
    n = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_bar = (w * years).sum(axis=1) / n
        y_bar = (w * values).sum(axis=1) / n
        dt = years[None, :] - t_bar[:, None]
        s_tt = (w * dt**2).sum(axis=1)
        slope_hat = (w * dt * (values - y_bar[:, None])).sum(axis=1) / s_tt
        resid = values - y_bar[:, None] - slope_hat[:, None] * dt
        rss = (w * resid**2).sum(axis=1)
        dof = n - 2
        ok = (dof >= 1) & (s_tt > 0)
        sigma2 = np.where(ok, rss / rng.chisquare(np.maximum(dof, 1)), np.nan)
        slope = slope_hat + np.sqrt(sigma2 / s_tt) * rng.standard_normal(len(n))
        level = y_bar + np.sqrt(sigma2 / n) * rng.standard_normal(len(n))
    intercept = level - slope * t_bar
    return LineDraws(
        intercept=np.where(ok, intercept, np.nan),
        slope=np.where(ok, slope, np.nan),
        sigma=np.sqrt(sigma2),
        origin=pd.Timestamp(origin),
        n_points=n.astype(int),
    )


def trend(
    fit,
    *,
    dates=None,
    since=None,
    horizon_years: float = DEFAULT_HORIZON_YEARS,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
    domain: str | None = None,
    backtest_cutoff=None,
) -> TrendResult:
    """Frontier, growth per year and forecast from a fitted posterior.

    Parameters
    ----------
    fit
        A fit (`rosetta.fit` / `rosetta.load`) or a ``.nc`` path.
    dates
        Release dates by model (mapping or Series) overriding the fit's own (the bundled
        metadata or the table's ``date`` column).
    since
        Regress on models released on or after this date only. The frontier still counts every
        earlier model as a rival.
    horizon_years
        Forecast this many years beyond the latest release in the data.
    ci_prob
        Probability mass of the intervals.
    random_seed
        Seed of the regression and noise draws.
    domain
        A domain of a bifactor fit: the trend of the models' capability in that domain, over
        the models scored on at least one of its benchmarks (the others only have the prior's
        deviation). ``None``: the general capability of every model, and, for a bifactor fit,
        the growth of each domain (`domain_trends`).
    backtest_cutoff
        Also refit on the models released before this date and check its forecast of the later
        frontier (`backtest`; a full refit).

    Returns
    -------
    TrendResult
    """
    fit = as_fit(fit)
    result = _trend(fit, dates, since, horizon_years, ci_prob, random_seed, domain)
    if backtest_cutoff is not None:
        result.backtest = backtest(
            fit, backtest_cutoff, since=since, ci_prob=ci_prob, random_seed=random_seed
        )
    if domain_names(fit.posterior):
        result.domains = domain_trends(fit, since=since, ci_prob=ci_prob, random_seed=random_seed)
    return result


def _trend(fit, dates, since, horizon_years, ci_prob, random_seed, domain) -> TrendResult:
    """`trend` of the general capability or of one domain, without back-test or domains."""
    rng = np.random.default_rng(random_seed)
    draws = capability_of(fit.posterior, domain)
    released = release_dates(fit, dates)
    excluded = {"no release date": int(released.isna().sum())}
    if domain is not None:
        seen = released.index.isin(models_scored_in(fit, domain))
        excluded[f"not scored in {domain}"] = int((~seen & released.notna()).sum())
        released = released[seen]
    known = released.dropna()
    if len(known) < 3:
        raise InsufficientDataError(
            f"a trend needs at least 3 models with a release date, got {len(known)}"
        )
    capability = draw_matrix(draws.sel(model=known.index.to_numpy()))
    on_frontier = frontier_mask(capability, known.to_numpy())
    window = np.ones(len(known), dtype=bool)
    if since is not None:
        window = (known >= pd.Timestamp(since)).to_numpy()
        excluded["released before since"] = int((~window).sum())
    origin = known[window].min()
    years = years_since(known, origin)
    frontier_line = fit_lines(years, capability, on_frontier & window, origin, rng)
    day_years, day_means = _release_day_means(years[window], capability[:, window])
    all_line = fit_lines(day_years, day_means, np.ones(len(day_years), bool), origin, rng)

    probability = pd.Series(on_frontier.mean(axis=0), index=known.index, name="frontier")
    probability = probability[window]
    frontier = [
        m for m in known[window].sort_values().index if probability[m] >= FRONTIER_PROBABILITY
    ]
    latest = known[window].max()
    horizon = pd.date_range(
        latest,
        latest + pd.Timedelta(days=horizon_years * YEAR_DAYS),
        periods=max(int(horizon_years * FORECAST_POINTS_PER_YEAR), 1) + 1,
    ).normalize()
    forecast = forecast_table(frontier_line, horizon, rng, ci_prob)
    notes = []
    short = int(np.sum(~np.isfinite(frontier_line.slope)))
    if short:
        notes.append(f"{short} draws had fewer than 3 frontier models and give no frontier line")
    return TrendResult(
        domain=domain,
        capability=_capability_frame(capability, known, probability, window, ci_prob),
        frontier_probability=probability.sort_values(ascending=False),
        frontier=frontier,
        frontier_line=frontier_line,
        all_line=all_line,
        forecast=forecast,
        excluded=excluded,
        scale=fit.info.scale_description,
        ci_prob=ci_prob,
        notes=notes,
    )


def models_scored_in(fit, domain: str) -> list[str]:
    """The models with at least one score on a benchmark of ``domain``."""
    counts = scores_per_domain(fit)[domain]
    return sorted(counts.index[counts > 0])


def domain_trends(
    fit, *, since=None, ci_prob: float = CI_PROB, random_seed: int | None = DEFAULT_SEED
) -> DomainTrends:
    """Is one domain rising faster than the general capability? Growth per year by domain.

    For each domain of a bifactor fit, over the models scored in it: the growth per year of
    the domain capability (frontier and all models), and the growth of the models' deviation in
    that domain (the domain's gain over the general capability per year; all models, release-day
    means as in `trend`), with P(deviation grows).

    Returns
    -------
    DomainTrends
    """
    fit = as_fit(fit)
    domains = domain_names(fit.posterior)
    if not domains:
        raise ValueError("domain trends need a bifactor fit (rosetta fit --domains ...)")
    rng = np.random.default_rng(random_seed)
    rows, draws = [], {}
    for domain in domains:
        result = _trend(fit, None, since, DEFAULT_HORIZON_YEARS, ci_prob, rng, domain)
        known = result.capability["release_date"]
        deviation = fit.posterior["domain_deviation"].sel(domain=domain, model=known.index)
        origin = known.min()
        days, means = _release_day_means(years_since(known, origin), draw_matrix(deviation))
        line = fit_lines(days, means, np.ones(len(days), bool), origin, rng)
        gain = _finite(line.slope)
        draws[f"{domain}/frontier_growth_per_year"] = result.frontier_growth
        draws[f"{domain}/all_models_growth_per_year"] = result.all_models_growth
        draws[f"{domain}/deviation_growth_per_year"] = gain
        p_faster = float((gain > 0).mean()) if gain.size else None
        rows.append({"domain": domain, "n_models": len(known), "p_faster_than_general": p_faster})
    return DomainTrends(pd.DataFrame(rows).set_index("domain"), draws, ci_prob)


def forecast_table(line: LineDraws, dates, rng, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Predictive median and interval of a new frontier model, and the mean line's interval."""
    dates = pd.DatetimeIndex(dates)
    ok = np.isfinite(line.slope)
    new_model = line.predict(dates, rng)[ok]
    mean_line = line.predict(dates, rng, noise=False)[ok]
    q = [bounds(ci_prob)[0], 0.5, bounds(ci_prob)[1]]
    lo, median, hi = np.quantile(new_model, q, axis=0)
    line_lo, _, line_hi = np.quantile(mean_line, q, axis=0)
    return pd.DataFrame(
        {"median": median, "lo": lo, "hi": hi, "line_lo": line_lo, "line_hi": line_hi},
        index=pd.DatetimeIndex(dates, name="date"),
    )


def _release_day_means(years: np.ndarray, capability: np.ndarray):
    """Per release day: its time and, per draw, the mean capability of its models."""
    days, group = np.unique(years, return_inverse=True)
    averaging = np.zeros((len(years), len(days)))
    averaging[np.arange(len(years)), group] = 1.0
    averaging /= averaging.sum(axis=0)
    return days, capability @ averaging


def draw_matrix(array: xr.DataArray) -> np.ndarray:
    """A ``(chain, draw, x)`` array as ``(chain * draw, x)`` draws, chain by chain."""
    return array.transpose("chain", "draw", ...).to_numpy().reshape(-1, array.shape[-1])


def years_since(dates, origin) -> np.ndarray:
    """Years (of `YEAR_DAYS` days) from ``origin`` to each of ``dates``."""
    return (
        np.asarray((pd.DatetimeIndex(dates) - pd.Timestamp(origin)).days, dtype=float) / YEAR_DAYS
    )


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _capability_frame(capability, known, probability, window, ci_prob) -> pd.DataFrame:
    lo, hi = np.quantile(capability, bounds(ci_prob), axis=0)
    frame = pd.DataFrame(
        {
            "release_date": known.to_numpy(),
            "mean": capability.mean(axis=0),
            "lo": lo,
            "hi": hi,
        },
        index=known.index,
    )[window]
    frame["frontier_probability"] = probability.reindex(frame.index)
    return frame.sort_values("release_date")


def backtest(
    fit,
    cutoff,
    *,
    since=None,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
    progress: bool = False,
    **fit_kwargs,
) -> BacktestResult:
    """Refit on the models released before ``cutoff`` and forecast the frontier after it.

    The measurement model is refitted (same specification and sampler settings as ``fit``
    unless ``fit_kwargs`` say otherwise) on the scores of models released before the cutoff
    only; its frontier line forecasts every later frontier model of the full fit (frontier
    probability >= 0.5) at its release date, against its full-fit capability.

    Returns
    -------
    BacktestResult
    """
    from rosetta.data import load_scores
    from rosetta.model import fit as fit_model

    full = as_fit(fit)
    cutoff = pd.Timestamp(cutoff)
    rows = full.table.scores
    train_rows = rows[rows["date"] < cutoff]
    if train_rows.empty:
        raise RosettaError(f"no model with a release date before the cutoff {cutoff.date()}")
    train = load_scores(train_rows, metadata=False, keep_largest_component=True)
    info = full.info
    settings = {"draws": info.draws, "tune": info.tune, "chains": info.chains, **fit_kwargs}
    early = fit_model(train, full.spec, random_seed=random_seed, progress=progress, **settings)
    if early.scale != full.scale:
        raise RosettaError(
            "the refit before the cutoff is on another scale than the full fit "
            f"({early.info.scale_description} vs {info.scale_description}); "
            "anchor both on a benchmark evaluated before the cutoff"
        )
    rng = np.random.default_rng(random_seed)
    past = _trend(early, None, since, DEFAULT_HORIZON_YEARS, ci_prob, random_seed, None)
    now = _trend(full, None, since, DEFAULT_HORIZON_YEARS, ci_prob, random_seed, None)
    released = now.capability["release_date"]
    later = [m for m in now.frontier if released[m] >= cutoff]
    if not later:
        raise RosettaError(f"no frontier model was released on or after {cutoff.date()}")
    dates = pd.DatetimeIndex(released[later])
    draws = past.frontier_line.predict(dates, rng)
    draws = draws[np.isfinite(draws).all(axis=1)]
    lo, median, hi = np.quantile(draws, [bounds(ci_prob)[0], 0.5, bounds(ci_prob)[1]], axis=0)
    actual = now.capability.loc[later, "mean"].to_numpy()
    models = pd.DataFrame(
        {"date": dates, "actual": actual, "median": median, "lo": lo, "hi": hi},
        index=pd.Index(later, name="model"),
    )
    return BacktestResult(
        cutoff=cutoff,
        n_train_models=len(train.models),
        n_train_scores=train.n_scores,
        models=models,
        train_frontier_growth=past.frontier_growth,
        diagnostics=early.diagnostics,
        ci_prob=ci_prob,
    )
