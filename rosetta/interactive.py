"""Interactive figures (Plotly) for the HTML report and ``rosetta query --plot FILE.html``.

Each function takes the same result object as its matplotlib twin in `rosetta.plots` and returns
a ``plotly.graph_objects.Figure`` whose points name themselves on hover. `html_div` turns a
figure into a ``<div>`` that needs Plotly's JavaScript on the page once (`plotly_script`): the
report inlines it, so the page opens offline and fetches nothing.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.constants import CI_PROB
from rosetta.intervals import label

#: Plotly's mode bar without its logo (Plotly.js 2+ shows no link to its cloud by default).
_CONFIG = {"displaylogo": False, "responsive": True}
_LAYOUT = {"template": "plotly_white", "hovermode": "closest", "height": 560}


def trend_figure(result, n_scores: pd.Series | None = None):
    """Capability against release date: every model with its interval, hover naming it.

    The frontier models (on the frontier in at least half the draws) are drawn as their own
    trace, with the frontier trend, its interval and the forecast fan of a new frontier model.
    ``n_scores`` (scores per model, e.g. ``fit.capabilities()["n_scores"]``) adds the number of
    scores to the hover text.
    """
    import plotly.graph_objects as go

    from rosetta.plots import frontier_band

    frame = result.capability
    band = label(result.ci_prob)
    counts = n_scores if n_scores is not None else pd.Series(dtype=object)
    fig = go.Figure()
    frontier = frame.index.isin(result.frontier)
    for name, rows, symbol, size in (
        ("models", frame[~frontier], "circle", 7),
        ("frontier models", frame[frontier], "diamond", 10),
    ):
        fig.add_trace(
            go.Scatter(
                x=rows["release_date"],
                y=rows["mean"],
                mode="markers",
                name=name,
                error_y=_error(rows, "mean"),
                marker={
                    "symbol": symbol,
                    "size": size,
                    "color": rows["frontier_probability"],
                    "colorscale": "Viridis",
                    "cmin": 0,
                    "cmax": 1,
                    "line": {"width": 1, "color": "#333"} if symbol == "diamond" else None,
                    "colorbar": {"title": "P(frontier)"} if symbol == "circle" else None,
                },
                customdata=np.column_stack(
                    [
                        rows.index,
                        rows["lo"],
                        rows["hi"],
                        rows["frontier_probability"],
                        counts.reindex(rows.index).to_numpy(),
                    ]
                ),
                hovertemplate=(
                    "<b>%{customdata[0]}</b><br>released %{x|%Y-%m-%d}<br>"
                    f"capability %{{y:.3f}} ({band} %{{customdata[1]:.3f}} to "
                    "%{customdata[2]:.3f})<br>P(frontier) %{customdata[3]:.2f}"
                    + ("<br>%{customdata[4]} scores" if n_scores is not None else "")
                    + "<extra></extra>"
                ),
            )
        )
    grid, lo, median, hi = frontier_band(result)
    _band(fig, grid, lo, hi, f"{band} interval of the frontier trend", "rgba(214,39,40,0.15)")
    fig.add_trace(
        go.Scatter(x=grid, y=median, mode="lines", name="frontier trend", line={"color": "#d62728"})
    )
    fan = result.forecast
    _band(
        fig,
        fan.index,
        fan["lo"],
        fan["hi"],
        f"{band} forecast of a new frontier model",
        "rgba(255,127,14,0.25)",
    )
    growth = result.to_dict()["frontier_growth_per_year"]
    fig.update_layout(
        **_LAYOUT,
        title=f"Capability over time (frontier growth {growth['median']:.2f}/yr, "
        f"{band} {growth['lo']:.2f} to {growth['hi']:.2f})",
        xaxis_title="release date",
        yaxis_title=f"capability ({result.scale})" if result.scale else "capability",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def ladder_figure(fit, release_dates=None, *, ci_prob: float = CI_PROB):
    """Benchmark difficulties with their intervals; hover names the benchmark.

    Against release date when at least three benchmarks have one, else ordered by difficulty.
    """
    import plotly.graph_objects as go

    from rosetta.plots import ladder_frame

    frame = ladder_frame(fit, release_dates, ci_prob)
    const = fit.constant_data
    names = const["benchmark"].to_numpy().astype(str)
    counts = np.bincount(const["benchmark_idx"].to_numpy(), minlength=len(names))
    frame["n_models"] = pd.Series(counts, index=names).reindex(frame.index).fillna(0).astype(int)
    dated = frame.dropna(subset=["date"])
    by_date = len(dated) >= 3
    rows = dated if by_date else frame.sort_values("mean")
    x = rows["date"] if by_date else rows["mean"]
    y = rows["mean"] if by_date else rows.index
    errors = {"error_y": _error(rows, "mean")} if by_date else {"error_x": _error(rows, "mean")}
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            name="benchmarks",
            **errors,
            customdata=np.column_stack(
                [rows.index, rows["mean"], rows["lo"], rows["hi"], rows["n_models"]]
            ),
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>difficulty %{customdata[1]:.3f} "
                f"({label(ci_prob)} %{{customdata[2]:.3f}} to %{{customdata[3]:.3f}})"
                "<br>%{customdata[4]} models evaluated<extra></extra>"
            ),
        )
    )
    missing = len(frame) - len(dated)
    undated = f" ({missing} benchmark{'s' * (missing > 1)} without a date not shown)"
    fig.update_layout(
        **_LAYOUT,
        title="Benchmark ladder: difficulty against release date" + (undated if missing else "")
        if by_date
        else f"Benchmark ladder: difficulty with {label(ci_prob)} intervals",
        xaxis_title="benchmark release date" if by_date else "difficulty",
        yaxis_title="difficulty" if by_date else None,
        showlegend=False,
    )
    if not by_date:
        fig.update_layout(height=max(400, 16 * len(rows) + 150))
    return fig


def progress_figure(result):
    """Capability against training compute; hover names the model and its family.

    Log compute axis, points coloured by release date, one line per family informing ``k`` at
    its own slope.
    """
    import plotly.graph_objects as go

    from rosetta.plots import family_lines

    models = result.plot_data()
    years = (models["date"] - models["date"].min()).dt.days / 365.25
    band = label(result.ci_prob)
    fig = go.Figure(
        go.Scatter(
            x=models["compute"],
            y=models["mean"],
            mode="markers",
            name="models",
            error_y=_error(models, "mean"),
            marker={
                "size": 8,
                "color": years,
                "colorscale": "Plasma",
                "colorbar": {"title": f"years after<br>{models['date'].min().date()}"},
            },
            customdata=np.column_stack(
                [
                    models.index,
                    models["family"],
                    models["date"].dt.strftime("%Y-%m-%d"),
                    models["lo"],
                    models["hi"],
                ]
            ),
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>family %{customdata[1]}<br>released "
                "%{customdata[2]}<br>compute %{x:.2e} FLOP<br>capability %{y:.3f} "
                f"({band} %{{customdata[3]:.3f}} to %{{customdata[4]:.3f}})<extra></extra>"
            ),
        )
    )
    for family, slope, compute, line in family_lines(result):
        fig.add_trace(
            go.Scatter(
                x=compute,
                y=line,
                mode="lines",
                name=f"{family} (k {slope:.2f})",
                hovertemplate=f"{html.escape(str(family))}: k {slope:.2f}<extra></extra>",
            )
        )
    gain = result.to_dict()["efficiency_gain_per_year"]
    fig.update_layout(
        **_LAYOUT,
        title=f"k = {float(np.median(result.k)):.2f} per 10x compute; efficiency gain "
        f"{gain['median']:.2f}x per year ({band} {gain['lo']:.2f} to {gain['hi']:.2f})",
        xaxis={"type": "log", "title": "training compute (FLOP)"},
        yaxis_title=f"capability ({result.scale})" if result.scale else "capability",
        legend={"orientation": "h", "y": -0.2, "title": "family (slope k)"},
    )
    return fig


def query_figure(result):
    """A new model's predicted score on every benchmark; hover names the benchmark.

    The expected score and its interval, the interval of a new evaluation, the observed scores.
    """
    import plotly.graph_objects as go

    rows = result.plot_data().sort_values("mean")
    band = label(result.ci_prob)
    fig = go.Figure(
        go.Scatter(
            x=rows["mean"],
            y=rows["benchmark"],
            mode="markers",
            name="expected score",
            error_x=_error(rows, "mean"),
            customdata=np.column_stack(
                [rows["lo"], rows["hi"], rows["score_lo"], rows["score_hi"]]
            ),
            hovertemplate=(
                "<b>%{y}</b><br>expected score %{x:.3f} "
                f"({band} %{{customdata[0]:.3f}} to %{{customdata[1]:.3f}})<br>a new "
                "evaluation: %{customdata[2]:.3f} to %{customdata[3]:.3f}<extra></extra>"
            ),
        )
    )
    seen = rows.dropna(subset=["observed"]) if "observed" in rows else rows.iloc[:0]
    if len(seen):
        fig.add_trace(
            go.Scatter(
                x=seen["observed"],
                y=seen["benchmark"],
                mode="markers",
                name="observed",
                marker={"symbol": "x", "size": 10, "color": "black"},
                hovertemplate="<b>%{y}</b><br>observed %{x:.3f}<extra></extra>",
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title=f"{result.name}: predicted scores ({band} intervals)",
        xaxis={"range": [0, 1], "title": "score"},
    )
    fig.update_layout(height=max(400, 16 * len(rows) + 150))
    return fig


def html_div(fig, div_id: str) -> str:
    """The figure as a ``<div>`` (and its drawing script); Plotly's library is not included."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)


