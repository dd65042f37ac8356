"""The ``rosetta`` sub-commands that analyse a saved posterior.

Query (and next-benchmark suggestions), place, saturation, trend, progress, accelerate, calibrate,
compare and report: each parses its options,
calls the library and prints the result's ``summary()`` (or ``to_dict()`` with ``--json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from rosetta.cli_options import DATE, SCORES_LAYOUT, number, pairs, show
from rosetta.constants import DEFAULT_SEED


@click.command("query")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option(
    "--score",
    "score_pairs",
    multiple=True,
    metavar="BENCHMARK=SCORE",
    help="A score of the new model: 0.71, 71 or 71% (plain numbers above 1 are percentages). "
    "Repeatable.",
)
@click.option(
    "--scores",
    "scores_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV of scores: long (model, benchmark, score [, n_items, stderr]) or wide; several "
    "models at once.",
)
@SCORES_LAYOUT
@click.option("--name", default="new model", show_default=True, help="Name of the --score model.")
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Probability of outranking each of the N most capable fitted models.",
)
@click.option(
    "--score-at",
    multiple=True,
    metavar="BENCHMARK=CAPABILITY",
    help="Expected score on BENCHMARK of a model with this capability. Repeatable.",
)
@click.option(
    "--capability-at",
    multiple=True,
    metavar="BENCHMARK=SCORE",
    help="Capability at which the expected score on BENCHMARK is SCORE. Repeatable.",
)
@click.option(
    "--suggest",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Also list the N benchmarks expected to narrow each model's capability interval most.",
)
@click.option(
    "--costs",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="CSV (benchmark, cost): --suggest ranks by variance reduction per unit cost.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save the queried model's predicted scores: FILE.html is interactive (hover names "
    "the benchmark; self-contained), other suffixes an image.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def query_command(
    posterior,
    score_pairs,
    scores_file,
    layout,
    name,
    top,
    score_at,
    capability_at,
    suggest,
    costs,
    plot,
    seed,
    as_json,
) -> None:
    """Place new models on a fitted scale from their scores, without refitting."""
    from rosetta.io import load_fit, load_posterior
    from rosetta.placement import QueryAnswers, query, query_table
    from rosetta.placement import capability_at as capability_query
    from rosetta.placement import score_at as score_query
    from rosetta.prediction import item_benchmarks
    from rosetta.suggestion import rank_next

    draws = load_posterior(posterior)
    results = []
    if score_pairs:
        scores = dict(pairs(score_pairs, "--score"))
        if len(scores) < len(score_pairs):
            raise click.BadParameter("a benchmark is given twice", param_hint="--score")
        results.append(query(draws, scores, name=name, top=top, random_seed=seed))
    if scores_file:
        found = query_table(draws, scores_file, layout=layout, top=top, random_seed=seed)
        results += list(found.values())
    scores_at, capabilities_at = (
        pairs(score_at, "--score-at"),
        pairs(capability_at, "--capability-at"),
    )
    # An item benchmark's curve is the mean of its items': that needs the whole fit.
    items = item_benchmarks(draws)
    asked = [bench for bench, _ in scores_at + capabilities_at]
    source = load_fit(posterior) if any(bench in items for bench in asked) else draws
    lookups = [
        score_query(source, bench, number(value, "--score-at")) for bench, value in scores_at
    ] + [capability_query(source, bench, value) for bench, value in capabilities_at]
    if not results and not lookups:
        raise click.UsageError(
            "nothing to query: give --score, --scores, --score-at or --capability-at"
        )
    if costs and not suggest:
        raise click.UsageError("--costs ranks the suggestions: give --suggest N too")
    if suggest and not results:
        raise click.UsageError("--suggest needs a model's scores (--score or --scores)")
    if plot and len(results) != 1:
        raise click.UsageError("--plot draws one model's predicted scores: query one model")
    ranked = {
        r.name: rank_next(r, n=suggest, costs=costs, random_seed=seed)
        for r in (results if suggest else [])
    }
    if plot and Path(plot).suffix.lower() in (".html", ".htm"):
        from rosetta.interactive import query_figure, write_html

        write_html(query_figure(results[0]), plot, f"rosetta query: {results[0].name}")
    elif plot:
        results[0].plot(path=plot)
    show(QueryAnswers(results, lookups, ranked), as_json, plot=plot)


@click.command("place")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option(
    "--scores",
    "scores_file",
    type=click.Path(dir_okay=False, exists=True),
    required=True,
    help="CSV of fitted models scored on new benchmarks: long (model, benchmark, score [, "
    "n_items, stderr, floor]) or wide.",
)
@SCORES_LAYOUT
@click.option(
    "--floor",
    "floor_pairs",
    multiple=True,
    metavar="BENCHMARK=FLOOR",
    help="Chance score of a new benchmark, or 'learned' to infer it (default 0, or the CSV's "
    "floor column). Repeatable.",
)
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Save the figure.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def place_command(posterior, scores_file, layout, floor_pairs, plot, seed, as_json) -> None:
    """Place new benchmarks on a fitted scale from fitted models' scores, without refitting."""
    from rosetta.benchmark_placement import place

    floors = {
        bench: value if value == "learned" else number(value, "--floor")
        for bench, value in pairs(floor_pairs, "--floor")
    }
    result = place(posterior, scores_file, floors=floors or None, layout=layout, random_seed=seed)
    if plot:
        result.plot(path=plot)
    show(result, as_json, plot=plot)


