"""Has progress sped up? A hinge model of the frontier, its posterior, and a calibrated rule.

`acceleration` fits a continuous two-slope line with an unknown breakpoint to the frontier (or all
models) of a saved posterior (`rosetta.acceleration.hinge`), either draw by draw ("pooled"
noise: scatter and measurement error as one) or to the posterior means with each model's
measurement variance known and the scatter its own parameter ("separate"), and applies the
decision rule
"P(slope after > r * slope before) >= threshold", whose ``r`` and threshold come from
simulated worlds with no acceleration (`rosetta.acceleration.calibration`), so that the rule
fires in at most 5% of them over a four-year watch. `sequential` replays the data in release
order and reports when the rule first fires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.acceleration.hinge import HingeDraws, fit_hinge
from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.errors import RosettaError
from rosetta.fitted import as_fit
from rosetta.intervals import bounds, describe, label, summarise
from rosetta.results import Result
from rosetta.trends import YEAR_DAYS, draw_matrix, frontier_mask, release_dates, years_since

__all__ = [
    "DEFAULT_RULE",
    "AccelerationResult",
    "Rule",
    "WatchResult",
    "acceleration",
    "default_calibration",
    "sequential",
    "watch",
]

#: Ratios at which P(slope after > r * slope before) is reported.
RATIOS = (1.0, 1.5, 2.0, 3.0)
#: Joint hinge draws per analysis (spread over the capability draws, at least 20 each).
HINGE_DRAWS = 4000
#: Years are counted from this date on the hinge's axis.
ORIGIN = pd.Timestamp("2020-01-01")


#: What the hinge can be fitted to.
POPULATIONS = ("frontier", "all")
#: How the measurement error enters: draw by draw with the scatter, or known and separate.
NOISES = ("pooled", "separate")
#: The (population, noise) pairs a calibration sweep scores (a frontier differs per draw, so it
#: has no separate form).
DETECTORS = (("frontier", "pooled"), ("all", "pooled"), ("all", "separate"))


def detector_key(population: str, noise: str = "pooled") -> str:
    """``"all"``, ``"frontier"`` or ``"all:separate"``: a detector's name in sweep records."""
    return population if noise == "pooled" else f"{population}:{noise}"


@dataclass(frozen=True)
class Rule:
    """Detect acceleration when P(slope after > ratio * slope before) >= threshold.

    ``population`` says what the hinge is fitted to: the frontier of each draw, or all models;
    ``noise`` how the measurement error enters (`NOISES`).
    """

    population: str
    ratio: float
    threshold: float
    source: str = ""
    noise: str = "pooled"

    def fires(self, p_above: dict[float, float]) -> bool:
        """Whether the rule fires given P(ratio > r) by r."""
        return p_above[self.ratio] >= self.threshold


#: The summary of the sweep the shipped rule comes from (``rosetta calibrate --json``; see the
#: README for the command): the rule, its held-out false alarms, power and power curve, and the
#: oracle's.
DEFAULT_CALIBRATION_FILE = Path(__file__).with_name("default_calibration.json")


def default_calibration() -> dict:
    """The summary of the calibration sweep behind `DEFAULT_RULE`."""
    return json.loads(DEFAULT_CALIBRATION_FILE.read_text())


def _default_rule() -> Rule:
    summary = default_calibration()
    far = summary["false_alarm"]
    rule = Rule(**summary["rule"])
    where = "held-out" if summary.get("held_out") else "in-sample"
    return replace(
        rule,
        source=f"{rule.source} of the {summary.get('design', 'reference')} design; "
        f"{far['k']}/{far['n']} {where} false alarms",
    )


#: The shipped rule: the most powerful rule for a 2x speed-up on a third of the null worlds of
#: `DEFAULT_CALIBRATION_FILE`'s sweep at a 5% conformal false-alarm bound.
DEFAULT_RULE = _default_rule()


