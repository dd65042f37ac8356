"""Figures of evaluation planning: next-benchmark suggestions, placed benchmarks, saturation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.intervals import bounds, label
from rosetta.likelihoods import expected_score
from rosetta.plots import _finish


def plot_suggestions(result, *, path: str | Path | None = None):
    """Expected capability sd after each candidate benchmark (best at the top), against now."""
    import matplotlib.pyplot as plt

    ranking = result.ranking.head(max(result.n, 15)).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(ranking) + 1.5), layout="constrained")
    chosen = ranking.index.isin(result.best)
    ax.barh(ranking.index, ranking["expected_sd_after"], color=np.where(chosen, "C0", "0.7"))
    ax.axvline(result.query.sd, color="C3", ls="--", label=f"sd now ({result.query.sd:.3f})")
    ax.set(
        xlabel="expected capability sd after running the benchmark",
        title=f"next benchmark for {result.query.name}",
    )
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_benchmark_placement(result, *, path: str | Path | None = None):
    """Each placed benchmark: expected score against capability, with the scores it was given."""
    import matplotlib.pyplot as plt

    names = list(result.parameters.index)
    fig, axes = plt.subplots(
        1, len(names), figsize=(5 * len(names), 4), layout="constrained", squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        rows = result.predicted[result.predicted["benchmark"] == name]
        draws = result.draws[name]
        grid = np.linspace(*_span(result, name), 200)
        curves, _ = expected_score(
            draws["slope"][:, None] * (grid[None, :] - draws["difficulty"][:, None]),
            draws["floor"][:, None],
        )
        lower, upper = bounds(result.ci_prob)
        lo, mid, hi = np.quantile(curves, [lower, 0.5, upper], axis=0)
        ax.fill_between(grid, lo, hi, alpha=0.25, label=f"{label(result.ci_prob)} interval")
        ax.plot(grid, mid, label="median curve")
        seen = rows.dropna(subset=["observed"])
        capability = result.capability_means.reindex(seen["model"]).to_numpy()
        ax.scatter(capability, seen["observed"], color="C3", zorder=3, label="given scores")
        ax.set(title=name, xlabel=f"capability ({result.scale})", ylabel="expected score")
        ax.xaxis.label.set_fontsize(8)
        ax.legend(fontsize=8)
    return _finish(fig, path)


def _span(result, name: str) -> tuple[float, float]:
    capability = result.capability_means
    return float(capability.min()) - 0.5, float(capability.max()) + 0.5


def plot_saturation(result, *, path: str | Path | None = None):
    """Forecast dates (median and interval) per benchmark and level; reached levels hollow."""
    import matplotlib.pyplot as plt

    table = result.table.copy()
    benchmarks = list(dict.fromkeys(table["benchmark"]))
    levels = sorted(table["level"].unique())
    fig, ax = plt.subplots(figsize=(9, 0.25 * len(benchmarks) + 1.5), layout="constrained")
    step = 0.6 / max(len(levels), 1)
    for k, level in enumerate(levels):
        rows = table[table["level"] == level].set_index("benchmark").reindex(benchmarks)
        y = np.arange(len(benchmarks)) + (k - (len(levels) - 1) / 2) * step
        hi = rows["hi"].fillna(result.horizon)
        lo = rows["lo"].fillna(result.horizon)
        ax.hlines(y, pd.to_datetime(lo), pd.to_datetime(hi), color=f"C{k}", alpha=0.6)
        reached = (rows["status"] == "already reached").to_numpy()
        due = (rows["status"] == "due").to_numpy()
        ahead = ~reached & ~due
        median = pd.to_datetime(rows["median"].fillna(result.horizon))
        ax.scatter(median[ahead], y[ahead], color=f"C{k}", label=f"level {level:g}")
        ax.scatter(median[reached], y[reached], facecolor="none", edgecolor=f"C{k}")
        ax.scatter(median[due], y[due], marker="s", facecolor="none", edgecolor=f"C{k}")
    ax.set_yticks(np.arange(len(benchmarks)), benchmarks)
    ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
    ax.axvline(result.latest, color="0.5", ls=":", label="latest release")
    ax.set(
        xlabel="date the frontier's expected score reaches the level",
        title=f"saturation forecast ({label(result.ci_prob)} intervals; hollow: already reached, "
        "square: due)",
    )
    ax.legend(fontsize=8)
    return _finish(fig, path)