@click.command("saturation")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.argument("more_levels", nargs=-1, metavar="")
@click.option(
    "--benchmark",
    "benchmarks",
    multiple=True,
    metavar="NAME",
    help="Forecast this benchmark (repeatable; default: every fitted benchmark).",
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    metavar="LEVEL",
    help="Expected-score level(s), e.g. --level 0.5 0.9 (default 0.5 and 0.9).",
)
@click.option(
    "--horizon",
    type=click.FloatRange(min=0.25),
    default=10.0,
    show_default=True,
    help="Forecast this many years beyond the latest release.",
)
@click.option(
    "--line",
    type=click.Choice(["envelope", "frontier"]),
    default="envelope",
    show_default=True,
    help="The frontier's path: the all-models trend moved up through the frontier models, or "
    "the regression through the frontier models alone.",
)
@click.option("--since", type=DATE, default=None, help="Fit the frontier trend from here.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Save the figure.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def saturation_command(
    posterior, more_levels, benchmarks, levels, horizon, line, since, plot, seed, as_json
) -> None:
    """When the frontier's expected score on a benchmark reaches each level, with intervals."""
    from rosetta.saturation_forecast import DEFAULT_LEVELS, saturation

    if more_levels and not levels:
        raise click.UsageError(f"unexpected argument(s) {list(more_levels)}: levels follow --level")
    texts = [t for text in (*levels, *more_levels) for t in text.replace(",", " ").split()]
    chosen = [number(t, "--level") for t in texts] or list(DEFAULT_LEVELS)
    result = saturation(
        posterior,
        list(benchmarks) or None,
        levels=chosen,
        line=line,
        since=since,
        horizon_years=horizon,
        random_seed=seed,
    )
    if plot:
        result.plot(path=plot)
    show(result, as_json, plot=plot)


@click.command("trend")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option("--since", type=DATE, default=None, help="Regress on models from here.")
@click.option(
    "--horizon",
    type=click.FloatRange(min=0.25),
    default=2.0,
    show_default=True,
    help="Forecast this many years beyond the latest release.",
)
@click.option(
    "--backtest-cutoff",
    type=DATE,
    default=None,
    help="Also refit on models released before this date and check its forecast of the later "
    "frontier (a full NUTS fit).",
)
@click.option(
    "--domain",
    default=None,
    metavar="NAME",
    help="Bifactor fits: the trend of the capability in this domain (models scored in it).",
)
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Save the figure.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def trend_command(posterior, since, horizon, backtest_cutoff, domain, plot, seed, as_json) -> None:
    """Frontier, growth per year and forecast, with intervals from the posterior.

    A bifactor fit also gets the growth of each domain against the general capability.
    """
    from rosetta.trends import trend

    result = trend(
        posterior,
        since=since,
        horizon_years=horizon,
        random_seed=seed,
        domain=domain,
        backtest_cutoff=backtest_cutoff,
    )
    if plot:
        result.plot(path=plot)
    show(result, as_json, plot=plot)


