"""The ``rosetta`` command line: one command, one sub-command per step, ``--json`` everywhere.

Only this module writes to stdout. Errors raised on purpose by rosetta (bad data, a disconnected
table, an unreadable posterior) become one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from rosetta.constants import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_MIN_MODELS,
    DEFAULT_SEED,
    DEFAULT_TUNE,
    DUPLICATE_POLICIES,
    FLOOR_MODES,
    LIKELIHOODS,
    METHODS,
    SAMPLERS,
)
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
            "--min-models",
            type=click.IntRange(min=1),
            default=DEFAULT_MIN_MODELS,
            show_default=True,
            help="Keep benchmarks evaluated by at least N models.",
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
    table = load_table(kwargs)
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


def fit_options(command: Callable) -> Callable:
    """Options of the measurement model and its sampler (fit and validate)."""
    options = [
        click.option(
            "--draws",
            type=click.IntRange(min=1),
            default=DEFAULT_DRAWS,
            show_default=True,
            help="Posterior draws per chain.",
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
    for option in reversed(options):
        command = option(command)
    return command


def _spec_and_fit_kwargs(kwargs: dict):
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
        likelihood=kwargs.pop("likelihood"), floors=kwargs.pop("floors"), scale=scale
    )
    fit_kwargs = {
        name: kwargs.pop(name) for name in ("draws", "tune", "chains", "sampler", "method")
    }
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
    help="Also write capabilities.csv and benchmarks.csv into this folder.",
)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Models shown in the printed capability table.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def fit_command(out, tables, top, quiet, as_json, **kwargs) -> None:
    """Fit the measurement model (the bundled Epoch data without SCORES)."""
    import time
    import warnings

    start = time.perf_counter()
    table = load_table(kwargs)
    spec, fit_kwargs = _spec_and_fit_kwargs(kwargs)
    from rosetta.errors import ConvergenceWarning
    from rosetta.io import save_fit, write_csv
    from rosetta.model import fit
    from rosetta.summary import benchmark_table, capability_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        idata = fit(table, spec, progress=not (quiet or as_json), **fit_kwargs)
    save_fit(idata, out)
    capabilities, benchmarks = capability_table(idata), benchmark_table(idata)
    if tables:
        write_csv(capabilities.reset_index(), Path(tables) / "capabilities.csv")
        write_csv(benchmarks.reset_index(), Path(tables) / "benchmarks.csv")
    attrs = idata.posterior.attrs
    diagnostics = json.loads(attrs["diagnostics"])
    payload = {
        "n_models": attrs["n_models"],
        "n_benchmarks": attrs["n_benchmarks"],
        "n_scores": attrs["n_scores"],
        "wall_seconds": round(time.perf_counter() - start, 2),
        "fit_seconds": attrs["wall_seconds"],
        "method": attrs["method"],
        "sampler": attrs["sampler"],
        "max_rhat": diagnostics["max_rhat"],
        "min_ess_bulk": diagnostics["min_ess_bulk"],
        "min_ess_tail": diagnostics["min_ess_tail"],
        "divergences": diagnostics["divergences"],
        "converged": diagnostics["ok"],
        "problems": diagnostics["problems"],
        "scale": json.loads(attrs["scale"]),
        "likelihood": attrs["likelihood"],
        "floors": attrs["floors"],
        "out": str(out),
        "top_models": capabilities.head(top)["mean"].round(3).to_dict(),
    }
    for warning in caught:
        if not as_json:
            click.echo(f"warning: {warning.message}", err=True)
    emit(payload, as_json, lambda p: _fit_text(p, capabilities.head(top), benchmarks))


def _fit_text(payload: dict, capabilities, benchmarks) -> str:
    rhat = payload["max_rhat"]
    lines = [
        f"fitted {payload['n_scores']} scores: {payload['n_models']} models x "
        f"{payload['n_benchmarks']} benchmarks in {payload['wall_seconds']:.1f} s "
        f"({payload['method']}, {payload['sampler']})",
        f"scale: {payload['scale']['description']}",
        "diagnostics: max R-hat "
        + (f"{rhat:.4f}" if rhat is not None else "n/a")
        + f", min bulk ESS {payload['min_ess_bulk']:.0f}, min tail ESS "
        f"{payload['min_ess_tail']:.0f}, divergences {payload['divergences']} -> "
        + ("ok" if payload["converged"] else "NOT converged: " + "; ".join(payload["problems"])),
        f"posterior written to {payload['out']}",
        "",
        "capabilities (top models; 90% interval)",
        capabilities.round(3).to_string(),
        "",
        "benchmarks (easiest first; 90% intervals)",
        benchmarks.round(3).to_string(),
    ]
    return "\n".join(lines)


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
    "--predictions",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every held-out prediction to this CSV file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def validate_command(folds, compare_reference, predictions, as_json, **kwargs) -> None:
    """K-fold cross-validation: RMSE, MAE and 90% interval coverage of held-out scores."""
    from dataclasses import replace

    from rosetta.io import write_csv
    from rosetta.validate import cross_validate

    table = load_table(kwargs)
    spec, fit_kwargs = _spec_and_fit_kwargs(kwargs)
    seed = fit_kwargs.pop("random_seed")
    result = cross_validate(
        table, spec, folds=folds, random_seed=seed, progress=False, **fit_kwargs
    )
    if predictions:
        write_csv(result["predictions"], predictions)
    payload = {k: v for k, v in result.items() if k != "predictions"}
    payload.update(likelihood=spec.likelihood, floors=spec.floors)
    if compare_reference:
        reference = replace(spec, likelihood="normal", floors="zero", priors={})
        ref = cross_validate(
            table, reference, folds=folds, random_seed=seed, progress=False, **fit_kwargs
        )
        payload["reference"] = {k: ref[k] for k in ("rmse", "mae", "coverage_90", "n_heldout")}
        payload["rmse_reduction"] = round(1 - result["rmse"] / ref["rmse"], 4)
    emit(payload, as_json, _validate_text)


def _validate_text(payload: dict) -> str:
    lines = [
        f"{payload['folds']}-fold cross-validation, {payload['n_heldout']} held-out scores "
        f"({payload['likelihood']} likelihood, {payload['floors']} floors)",
        f"  RMSE {payload['rmse']:.4f}   MAE {payload['mae']:.4f}   "
        f"90% interval coverage {payload['coverage_90']:.3f}",
    ]
    if "reference" in payload:
        ref = payload["reference"]
        lines.append(
            f"reference least squares: RMSE {ref['rmse']:.4f}   MAE {ref['mae']:.4f}   "
            f"coverage {ref['coverage_90']:.3f}"
        )
        lines.append(f"RMSE reduction vs reference: {payload['rmse_reduction']:.1%}")
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
