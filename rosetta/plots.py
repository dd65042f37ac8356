"""Figures for memos: each function returns a matplotlib Figure (saved only on request)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rosetta.constants import CI_PROB
from rosetta.intervals import bounds, label

#: Models labelled on the capability-over-time plot: the frontier ones, at most this many.
MAX_LABELS = 14


def plot_trend(result, *, title: str | None = None, path: str | Path | None = None):
    """Capability against release date: intervals, the frontier, its trend and forecast fan.

    Parameters
    ----------
    result
        A `rosetta.trends.TrendResult`.
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

    grid, lo, median, hi = frontier_band(result)
    ax.plot(grid, median, color="C3", lw=2, label="frontier trend (median)")
    ax.fill_between(
        grid, lo, hi, color="C3", alpha=0.15, label=f"{label(result.ci_prob)} interval of the trend"
    )
    fan = result.forecast
    ax.fill_between(
        fan.index,
        fan["lo"],
        fan["hi"],
        color="C1",
        alpha=0.25,
        label=f"{label(result.ci_prob)} forecast of a new frontier model",
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
        f"{label(result.ci_prob)} {growth['lo']:.2f} to {growth['hi']:.2f})"
    )
    ax.set_xlabel("release date")
    ax.set_ylabel(f"capability ({result.scale})" if result.scale else "capability")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def frontier_band(result):
    """The frontier trend's lower bound, median and upper bound over time.

    Returns the dates (from the first model to the forecast's end) and the three curves there,
    for a `rosetta.trends.TrendResult`.
    """
    rng = np.random.default_rng(0)
    first = result.capability["release_date"].min()
    span = np.array([first, result.forecast.index.max()], dtype="M8[ns]")
    grid = np.linspace(span[0].astype("int64"), span[1].astype("int64"), 60).astype("M8[ns]")
    line = result.frontier_line.predict(grid, rng, noise=False)
    line = line[np.isfinite(line).all(axis=1)]
    lo, median, hi = np.quantile(line, _with_median(result.ci_prob), axis=0)
    return grid, lo, median, hi


def family_lines(result):
    """Per family informing ``k``: its name, median slope, and its line's two ends.

    The line runs over the family's compute at its own slope through its members' mean
    (`rosetta.algorithmic_progress.ProgressResult`); yields ``(family, slope, compute, line)``.
    """
    models = result.plot_data()
    for family, members in models[models["informs_k"]].groupby("family"):
        x = np.log10(members["compute"].to_numpy())
        slope = float(np.median(result.k_by_family.get(family, result.k)))
        centre = members["mean"].mean() - slope * x.mean()
        span = np.array([x.min(), x.max()])
        yield family, slope, 10**span, centre + slope * span


def ladder_frame(fit, release_dates=None, ci_prob: float = CI_PROB):
    """Per benchmark: difficulty ``mean``, ``lo``, ``hi`` and release ``date`` (NaT if unknown)."""
    import pandas as pd

    difficulty = fit.posterior["difficulty"]
    mean = difficulty.mean(("chain", "draw")).to_series()
    lo, hi = difficulty.quantile(list(bounds(ci_prob)), ("chain", "draw")).to_numpy()
    frame = pd.DataFrame({"mean": mean, "lo": lo, "hi": hi})
    dates = pd.Series(release_dates if release_dates is not None else {}, dtype=object)
    frame["date"] = pd.to_datetime(dates.reindex(frame.index))
    return frame


