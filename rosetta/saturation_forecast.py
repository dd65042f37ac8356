"""When will the frontier reach a score on a benchmark? The trend meets the benchmark's curve.

For posterior draw ``s``, benchmark ``j`` reaches level ``L`` (expected score) at capability::

    theta*_s = difficulty_j,s + logit((L - floor_j) / (1 - floor_j)) / slope_j,s

(a benchmark fitted from item-level responses: where the mean of its items' curves reaches ``L``,
`rosetta.prediction.capability_reaching`; its expected scores are that mean too)

and the frontier line (``intercept_s + growth_s * years``, drawn from the same posterior draw's
capabilities) crosses ``theta*_s`` at ``years*_s = (theta*_s - intercept_s) / growth_s``. Draw
by draw:

- if some fitted model's expected score on ``j`` is already at ``L``, the date is the release of
  the first such model (the level was reached);
- otherwise it is the line's crossing, and not earlier than the latest release in the data (a
  level not reached yet is reached after it); never, when the drawn growth is not positive.

The median and interval of those dates so carry the trend's, the capabilities' and the benchmark
parameters' uncertainty together. A level is "already reached" when it was reached in at least
half of the draws, "beyond the horizon" when the median date lies past the horizon (interval ends
past it are reported as ``None``), "due" when the trend line is past the level in at least half
the draws but no fitted model is at it (the date is then the latest release, by the clamp above),
and "forecast" otherwise.

The frontier line is by default the *envelope*: the regression of all dated models on release
date (`rosetta.trend`'s all-models line), moved up by the mean gap of the draw's frontier models
above it. The regression through the frontier models alone (``line="frontier"``) rests on the few
record-setting models of each draw, whose selection as records flattens its slope, and it needs
at least 3 of them. Chosen by back-test, not taste (`benchmarks/saturation_backtest.py`, bundled
data, cutoffs 2024-01-01, 2024-07-01 and 2025-01-01, 13 benchmarks that crossed 50% after a
cutoff): envelope median absolute error 88 days, 90% intervals cover 11 of 13; frontier line 233
days, 10 of 13.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.data.table import did_you_mean
from rosetta.errors import RosettaError
from rosetta.fitted import as_fit
from rosetta.intervals import bounds, label
from rosetta.placement import _Draws
from rosetta.prediction import benchmark_scores, capability_reaching
from rosetta.results import Result
from rosetta.trends import YEAR_DAYS, LineDraws, _trend, frontier_mask, release_dates

#: Score levels forecast by default, and how far past the latest release a forecast reaches.
DEFAULT_LEVELS = (0.5, 0.9)
DEFAULT_HORIZON_YEARS = 10.0
#: A level counts as reached when it is reached in at least this share of draws.
REACHED = 0.5
#: Above this share of draws without a frontier line, the all-models line stands in.
_MAX_MISSING_LINES = 0.1

STATUSES = ("already reached", "due", "forecast", "beyond the horizon")
LINES = ("envelope", "frontier")


@dataclass
class SaturationForecast(Result):
    """Dates at which the forecast frontier's expected score reaches each level, per benchmark.

    Attributes
    ----------
    table
        One row per (``benchmark``, ``level``): ``median``, ``lo``, ``hi`` (dates; NaT past the
        horizon), ``status``, ``p_reached`` (share of draws where a fitted model is already at
        the level), ``p_due`` (share where the line is past it but no model is) and
        ``reached_by`` (the first model at the level in at least half the draws).
    latest, horizon
        The latest release in the data, and the end of the forecast.
    """

    table: pd.DataFrame
    latest: pd.Timestamp
    horizon: pd.Timestamp
    scale: str
    ci_prob: float = CI_PROB
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The ``--json`` object: ``benchmarks``, name -> ``levels``, level text -> dates.

        Each level has ``median``, ``lo``, ``hi`` (ISO dates or null past the horizon),
        ``status``, ``p_reached`` and ``reached_by``; with one benchmark its ``levels`` are also
        at the top level.
        """
        out = {}
        for bench, rows in self.table.groupby("benchmark", sort=False):
            out[bench] = {"levels": {_level(r["level"]): _row(r) for _, r in rows.iterrows()}}
        d = {
            "scale": self.scale,
            "ci_prob": self.ci_prob,
            "latest_release": self.latest.date().isoformat(),
            "horizon": self.horizon.date().isoformat(),
            "benchmarks": out,
            "notes": self.notes,
        }
        if len(out) == 1:
            ((bench, value),) = out.items()
            d |= {"benchmark": bench, "levels": value["levels"]}
        return d

    def summary(self) -> str:
        """One line per benchmark and level."""
        lines = [
            f"when the frontier's expected score reaches each level (median [{label(self.ci_prob)} "
            f"interval]; data up to {self.latest.date()}, horizon {self.horizon.date()})"
        ]
        width = max(len(b) for b in self.table["benchmark"])
        for _, r in self.table.iterrows():
            when = f"{_text(r['median'])} [{_text(r['lo'])}, {_text(r['hi'])}]"
            extra = ""
            if r["status"] == "already reached" and pd.notna(r["reached_by"]):
                extra = f" by {r['reached_by']}"
            lines.append(
                f"  {r['benchmark']:<{width}}  {_level(r['level']):>4}  {r['status']:<18} "
                f"{when}{extra}"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """The forecast table."""
        return self.table

    def plot(self, *, path: str | Path | None = None):
        """Each benchmark's forecast date and interval, per level."""
        from rosetta.plots_planning import plot_saturation

        return plot_saturation(self, path=path)


def saturation(
    fit,
    benchmark: str | Sequence[str] | None = None,
    *,
    levels: Sequence[float] = DEFAULT_LEVELS,
    line: str = "envelope",
    dates=None,
    since=None,
    horizon_years: float = DEFAULT_HORIZON_YEARS,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> SaturationForecast:
    """Forecast when the frontier's expected score on benchmarks reaches each level.

    Parameters
    ----------
    fit
        A fit (`rosetta.fit` / `rosetta.load`) or a ``.nc`` path; its models need release dates.
    benchmark
        One benchmark or several; ``None`` for every fitted benchmark.
    levels
        Expected-score levels in (0, 1), e.g. 0.5 and 0.9 (percentages above 1 are read as %).
    line
        How the frontier moves: ``"envelope"`` (default), the all-models trend moved up through
        each draw's frontier models; or ``"frontier"``, the regression through the frontier
        models alone (`rosetta.trend`'s frontier growth). See the module notes.
    dates, since
        As for `rosetta.trend`: release dates overriding the fit's, and the start of the trend.
    horizon_years
        Forecast this many years past the latest release; later dates are reported as ``None``.
    ci_prob
        Probability mass of the date intervals.
    random_seed
        Seed of the trend's regression draws.

    Returns
    -------
    SaturationForecast
    """
    if line not in LINES:
        raise ValueError(f"line must be one of {LINES}, got {line!r}")
    fit = as_fit(fit)
    levels = _levels(levels)
    trend = _trend(fit, dates, since, horizon_years, ci_prob, random_seed, None)
    draws = _Draws.from_posterior(fit.posterior)
    names = list(draws.benchmarks) if benchmark is None else _names(benchmark)
    unknown = [n for n in names if n not in draws.benchmarks]
    if unknown:
        known = list(draws.benchmarks)
        raise RosettaError(
            "; ".join(f"benchmark {n!r} is not in the fit{did_you_mean(n, known)}" for n in unknown)
        )
    released = release_dates(fit, dates).dropna().sort_values()
    latest = released.max()
    horizon = latest + pd.Timedelta(days=horizon_years * YEAR_DAYS)
    models = draws.models.get_indexer(released.index)
    capability = draws.capability[:, models]  # (draw, model) in release order
    notes = []
    line = _frontier_line(trend, capability, released, line, notes)
    rows = []
    for name in names:
        p = benchmark_scores(fit, capability, [name] * capability.shape[1])
        for level in levels:
            theta = capability_reaching(fit, name, level)
            rows.append(_forecast(name, level, p, released, theta, line, horizon, ci_prob))
    table = pd.DataFrame(rows)
    first = released.iloc[0]
    if (table["median"] == first.normalize()).any():
        notes.append(
            f"a level reached at the first release in the data ({first.date()}) was reached on "
            "or before that date"
        )
    if draws.domains:
        notes.append("bifactor fit: forecasts use the general capability, not domain strengths")
    return SaturationForecast(
        table=table,
        latest=latest,
        horizon=horizon,
        scale=draws.scale,
        ci_prob=ci_prob,
        notes=notes,
    )


def _frontier_line(trend, capability, released: pd.Series, line: str, notes) -> LineDraws:
    """The line the frontier follows in each draw.

    ``"envelope"``: the all-models line moved up through the draw's frontier models (mean gap);
    ``"frontier"``: the trend's regression through the frontier models alone, unless too many
    draws have fewer than 3 frontier models for it (then the envelope, with a note).
    """
    frontier = trend.frontier_line
    missing = float(np.mean(~np.isfinite(frontier.slope)))
    if line == "frontier" and missing <= _MAX_MISSING_LINES:
        notes += trend.notes
        return frontier
    if line == "frontier":
        notes.append(
            f"{100 * missing:.0f}% of draws have fewer than 3 frontier models, too few for a "
            "frontier line: the envelope line stands in"
        )
    every = trend.all_line
    on = frontier_mask(capability, released.to_numpy())
    years = every.years(released)
    gap = capability - (every.intercept[:, None] + every.slope[:, None] * years)
    shift = (gap * on).sum(axis=1) / on.sum(axis=1)
    return LineDraws(
        every.intercept + shift, every.slope, every.sigma, every.origin, on.sum(axis=1)
    )


def _forecast(name, level, p, released, theta, line, horizon, ci_prob) -> dict:
    """The crossing-date draws of one (benchmark, level) and their summary row.

    ``p``: expected scores (draw, model), models in release order; ``theta``: the capability at
    the level, per draw.
    """
    above = p >= level
    reached = above.any(axis=1)
    first = np.argmax(above, axis=1)
    release_years = line.years(released.to_numpy())
    now = release_years.max()
    # The years at which the line reaches theta: never (inf) without positive growth, and not
    # before the latest release.
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(line.slope > 0, (theta - line.intercept) / line.slope, np.inf)
    crossing = np.maximum(np.nan_to_num(crossing, nan=np.inf), now)
    years = np.where(reached, release_years[first], crossing)
    # Draws without a line (the frontier regression with fewer than 3 frontier models) are left
    # out whether or not a model reached the level there.
    years = np.where(np.isnan(line.slope), np.nan, years)
    # "Never" only needs to sort after the horizon (and inf - inf would poison the quantiles).
    years = np.minimum(years, line.years([horizon])[0] + 1.0)
    p_reached = float(reached.mean())
    lo, median, hi = np.nanquantile(years, [bounds(ci_prob)[0], 0.5, bounds(ci_prob)[1]])
    # "Due": the trend line is past the level in at least half the draws (clamped to the latest
    # release) while no fitted model is at it.
    due = float(np.mean(~reached & (crossing <= now)))
    status = (
        "already reached"
        if p_reached >= REACHED
        else "due"
        if due >= REACHED
        else "beyond the horizon"
        if pd.isna(_date(line.origin, median)) or _date(line.origin, median) > horizon
        else "forecast"
    )
    share = above.mean(axis=0)
    by = np.flatnonzero(share >= REACHED)
    return {
        "benchmark": name,
        "level": level,
        "status": status,
        **{
            k: _within(_date(line.origin, v), horizon)
            for k, v in zip(("median", "lo", "hi"), (median, lo, hi), strict=True)
        },
        "p_reached": p_reached,
        "p_due": due,
        "reached_by": str(released.index[by[0]]) if len(by) else None,
    }


def _date(origin: pd.Timestamp, years: float):
    if not math.isfinite(years):
        return pd.NaT
    return (origin + pd.Timedelta(days=years * YEAR_DAYS)).normalize()


def _within(date, horizon):
    return pd.NaT if pd.isna(date) or date > horizon else date


def _levels(levels: Sequence[float]) -> list[float]:
    if not len(levels):
        raise RosettaError("give at least one level")
    out = []
    for value in levels:
        level = float(value) / 100 if 1 < float(value) <= 100 else float(value)
        if not 0 < level < 1:
            raise RosettaError(f"level {value!r} must lie strictly between 0 and 1 (or 0-100%)")
        out.append(level)
    return out


def _names(benchmark) -> list[str]:
    return [benchmark] if isinstance(benchmark, str) else list(benchmark)


def _level(level: float) -> str:
    return f"{level:g}"


def _row(r) -> dict:
    return {
        **{k: None if pd.isna(r[k]) else r[k].date().isoformat() for k in ("median", "lo", "hi")},
        "status": r["status"],
        "p_reached": r["p_reached"],
        "p_due": r["p_due"],
        "reached_by": None if pd.isna(r["reached_by"]) else r["reached_by"],
    }


def _text(date) -> str:
    return "beyond" if pd.isna(date) else date.date().isoformat()