@click.command("progress")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option(
    "--method",
    type=click.Choice(["bayesian", "two-stage"]),
    default="bayesian",
    show_default=True,
    help="One hierarchical regression, or the reference's within-family k then b(date).",
)
@click.option(
    "--include-distilled", is_flag=True, help="Keep distilled models (excluded by default)."
)
@click.option("--since", type=DATE, default=None, help="Use models from here on.")
@click.option("--no-sensitivity", is_flag=True, help="Skip the other method and distilled choice.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Save the figure.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def progress_command(
    posterior, method, include_distilled, since, no_sensitivity, plot, seed, as_json
) -> None:
    """Algorithmic progress: compute-equivalent efficiency gain per year and halving time."""
    from rosetta.algorithmic_progress import progress

    result = progress(
        posterior,
        method=method,
        include_distilled=include_distilled,
        since=since,
        sensitivity=not no_sensitivity,
        random_seed=seed,
    )
    if plot:
        result.plot(path=plot)
    show(result, as_json, plot=plot)


@click.command("accelerate")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option(
    "--population",
    type=click.Choice(["frontier", "all"]),
    default=None,
    help="Fit the hinge to the frontier of each draw, or to every dated model (default: the "
    "population the rule was calibrated on).",
)
@click.option(
    "--noise",
    type=click.Choice(["pooled", "separate"]),
    default=None,
    help="Fit the hinge draw by draw (pooled: measurement error and scatter as one noise), or to "
    "the posterior means with each model's measurement error known (separate; all models only). "
    "Default: the rule's.",
)
@click.option("--until", type=DATE, default=None, help="Use models released by then.")
@click.option(
    "--watch-from",
    type=DATE,
    default=None,
    help="Also replay the models month by month from this date and say when the rule first fires.",
)
@click.option(
    "--calibration",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="A `rosetta calibrate --out` folder: its rule, table and power curve go in the report "
    "(default: the shipped rule's sweep).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write acceleration.html and acceleration.png here.",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def accelerate_command(
    posterior, population, noise, until, watch_from, calibration, report_dir, seed, as_json
) -> None:
    """Has the frontier sped up? Hinge posterior, slope ratio and the calibrated verdict."""
    from rosetta.acceleration import DEFAULT_RULE, Rule, acceleration, default_calibration
    from rosetta.acceleration.calibration import summarise_folder

    summary = summarise_folder(calibration) if calibration else None
    rule = DEFAULT_RULE if summary is None else Rule(**summary.rule)
    if (population or rule.population) == "frontier" and (noise or rule.noise) == "separate":
        raise click.BadParameter(
            "the frontier differs per draw: use --noise pooled or --population all",
            param_hint="--noise",
        )
    result = acceleration(
        posterior,
        population=population,
        noise=noise,
        until=until,
        rule=rule,
        random_seed=seed,
        watch_from=watch_from,
    )
    report = None
    if report_dir:
        from rosetta.report import write_acceleration_report

        calibrated = summary.to_dict() if summary else default_calibration()
        report = write_acceleration_report(result, report_dir, calibration=calibrated)
    show(result, as_json, report=report)


@click.command("calibrate")
@click.option(
    "--worlds",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Worlds per acceleration factor.",
)
@click.option(
    "--null-worlds",
    type=click.IntRange(min=1),
    default=None,
    help="Worlds with no acceleration (factor 1), when not --worlds.",
)
@click.option("--factors", default="1,2,4,8", show_default=True, help="Speed-up factors.")
@click.option("--first-seed", type=int, default=0, show_default=True, help="Seed of world 0.")
@click.option(
    "--design",
    type=click.Choice(["tracking", "reference"]),
    default="tracking",
    show_default=True,
    help="Benchmarks released at the frontier of their day and progress at the real pace "
    "(tracking), or the reference study's slower worlds with benchmarks above the trend.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="results/calibration",
    show_default=True,
    help="Folder of the sweep: finished worlds are kept there and skipped on a rerun.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Dask scheduler address (tcp://host:8786); local processes when not given.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Local processes (all cores)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=1800,
    show_default=True,
    help="Seconds a world may take before it is stopped and run again with another seed.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Runs more of a world that hit the time limit before it counts as failed.",
)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calibrate_command(
    worlds,
    null_worlds,
    factors,
    first_seed,
    design,
    out,
    scheduler,
    workers,
    time_limit,
    retries,
    quiet,
    as_json,
) -> None:
    """Simulate worlds, fit and watch each, and calibrate the acceleration rule."""
    from rosetta.acceleration.calibration import SweepSettings, summarise_folder, sweep

    try:
        factor_list = [float(f) for f in factors.split(",") if f.strip()]
    except ValueError:
        raise click.BadParameter(
            f"not a list of numbers: {factors!r}", param_hint="--factors"
        ) from None
    if 1.0 not in factor_list:
        raise click.BadParameter("include factor 1 (the null worlds)", param_hint="--factors")
    sweep(
        out,
        factor_list,
        worlds,
        null_worlds=null_worlds,
        first_seed=first_seed,
        settings=SweepSettings(design=design),
        scheduler=scheduler,
        workers=workers,
        progress=not quiet,
        time_limit=time_limit,
        retries=retries,
    )
    show(summarise_folder(out), as_json)


@click.command("compare")
@click.argument("posteriors", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def compare_command(posteriors, as_json) -> None:
    """Compare fits of the same scores by PSIS-LOO (e.g. --domains metadata against none).

    Fits are named by their file names; the best comes first.
    """
    from rosetta.comparison import compare

    if len(posteriors) < 2:
        raise click.UsageError("give at least two posteriors to compare")
    names = [Path(p).stem for p in posteriors]
    if len(set(names)) < len(names):
        names = [str(p) for p in posteriors]
    show(compare(dict(zip(names, posteriors, strict=True))), as_json)


@click.command("report")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="report.html",
    show_default=True,
    help="The HTML file (self-contained: figures and styles inline).",
)
@click.option("--title", default="rosetta report", show_default=True, help="Page title.")
@click.option(
    "--icc",
    "icc_benchmarks",
    multiple=True,
    metavar="BENCHMARK",
    help="Benchmarks for the characteristic-curve panels (default: the most evaluated).",
)
@click.option(
    "--validation",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="JSON written by `rosetta validate --json`, shown as held-out accuracy.",
)
@click.option("--since", type=DATE, default=None, help="Trend and progress window.")
@click.option(
    "--backtest-cutoff",
    type=DATE,
    default=None,
    help="Add the trend back-test from this date (refits the measurement model).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option(
    "--static",
    is_flag=True,
    help="PNG images instead of the interactive figures (a smaller file, for memos).",
)
def report_command(
    posterior, out, title, icc_benchmarks, validation, since, backtest_cutoff, seed, static
) -> None:
    """Write one self-contained HTML report of a saved posterior."""
    from rosetta.report import build_report

    path = build_report(
        posterior,
        out,
        title=title,
        icc_benchmarks=list(icc_benchmarks) or None,
        validation=json.loads(Path(validation).read_text()) if validation else None,
        backtest_cutoff=backtest_cutoff,
        since=since,
        random_seed=seed,
        static=static,
    )
    click.echo(f"wrote {path}")