def plot_progress(result, *, path: str | Path | None = None):
    """Capability against training compute, one line (its own slope) per family informing ``k``.

    Parameters
    ----------
    result
        A `rosetta.algorithmic_progress.ProgressResult`.
    path
        Also save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    models = result.plot_data()
    mean, lo, hi = (models[c].to_numpy() for c in ("mean", "lo", "hi"))
    fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
    years = (models["date"] - models["date"].min()).dt.days / 365.25
    points = ax.scatter(models["compute"], mean, c=years, cmap="plasma", s=20, zorder=3)
    ax.vlines(models["compute"], lo, hi, colors="0.6", lw=0.8)
    fig.colorbar(points, ax=ax, label=f"years after {models['date'].min().date()}")
    k = float(np.median(result.k))
    for i, (family, slope, compute, line) in enumerate(family_lines(result)):
        ax.plot(compute, line, color=f"C{i}", lw=2, label=f"{family} ({slope:.2f})")
    gain = result.to_dict()["efficiency_gain_per_year"]
    ax.set_xscale("log")
    ax.set_xlabel("training compute (FLOP)")
    ax.set_ylabel(f"capability ({result.scale})" if result.scale else "capability")
    ax.set_title(
        f"k = {k:.2f} per 10x compute (lines: families); efficiency gain "
        f"{gain['median']:.2f}x per year ({label(result.ci_prob)} {gain['lo']:.2f} to "
        f"{gain['hi']:.2f})"
    )
    ax.legend(title="family (slope k)", fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_coverage(fit, *, path: str | Path | None = None):
    """Which (model, benchmark) pairs were evaluated: models by release date, benchmarks by use.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    const = fit.constant_data
    models = const["model"].to_numpy().astype(str)
    benchmarks = const["benchmark"].to_numpy().astype(str)
    matrix = np.zeros((len(models), len(benchmarks)))
    matrix[const["model_idx"].to_numpy(), const["benchmark_idx"].to_numpy()] = 1
    dates = const["release_date"].to_numpy() if "release_date" in const else None
    rows = np.argsort(dates, kind="stable") if dates is not None else np.arange(len(models))
    cols = np.argsort(-matrix.sum(axis=0), kind="stable")
    fig, ax = plt.subplots(figsize=(10, 7), layout="constrained")
    ax.imshow(matrix[rows][:, cols].T, aspect="auto", cmap="Greys", interpolation="nearest")
    ax.set_yticks(range(len(benchmarks)), benchmarks[cols], fontsize=7)
    ax.set_xlabel(f"{len(models)} models (by release date)")
    ax.set_xticks([])
    ax.set_title(
        f"Evaluated pairs: {int(matrix.sum())} of {matrix.size} ({matrix.mean():.0%} coverage)"
    )
    return _finish(fig, path)


def plot_benchmark_ladder(
    fit, release_dates=None, *, ci_prob: float = CI_PROB, path: str | Path | None = None
):
    """Benchmark difficulties with their intervals, against benchmark release date when known.

    Parameters
    ----------
    fit
        A fit.
    release_dates
        Release date by benchmark (a mapping or Series); without it, or for benchmarks it
        lacks, benchmarks are ordered by difficulty instead.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    frame = ladder_frame(fit, release_dates, ci_prob)
    fig, ax = plt.subplots(figsize=(10, 7), layout="constrained")
    dated = frame.dropna(subset=["date"])
    if len(dated) >= 3:
        ax.errorbar(
            dated["date"],
            dated["mean"],
            [dated["mean"] - dated["lo"], dated["hi"] - dated["mean"]],
            fmt="o",
            ms=4,
            lw=1,
            capsize=2,
        )
        for name, row in dated.iterrows():
            ax.annotate(
                name,
                (row["date"], row["mean"]),
                fontsize=7,
                xytext=(4, 2),
                textcoords="offset points",
            )
        ax.set_xlabel("benchmark release date")
        missing = len(frame) - len(dated)
        ax.set_title(
            "Benchmark ladder: difficulty against release date"
            + (
                f" ({missing} benchmark{'s' * (missing > 1)} without a date not shown)"
                * bool(missing)
            )
        )
    else:
        ordered = frame.sort_values("mean")
        y = np.arange(len(ordered))
        ax.errorbar(
            ordered["mean"],
            y,
            xerr=[ordered["mean"] - ordered["lo"], ordered["hi"] - ordered["mean"]],
            fmt="o",
            ms=4,
            lw=1,
            capsize=2,
        )
        ax.set_yticks(y, ordered.index, fontsize=7)
        ax.set_xlabel("difficulty")
        ax.set_title(f"Benchmark ladder: difficulty with {label(ci_prob)} intervals")
    if len(dated) >= 3:
        ax.set_ylabel("difficulty (capability at half-way between floor and 1)")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_iccs(
    fit,
    benchmarks=None,
    *,
    max_panels: int = 6,
    ci_prob: float = CI_PROB,
    path: str | Path | None = None,
):
    """Item characteristic curves: expected score against capability, with observed scores.

    A benchmark fitted from item-level responses is drawn as the mean of its items' curves
    (`rosetta.prediction.benchmark_scores`); its observed scores are each model's share correct
    of the items it answered.

    Parameters
    ----------
    fit
        A fit.
    benchmarks
        Benchmarks to draw; by default the ``max_panels`` with the most scores.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from rosetta.prediction import benchmark_scores

    posterior, const = fit.posterior, fit.constant_data
    names = posterior["benchmark"].to_numpy().astype(str)
    b_idx = const["benchmark_idx"].to_numpy()
    if benchmarks is None:
        counts = np.bincount(b_idx, minlength=len(names))
        benchmarks = list(names[np.argsort(-counts, kind="stable")[:max_panels]])
    capability = posterior["capability"].mean(("chain", "draw")).to_numpy()
    grid = np.linspace(capability.min() - 1, capability.max() + 1, 120)
    n = len(benchmarks)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4 * cols, 3.2 * rows),
        squeeze=False,
        layout="constrained",
        sharex=True,
        sharey=True,
    )
    observed = fit.observed_data["score"].to_numpy()
    m_idx = const["model_idx"].to_numpy()
    for ax, name in zip(axes.flat, benchmarks, strict=False):
        j = int(np.flatnonzero(names == name)[0])
        curve = benchmark_scores(fit, grid, [name] * len(grid))
        lo, mid, hi = np.quantile(curve, _with_median(ci_prob), axis=0)
        ax.fill_between(grid, lo, hi, alpha=0.25, color="C0")
        ax.plot(grid, mid, color="C0")
        seen = b_idx == j
        ax.scatter(capability[m_idx[seen]], observed[seen], s=10, color="k", zorder=3)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.supxlabel("capability (posterior mean)")
    fig.supylabel("score")
    return _finish(fig, path)


