"""The ``rosetta`` command line: one command, one sub-command per step, ``--json`` everywhere.

Only this module writes to stdout. Errors raised on purpose by rosetta (bad data, a disconnected
table, an unreadable posterior) become one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from rosetta.constants import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_FAMILY_EFFECTS,
    DEFAULT_MIN_MODELS,
    DEFAULT_SEED,
    DEFAULT_TUNE,
    DUPLICATE_POLICIES,
    FLOOR_MODES,
    ITEM_APPROX_DRAWS,
    LIKELIHOODS,
    METHODS,
    SAMPLERS,
)
from rosetta.errors import RosettaError, RosettaWarning

log = logging.getLogger("rosetta")


class _Date(click.ParamType):
    """A date option: checked when parsed, passed on as written (``YYYY-MM-DD``)."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        import pandas as pd

        try:
            pd.Timestamp(value)
        except (ValueError, TypeError):
            self.fail(f"not a date: {value!r} (use YYYY-MM-DD)", param, ctx)
        return value


DATE = _Date()


def data_options(command: Callable) -> Callable:
    """Options shared by every sub-command that reads a score table."""
    options = [
        click.argument("scores", required=False, type=click.Path(dir_okay=False)),
        click.option(
            "--layout",
            type=click.Choice(["auto", "long", "wide"]),
            default="auto",
            show_default=True,
            help="Table layout of SCORES.",
        ),
        click.option(
            "--percent",
            is_flag=True,
            help="Plain numeric scores are percentages (0-100), not fractions.",
        ),
        click.option(
            "--min-benchmarks",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Keep models evaluated on at least N benchmarks.",
        ),
        click.option(
            "--min-models",
            type=click.IntRange(min=1),
            default=DEFAULT_MIN_MODELS,
            show_default=True,
            help="Keep benchmarks evaluated by at least N models.",
        ),
        click.option(
            "--since",
            type=DATE,
            default=None,
            help="Keep models released on or after this date.",
        ),
        click.option(
            "--duplicates",
            type=click.Choice(DUPLICATE_POLICIES),
            default="max",
            show_default=True,
            help="How to merge repeated (model, benchmark) pairs.",
        ),
        click.option(
            "--include",
            multiple=True,
            metavar="BENCHMARK",
            help="Keep only these benchmarks (repeatable).",
        ),
        click.option(
            "--exclude",
            multiple=True,
            metavar="BENCHMARK",
            help="Drop these benchmarks (repeatable).",
        ),
        click.option(
            "--drop-invalid",
            is_flag=True,
            help="Drop invalid rows (counted in the summary) instead of failing.",
        ),
        click.option(
            "--keep-largest-component",
            is_flag=True,
            help="Keep the largest connected part of a disconnected table.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def load_table(kwargs: dict):
    """Pop the shared data options from a command's arguments and build the `ScoreTable`."""
    from rosetta.data import load_scores

    return load_scores(
        kwargs.pop("scores"),
        layout=kwargs.pop("layout"),
        score_scale="percent" if kwargs.pop("percent") else "fraction",
        errors="drop" if kwargs.pop("drop_invalid") else None,
        duplicates=kwargs.pop("duplicates"),
        min_benchmarks=kwargs.pop("min_benchmarks"),
        min_models=kwargs.pop("min_models"),
        since=kwargs.pop("since"),
        include=list(kwargs.pop("include")) or None,
        exclude=list(kwargs.pop("exclude")) or None,
        keep_largest_component=kwargs.pop("keep_largest_component"),
    )


def show(result, as_json: bool, **written) -> None:
    """Print a result's ``to_dict()`` as one JSON object, or its ``summary()``.

    ``written`` names files the command wrote (``out="results/posterior.nc"``): keys of the JSON
    object, and a ``wrote ...`` line under the text.
    """
    written = {key: str(path) for key, path in written.items() if path}
    if as_json:
        click.echo(json.dumps({**result.to_dict(), **written}, indent=2, default=str))
        return
    click.echo(result.summary())
    for key, path in written.items():
        click.echo(f"wrote {key}: {path}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rosetta")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
def cli(verbose: int) -> None:
    """Rosetta: AI capabilities and benchmark difficulties on one Bayesian scale."""
    if not verbose:  # other libraries' warnings (deprecations, ...) only with -v
        warnings.filterwarnings("ignore")
        warnings.filterwarnings("default", category=RosettaWarning)
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


@cli.command("data")
@data_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the tidy table to this CSV file.",
)
def data_command(as_json: bool, out: str | None, **kwargs) -> None:
    """Summarise a score table (the bundled Epoch data without SCORES)."""
    table = load_table(kwargs)
    if out:
        from rosetta.io import write_csv

        write_csv(table.scores, out)
    show(table, as_json)


def fit_options(command: Callable) -> Callable:
    """Options of the measurement model and its sampler (fit and validate)."""
    for option in reversed(_sampler_options() + _model_options()):
        command = option(command)
    return command


def _sampler_options() -> list[Callable]:
    return [
        click.option(
            "--draws",
            type=click.IntRange(min=1),
            default=None,
            help=f"Posterior draws per chain [default: {DEFAULT_DRAWS}; approximate item-level "
            f"fits: {ITEM_APPROX_DRAWS} in all].",
        ),
        click.option(
            "--tune",
            type=click.IntRange(min=0),
            default=DEFAULT_TUNE,
            show_default=True,
            help="Tuning steps per chain.",
        ),
        click.option(
            "--chains",
            type=click.IntRange(min=1),
            default=DEFAULT_CHAINS,
            show_default=True,
            help="Independent chains (run in parallel up to the core count).",
        ),
        click.option(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            show_default=True,
            help="Random seed: the same seed gives the same posterior.",
        ),
        click.option(
            "--sampler",
            type=click.Choice(SAMPLERS),
            default="auto",
            show_default=True,
            help="NUTS backend (auto: nutpie, numpyro, then pymc).",
        ),
        click.option(
            "--method",
            type=click.Choice(METHODS),
            default="nuts",
            show_default=True,
            help="nuts (full posterior), map (mode + Laplace) or advi (quick look).",
        ),
    ]


def _model_options() -> list[Callable]:
    return [
        click.option(
            "--likelihood",
            type=click.Choice(LIKELIHOODS),
            default="beta",
            show_default=True,
            help="beta (ordered Beta; beta-binomial with n_items) or normal (least "
            "squares, the reference method).",
        ),
        click.option(
            "--floor",
            "floors",
            type=click.Choice(FLOOR_MODES),
            default="nominal",
            show_default=True,
            help="Benchmark floors: nominal chance, zero or learned.",
        ),
        click.option(
            "--family-effects/--no-family-effects",
            default=DEFAULT_FAMILY_EFFECTS,
            show_default=True,
            help="Variants of one model (same name family) share an effect on each benchmark.",
        ),
        click.option(
            "--domains",
            default="none",
            show_default=True,
            metavar="none|metadata|FILE",
            help="Bifactor model: domain deviations from the benchmark flags (metadata: math, "
            "coding, other) or a CSV with columns benchmark, domain; none: one number.",
        ),
        click.option(
            "--anchor-benchmark",
            default=None,
            metavar="NAME",
            help="Anchor benchmark at difficulty 0, slope 1 (default Winogrande).",
        ),
        click.option(
            "--anchor-models",
            nargs=2,
            default=None,
            metavar="ID=VALUE ID=VALUE",
            help="Pin two models at two values instead (e.g. the ECI convention).",
        ),
    ]


def _spec_and_fit_kwargs(kwargs: dict, table, item_level: bool = False):
    from rosetta.domains import domain_map
    from rosetta.model import MeasurementSpec
    from rosetta.scale import Scale

    anchor_benchmark = kwargs.pop("anchor_benchmark")
    anchor_models = kwargs.pop("anchor_models")
    if anchor_benchmark and anchor_models:
        raise click.UsageError("give --anchor-benchmark or --anchor-models, not both")
    if anchor_models:
        scale = Scale.from_models(dict(_parse_pin(text) for text in anchor_models))
    elif anchor_benchmark:
        scale = Scale(benchmark=anchor_benchmark)
    else:
        scale = Scale()
    spec = MeasurementSpec(
        likelihood=kwargs.pop("likelihood"),
        floors=kwargs.pop("floors"),
        scale=scale,
        domains=domain_map(kwargs.pop("domains"), table.benchmarks),
        family_effects=kwargs.pop("family_effects"),
    )
    fit_kwargs = {
        name: kwargs.pop(name) for name in ("draws", "tune", "chains", "sampler", "method")
    }
    if fit_kwargs["draws"] is None:
        approximate_items = item_level and fit_kwargs["method"] != "nuts"
        fit_kwargs["draws"] = (
            max(1, ITEM_APPROX_DRAWS // fit_kwargs["chains"])
            if approximate_items
            else DEFAULT_DRAWS
        )
    fit_kwargs["random_seed"] = kwargs.pop("seed")
    return spec, fit_kwargs


def _parse_pin(text: str) -> tuple[str, float]:
    name, _, value = text.rpartition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        pass
    raise click.BadParameter(f"expected ID=VALUE, got {text!r}", param_hint="--anchor-models")


@cli.command("fit")
@data_options
@fit_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="posterior.nc",
    show_default=True,
    help="Where to write the posterior (netCDF, atomically).",
)
@click.option(
    "--tables",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write capabilities.csv and benchmarks.csv (and domains.csv) into this folder.",
)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Models shown in the printed capability table.",
)
@click.option(
    "--item-level",
    is_flag=True,
    help="SCORES holds item-level responses (model, benchmark, item, correct [, attempts, "
    "floor]): items nested in benchmarks.",
)
@click.option(
    "--scores",
    "aggregate",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --item-level: benchmark-level scores of other benchmarks, fitted alongside.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def fit_command(out, tables, top, item_level, aggregate, quiet, as_json, **kwargs) -> None:
    """Fit the measurement model (the bundled Epoch data without SCORES)."""
    import time

    start = time.perf_counter()
    if aggregate and not item_level:
        raise click.UsageError("--scores goes with --item-level (SCORES is then the items)")
    data = _load_items(kwargs, aggregate) if item_level else load_table(kwargs)
    table = data.table if item_level else data
    spec, fit_kwargs = _spec_and_fit_kwargs(kwargs, table, item_level)
    from rosetta.errors import ConvergenceWarning
    from rosetta.io import write_csv
    from rosetta.model import fit
    from rosetta.summary import domain_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit(data, spec, progress=not (quiet or as_json), **fit_kwargs)
    result.save(out)
    if tables:
        write_csv(result.capabilities().reset_index(), Path(tables) / "capabilities.csv")
        write_csv(result.benchmarks().reset_index(), Path(tables) / "benchmarks.csv")
        if spec.domains:
            write_csv(domain_table(result).reset_index(), Path(tables) / "domains.csv")
    for warning in caught:
        if not as_json:
            click.echo(f"warning: {warning.message}", err=True)
    show(_Top(result, top, time.perf_counter() - start), as_json, posterior=out, tables=tables)


class _Top:
    """A fit shown with its ``top`` models and the command's wall time."""

    def __init__(self, fit, top: int, wall_seconds: float) -> None:
        self.fit, self.top, self.wall_seconds = fit, top, round(wall_seconds, 2)

    def to_dict(self) -> dict:
        return {**self.fit.to_dict(top=self.top), "wall_seconds": self.wall_seconds}

    def summary(self) -> str:
        return self.fit.summary(top=self.top)


def _load_items(kwargs: dict, aggregate: str | None):
    """The `ItemTable` of ``fit --item-level``: SCORES are responses, --scores joins scores."""
    from rosetta.data.items import load_items

    path = kwargs["scores"]
    if not path:
        raise click.UsageError("--item-level needs the item file as SCORES")
    scores = None
    if aggregate:
        kwargs["scores"] = aggregate
        scores = load_table(dict(kwargs, min_benchmarks=1))
    return load_items(
        path,
        scores,
        min_benchmarks=kwargs["min_benchmarks"],
        min_models=kwargs["min_models"],
        since=kwargs["since"],
        keep_largest_component=kwargs["keep_largest_component"],
    )


@cli.command("validate")
@data_options
@fit_options
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="Number of cross-validation folds.",
)
@click.option(
    "--compare-reference",
    is_flag=True,
    help="Also validate the reference least-squares method (normal likelihood, zero "
    "floors) on the same folds.",
)
@click.option(
    "--compare-one-number",
    is_flag=True,
    help="With --domains: also validate the one-number model (same settings, no domains) on "
    "the same folds.",
)
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every held-out prediction to this CSV file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def validate_command(
    folds, compare_reference, compare_one_number, predictions, as_json, **kwargs
) -> None:
    """K-fold cross-validation: RMSE, MAE and interval coverage of held-out scores."""
    from rosetta.io import write_csv
    from rosetta.validation import cross_validate

    table = load_table(kwargs)
    spec, fit_kwargs = _spec_and_fit_kwargs(kwargs, table)
    if compare_one_number and not spec.domains:
        raise click.UsageError("--compare-one-number needs --domains")
    baselines = [
        name
        for name, wanted in (("reference", compare_reference), ("one_number", compare_one_number))
        if wanted
    ]
    result = cross_validate(
        table,
        spec,
        folds=folds,
        random_seed=fit_kwargs.pop("random_seed"),
        baselines=baselines,
        progress=False,
        **fit_kwargs,
    )
    if predictions:
        write_csv(result.predictions, predictions)
    show(result, as_json, predictions=predictions)


