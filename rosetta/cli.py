"""The ``rosetta`` command line: one command, one sub-command per step, ``--json`` everywhere.

Only this module writes to stdout. Errors raised on purpose by rosetta (bad data, a disconnected
table, an unreadable posterior) become one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence

import click

from rosetta.constants import DUPLICATE_POLICIES
from rosetta.errors import RosettaError

log = logging.getLogger("rosetta")


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
            "--since",
            metavar="YYYY-MM-DD",
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


def load_table(
    scores,
    layout,
    percent,
    min_benchmarks,
    since,
    duplicates,
    include,
    exclude,
    drop_invalid,
    keep_largest_component,
):
    """Build the `ScoreTable` that the shared data options describe."""
    from rosetta.data import load_scores

    return load_scores(
        scores,
        layout=layout,
        score_scale="percent" if percent else "fraction",
        errors="drop" if drop_invalid else None,
        duplicates=duplicates,
        min_benchmarks=min_benchmarks,
        since=since,
        include=list(include) or None,
        exclude=list(exclude) or None,
        keep_largest_component=keep_largest_component,
    )


def _table_kwargs(kwargs: dict) -> dict:
    names = (
        "scores",
        "layout",
        "percent",
        "min_benchmarks",
        "since",
        "duplicates",
        "include",
        "exclude",
        "drop_invalid",
        "keep_largest_component",
    )
    return {name: kwargs.pop(name) for name in names}


def emit(payload: dict, as_json: bool, text: Callable[[dict], str]) -> None:
    """Print ``payload`` as one JSON object, or as readable text."""
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo(text(payload))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rosetta")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
def cli(verbose: int) -> None:
    """Rosetta: AI capabilities and benchmark difficulties on one Bayesian scale."""
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
    table = load_table(**_table_kwargs(kwargs))
    if out:
        from rosetta.io import write_csv

        write_csv(table.scores, out)
    emit(table.summary(), as_json, _data_text)


def _data_text(summary: dict) -> str:
    lines = [
        f"source       {summary['source']}",
        f"scores       {summary['n_scores']}",
        f"models       {summary['n_models']} ({summary['models_with_date']} with a release "
        f"date, {summary['models_with_compute']} with training compute)",
        f"benchmarks   {summary['n_benchmarks']}",
        f"coverage     {summary['coverage']:.1%} of the model x benchmark matrix",
        f"components   {summary['components']} (models + benchmarks per component)",
    ]
    if summary["dropped"]:
        lines.append("dropped rows")
        lines += [f"  {n:6d}  {reason}" for reason, n in summary["dropped"].items()]
    return "\n".join(lines)


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