def plot_ppc(fit, *, ci_prob: float = CI_PROB, path: str | Path | None = None):
    """Posterior predictive check: observed scores against their predictive intervals.

    Scores without predictive draws (those of item-level benchmarks, NaN) are left out.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    draws = fit.posterior_predictive["score"]
    draws = draws.to_numpy().reshape(-1, draws.shape[-1])
    predicted = np.isfinite(draws).all(axis=0)
    if not predicted.any():
        raise ValueError("no score has predictive draws (an item-level fit without scores)")
    observed, draws = fit.observed_data["score"].to_numpy()[predicted], draws[:, predicted]
    lo, mid, hi = np.quantile(draws, _with_median(ci_prob), axis=0)
    covered = (observed >= lo) & (observed <= hi)
    order = np.argsort(mid)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    x = np.arange(len(order))
    band = f"{label(ci_prob)} predictive"
    left.fill_between(x, lo[order], hi[order], color="C0", alpha=0.3, label=band)
    left.scatter(x, observed[order], s=4, c=np.where(covered[order], "k", "C3"), zorder=3)
    left.set_xlabel("scores, by predicted median")
    left.set_ylabel("score")
    left.set_title(f"Observed inside the {label(ci_prob)} interval: {covered.mean():.1%}")
    left.legend(loc="upper left", fontsize=8)
    bins = np.linspace(0, 1, 26)
    for row in draws[np.linspace(0, len(draws) - 1, 20).astype(int)]:
        right.hist(row, bins=bins, histtype="step", color="C0", alpha=0.25, density=True)
    right.hist(
        observed, bins=bins, histtype="step", color="k", lw=2, density=True, label="observed"
    )
    right.set_xlabel("score")
    right.set_title("Score distribution: observed (black) vs 20 replicated data sets")
    right.legend(fontsize=8)
    return _finish(fig, path)


def plot_residuals(fit, *, path: str | Path | None = None):
    """Residuals (observed minus expected score) by benchmark, ordered by difficulty.

    A pair of a benchmark fitted from item-level responses is expected the mean of the curves of
    the items it answered (`_expected_share_correct`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from rosetta.prediction import expected_score, item_benchmarks

    const = fit.constant_data
    names = fit.posterior["benchmark"].to_numpy().astype(str)
    models = fit.posterior["model"].to_numpy().astype(str)
    m_idx, b_idx = const["model_idx"].to_numpy(), const["benchmark_idx"].to_numpy()
    scored = ~np.isin(names[b_idx], item_benchmarks(fit))
    expected = np.full(len(b_idx), np.nan)
    if scored.any():
        pairs = models[m_idx[scored]], names[b_idx[scored]]
        expected[scored] = expected_score(fit, *pairs).mean(("chain", "draw")).to_numpy()
    if "response_pair" in const:  # item-level pairs: the mean over their items
        expected = _expected_share_correct(fit, expected)
    resid = fit.observed_data["score"].to_numpy() - expected
    order = np.argsort(fit.posterior["difficulty"].mean(("chain", "draw")).to_numpy())
    fig, ax = plt.subplots(figsize=(10, 6), layout="constrained")
    data = [resid[b_idx == j] for j in order]
    ax.boxplot(data, orientation="horizontal", showfliers=True, flierprops={"markersize": 2})
    ax.set_yticks(range(1, len(order) + 1), names[order], fontsize=7)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("observed - expected score")
    ax.set_title(
        f"Residuals by benchmark (easiest at the bottom); RMSE {np.sqrt(np.mean(resid**2)):.3f}"
    )
    return _finish(fig, path)


def _expected_share_correct(fit, expected: np.ndarray) -> np.ndarray:
    """Expected scores with item-level pairs' replaced by the mean of their items'.

    The items' expected scores, at the posterior means of the parameters, weighted by attempts.
    """
    from rosetta.likelihoods import expected_score as score_mean

    const, posterior = fit.constant_data, fit.posterior
    names = ("capability", "floor", "item_slope", "item_difficulty")
    mean = {n: posterior[n].mean(("chain", "draw")).to_numpy() for n in names}
    pair, item = const["response_pair"].to_numpy(), const["response_item"].to_numpy()
    m_idx, b_idx = const["model_idx"].to_numpy()[pair], const["benchmark_idx"].to_numpy()[pair]
    x = mean["item_slope"][item] * (mean["capability"][m_idx] - mean["item_difficulty"][item])
    weight = const["attempts"].to_numpy().astype(float)
    p, _ = score_mean(x, mean["floor"][b_idx])
    out = expected.copy()
    answered = np.bincount(pair, weight, len(out))
    shares = np.bincount(pair, weight * p, len(out)) / np.where(answered > 0, answered, 1)
    out[answered > 0] = shares[answered > 0]
    return out


def plot_acceleration(result, calibration: dict | None = None, *, path: str | Path | None = None):
    """Frontier with the hinge fit, breakpoint and slope-ratio posteriors, and the power curve.

    Parameters
    ----------
    result
        A `rosetta.acceleration.AccelerationResult`.
    calibration
        The summary of `rosetta calibrate` (`rosetta.acceleration.calibration.summarise_folder`);
        the power panel is drawn only with it.
    """
    import matplotlib.pyplot as plt

    from rosetta.acceleration import to_dates, years_since_origin

    panels = 4 if calibration else 3
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.5), layout="constrained")
    points, hinge = result.points, result.hinge
    ax = axes[0]
    ax.scatter(points["date"], points["capability"], c=points["p_frontier"], cmap="viridis", s=14)
    grid_years = np.linspace(
        years_since_origin(points["date"]).min(), years_since_origin(points["date"]).max(), 80
    )
    lines = hinge.line(grid_years)
    lo, median, hi = np.quantile(lines, _with_median(result.ci_prob), axis=0)
    dates = to_dates(grid_years)
    ax.plot(dates, median, color="C3", lw=2, label="hinge (median)")
    band = f"{label(result.ci_prob)} interval"
    ax.fill_between(dates, lo, hi, color="C3", alpha=0.2, label=band)
    ax.set(title=f"{result.population}: capability and hinge", ylabel="capability")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", rotation=30)

    axes[1].hist(result.breakpoint_dates(), bins=40, color="C0")
    axes[1].set(title="breakpoint posterior", ylabel="draws")
    axes[1].tick_params(axis="x", rotation=30)

    ratio = hinge.ratio[np.isfinite(hinge.ratio) & (hinge.ratio > 0)]
    axes[2].hist(np.log2(ratio), bins=50, color="C2")
    axes[2].axvline(np.log2(result.rule.ratio), color="k", ls="--", label="rule's ratio")
    axes[2].set(title="slope ratio (after / before)", xlabel="log2 ratio", ylabel="draws")
    axes[2].legend(fontsize=8)

    if calibration:
        _power_panel(axes[3], calibration)
    return _finish(fig, path)