def _pairs(texts: Sequence[str], option: str) -> list[tuple[str, str]]:
    """Split ``NAME=VALUE`` option values at their last ``=``."""
    pairs = []
    for text in texts:
        name, sep, value = text.rpartition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint=option)
        pairs.append((name.strip(), value.strip()))
    return pairs


@cli.command("query")
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
@click.option(
    "--layout",
    type=click.Choice(["auto", "long", "wide"]),
    default="auto",
    show_default=True,
    help="Table layout of --scores.",
)
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
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def query_command(
    posterior, score_pairs, scores_file, layout, name, top, score_at, capability_at, seed, as_json
) -> None:
    """Place new models on a fitted scale from their scores, without refitting."""
    from rosetta.io import load_posterior
    from rosetta.placement import QueryAnswers, query, query_table
    from rosetta.placement import capability_at as capability_query
    from rosetta.placement import score_at as score_query

    draws = load_posterior(posterior)
    results = []
    if score_pairs:
        scores = dict(_pairs(score_pairs, "--score"))
        if len(scores) < len(score_pairs):
            raise click.BadParameter("a benchmark is given twice", param_hint="--score")
        results.append(query(draws, scores, name=name, top=top, random_seed=seed))
    if scores_file:
        found = query_table(draws, scores_file, layout=layout, top=top, random_seed=seed)
        results += list(found.values())
    lookups = [
        score_query(draws, bench, _number(value, "--score-at"))
        for bench, value in _pairs(score_at, "--score-at")
    ] + [
        capability_query(draws, bench, value)
        for bench, value in _pairs(capability_at, "--capability-at")
    ]
    if not results and not lookups:
        raise click.UsageError(
            "nothing to query: give --score, --scores, --score-at or --capability-at"
        )
    show(QueryAnswers(results, lookups), as_json)


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(f"not a number: {text!r}", param_hint=option) from None