@dataclass(frozen=True)
class WatchResult(Result):
    """The rule replayed month by month (see `watch`): when it first fired, if ever.

    ``table`` is the `sequential` table: one row per checkpoint.
    """

    table: pd.DataFrame
    rule: Rule

    @property
    def first_detection(self) -> pd.Timestamp | None:
        """The first checkpoint where the rule fired."""
        first = self.table.loc[self.table["first"], "date"] if not self.table.empty else []
        return first.iloc[0] if len(first) else None

    def to_dict(self) -> dict:
        """``first_detection`` and per checkpoint ``date``, ``n_models``, ``p_acceleration``."""
        first = self.first_detection
        column = f"p_above_{self.rule.ratio:g}"
        return {
            "first_detection": None if first is None else first.date().isoformat(),
            "checkpoints": [
                {
                    "date": row.date.date().isoformat(),
                    "n_models": int(row.n_models),
                    "p_acceleration": None if np.isnan(row[column]) else float(row[column]),
                    "detected": bool(row.detected),
                }
                for _, row in self.table.iterrows()
            ],
        }

    def summary(self) -> str:
        """One line: the first firing, or never."""
        first = self.to_dict()["first_detection"]
        return f"watching month by month: first firing {first or 'never'}"

    def plot_data(self) -> pd.DataFrame:
        """Per checkpoint: ``date``, ``n_models``, ``p_acceleration``, ``detected``."""
        columns = ["date", "n_models", "p_acceleration", "detected"]
        if self.table.empty:
            return pd.DataFrame(columns=columns)
        column = f"p_above_{self.rule.ratio:g}"
        return self.table.rename(columns={column: "p_acceleration"})[columns]

    def plot(self, *, path: str | Path | None = None):
        """P(acceleration) at each checkpoint against the rule's threshold."""
        from rosetta.plots import plot_watch

        return plot_watch(self, path=path)


@dataclass(frozen=True)
class AccelerationResult(Result):
    """The hinge posterior of one data set and the verdict of the rule."""

    hinge: HingeDraws
    rule: Rule
    n_points: float
    population: str
    noise: str = "pooled"
    ci_prob: float = CI_PROB
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    watch: WatchResult | None = None

    @property
    def p_above(self) -> dict[float, float]:
        """P(slope after > r * slope before) for each reported r."""
        return {r: self.hinge.p_ratio_above(r) for r in sorted({*RATIOS, self.rule.ratio})}

    @property
    def detected(self) -> bool:
        """The verdict of the rule."""
        return self.rule.fires(self.p_above)

    def notes(self) -> list[str]:
        """Caveats of this verdict."""
        used, calibrated = (self.population, self.noise), (self.rule.population, self.rule.noise)
        if used == calibrated:
            return []
        return [
            f"the rule was calibrated on {_detector(*calibrated)}; its verdict on "
            f"{_detector(*used)} has no calibrated false-alarm rate"
        ]

    def breakpoint_dates(self) -> pd.DatetimeIndex:
        """The breakpoint draws as dates."""
        return to_dates(self.hinge.breakpoint)

    def to_dict(self) -> dict:
        """JSON-ready summary (the keys of ``rosetta accelerate --json``)."""
        lo, hi = bounds(self.ci_prob)
        tau = np.quantile(self.hinge.breakpoint, [0.5, lo, hi])
        ratio = self.hinge.ratio[np.isfinite(self.hinge.ratio)]
        out = {
            "breakpoint": dict(zip(("median", "lo", "hi"), _iso(tau), strict=True)),
            "slope_before": summarise(self.hinge.before, self.ci_prob),
            "slope_after": summarise(self.hinge.after, self.ci_prob),
            "slope_ratio": summarise(ratio, self.ci_prob),
            "p_before_positive": float(np.mean(self.hinge.before > 0)),
            "p_ratio_above": {f"{r:g}": p for r, p in self.p_above.items()},
            "p_acceleration": self.p_above[self.rule.ratio],
            "p_hinge": self.hinge.p_hinge,
            "log_bayes_factor": float(np.median(self.hinge.log_bayes_factor)),
            "detected": self.detected,
            "rule": {
                "population": self.rule.population,
                "ratio": self.rule.ratio,
                "threshold": self.rule.threshold,
                "source": self.rule.source,
                "noise": self.rule.noise,
            },
            "population": self.population,
            "noise": self.noise,
            "n_points": self.n_points,
            "notes": self.notes(),
            "ci_prob": self.ci_prob,
        }
        if self.watch is not None:
            out["sequential"] = self.watch.to_dict()
        return out

    def summary(self) -> str:
        """Breakpoint, slopes, ratio probabilities, the rule and its verdict."""
        d, rule = self.to_dict(), self.rule
        bp = d["breakpoint"]
        lines = [
            f"hinge fitted to {_detector(self.population, self.noise)} ({self.n_points:.0f} "
            "models per draw on average)",
            f"breakpoint       {bp['median']} ({label(self.ci_prob)} interval {bp['lo']} to "
            f"{bp['hi']})",
            f"slope before     {describe(d['slope_before'], self.ci_prob)} per year",
            f"slope after      {describe(d['slope_after'], self.ci_prob)} per year",
            f"slope ratio      {describe(d['slope_ratio'], self.ci_prob)} (over the "
            f"{d['p_before_positive']:.0%} of draws with a positive slope before)",
            "P(ratio > r)     "
            + ", ".join(f"r={r}: {p:.3f}" for r, p in d["p_ratio_above"].items()),
            f"P(hinge) vs one line: {d['p_hinge']:.3f}",
            f"rule: {describe_rule(rule)}",
            f"verdict: acceleration {'DETECTED' if self.detected else 'not detected'}",
        ]
        if self.watch is not None:
            lines.append(self.watch.summary())
        lines += [f"note: {n}" for n in d["notes"]]
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """Per model: release date, mean capability and frontier probability."""
        return self.points

    def plot(self, *, calibration: dict | None = None, path: str | Path | None = None):
        """Frontier and hinge, breakpoint and ratio posteriors, and the power curve if given."""
        from rosetta.plots import plot_acceleration

        return plot_acceleration(self, calibration, path=path)