def plot_power(calibration: dict, *, path: str | Path | None = None):
    """Detection probability against months after the onset (a `rosetta calibrate` summary)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    _power_panel(ax, calibration)
    return _finish(fig, path)


def _power_panel(ax, calibration: dict) -> None:
    """Share of worlds detected by each month after the onset, per speed-up factor.

    Solid: the detector; dashed: the same detector fed the true capabilities (the oracle).
    """
    curve = calibration["power_curve"]
    oracle = calibration.get("oracle", {}).get("power_curve", {})
    months = curve["months"]
    factors = sorted((f for f in curve if f != "months"), key=float)
    for i, factor in enumerate(factors):
        ax.plot(months, curve[factor], marker="o", ms=3, color=f"C{i}", label=f"{factor}x")
        if factor in oracle:
            ax.plot(months, oracle[factor], ls="--", color=f"C{i}", alpha=0.7)
    if oracle:
        ax.plot([], [], ls="--", color="grey", label="oracle (true capabilities)")
    far = calibration["false_alarm_rate"]
    ax.axhline(far, color="C3", ls=":", label=f"false-alarm rate {far:.2f}")
    ax.axvline(12, color="grey", lw=0.8)
    ax.set(
        ylim=(0, 1.02),
        title="detection by months after the onset",
        xlabel="months after the speed-up began",
        ylabel="share of simulated worlds",
    )
    ax.legend(fontsize=8)


def plot_domain_profiles(fit, *, top: int = 15, path: str | Path | None = None):
    """Domain deviations of the most capable models of a bifactor fit (means and intervals).

    A point right of zero: the model is stronger in that domain than its general capability
    says. Hollow points: the model has no score in the domain (the deviation is the prior's).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from rosetta.domains import domain_names
    from rosetta.summary import domain_table

    table = domain_table(fit).head(top).iloc[::-1]
    domains = domain_names(fit.posterior)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(table) + 1.5), layout="constrained")
    rows = np.arange(len(table))
    width = 0.8 / len(domains)
    for i, domain in enumerate(domains):
        y = rows + (i - (len(domains) - 1) / 2) * width
        mean = table[f"{domain}_deviation"].to_numpy()
        seen = table[f"{domain}_scores"].to_numpy() > 0
        ax.hlines(y, table[f"{domain}_lo"], table[f"{domain}_hi"], color=f"C{i}", lw=1)
        ax.scatter(mean[seen], y[seen], color=f"C{i}", s=18, zorder=3, label=domain)
        ax.scatter(mean[~seen], y[~seen], facecolors="none", edgecolors=f"C{i}", s=18, zorder=3)
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_yticks(rows, table.index, fontsize=8)
    ax.set_xlabel("domain deviation from the general capability (capability units)")
    ax.set_title(f"Domain profiles of the top {len(table)} models (hollow: no score there)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _finish(fig, path)


def plot_capabilities(
    table, ci_prob: float = CI_PROB, *, columns=None, path: str | Path | None = None
):
    """Capabilities with their intervals, most capable at the top.

    Parameters
    ----------
    table
        One row per model: ``model``, ``mean`` and the interval ends, in ``columns`` (by
        default the quantile names of ``ci_prob``, as in `rosetta.Fit.plot_data`).
    """
    import matplotlib.pyplot as plt

    from rosetta.intervals import quantile_names

    lo, hi = columns or quantile_names(ci_prob)
    rows = table.iloc[::-1]
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(8, 0.25 * len(rows) + 1.5), layout="constrained")
    ax.hlines(y, rows[lo], rows[hi], color="C0", lw=1.5)
    ax.scatter(rows["mean"], y, color="C0", s=14, zorder=3)
    ax.set_yticks(y, rows["model"], fontsize=7)
    ax.set(xlabel="capability", title=f"Capabilities (means, {label(ci_prob)} intervals)")
    ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