@cli.command("trend")
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


@cli.command("progress")
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


@cli.command("accelerate")
@click.argument("posterior", type=click.Path(dir_okay=False))
@click.option(
    "--population",
    type=click.Choice(["frontier", "all"]),
    default=None,
    help="Fit the hinge to the frontier of each draw, or to every dated model (default: the "
    "population the rule was calibrated on).",
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
    help="A `rosetta calibrate --out` folder: its rule, table and power curve go in the report.",
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
    posterior, population, until, watch_from, calibration, report_dir, seed, as_json
) -> None:
    """Has the frontier sped up? Hinge posterior, slope ratio and the calibrated verdict."""
    from rosetta.acceleration import DEFAULT_RULE, Rule, acceleration
    from rosetta.acceleration.calibration import summarise_folder

    summary = summarise_folder(calibration) if calibration else None
    rule = DEFAULT_RULE if summary is None else Rule(**summary.rule)
    result = acceleration(
        posterior,
        population=population,
        until=until,
        rule=rule,
        random_seed=seed,
        watch_from=watch_from,
    )
    report = None
    if report_dir:
        from rosetta.report import write_acceleration_report

        calibrated = summary.to_dict() if summary else None
        report = write_acceleration_report(result, report_dir, calibration=calibrated)
    show(result, as_json, report=report)


