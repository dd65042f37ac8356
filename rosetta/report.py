"""One self-contained HTML report of a saved posterior: figures inline, no network fetch.

The report reads the fit and calls the analyses that its data allow (trend when models have
release dates, algorithmic progress when they also have training compute); it never refits the
measurement model, except for a back-test when one is asked for. The figures where a reader
needs to identify points (capabilities over time, the benchmark ladder, capability against
compute) are interactive Plotly figures with the library inlined; ``static=True`` draws them
as PNG images instead. Every table sorts on a click on its header and has a filter box.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from rosetta.constants import CI_PROB
from rosetta.interactive import (
    html_div,
    ladder_figure,
    plotly_script,
    progress_figure,
    trend_figure,
)
from rosetta.intervals import describe, label, quantile_names
from rosetta.io import write_atomic

#: Rows of the top-models table.
TOP_MODELS = 20

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em;
margin-top: 2em; }
.meta { color: #555; font-size: 0.9em; } .note { color: #8a5300; }
img { max-width: 100%; height: auto; display: block; margin: 0.8em 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.ok { color: #1a7f37; } .bad { color: #b42318; } nav a { margin-right: 1em; }
table.sortable th { cursor: pointer; } th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
input.filter { display: block; margin: 0.8em 0 0 0; font-size: 0.85em; padding: 0.2em 0.4em; }
"""

