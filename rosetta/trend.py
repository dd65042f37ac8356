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

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.domains import capability_of, domain_names, scores_per_domain
from rosetta.errors import InsufficientDataError

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
class TrendResult:
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
    backtest: dict | None = None
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
            out["backtest"] = self.backtest
        return out


def summarise(values: np.ndarray, ci_prob: float = CI_PROB) -> dict:
    """``median``, ``lo``, ``hi`` (equal-tailed interval) of draws."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {"median": None, "lo": None, "hi": None}
    lo, median, hi = np.quantile(values, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])
    return {"median": float(median), "lo": float(lo), "hi": float(hi)}


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
        deviation). ``None``: the general capability of every model.

    Returns
    -------
    TrendResult
    """
    from rosetta.io import load_fit

    fit = load_fit(fit) if isinstance(fit, str) or hasattr(fit, "__fspath__") else fit
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
        capability=_capability_frame(capability, known, probability, window, ci_prob),
        frontier_probability=probability.sort_values(ascending=False),
        frontier=frontier,
        frontier_line=frontier_line,
        all_line=all_line,
        forecast=forecast,
        excluded=excluded,
        scale=str(fit.posterior.attrs.get("scale_description", "")),
        ci_prob=ci_prob,
        notes=notes,
    )


def models_scored_in(fit, domain: str) -> list[str]:
    """The models with at least one score on a benchmark of ``domain``."""
    counts = scores_per_domain(fit)[domain]
    return sorted(counts.index[counts > 0])


def domain_trends(
    fit, *, since=None, ci_prob: float = CI_PROB, random_seed: int | None = DEFAULT_SEED
) -> dict:
    """Is one domain rising faster than the general capability? Growth per year by domain.

    For each domain of a bifactor fit, over the models scored in it: the growth per year of
    the domain capability (frontier and all models), and the growth of the models' deviation in
    that domain (the domain's gain over the general capability per year; all models, release-day
    means as in `trend`), with P(deviation grows).

    Returns
    -------
    dict
        Domain -> ``n_models``, ``frontier_growth_per_year``, ``all_models_growth_per_year``,
        ``deviation_growth_per_year`` and ``p_faster_than_general``.
    """
    from rosetta.io import load_fit

    fit = load_fit(fit) if isinstance(fit, str) or hasattr(fit, "__fspath__") else fit
    domains = domain_names(fit.posterior)
    if not domains:
        raise ValueError("domain trends need a bifactor fit (rosetta fit --domains ...)")
    rng = np.random.default_rng(random_seed)
    out = {}
    for domain in domains:
        result = trend(fit, since=since, ci_prob=ci_prob, random_seed=rng, domain=domain)
        known = result.capability["release_date"]
        deviation = fit.posterior["domain_deviation"].sel(domain=domain, model=known.index)
        origin = known.min()
        days, means = _release_day_means(years_since(known, origin), draw_matrix(deviation))
        line = fit_lines(days, means, np.ones(len(days), bool), origin, rng)
        gain = _finite(line.slope)
        out[domain] = {
            "n_models": len(known),
            "frontier_growth_per_year": summarise(result.frontier_growth, ci_prob),
            "all_models_growth_per_year": summarise(result.all_models_growth, ci_prob),
            "deviation_growth_per_year": summarise(gain, ci_prob),
            "p_faster_than_general": float((gain > 0).mean()) if gain.size else None,
        }
    return out


def forecast_table(line: LineDraws, dates, rng, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Predictive median and interval of a new frontier model, and the mean line's interval."""
    dates = pd.DatetimeIndex(dates)
    ok = np.isfinite(line.slope)
    new_model = line.predict(dates, rng)[ok]
    mean_line = line.predict(dates, rng, noise=False)[ok]
    q = [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2]
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
    lo, hi = np.quantile(capability, [(1 - ci_prob) / 2, (1 + ci_prob) / 2], axis=0)
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
) -> dict:
    """Refit on the models released before ``cutoff`` and forecast the frontier after it.

    The measurement model is refitted (same specification and sampler settings as ``fit``
    unless ``fit_kwargs`` say otherwise) on the scores of models released before the cutoff
    only; its frontier line forecasts every later frontier model of the full fit (frontier
    probability >= 0.5) at its release date, against its full-fit capability.

    Returns
    -------
    dict
        ``cutoff``, ``n_train_models``, ``n_test``, ``mae``, ``bias`` (mean forecast minus
        actual), ``coverage`` of the predictive interval, ``models`` (per-model rows) and the
        refit's ``diagnostics``.
    """
    from rosetta.data import load_scores
    from rosetta.errors import RosettaError
    from rosetta.io import load_fit, scores_of_fit
    from rosetta.model import MeasurementSpec
    from rosetta.model import fit as fit_model

    full = load_fit(fit) if isinstance(fit, str) or hasattr(fit, "__fspath__") else fit
    cutoff = pd.Timestamp(cutoff)
    rows = scores_of_fit(full)
    train_rows = rows[rows["date"] < cutoff]
    if train_rows.empty:
        raise RosettaError(f"no model with a release date before the cutoff {cutoff.date()}")
    train = load_scores(train_rows, metadata=False, keep_largest_component=True)
    attrs = full.posterior.attrs
    spec = MeasurementSpec.from_json(attrs["spec"])
    settings = {k: int(attrs[k]) for k in ("draws", "tune", "chains") if k in attrs}
    settings.update(fit_kwargs)
    early = fit_model(train, spec, random_seed=random_seed, progress=progress, **settings)
    if early.posterior.attrs["scale"] != attrs["scale"]:
        raise RosettaError(
            "the refit before the cutoff is on another scale than the full fit "
            f"({early.posterior.attrs['scale_description']} vs {attrs['scale_description']}); "
            "anchor both on a benchmark evaluated before the cutoff"
        )
    rng = np.random.default_rng(random_seed)
    past = trend(early, since=since, ci_prob=ci_prob, random_seed=random_seed)
    now = trend(full, since=since, ci_prob=ci_prob, random_seed=random_seed)
    released = now.capability["release_date"]
    later = [m for m in now.frontier if released[m] >= cutoff]
    if not later:
        raise RosettaError(f"no frontier model was released on or after {cutoff.date()}")
    dates = pd.DatetimeIndex(released[later])
    draws = past.frontier_line.predict(dates, rng)
    draws = draws[np.isfinite(draws).all(axis=1)]
    lo, median, hi = np.quantile(draws, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], axis=0)
    actual = now.capability.loc[later, "mean"].to_numpy()
    error = median - actual
    covered = (lo <= actual) & (actual <= hi)
    return {
        "cutoff": cutoff.date().isoformat(),
        "n_train_models": len(train.models),
        "n_train_scores": train.n_scores,
        "n_test": len(later),
        "mae": float(np.mean(np.abs(error))),
        "bias": float(np.mean(error)),
        "coverage": float(np.mean(covered)),
        "ci_prob": ci_prob,
        "train_frontier_growth_per_year": summarise(past.frontier_growth, ci_prob),
        "models": [
            {
                "model": m,
                "date": d.date().isoformat(),
                "actual": float(a),
                "median": float(f),
                "lo": float(low),
                "hi": float(high),
            }
            for m, d, a, f, low, high in zip(later, dates, actual, median, lo, hi, strict=True)
        ],
        "diagnostics": json.loads(early.posterior.attrs["diagnostics"]),
    }
