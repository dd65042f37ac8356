"""The ``rosetta`` command line: one command, one sub-command per step, ``--json`` everywhere.

The sub-commands that read score tables live here, those that analyse a saved posterior in
`rosetta.cli_analyses`, their shared options in `rosetta.cli_options`; only these modules write
to stdout. Errors raised on purpose by rosetta (bad data, a disconnected
table, an unreadable posterior) become one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click
from click.core import ParameterSource

from rosetta import cli_analyses
from rosetta.cli_options import (
    data_options,
    fit_options,
    load_item_table,
    load_table,
    show,
    spec_and_fit_kwargs,
)
from rosetta.constants import (
    DEFAULT_MIN_ESS,
    DEFAULT_SEED,
    DIMENSION_BOUND,
    ESS_CHECK_EVERY,
    MAX_DRAWS_FACTOR,
    RHAT_MAX,
)
from rosetta.errors import RosettaError, RosettaWarning

log = logging.getLogger("rosetta")


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
    help="Also write capabilities.csv and benchmarks.csv (and domains.csv, dimensions.csv) "
    "into this folder.",
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
@click.option(
    "--full-predictive",
    is_flag=True,
    help="Store one posterior-predictive draw per posterior draw (default: about 500 in all).",
)
@click.option(
    "--min-ess",
    type=click.IntRange(min=0),
    default=DEFAULT_MIN_ESS,
    show_default=True,
    help="NUTS stops before --draws once every quantity has this many effective draws "
    f"(checked every {ESS_CHECK_EVERY} draws, with R-hat <= {RHAT_MAX} and no divergence), and "
    f"samples on, up to {MAX_DRAWS_FACTOR}x --draws, while not converged; 0 takes --draws "
    "exactly.",
)
@click.option(
    "--auto",
    is_flag=True,
    help="Choose the spec among --candidates by held-out accuracy (the simplest within one "
    "standard error of the best: PSIS-LOO where its Pareto k allows, else cross-validation), "
    "then fit it; the choice is stored in the fit.",
)
@click.option(
    "--candidates",
    multiple=True,
    metavar="SPEC",
    help="With --auto: a candidate variant of the spec (repeatable, simplest first) "
    "[default: dimensions=0 to dimensions=3].",
)
@click.option(
    "--auto-folds",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="With --auto: cross-validation folds.",
)
@click.option(
    "--auto-criterion",
    type=click.Choice(["auto", "loo", "cv"]),
    default="auto",
    show_default=True,
    help="With --auto: PSIS-LOO where its Pareto k allows and K-fold cross-validation "
    "otherwise, or either one.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def fit_command(
    out,
    tables,
    top,
    item_level,
    aggregate,
    full_predictive,
    min_ess,
    auto,
    candidates,
    auto_folds,
    auto_criterion,
    quiet,
    as_json,
    **kwargs,
) -> None:
    """Fit the measurement model (the bundled Epoch data without SCORES)."""
    import time

    start = time.perf_counter()
    if aggregate and not item_level:
        raise click.UsageError("--scores goes with --item-level (SCORES is then the items)")
    data = load_item_table(kwargs, aggregate) if item_level else load_table(kwargs)
    table = data.table if item_level else data
    spec, fit_kwargs = spec_and_fit_kwargs(kwargs, table)
    if candidates and not auto:
        raise click.UsageError("--candidates goes with --auto")
    if auto and item_level:
        raise click.UsageError("--auto chooses among benchmark-level specs; not with --item-level")
    from rosetta.errors import ConvergenceWarning
    from rosetta.io import write_csv
    from rosetta.model import fit
    from rosetta.summary import dimension_table, domain_table

    given = click.get_current_context().get_parameter_source
    if not auto and any(given(o) is ParameterSource.COMMANDLINE for o in _AUTO_OPTIONS):
        raise click.UsageError("--auto-folds and --auto-criterion go with --auto")
    if full_predictive:
        fit_kwargs["predictive_draws"] = None
    options = {"progress": not (quiet or as_json), "min_ess": min_ess or None, **fit_kwargs}
    choice = None
    if auto:
        from rosetta.selection import AUTO_CANDIDATES, choose_spec

        texts = candidates or AUTO_CANDIDATES
        if len(set(texts)) < 2:
            raise click.UsageError("--auto needs at least two different --candidates")
        for text in texts:
            _variant(spec, text, table)
        if auto_criterion == "loo" and options.get("method", "nuts") != "nuts":
            raise click.UsageError("--auto-criterion loo weighs NUTS draws; not with --method")
        choice = choose_spec(
            table, spec, texts, folds=auto_folds, criterion=auto_criterion, **options
        )
        spec = choice.spec
        if not as_json:
            click.echo(choice.reason(), err=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit(data, spec, **options) if choice is None else choice.fit(data, **options)
    result.save(out)
    if tables:
        write_csv(result.capabilities().reset_index(), Path(tables) / "capabilities.csv")
        write_csv(result.benchmarks().reset_index(), Path(tables) / "benchmarks.csv")
        if spec.domains:
            write_csv(domain_table(result).reset_index(), Path(tables) / "domains.csv")
        if spec.dimensions:
            write_csv(dimension_table(result).reset_index(), Path(tables) / "dimensions.csv")
    for warning in caught:
        if not as_json:
            click.echo(f"warning: {warning.message}", err=True)
    show(_Top(result, top, time.perf_counter() - start), as_json, posterior=out, tables=tables)


#: Options of `rosetta fit` that only mean something with ``--auto``.
_AUTO_OPTIONS = ("auto_folds", "auto_criterion")


class _Top:
    """A fit shown with its ``top`` models and the command's wall time."""

    def __init__(self, fit, top: int, wall_seconds: float) -> None:
        self.fit, self.top, self.wall_seconds = fit, top, round(wall_seconds, 2)

    def to_dict(self) -> dict:
        return {**self.fit.to_dict(top=self.top), "wall_seconds": self.wall_seconds}

    def summary(self) -> str:
        return self.fit.summary(top=self.top)


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
    "--compare",
    "compare",
    multiple=True,
    metavar="SPEC",
    help="Also validate this variant of the spec on the same folds (repeatable), e.g. "
    "dimensions=2 or floors=learned,family_effects=false (keys: dimensions, floors, "
    "likelihood, family_effects, domains); the specs are ranked by held-out MSE.",
)
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every held-out prediction to this CSV file.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Folds sampled at once, each on --chains cores [default: cores // chains].",
)
@click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://host:8786): each fold fits as a task of the cluster.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def validate_command(
    folds,
    compare_reference,
    compare_one_number,
    compare,
    predictions,
    workers,
    scheduler,
    as_json,
    **kwargs,
) -> None:
    """K-fold cross-validation: RMSE, MAE and interval coverage of held-out scores."""
    from rosetta.io import write_csv
    from rosetta.validation import cross_validate

    table = load_table(kwargs)
    spec, fit_kwargs = spec_and_fit_kwargs(kwargs, table)
    variants = {text: _variant(spec, text, table) for text in compare}
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
        compare=variants,
        workers=workers,
        scheduler=scheduler,
        progress=False,
        **fit_kwargs,
    )
    if predictions:
        write_csv(result.predictions, predictions)
    show(result, as_json, predictions=predictions)