@cli.command("calibrate")
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
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def calibrate_command(
    worlds, null_worlds, factors, first_seed, out, scheduler, workers, quiet, as_json
) -> None:
    """Simulate worlds, fit and watch each, and calibrate the acceleration rule."""
    from rosetta.acceleration.calibration import summarise_folder, sweep

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
        scheduler=scheduler,
        workers=workers,
        progress=not quiet,
    )
    show(summarise_folder(out), as_json)


@cli.command("compare")
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


@cli.command("report")
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
def report_command(
    posterior, out, title, icc_benchmarks, validation, since, backtest_cutoff, seed
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
    )
    click.echo(f"wrote {path}")


@cli.command("simulate")
@click.option("--models", type=click.IntRange(min=2), default=40, show_default=True, help="Models.")
@click.option(
    "--benchmarks", type=click.IntRange(min=2), default=10, show_default=True, help="Benchmarks."
)
@click.option(
    "--items-per-benchmark",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Items of each benchmark (item-level data; n_items of benchmark-level scores).",
)
@click.option(
    "--item-level",
    is_flag=True,
    help="Write item-level responses (model, benchmark, item, correct) instead of scores.",
)
@click.option(
    "--observed-fraction",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Share of (model, benchmark) pairs evaluated.",
)
@click.option(
    "--floor",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.0,
    show_default=True,
    help="Chance score of every benchmark.",
)
@click.option(
    "--attempts",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Item-level: attempts per item (correct is then a fraction).",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="CSV to write.")
@click.option(
    "--truth",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the true capabilities (columns model, capability) to this CSV.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simulate_command(
    models,
    benchmarks,
    items_per_benchmark,
    item_level,
    observed_fraction,
    floor,
    attempts,
    seed,
    out,
    truth,
    as_json,
) -> None:
    """Write synthetic data drawn from the measurement model, and its truth."""
    from rosetta.io import write_csv
    from rosetta.simulate import simulate_items, simulate_scores

    if item_level:
        frame, known = simulate_items(
            models,
            benchmarks,
            items_per_benchmark,
            observed_fraction=observed_fraction,
            floors=floor,
            attempts=attempts,
            random_seed=seed,
        )
    else:
        frame, known = simulate_scores(
            models,
            benchmarks,
            observed_fraction=observed_fraction,
            floors=floor,
            noise="binomial",
            n_items=items_per_benchmark,
            random_seed=seed,
        )
    write_csv(frame, out)
    if truth:
        write_csv(known.capability.reset_index(), truth)
    payload = {
        "kind": "item responses" if item_level else "benchmark scores",
        "rows": len(frame),
        "models": models,
        "benchmarks": benchmarks,
        "pairs": int(frame[["model", "benchmark"]].drop_duplicates().shape[0]),
        "seed": seed,
        "out": str(out),
        "truth": truth,
    }
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(
        f"wrote {payload['rows']} {payload['kind']} ({models} models x {benchmarks} benchmarks, "
        f"{payload['pairs']} pairs evaluated) to {out}" + (f"; truth in {truth}" if truth else "")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting.

    Parameters
    ----------
    argv
        Arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 on a rosetta or usage error, 1 on an unexpected failure.
    """
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="rosetta",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return 2
    except (RosettaError, FileNotFoundError, IsADirectoryError) as err:
        click.echo(f"error: {_one_line(err)}", err=True)
        return 2
    except click.exceptions.Exit as done:
        return done.exit_code
    return 0


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())