@cache
def plotly_script() -> str:
    """Plotly's JavaScript library inlined in a ``<script>`` element (about 4.8 MB)."""
    from plotly.offline import get_plotlyjs

    return f"<script>{get_plotlyjs()}</script>"


def write_html(fig, path: str | Path, title: str) -> Path:
    """One self-contained page with the figure (the library inlined: opens offline)."""
    from rosetta.io import write_atomic

    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title>{plotly_script()}</head><body>"
        f"{html_div(fig, 'figure')}</body></html>"
    )
    return write_atomic(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))


def _error(rows: pd.DataFrame, centre: str) -> dict:
    return {
        "type": "data",
        "symmetric": False,
        "array": rows["hi"] - rows[centre],
        "arrayminus": rows[centre] - rows["lo"],
        "thickness": 1,
        "width": 0,
    }


def _band(fig, x, lo, hi, name: str, colour: str) -> None:
    import plotly.graph_objects as go

    fig.add_trace(
        go.Scatter(
            x=np.concatenate([np.asarray(x), np.asarray(x)[::-1]]),
            y=np.concatenate([np.asarray(lo), np.asarray(hi)[::-1]]),
            mode="lines",
            fill="toself",
            fillcolor=colour,
            line={"width": 0},
            name=name,
            hoverinfo="skip",
        )
    )