def _variant(spec, text: str, table):
    from rosetta.validation import spec_variant

    try:
        return spec_variant(spec, text, table.benchmarks)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--compare/--candidates") from None


@cli.command("simulate")
@click.option("--models", type=click.IntRange(min=2), default=40, show_default=True, help="Models.")
@click.option(
    "--benchmarks",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Benchmarks (at least 2 for benchmark-level scores).",
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
    help="Also write the true capabilities (columns model, capability and, with "
    "--dimensions, the dimension scores) to this CSV.",
)
@click.option(
    "--truth-benchmarks",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the true benchmark parameters (difficulty, slope, floor and, with "
    "--dimensions, the loadings) to this CSV.",
)
@click.option(
    "--dimensions",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Benchmark-level scores: learned-dimension truth, each benchmark measuring the "
    "capability plus its loadings times the model's scores on this many dimensions.",
)
@click.option(
    "--dimension-sd",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help=f"With --dimensions: loadings are {DIMENSION_BOUND} tanh(Normal(0, this)) (capabilities "
    "standard normal; the bundled fit's dimension_sd is about 0.8).",
)
@click.option(
    "--difficulty",
    type=float,
    default=0.0,
    show_default=True,
    help="Item-level: mean benchmark difficulty (capabilities are standard normal).",
)
@click.option(
    "--item-difficulty-sd",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Item-level: spread of item difficulties within a benchmark (1.5 with --difficulty 1 "
    "leaves a fifth of the items unsolved, as on a hard real benchmark).",
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
    truth_benchmarks,
    dimensions,
    dimension_sd,
    difficulty,
    item_difficulty_sd,
    as_json,
) -> None:
    """Write synthetic data drawn from the measurement model, and its truth."""
    from rosetta.io import write_csv
    from rosetta.simulate import simulate_items, simulate_scores

    if item_level and dimensions:
        raise click.UsageError("--dimensions simulates benchmark-level scores, not --item-level")
    if item_level:
        frame, known = simulate_items(
            models,
            benchmarks,
            items_per_benchmark,
            observed_fraction=observed_fraction,
            floors=floor,
            attempts=attempts,
            difficulty_mean=difficulty,
            item_difficulty_sd=item_difficulty_sd,
            random_seed=seed,
        )
    else:
        if benchmarks < 2:
            raise click.UsageError("benchmark-level scores need --benchmarks 2 or more")
        frame, known = simulate_scores(
            models,
            benchmarks,
            observed_fraction=observed_fraction,
            floors=floor,
            noise="binomial",
            n_items=items_per_benchmark,
            dimensions=dimensions,
            dimension_sd=dimension_sd,
            random_seed=seed,
        )
    write_csv(frame, out)
    if truth:
        models_truth = known.capability.to_frame()
        if known.dimension_score is not None:
            models_truth = models_truth.join(known.dimension_score.add_suffix("_score"))
        write_csv(models_truth.reset_index(), truth)
    if truth_benchmarks:
        bench_truth = known.benchmarks
        if known.loading is not None:
            bench_truth = bench_truth.join(known.loading.add_suffix("_loading"))
        write_csv(bench_truth.reset_index(), truth_benchmarks)
    payload = {
        "kind": "item responses" if item_level else "benchmark scores",
        "rows": len(frame),
        "models": models,
        "benchmarks": benchmarks,
        "pairs": int(frame[["model", "benchmark"]].drop_duplicates().shape[0]),
        "seed": seed,
        "dimensions": dimensions,
        "out": str(out),
        "truth": truth,
        "truth_benchmarks": truth_benchmarks,
    }
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(
        f"wrote {payload['rows']} {payload['kind']} ({models} models x {benchmarks} benchmarks, "
        f"{payload['pairs']} pairs evaluated) to {out}" + (f"; truth in {truth}" if truth else "")
    )


for _command in (
    cli_analyses.query_command,
    cli_analyses.place_command,
    cli_analyses.saturation_command,
    cli_analyses.trend_command,
    cli_analyses.progress_command,
    cli_analyses.accelerate_command,
    cli_analyses.calibrate_command,
    cli_analyses.compare_command,
    cli_analyses.report_command,
):
    cli.add_command(_command)


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
        with warnings.catch_warnings():  # the filters `cli` sets end with the command
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


def run() -> NoReturn:
    """The ``rosetta`` program: `main` on the command line's arguments, exiting with its status.

    What is left when the command ends is frozen out of the garbage collection Python runs as
    it exits, which would walk every object PyMC's import made (1.7 s after a fit) for nothing.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())
