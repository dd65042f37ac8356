"""Equal-tailed credible intervals: one helper, so every key and label follows `CI_PROB`."""

from __future__ import annotations

import numpy as np

from rosetta.constants import CI_PROB


def bounds(ci_prob: float = CI_PROB) -> tuple[float, float]:
    """The lower and upper quantile levels of the central ``ci_prob`` interval."""
    if not 0 < ci_prob < 1:
        raise ValueError(f"ci_prob must be in (0, 1), got {ci_prob}")
    return (1 - ci_prob) / 2, (1 + ci_prob) / 2


def interval(values, ci_prob: float = CI_PROB, axis=0) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of the central ``ci_prob`` interval of ``values`` along ``axis``."""
    lo, hi = np.quantile(np.asarray(values, dtype=float), bounds(ci_prob), axis=axis)
    return lo, hi


def label(ci_prob: float = CI_PROB) -> str:
    """``"90%"`` for 0.9: how texts name the interval."""
    return f"{100 * ci_prob:g}%"


def quantile_names(ci_prob: float = CI_PROB) -> tuple[str, str]:
    """Column names of the interval ends, ``("q5", "q95")`` for 0.9."""
    lo, hi = bounds(ci_prob)
    return f"q{100 * lo:g}", f"q{100 * hi:g}"


def summarise(values, ci_prob: float = CI_PROB) -> dict:
    """``median``, ``lo``, ``hi`` (equal-tailed interval) of draws; ``None`` for no draws."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return {"median": None, "lo": None, "hi": None}
    lo, hi = bounds(ci_prob)
    low, median, high = np.quantile(values, [lo, 0.5, hi])
    return {"median": float(median), "lo": float(low), "hi": float(high)}


def describe(d: dict, ci_prob: float = CI_PROB, fmt: str = "{:.3g}", unit: str = "") -> str:
    """``"0.52 (90% interval 0.41 to 0.63)"`` for a `summarise` dict; ``n/a`` without draws."""
    if d["median"] is None:
        return "n/a"
    hi = "unbounded" if d["hi"] is None else fmt.format(d["hi"]) + unit
    return (
        f"{fmt.format(d['median'])}{unit} ({label(ci_prob)} interval "
        f"{fmt.format(d['lo'])}{unit} to {hi})"
    )