def plot_backtest(result, *, path: str | Path | None = None):
    """Back-test: each later frontier model's forecast interval against its capability."""
    import matplotlib.pyplot as plt

    rows = result.models
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    ax.vlines(rows["date"], rows["lo"], rows["hi"], color="C1", lw=3, alpha=0.5)
    ax.scatter(rows["date"], rows["median"], color="C1", s=16, label="forecast (median)")
    ax.scatter(rows["date"], rows["actual"], color="k", s=16, marker="x", label="full-fit mean")
    ax.set(
        title=f"Back-test from {result.cutoff.date()}: coverage {result.coverage:.0%} of "
        f"{label(result.ci_prob)} intervals",
        xlabel="release date",
        ylabel="capability",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_domain_trends(result, *, path: str | Path | None = None):
    """Each domain's gain per year over the general capability, with its interval."""
    import matplotlib.pyplot as plt

    rows = result.plot_data()
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.5), layout="constrained")
    ax.hlines(y, rows["lo"], rows["hi"], color="C0", lw=2)
    ax.scatter(rows["median"], y, color="C0", zorder=3)
    ax.axvline(0, color="k", lw=0.8, ls=":")
    ax.set_yticks(y, rows["domain"])
    ax.set(
        xlabel="gain over the general capability per year",
        title=f"Domain trends (medians, {label(result.ci_prob)} intervals)",
    )
    ax.grid(alpha=0.3, axis="x")
    return _finish(fig, path)


