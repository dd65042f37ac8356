"""Algorithmic progress: how much capability comes from better methods rather than more compute.

The model is ``capability = k * log10(compute) + b(date)``: at fixed compute, capability rises as
``b`` improves. Per posterior draw of the capabilities:

1. ``k`` comes from **within-family** variation: models of one family share a training recipe
   and a date and differ in size, so regressing capability on log-compute with one intercept per
   family isolates the compute effect from the date effect;
2. ``b_i = capability_i - k * log10(compute_i)`` is regressed on release date (all models with a
   date and compute), giving ``db/dt`` per year;
3. the compute-equivalent efficiency gain per year is ``10 ** (db/dt / k)`` (the factor of
   compute that a year of progress saves) and the compute halving time is
   ``12 * log10(2) / (db/dt / k)`` months.

As in `rosetta.trend`, each draw's regressions draw their coefficients from their posteriors
(flat priors), so the intervals carry capability, ``k`` and regression uncertainty together. A
joint variant regresses capability on log-compute and date at once; `progress` reports both,
with and without distilled models, in a sensitivity table.

**Family rule** (`model_family`): the model id, lower-cased, with release-date stamps, reasoning
settings (``_high``), sizes (``7b``, ``8x7b``, ``17b-128e``), and the suffixes ``instruct``,
``chat``, ``base``, ``it``, ``hf``, ``fp8`` and dotted version tags (``v0.1``) removed:
``Llama-2-7b`` and ``Llama-2-70b`` are both ``llama-2``; ``Meta-Llama-3-70B-Instruct`` is
``meta-llama-3``; ``falcon-7b`` and ``falcon-40b`` are ``falcon``. Within a name, models released
more than `FAMILY_WINDOW_DAYS` after the first member open a new family (``falcon-11b``, a year
later, is another generation). Families whose members all have the same compute carry no
information on ``k`` and only enter step 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.families import model_family
from rosetta.trend import YEAR_DAYS, release_dates, summarise

#: Members of a name family released further apart than this start a new family (a new
#: generation under an old name, e.g. falcon-11b a year after falcon-7b).
FAMILY_WINDOW_DAYS = 90


@dataclass
class ProgressResult:
    """Algorithmic progress of a fitted posterior (see `progress`)."""

    k: np.ndarray
    trend: np.ndarray
    joint_k: np.ndarray
    joint_trend: np.ndarray
    models: pd.DataFrame
    variants: pd.DataFrame
    excluded: dict[str, int]
    include_distilled: bool
    scale: str
    ci_prob: float = CI_PROB
    notes: list[str] = field(default_factory=list)

    @property
    def efficiency_gain(self) -> np.ndarray:
        """Draws of the compute-equivalent efficiency gain per year, ``10 ** (db/dt / k)``."""
        return _gain(self.trend, self.k)

    @property
    def halving_time_months(self) -> np.ndarray:
        """Draws of the compute halving time in months (inf/negative when no progress)."""
        return _halving(self.trend, self.k)

    def to_dict(self) -> dict:
        """A JSON-ready summary (the keys of ``rosetta progress --json``)."""
        return {
            "scale": self.scale,
            "ci_prob": self.ci_prob,
            "n_models": len(self.models),
            "n_families_informing_k": int(
                self.models.loc[self.models["informs_k"], "family"].nunique()
            ),
            "include_distilled": self.include_distilled,
            "excluded": self.excluded,
            "k": summarise(self.k, self.ci_prob),
            "b_growth_per_year": summarise(self.trend, self.ci_prob),
            "efficiency_gain_per_year": summarise(self.efficiency_gain, self.ci_prob),
            "halving_time_months": _halving_summary(self.trend / self.k, self.ci_prob),
            "variants": self.variants.reset_index().to_dict(orient="records"),
            "notes": self.notes,
        }


def progress(
    fit,
    *,
    include_distilled: bool = False,
    families: dict[str, str] | None = None,
    since=None,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> ProgressResult:
    """Algorithmic progress from a fitted posterior with release dates and training compute.

    Parameters
    ----------
    fit
        A fit (`rosetta.fit` / `rosetta.load`) or a ``.nc`` path; compute, dates and the
        distilled flag come from its table (the bundled metadata or the user's columns).
    include_distilled
        Keep distilled models (excluded by default: their compute understates what they
        inherited).
    families
        Model -> family overrides of `model_family`.
    since
        Use models released on or after this date only.
    ci_prob
        Probability mass of the intervals.
    random_seed
        Seed of the regression draws.

    Returns
    -------
    ProgressResult
    """
    from rosetta.io import load_fit

    fit = load_fit(fit) if isinstance(fit, str) or hasattr(fit, "__fspath__") else fit
    rng = np.random.default_rng(random_seed)
    table, excluded = _usable_models(fit, include_distilled, since, families)
    est = _estimate(fit, table, rng)
    if est["k"] is None:
        raise ValueError(
            "too few models in families with several compute values to estimate k "
            f"({int(table['informs_k'].sum())}); pass families= or use more data"
        )
    variants = _variants(est, include_distilled, len(table), ci_prob)
    other, _ = _usable_models(fit, not include_distilled, since, families)
    if len(other) != len(table):
        variants += _variants(
            _estimate(fit, other, rng), not include_distilled, len(other), ci_prob
        )
    notes = []
    k = est["k"]
    if np.mean(k <= 0) > 0.05:
        notes.append(f"P(k <= 0) = {np.mean(k <= 0):.2f}: compute barely orders capability here")
    return ProgressResult(
        k=k,
        trend=est["trend"],
        joint_k=est["joint_k"],
        joint_trend=est["joint_trend"],
        models=table,
        variants=pd.DataFrame(variants).set_index(["variant", "distilled"]),
        excluded=excluded,
        include_distilled=include_distilled,
        scale=str(fit.posterior.attrs.get("scale_description", "")),
        ci_prob=ci_prob,
        notes=notes,
    )


def _estimate(fit, table: pd.DataFrame, rng) -> dict:
    """Both estimators on the models of ``table``, one coefficient draw per posterior draw."""
    capability = fit.posterior["capability"].sel(model=table.index.to_numpy())
    draws = capability.transpose("chain", "draw", "model").to_numpy().reshape(-1, len(table))
    log_c = np.log10(table["compute"].to_numpy())
    years = (table["date"] - table["date"].min()).dt.days.to_numpy() / YEAR_DAYS
    informs = table["informs_k"].to_numpy()
    k = trend = None
    if informs.sum() >= 3:
        groups = pd.factorize(table["family"][informs])[0]
        k = _within_slope(log_c[informs], draws[:, informs], groups, rng)
        trend = _slope(years, draws - k[:, None] * log_c[None, :], rng)
    design = np.column_stack([log_c, years, np.ones_like(years)])
    joint = _ols_draws(design, draws, rng)
    return {"k": k, "trend": trend, "joint_k": joint[:, 0], "joint_trend": joint[:, 1]}


def _usable_models(fit, include_distilled: bool, since, families) -> tuple[pd.DataFrame, dict]:
    """Models with a date and compute (and not distilled unless asked), with exclusion counts.

    Adds each model's ``family`` and whether its family has several compute values
    (``informs_k``).
    """
    models = fit.posterior["model"].to_numpy().astype(str)
    const = fit.constant_data
    table = pd.DataFrame(
        {
            "date": release_dates(fit).to_numpy(),
            "compute": const["compute"].to_numpy(),
            "distilled": const["distilled"].to_numpy() == 1,
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
    family = pd.Series([model_family(m) for m in table.index], index=table.index)
    family = _split_generations(family, table["date"])
    if families:
        family.update(pd.Series(families))
    table["family"] = family
    spread = np.log10(table["compute"]).groupby(family).transform(lambda x: x.max() - x.min())
    table["informs_k"] = spread > 0.05
    return table, excluded


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
        raise ValueError(f"{n} points cannot fit {p} coefficients with a residual")
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
    """Median and interval of the halving time, from the quantiles of the rate ``db/dt / k``.

    The halving time falls as the rate rises, so its interval ends come from the rate's
    opposite ends; a rate interval reaching 0 or below leaves the upper end unbounded (None).
    """
    lo, median, hi = np.quantile(rate, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])

    def months(r):
        return float(_halving(r, 1.0)) if r > 0 else None

    return {"median": months(median), "lo": months(hi), "hi": months(lo)}


def _variants(est: dict, distilled: bool, n_models: int, ci_prob: float) -> list[dict]:
    """Rows of the sensitivity table: each estimator's k, gain and halving time."""
    rows = []
    for name, k, trend in (
        ("within-family k, then b(date)", est["k"], est["trend"]),
        ("joint: log-compute + date", est["joint_k"], est["joint_trend"]),
    ):
        if k is None:
            continue
        gain = _gain(trend, k)
        lo, median, hi = np.quantile(gain, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])
        rows.append(
            {
                "variant": name,
                "distilled": "included" if distilled else "excluded",
                "n_models": n_models,
                "k_median": float(np.median(k)),
                "gain_median": float(median),
                "gain_lo": float(lo),
                "gain_hi": float(hi),
                "halving_months_median": _halving_summary(trend / k, ci_prob)["median"],
            }
        )
    return rows