def describe_rule(rule: Rule) -> str:
    """``P(ratio > 2) >= 0.97 on the frontier (source)``."""
    return (
        f"P(ratio > {rule.ratio:g}) >= {rule.threshold:.4g} on "
        f"{_detector(rule.population, rule.noise)} ({rule.source})"
    )


def _detector(population: str, noise: str) -> str:
    who = "the frontier" if population == "frontier" else "all models"
    if noise == "separate":
        return f"{who}, measurement error separate from the scatter"
    return who


def acceleration(
    fit,
    *,
    dates=None,
    population: str | None = None,
    noise: str | None = None,
    until=None,
    rule: Rule = DEFAULT_RULE,
    draws: int = 200,
    random_seed: int = DEFAULT_SEED,
    watch_from=None,
) -> AccelerationResult:
    """Posterior of a speed-up of the frontier (or of all models) over time.

    Parameters
    ----------
    fit
        An InferenceData from `rosetta.fit` (or `rosetta.load`).
    dates
        Release dates by model, over those saved with the fit.
    population
        ``"frontier"``: per draw, the models that beat every earlier model; ``"all"``: every
        dated model. By default the rule's (the one its calibration chose).
    noise
        ``"pooled"``: the hinge is fitted draw by draw, measurement error and scatter as one
        noise; ``"separate"`` (all models only): to the posterior means, each model's
        posterior variance as known measurement error and the scatter as its own parameter.
        By default the rule's.
    until
        Use only models released by this date.
    rule
        The decision rule (`DEFAULT_RULE`, calibrated by simulation).
    draws
        Capability draws used (evenly thinned); each brings its own frontier.
    random_seed
        The same posterior and seed give the same answer.
    watch_from
        Also replay the models month by month from this date (`watch`).
    """
    fit = as_fit(fit)
    capability, known = _dated_draws(fit, dates, draws)
    result = analyse(
        capability,
        known,
        population=population or rule.population,
        noise=noise or rule.noise,
        until=until,
        rule=rule,
        seed=random_seed,
    )
    if watch_from is None:
        return result
    watched = watch(
        fit,
        watch_from,
        dates=dates,
        population=population,
        noise=noise,
        rule=rule,
        draws=draws,
        seed=random_seed,
    )
    return replace(result, watch=watched)


