"""Options and argument parsing shared by the ``rosetta`` sub-commands, and how they print."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import click

from rosetta.constants import (
    DEFAULT_CHAINS,
    DEFAULT_DRAWS,
    DEFAULT_FAMILY_EFFECTS,
    DEFAULT_MIN_MODELS,
    DEFAULT_SEED,
    DEFAULT_TARGET_ACCEPT,
    DEFAULT_TUNE,
    DUPLICATE_POLICIES,
    FACTOR_DRAWS,
    FACTOR_TUNE,
    FLOOR_MODES,
    FOLD_DRAWS,
    ITEM_APPROX_DRAWS,
    LIKELIHOODS,
    METHODS,
    SAMPLERS,
)


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


#: The layout of a ``--scores`` table of new models or new benchmarks.
SCORES_LAYOUT = click.option(
    "--layout",
    type=click.Choice(["auto", "long", "wide"]),
    default="auto",
    show_default=True,
    help="Table layout of --scores.",
)


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
            help=f"Posterior draws per chain [default: {DEFAULT_DRAWS}, {FACTOR_DRAWS} with "
            f"dimensions or domains; approximate item-level fits: {ITEM_APPROX_DRAWS} in all; "
            f"validate: at most {FOLD_DRAWS}] (fit: see --min-ess; validate: a fold stops "
            "sooner once its held-out predictions converge).",
        ),
        click.option(
            "--tune",
            type=click.IntRange(min=0),
            default=None,
            help=f"Tuning steps per chain [default: {DEFAULT_TUNE}; with --dimensions or "
            f"--domains {FACTOR_TUNE}].",
        ),
        click.option(
            "--target-accept",
            type=click.FloatRange(0.5, 1.0, max_open=True),
            default=DEFAULT_TARGET_ACCEPT,
            show_default=True,
            help="NUTS acceptance target: higher takes smaller steps, for divergent transitions.",
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
            "--dimensions",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help="Learned dimensions beyond the general capability (exploratory "
            "multidimensional IRT); 0: the one-number model.",
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


def spec_and_fit_kwargs(kwargs: dict, table):
    """Pop the model and sampler options: the `MeasurementSpec` and the `rosetta.fit` keywords."""
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
        dimensions=kwargs.pop("dimensions"),
    )
    fit_kwargs = {
        name: kwargs.pop(name)
        for name in ("draws", "tune", "target_accept", "chains", "sampler", "method")
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


def load_item_table(kwargs: dict, aggregate: str | None):
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


def pairs(texts: Sequence[str], option: str) -> list[tuple[str, str]]:
    """Split ``NAME=VALUE`` option values at their last ``=``."""
    pairs = []
    for text in texts:
        name, sep, value = text.rpartition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint=option)
        pairs.append((name.strip(), value.strip()))
    return pairs


def number(text: str, option: str) -> float:
    """An option's value as a float, or a usage error naming the option."""
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(f"not a number: {text!r}", param_hint=option) from None