def plot_watch(result, *, path: str | Path | None = None):
    """P(acceleration) at each monthly checkpoint, with the rule's threshold."""
    import matplotlib.pyplot as plt

    rows = result.plot_data()
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    ax.plot(rows["date"], rows["p_acceleration"], marker="o", ms=3)
    ax.axhline(result.rule.threshold, color="C3", ls="--", label="rule's threshold")
    first = result.first_detection
    if first is not None:
        ax.axvline(first, color="k", ls=":", label=f"first firing {first.date()}")
    ax.set(
        ylim=(0, 1.02),
        ylabel=f"P(ratio > {result.rule.ratio:g})",
        title="The acceleration rule replayed month by month",
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_query(result, *, path: str | Path | None = None):
    """A new model's predicted scores per benchmark, with observed scores marked."""
    import matplotlib.pyplot as plt

    rows = result.plot_data().sort_values("mean")
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(8, 0.22 * len(rows) + 1.5), layout="constrained")
    ax.hlines(y, rows["score_lo"], rows["score_hi"], color="C0", alpha=0.3, lw=4)
    ax.hlines(y, rows["lo"], rows["hi"], color="C0", lw=1.5)
    ax.scatter(rows["mean"], y, color="C0", s=10, zorder=3, label="expected score")
    if "observed" in rows:
        ax.scatter(rows["observed"], y, color="k", marker="x", s=20, label="observed", zorder=4)
    ax.set_yticks(y, rows["benchmark"], fontsize=6)
    ax.set(
        xlim=(0, 1),
        xlabel="score",
        title=f"{result.name}: predicted scores ({label(result.ci_prob)} intervals)",
    )
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_lookup(result, *, path: str | Path | None = None):
    """Histogram of a score-at or capability-at answer with its interval."""
    import matplotlib.pyplot as plt

    d = result.to_dict()
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    ax.hist(result.draws, bins=50, color="C0", alpha=0.7)
    band = f"{label(result.ci_prob)} interval"
    ax.axvspan(d["lo"], d["hi"], color="C1", alpha=0.15, label=band)
    ax.set(title=result.summary(), xlabel="value", ylabel="draws")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_validation(result, *, path: str | Path | None = None):
    """Held-out scores against their posterior-mean predictions, with predictive intervals."""
    import matplotlib.pyplot as plt

    rows = result.plot_data()
    covered = rows["score"].between(rows["lo"], rows["hi"])
    fig, ax = plt.subplots(figsize=(6, 6), layout="constrained")
    ax.vlines(rows["predicted"], rows["lo"], rows["hi"], color="0.7", lw=0.6)
    ax.scatter(rows["predicted"], rows["score"], s=6, c=np.where(covered, "k", "C3"), zorder=3)
    ax.plot([0, 1], [0, 1], color="C0", lw=1)
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="predicted (posterior mean)",
        ylabel="held-out score",
        title=f"{result.folds}-fold CV: RMSE {result.rmse:.3f}, {label(result.ci_prob)} "
        f"coverage {result.coverage:.1%}",
    )
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def _with_median(ci_prob: float) -> list[float]:
    lo, hi = bounds(ci_prob)
    return [lo, 0.5, hi]


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