def analyse(
    capability: np.ndarray,
    dates: pd.DatetimeIndex,
    *,
    population: str = "frontier",
    noise: str = "pooled",
    until=None,
    rule: Rule = DEFAULT_RULE,
    seed: int = DEFAULT_SEED,
) -> AccelerationResult:
    """`acceleration` on capability draws ``(draw, model)`` and release ``dates`` (model).

    With one draw (e.g. the true capabilities of a simulated world) ``noise="separate"`` is a
    hinge with no measurement error.
    """
    if population not in POPULATIONS:
        raise ValueError(f"population must be 'frontier' or 'all', got {population!r}")
    if noise not in NOISES:
        raise ValueError(f"noise must be 'pooled' or 'separate', got {noise!r}")
    if (population, noise) not in DETECTORS:
        raise ValueError("the frontier differs per draw: it has no 'separate' noise")
    dates = pd.DatetimeIndex(dates)
    if until is not None:
        keep = np.asarray(dates <= pd.Timestamp(until))
        capability, dates = capability[:, keep], dates[keep]
    if population == "frontier":
        mask = frontier_mask(capability, dates.to_numpy())
    else:
        mask = np.ones(capability.shape, dtype=bool)
    x = years_since_origin(dates)
    values, variance = capability, None
    if noise == "separate":
        values = capability.mean(axis=0, keepdims=True)
        ddof = 1 if len(capability) > 1 else 0
        variance = capability.var(axis=0, ddof=ddof, keepdims=True)
    try:
        hinge = fit_hinge(
            x,
            values,
            mask[:1] if noise == "separate" else mask,
            variance=variance,
            draws_per_set=max(20, HINGE_DRAWS // len(values)),
            rng=np.random.default_rng(seed),
        )
    except ValueError as error:
        raise RosettaError(f"too few dated models for a hinge: {error}") from None
    points = pd.DataFrame(
        {
            "date": dates,
            "capability": capability.mean(axis=0),
            "p_frontier": mask.mean(axis=0),
        }
    )
    return AccelerationResult(
        hinge=hinge,
        rule=rule,
        n_points=float(mask.sum(axis=1).mean()),
        population=population,
        noise=noise,
        points=points,
    )


def sequential(
    capability: np.ndarray,
    dates: pd.DatetimeIndex,
    checkpoints,
    *,
    population: str = "frontier",
    noise: str = "pooled",
    rule: Rule = DEFAULT_RULE,
    seed: int = DEFAULT_SEED,
    min_points: int = 12,
) -> pd.DataFrame:
    """Refit the hinge at each checkpoint on the models released by then.

    Returns
    -------
    pandas.DataFrame
        One row per checkpoint with at least ``min_points`` models (NaN where the population
        has too few for a hinge yet): ``date``, ``n_models``, ``p_above_<r>`` for
        each ratio of `RATIOS`, ``p_hinge``, ``breakpoint`` (median date), ``ratio`` (median),
        ``detected`` (the rule) and ``first`` (True on the first checkpoint where it fires).
    """
    dates = pd.DatetimeIndex(dates)
    rows = []
    for date in pd.DatetimeIndex(checkpoints):
        n_models = int((dates <= date).sum())
        if n_models < min_points:
            continue
        row = {"date": date, "n_models": n_models}
        try:
            result = analyse(
                capability,
                dates,
                population=population,
                noise=noise,
                until=date,
                rule=rule,
                seed=seed,
            )
        except RosettaError:  # too few frontier models yet: no verdict at this date
            row.update({f"p_above_{r:g}": np.nan for r in sorted({*RATIOS, rule.ratio})})
            row.update(p_hinge=np.nan, breakpoint=pd.NaT, ratio=np.nan, detected=False)
            rows.append(row)
            continue
        row.update({f"p_above_{r:g}": p for r, p in result.p_above.items()})
        row["p_hinge"] = result.hinge.p_hinge
        row["breakpoint"] = to_dates(np.median(result.hinge.breakpoint, keepdims=True))[0]
        row["ratio"] = float(np.nanmedian(result.hinge.ratio))
        row["detected"] = result.detected
        rows.append(row)
    table = pd.DataFrame(rows)
    if not table.empty:
        table["first"] = table["detected"] & ~table["detected"].cumsum().shift(fill_value=0).gt(0)
    return table


def watch(
    fit,
    start,
    *,
    dates=None,
    population: str | None = None,
    noise: str | None = None,
    rule: Rule = DEFAULT_RULE,
    draws: int = 200,
    seed: int = DEFAULT_SEED,
) -> WatchResult:
    """`sequential` on a saved posterior, month by month from ``start`` to the last release.

    The capabilities come from the one saved fit (measured with every benchmark it holds), so
    this replays the release order, not what could have been measured at each date.
    """
    capability, known = _dated_draws(as_fit(fit), dates, draws)
    checkpoints = pd.date_range(pd.Timestamp(start), known.max(), freq="MS")
    table = sequential(
        capability,
        known,
        checkpoints,
        population=population or rule.population,
        noise=noise or rule.noise,
        rule=rule,
        seed=seed,
    )
    return WatchResult(table, rule)


def _dated_draws(fit, dates, draws: int) -> tuple[np.ndarray, pd.DatetimeIndex]:
    released = release_dates(fit, dates)
    known = released.notna().to_numpy()
    if known.sum() == 0:
        raise RosettaError("no model has a release date; pass dates=")
    values = thinned_draws(fit.posterior["capability"], draws)[:, known]
    return values, pd.DatetimeIndex(released[known])


def thinned_draws(capability, draws: int) -> np.ndarray:
    """``draws`` evenly spaced capability draws ``(draw, model)`` of a posterior DataArray."""
    return evenly_spaced(draw_matrix(capability), draws)


def evenly_spaced(values: np.ndarray, rows: int) -> np.ndarray:
    """``rows`` evenly spaced rows of ``values`` (all of them when it has fewer)."""
    take = np.unique(np.linspace(0, len(values) - 1, min(rows, len(values))).astype(int))
    return values[take]


def years_since_origin(dates) -> np.ndarray:
    """Dates as years since `ORIGIN`, the hinge's axis."""
    return years_since(dates, ORIGIN)


def to_dates(years: np.ndarray) -> pd.DatetimeIndex:
    """Years on the hinge's axis back to dates."""
    return ORIGIN + pd.to_timedelta(np.round(np.asarray(years) * YEAR_DAYS), "D")


def _iso(years: np.ndarray) -> list[str]:
    return [d.date().isoformat() for d in to_dates(years)]
