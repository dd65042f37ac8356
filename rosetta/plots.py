"""Figures for memos: each function returns a matplotlib Figure (saved only on request)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Models labelled on the capability-over-time plot: the frontier ones, at most this many.
MAX_LABELS = 14


def plot_trend(result, *, title: str | None = None, path: str | Path | None = None):
    """Capability against release date: intervals, the frontier, its trend and forecast fan.

    Parameters
    ----------
    result
        A `rosetta.trend.TrendResult`.
    title
        Figure title; a default names the scale.
    path
        Also save the figure there (format from the suffix).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    frame = result.capability
    fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
    colours = plt.get_cmap("viridis")(frame["frontier_probability"].to_numpy())
    ax.vlines(frame["release_date"], frame["lo"], frame["hi"], colors=colours, alpha=0.5, lw=1)
    points = ax.scatter(
        frame["release_date"],
        frame["mean"],
        c=frame["frontier_probability"],
        cmap="viridis",
        vmin=0,
        vmax=1,
        s=18,
        zorder=3,
    )
    fig.colorbar(points, ax=ax, label="P(on the frontier)")

    rng = np.random.default_rng(0)
    span = np.array([frame["release_date"].min(), result.forecast.index.max()], dtype="M8[ns]")
    grid = np.linspace(span[0].astype("int64"), span[1].astype("int64"), 60).astype("M8[ns]")
    line = result.frontier_line.predict(grid, rng, noise=False)
    line = line[np.isfinite(line).all(axis=1)]
    lo, median, hi = np.quantile(line, [0.05, 0.5, 0.95], axis=0)
    ax.plot(grid, median, color="C3", lw=2, label="frontier trend (median)")
    ax.fill_between(grid, lo, hi, color="C3", alpha=0.15, label="90% interval of the trend")
    fan = result.forecast
    ax.fill_between(
        fan.index,
        fan["lo"],
        fan["hi"],
        color="C1",
        alpha=0.25,
        label=f"{result.ci_prob:.0%} forecast of a new frontier model",
    )
    for model in result.frontier[-MAX_LABELS:]:
        row = frame.loc[model]
        ax.annotate(
            model,
            (row["release_date"], row["mean"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    growth = result.to_dict()["frontier_growth_per_year"]
    ax.set_title(
        title
        or f"Capability over time (frontier growth {growth['median']:.2f}/yr, "
        f"90% {growth['lo']:.2f} to {growth['hi']:.2f})"
    )
    ax.set_xlabel("release date")
    ax.set_ylabel(f"capability ({result.scale})" if result.scale else "capability")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_progress(result, fit, *, path: str | Path | None = None):
    """Capability against training compute, one line per family that informs ``k``.

    Parameters
    ----------
    result
        A `rosetta.progress.ProgressResult`.
    fit
        The fit it came from (for the capability intervals).
    path
        Also save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    models = result.models
    draws = fit.posterior["capability"].sel(model=models.index.to_numpy())
    mean = draws.mean(("chain", "draw")).to_numpy()
    lo, hi = draws.quantile([0.05, 0.95], ("chain", "draw")).to_numpy()
    fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    years = (models["date"] - models["date"].min()).dt.days / 365.25
    points = ax.scatter(models["compute"], mean, c=years, cmap="plasma", s=20, zorder=3)
    ax.vlines(models["compute"], lo, hi, colors="0.6", lw=0.8)
    fig.colorbar(points, ax=ax, label=f"years after {models['date'].min().date()}")
    k = float(np.median(result.k))
    for i, (family, members) in enumerate(models[models["informs_k"]].groupby("family")):
        position = models.index.get_indexer(members.index)
        x = np.log10(members["compute"].to_numpy())
        centre = mean[position].mean() - k * x.mean()
        span = np.array([x.min(), x.max()])
        ax.plot(10**span, centre + k * span, color=f"C{i}", lw=2, label=family)
    gain = result.to_dict()["efficiency_gain_per_year"]
    ax.set_xscale("log")
    ax.set_xlabel("training compute (FLOP)")
    ax.set_ylabel(f"capability ({result.scale})" if result.scale else "capability")
    ax.set_title(
        f"k = {k:.2f} per 10x compute (lines: families); efficiency gain "
        f"{gain['median']:.2f}x per year (90% {gain['lo']:.2f} to {gain['hi']:.2f})"
    )
    ax.legend(title="family (slope k)", fontsize=8)
    ax.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