#: Sorting (a click on a header; numbers as numbers) and a filter box for every sortable table.
_TABLE_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var body = table.tBodies[0], head = table.tHead.rows[0];
  var filter = document.createElement("input");
  filter.type = "search"; filter.className = "filter"; filter.placeholder = "filter rows";
  table.parentNode.insertBefore(filter, table);
  filter.addEventListener("input", function () {
    var text = filter.value.toLowerCase();
    Array.from(body.rows).forEach(function (row) {
      row.style.display = row.textContent.toLowerCase().includes(text) ? "" : "none";
    });
  });
  function key(cell) {
    var text = cell ? cell.textContent.trim() : "";
    var number = Number(text);
    return text !== "" && !isNaN(number) ? [0, number] : [1, text];
  }
  Array.from(head.cells).forEach(function (th, column) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.from(head.cells).forEach(function (c) { c.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.from(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[column]), y = key(b.cells[column]);
        var order = x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def build_report(
    fit,
    out: str | Path,
    *,
    title: str = "rosetta report",
    icc_benchmarks: list[str] | None = None,
    validation: dict | None = None,
    backtest_cutoff=None,
    since=None,
    random_seed: int | None = None,
    static: bool = False,
) -> Path:
    """Write the HTML report of a fit.

    Parameters
    ----------
    fit
        A fit (`rosetta.fit` / `rosetta.load`) or a ``.nc`` path.
    out
        The HTML file to write (atomically).
    title
        Page title.
    icc_benchmarks
        Benchmarks whose characteristic curves are drawn (default: the most evaluated).
    validation
        The ``rosetta validate --json`` object, shown as held-out accuracy.
    backtest_cutoff
        Also run the trend back-test from this date (refits the measurement model).
    since
        Trend and progress use models released from this date.
    random_seed
        Seed of the trend and progress draws.
    static
        PNG images instead of the interactive figures (a smaller file, for memos).

    Returns
    -------
    Path
    """
    from rosetta.constants import DEFAULT_SEED
    from rosetta.fitted import as_fit

    fit = as_fit(fit)
    seed = DEFAULT_SEED if random_seed is None else random_seed
    sections = [
        _data_section(fit),
        _capability_section(fit, since, backtest_cutoff, seed, static),
        _benchmark_section(fit, icc_benchmarks, static),
        _checks_section(fit, validation),
        _domain_section(fit, since, seed),
        _dimension_section(fit),
        _saturation_section(fit, since, seed),
        _progress_section(fit, since, seed, static),
        _acceleration_section(fit, seed),
    ]
    sections = [s for s in sections if s]
    nav = " ".join(f'<a href="#{anchor}">{html.escape(name)}</a>' for anchor, name, _ in sections)
    interactive = any('class="plotly-graph-div"' in body for _, _, body in sections)
    scripts = plotly_script() if interactive else ""
    info = fit.info
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_STYLE}</style>{scripts}
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{info.n_models} models, {info.n_benchmarks} benchmarks,
{info.n_scores} scores from {html.escape(info.data_source)};
scale: {html.escape(info.scale_description)};
{html.escape(info.method)} ({html.escape(info.sampler)}),
rosetta {html.escape(info.rosetta_version)};
report made {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}.</p>
<nav>{nav}</nav>
{"".join(f'<section id="{a}"><h2>{html.escape(n)}</h2>{body}</section>' for a, n, body in sections)}
<script>{_TABLE_SCRIPT}</script>
</body></html>
"""
    return write_atomic(out, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))


def write_acceleration_report(result, out_dir: str | Path, *, calibration: dict | None = None):
    """``acceleration.html`` (self-contained) and ``acceleration.png`` in ``out_dir``.

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    from rosetta.plots import plot_acceleration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_acceleration(result, calibration)
    write_atomic(out / "acceleration.png", lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    body = [_figure(fig, "frontier with hinge, breakpoint, slope ratio and power")]
    body.append(_acceleration_text(result, calibration))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rosetta: acceleration</title>
<style>{_STYLE}</style></head><body>
<h1>Has progress sped up?</h1>
<p class="meta">Report made {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}.</p>
{"".join(body)}
<script>{_TABLE_SCRIPT}</script>
</body></html>
"""
    return write_atomic(out / "acceleration.html", lambda tmp: Path(tmp).write_text(page, "utf-8"))


def _acceleration_text(result, calibration: dict | None) -> str:
    """Posterior table, P(ratio > r), the rule's verdict and the calibration table."""
    from rosetta.acceleration import describe_rule

    summary = result.to_dict()
    rows = {
        "breakpoint": [summary["breakpoint"][k] for k in ("median", "lo", "hi")],
        **{
            name: [summary[name][k] for k in ("median", "lo", "hi")]
            for name in ("slope_before", "slope_after", "slope_ratio")
        },
    }
    posterior = pd.DataFrame(rows, index=["median", *quantile_names(result.ci_prob)]).T
    verdict = "DETECTED" if summary["detected"] else "not detected"
    body = [
        _table(posterior),
        "<p>"
        + ", ".join(f"P(ratio &gt; {r}) = {p:.3f}" for r, p in summary["p_ratio_above"].items())
        + f"; P(hinge) against one line = {summary['p_hinge']:.3f}.</p>",
        f"<p>Rule: {html.escape(describe_rule(result.rule)).replace('&gt;=', '&ge;')}. "
        f"Verdict: <b>acceleration {verdict}</b>.</p>",
    ]
    if calibration:
        body.append(_calibration_table(calibration))
    return "".join(body)


def _calibration_table(calibration: dict) -> str:
    far = calibration["false_alarm"]
    oracle = calibration.get("oracle", {}).get("power_12_months_interval", {})
    rows = []
    for factor, delay in calibration["detection_delay_months"].items():
        power = calibration["power_12_months_interval"][factor]
        row = {
            "factor": factor,
            "worlds": delay["n"],
            "median delay (months)": delay["median"],
            "delay lo": delay["lo"],
            "delay hi": delay["hi"],
            "never detected": delay["never_detected"],
            "power within 12 months": power["rate"],
            "power lo": power["lo"],
            "power hi": power["hi"],
        }
        if factor in oracle:
            row["oracle power"] = oracle[factor]["rate"]
        rows.append(row)
    held = "held-out worlds" if calibration.get("held_out") else "the worlds the rule was set on"
    design = calibration.get("design", "reference")
    oracle_note = (
        " The oracle is the same detector, calibrated the same way, fed the worlds' true "
        "capabilities: the ceiling a perfect measurement would reach."
        if oracle
        else ""
    )
    return (
        f"<h2>Calibration</h2><p>Simulated worlds of the {design} design. False-alarm rate "
        f"{far['rate']:.3f} ({far['k']}/{far['n']} worlds with no acceleration; "
        f"{label(calibration.get('ci_prob', CI_PROB))} interval {far['lo']:.3f} to "
        f"{far['hi']:.3f}), on {held}.{oracle_note}</p>"
        + _table(pd.DataFrame(rows).set_index("factor"))
    )


def _figure(fig, alt: str) -> str:
    """A matplotlib figure as an inline PNG ``<img>`` (and the figure closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _chart(static: bool, png, interactive, alt: str) -> str:
    """The interactive figure ``interactive()``, or with ``static`` the PNG of ``png()``."""
    if static:
        return _figure(png(), alt)
    return html_div(interactive(), div_id="-".join(alt.split()))


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A sortable table; the index becomes its first column (under the index's name)."""
    frame = frame.round(digits)
    frame = frame.rename_axis([n or "" for n in frame.index.names]).reset_index()
    return frame.to_html(border=0, na_rep="", escape=True, index=False, classes="sortable")


def _data_section(fit):
    from rosetta.plots import plot_coverage

    dropped = fit.info.data_dropped
    rows = "".join(f"<li>{n} rows: {html.escape(why)}</li>" for why, n in dropped.items())
    body = _figure(plot_coverage(fit), "coverage matrix")
    if rows:
        body += f"<p>Rows dropped while building the table:</p><ul>{rows}</ul>"
    return "data", "Data", body


def _capability_section(fit, since, backtest_cutoff, seed, static):
    from rosetta.trends import trend

    capabilities = fit.capabilities()
    body = ""
    try:
        result = trend(fit, since=since, random_seed=seed, backtest_cutoff=backtest_cutoff)
    except ValueError as err:
        body += f'<p class="note">No trend: {html.escape(str(err))}.</p>'
    else:
        body += _chart(
            static,
            result.plot,
            lambda: trend_figure(result, capabilities["n_scores"]),
            "capability against release date",
        )
        body += _growth_lines(result)
        if result.backtest is not None:
            body += (
                "<p>Measurement model refitted on the models released before the cutoff. "
                f"{html.escape(result.backtest.summary())}.</p>" + _table(result.backtest.models)
            )
        forecast = result.forecast.copy()
        forecast.index = forecast.index.date
        body += "<h3>Forecast of a new frontier model</h3>" + _table(forecast)
    body += f"<h3>Top {TOP_MODELS} models</h3>" + _table(capabilities.head(TOP_MODELS))
    return "capabilities", "Capabilities and the frontier", body


def _growth_lines(result) -> str:
    out = result.to_dict()

    def fmt(d):
        return describe(d, result.ci_prob, "{:.3f}") + " per year"

    frontier = ", ".join(html.escape(m) for m in out["frontier"])
    return (
        f"<p>Frontier growth: <b>{fmt(out['frontier_growth_per_year'])}</b>; all models: "
        f"{fmt(out['all_models_growth_per_year'])}. Frontier models (on the frontier in at "
        f"least half the draws): {frontier}.</p>"
    )


def _benchmark_section(fit, icc_benchmarks, static):
    from rosetta.data.epoch import read_benchmark_metadata
    from rosetta.plots import plot_benchmark_ladder, plot_iccs
    from rosetta.summary import benchmark_table

    dates = read_benchmark_metadata()["release_date"]
    body = _chart(
        static,
        lambda: plot_benchmark_ladder(fit, dates),
        lambda: ladder_figure(fit, dates),
        "benchmark ladder",
    )
    body += "<h3>Item characteristic curves</h3>"
    body += (
        f"<p>Expected score against capability (median and {label(CI_PROB)} band), observed "
        "scores.</p>"
    )
    body += _figure(plot_iccs(fit, icc_benchmarks), "item characteristic curves")
    return "benchmarks", "Benchmarks", body + _table(benchmark_table(fit))


def _checks_section(fit, validation):
    from rosetta.plots import plot_ppc, plot_residuals

    diagnostics = fit.diagnostics
    verdict = (
        '<p class="ok">Converged: no diagnostic past its threshold.</p>'
        if fit.info.converged
        else f'<p class="bad">{html.escape(fit.verdict())}</p>'
    )
    per_variable = pd.DataFrame(diagnostics.get("per_variable", []))
    body = verdict
    if not per_variable.empty:
        body += _table(per_variable.set_index("variable"))
    body += (
        f"<p>Divergences: {diagnostics.get('divergences', 'n/a')}; draws: "
        f"{diagnostics.get('n_draws', 'n/a')}.</p>"
    )
    if "posterior_predictive" in fit.groups() and fit.posterior_predictive["score"].notnull().any():
        body += _figure(plot_ppc(fit), "posterior predictive check")
    body += _figure(plot_residuals(fit), "residuals by benchmark")
    if validation:
        body += (
            f"<h3>Held-out accuracy</h3><p>{validation.get('folds')}-fold cross-validation: "
            f"RMSE {validation['rmse']:.4f}, MAE {validation['mae']:.4f}, "
            f"{label(validation.get('ci_prob', CI_PROB))} interval coverage "
            f"{validation['coverage']:.3f} over {validation['n_heldout']} held-out scores"
        )
        if "reference" in validation:
            ref = validation["reference"]
            body += (
                f"; the reference least-squares method: RMSE {ref['rmse']:.4f} "
                f"({validation['rmse_reduction']:.1%} lower here)"
            )
        body += ".</p>"
    return "checks", "Fit checks", body


def _domain_section(fit, since, seed):
    """Bifactor fits only: domain profiles of the top models and domain trends."""
    from rosetta.domains import domain_names
    from rosetta.plots import plot_domain_profiles
    from rosetta.summary import domain_table
    from rosetta.trends import domain_trends

    if not domain_names(fit.posterior):
        return None
    body = _figure(plot_domain_profiles(fit), "domain profiles of the top models")
    try:
        trends = domain_trends(fit, since=since, random_seed=seed)
    except ValueError as err:
        body += f'<p class="note">No domain trends: {html.escape(str(err))}.</p>'
    else:
        rows = {
            name: {
                "models": row["n_models"],
                "all-models growth / yr": row["all_models_growth_per_year"]["median"],
                "frontier growth / yr": row["frontier_growth_per_year"]["median"],
                "gain over general / yr": row["deviation_growth_per_year"]["median"],
                "gain lo": row["deviation_growth_per_year"]["lo"],
                "gain hi": row["deviation_growth_per_year"]["hi"],
                "P(faster than general)": row["p_faster_than_general"],
            }
            for name, row in trends.to_dict().items()
        }
        body += (
            "<h3>Domain trends</h3><p>Growth of each domain capability over the models scored "
            f"in it, and of their deviation from the general capability ({label(CI_PROB)} "
            "interval).</p>" + _table(pd.DataFrame(rows).T)
        )
    body += f"<h3>Top {TOP_MODELS} models by domain</h3>" + _table(
        domain_table(fit).head(TOP_MODELS)
    )
    return "domains", "Domains", body


def _dimension_section(fit):
    """Fits with learned dimensions only: the loadings, and how the spec was chosen."""
    from rosetta.summary import dimension_table

    if not fit.info.dimensions:
        return None
    selection = fit.info.selection
    body = (
        f"<p>{fit.info.dimensions} learned dimensions beyond the general capability. A "
        "benchmark's strength is the length of its loading vector: how far, in capability units "
        "per unit of a model's dimension score, it measures something other than the general "
        "capability. Loadings are shown on the principal axes of their posterior mean (the "
        "dimensions are identified only up to a rotation).</p>"
    )
    if selection:
        body += f"<p>{html.escape(selection['reason'])}.</p>"
        body += _table(pd.DataFrame(selection["candidates"]).set_index("spec"), digits=9)
    table = dimension_table(fit)
    keep = ["strength", "strength_lo", "strength_hi", *fit.posterior["dimension"].values]
    body += "<h3>Benchmarks by strength</h3>" + _table(table[keep])
    return "dimensions", "Learned dimensions", body


def _saturation_section(fit, since, seed):
    from rosetta.errors import RosettaError
    from rosetta.saturation_forecast import saturation

    title = "Saturation forecast"
    try:
        result = saturation(fit, since=since, random_seed=seed)
    except RosettaError as err:
        return "saturation", title, f'<p class="note">Not forecast: {html.escape(str(err))}.</p>'
    table = result.table.copy()
    for column in ("median", "lo", "hi"):
        table[column] = [
            "beyond horizon" if pd.isna(d) else d.date().isoformat() for d in table[column]
        ]
    body = (
        f"<p>When the frontier trend's expected score on each benchmark reaches 50% and 90% "
        f"(median and {label(result.ci_prob)} interval of the date, carrying the trend, "
        "capability and benchmark-parameter uncertainty; data up to "
        f"{result.latest.date()}, horizon {result.horizon.date()}). A level counts as already "
        "reached when a fitted model's expected score is at it in at least half the draws, and "
        "due when the trend line has passed it but no fitted model is at it yet.</p>"
    )
    body += _figure(result.plot(), "saturation dates per benchmark")
    body += _table(table.set_index(["benchmark", "level"]))
    return "saturation", title, body


def _progress_section(fit, since, seed, static):
    from rosetta.algorithmic_progress import progress
    from rosetta.errors import RosettaError

    try:
        result = progress(fit, since=since, random_seed=seed)
    except (RosettaError, ValueError, KeyError) as err:
        return (
            "progress",
            "Algorithmic progress",
            (f'<p class="note">Not estimated: {html.escape(str(err))}.</p>'),
        )
    out = result.to_dict()

    def fmt(d, unit=""):
        return describe(d, result.ci_prob, unit=unit)

    sources = ", ".join(f"{n} {s}" for s, n in out["models_by_compute_source"].items())
    direct = out["direct"]
    body = _chart(
        static,
        result.plot,
        lambda: progress_figure(result),
        "capability against training compute",
    )
    body += (
        f"<p>Method: {out['method']} regression, <code>capability = a_family + k_family "
        f"log10(compute) + g years</code>. {out['n_models']} models with compute ({sources}; "
        f"{out['n_families_informing_k']} families with several sizes inform k). Efficiency "
        f"gain per year <code>10^(g/k)</code>: <b>{fmt(out['efficiency_gain_per_year'], 'x')}"
        f"</b>; compute halving time {fmt(out['halving_time_months'], ' months')}; k "
        f"{fmt(out['k'])}; g {fmt(out['b_growth_per_year'])}.</p>"
        "<p>Direct observations, no regression on compute: at fixed capability the compute "
        f"of the most efficient models fell {fmt(direct['compute_reduction_per_year'], 'x')} "
        "a year; at fixed compute capability rose "
        f"{fmt(direct['capability_gain_per_year'])} a year "
        f"({fmt(direct['compute_equivalent_gain_per_year'], 'x')} compute-equivalent).</p>"
    )
    k_table = pd.DataFrame(out["k_by_family"]).T.rename_axis("family")
    k_table["members"] = [", ".join(out["families_informing_k"][f]) for f in k_table.index]
    body += "<h3>k by family</h3>" + _table(k_table)
    body += "<h3>Sensitivity</h3>" + _table(result.variants)
    return "progress", "Algorithmic progress", body


def _acceleration_section(fit, seed):
    from rosetta.acceleration import acceleration, default_calibration
    from rosetta.errors import RosettaError
    from rosetta.plots import plot_acceleration

    try:
        result = acceleration(fit, random_seed=seed)
    except RosettaError as err:
        body = f'<p class="note">Not estimated: {html.escape(str(err))}.</p>'
        return "acceleration", "Acceleration", body
    calibration = default_calibration()
    body = _figure(
        plot_acceleration(result, calibration), "hinge fit, breakpoint, slope ratio and power"
    )
    return "acceleration", "Acceleration", body + _acceleration_text(result, calibration)
