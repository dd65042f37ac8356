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
from rosetta.errors import RosettaError

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
    compute = summary["models_with_compute"]
    by_source = ", ".join(f"{n} {source}" for source, n in compute.items())
    lines = [
        f"source       {summary['source']}",
        f"scores       {summary['n_scores']}",
        f"models       {summary['n_models']} ({summary['models_with_date']} with a release "
        f"date, {sum(compute.values())} with training compute"
        + (f": {by_source})" if by_source else ")"),
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
    import warnings

    start = time.perf_counter()
    if aggregate and not item_level:
        raise click.UsageError("--scores goes with --item-level (SCORES is then the items)")
    data = _load_items(kwargs, aggregate) if item_level else load_table(kwargs)
    table = data.table if item_level else data
    spec, fit_kwargs = _spec_and_fit_kwargs(kwargs, table, item_level)
    from rosetta.errors import ConvergenceWarning
    from rosetta.io import save_fit, write_csv
    from rosetta.model import fit
    from rosetta.summary import benchmark_table, capability_table, domain_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        idata = fit(data, spec, progress=not (quiet or as_json), **fit_kwargs)
    save_fit(idata, out)
    capabilities, benchmarks = capability_table(idata), benchmark_table(idata)
    if tables:
        write_csv(capabilities.reset_index(), Path(tables) / "capabilities.csv")
        write_csv(benchmarks.reset_index(), Path(tables) / "benchmarks.csv")
        if spec.domains:
            write_csv(domain_table(idata).reset_index(), Path(tables) / "domains.csv")
    attrs = idata.posterior.attrs
    diagnostics = json.loads(attrs["diagnostics"])
    payload = {
        "n_models": attrs["n_models"],
        "n_benchmarks": attrs["n_benchmarks"],
        "n_scores": attrs["n_scores"],
        **(
            {"n_responses": attrs["n_responses"], "n_items": attrs["n_items"]} if item_level else {}
        ),
        "wall_seconds": round(time.perf_counter() - start, 2),
        "fit_seconds": attrs["wall_seconds"],
        "method": attrs["method"],
        "sampler": attrs["sampler"],
        "max_rhat": diagnostics["max_rhat"],
        "min_ess_bulk": diagnostics["min_ess_bulk"],
        "min_ess_tail": diagnostics["min_ess_tail"],
        "divergences": diagnostics["divergences"],
        # A mode + Laplace or ADVI fit is an approximation: it makes no convergence claim.
        "converged": diagnostics["ok"] if attrs["method"] == "nuts" else None,
        "problems": diagnostics["problems"],
        "scale": json.loads(attrs["scale"]),
        "likelihood": attrs["likelihood"],
        "floors": attrs["floors"],
        "family_effects": spec.family_effects,
        "domains": sorted({d for _, d in spec.domains}),
        "out": str(out),
        "top_models": capabilities.head(top)["mean"].round(3).to_dict(),
    }
    for warning in caught:
        if not as_json:
            click.echo(f"warning: {warning.message}", err=True)
    emit(payload, as_json, lambda p: _fit_text(p, capabilities.head(top), benchmarks))


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


def _verdict(payload: dict) -> str:
    if payload["converged"] is None:
        return (
            f"approximate ({payload['method']}): draws of the approximation, no convergence "
            "claim; use --method nuts for a converged posterior"
        )
    return "ok" if payload["converged"] else "NOT converged: " + "; ".join(payload["problems"])


def _fit_text(payload: dict, capabilities, benchmarks) -> str:
    rhat = payload["max_rhat"]
    responses = (
        f" ({payload['n_responses']} responses to {payload['n_items']} items)"
        if "n_responses" in payload
        else ""
    )
    lines = [
        f"fitted {payload['n_scores']} scores{responses}: {payload['n_models']} models x "
        f"{payload['n_benchmarks']} benchmarks in {payload['wall_seconds']:.1f} s "
        f"({payload['method']}, {payload['sampler']})",
        f"scale: {payload['scale']['description']}",
        *(
            [f"bifactor domains: {', '.join(payload['domains'])} (profiles: --tables)"]
            if payload["domains"]
            else []
        ),
        "diagnostics: max R-hat "
        + (f"{rhat:.4f}" if rhat is not None else "n/a")
        + f", min bulk ESS {payload['min_ess_bulk']:.0f}, min tail ESS "
        f"{payload['min_ess_tail']:.0f}, divergences {payload['divergences']} -> "
        + _verdict(payload),
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
    """K-fold cross-validation: RMSE, MAE and 90% interval coverage of held-out scores."""
    from dataclasses import replace

    from rosetta.io import write_csv
    from rosetta.validate import cross_validate

    table = load_table(kwargs)
    spec, fit_kwargs = _spec_and_fit_kwargs(kwargs, table)
    seed = fit_kwargs.pop("random_seed")
    result = cross_validate(
        table, spec, folds=folds, random_seed=seed, progress=False, **fit_kwargs
    )
    if predictions:
        write_csv(result["predictions"], predictions)
    payload = {k: v for k, v in result.items() if k != "predictions"}
    payload.update(
        likelihood=spec.likelihood,
        floors=spec.floors,
        family_effects=spec.family_effects,
        domains=sorted({d for _, d in spec.domains}),
    )
    others = {}
    if compare_reference:
        others["reference"] = replace(
            spec, likelihood="normal", floors="zero", priors={}, domains=(), family_effects=False
        )
    if compare_one_number:
        if not spec.domains:
            raise click.UsageError("--compare-one-number needs --domains")
        others["one_number"] = replace(spec, domains=())
    for name, other in others.items():
        result_other = cross_validate(
            table, other, folds=folds, random_seed=seed, progress=False, **fit_kwargs
        )
        keys = ("rmse", "mae", "coverage_90", "n_heldout")
        payload[name] = {k: result_other[k] for k in keys}
        reduction = round(1 - result["rmse"] / result_other["rmse"], 4)
        key = "rmse_reduction" if name == "reference" else f"rmse_reduction_vs_{name}"
        payload[key] = reduction
    emit(payload, as_json, _validate_text)


def _validate_text(payload: dict) -> str:
    lines = [
        f"{payload['folds']}-fold cross-validation, {payload['n_heldout']} held-out scores "
        f"({payload['likelihood']} likelihood, {payload['floors']} floors"
        + (", family effects" if payload["family_effects"] else "")
        + (f", domains {', '.join(payload['domains'])}" if payload["domains"] else "")
        + ")",
        f"  RMSE {payload['rmse']:.4f}   MAE {payload['mae']:.4f}   "
        f"90% interval coverage {payload['coverage_90']:.3f}",
    ]
    for key, label, reduction in (
        ("reference", "reference least squares", "rmse_reduction"),
        ("one_number", "one-number model", "rmse_reduction_vs_one_number"),
    ):
        if key in payload:
            other = payload[key]
            lines.append(
                f"{label}: RMSE {other['rmse']:.4f}   MAE {other['mae']:.4f}   "
                f"coverage {other['coverage_90']:.3f}"
            )
            lines.append(f"RMSE reduction vs {label}: {payload[reduction]:.1%}")
    return "\n".join(lines)


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
    from rosetta.query import capability_at as capability_query
    from rosetta.query import query, query_table
    from rosetta.query import score_at as score_query

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
    inverse = {
        "score_at": [
            score_query(draws, bench, _number(value, "--score-at"))
            for bench, value in _pairs(score_at, "--score-at")
        ],
        "capability_at": [
            capability_query(draws, bench, value)
            for bench, value in _pairs(capability_at, "--capability-at")
        ],
    }
    inverse = {k: v for k, v in inverse.items() if v}
    if not results and not inverse:
        raise click.UsageError(
            "nothing to query: give --score, --scores, --score-at or --capability-at"
        )
    payload = results[0].to_dict() if len(results) == 1 else {}
    if len(results) > 1:
        payload["models"] = [r.to_dict() for r in results]
    payload.update(inverse)
    emit(payload, as_json, _query_text)


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(f"not a number: {text!r}", param_hint=option) from None


def _query_text(payload: dict) -> str:
    lines = []
    for result in payload.get("models", [payload] if "capability" in payload else []):
        cap, rank = result["capability"], result["rank"]
        pct = result["percentile_interval"]
        lines += [
            f"{result['model']}: capability {cap['mean']:.3f} (sd {cap['sd']:.3f}; "
            f"{result['ci_prob']:.0%} interval {cap['lo']:.3f} to {cap['hi']:.3f})",
            f"  scale        {result['scale']}",
            f"  rank         {rank['median']:.0f} of {result['n_fitted_models']} fitted models "
            f"(interval {rank['lo']:.0f} to {rank['hi']:.0f})",
            f"  percentile   {result['percentile']:.1f} (interval {pct['lo']:.1f} to "
            f"{pct['hi']:.1f})",
        ]
        lines += [f"  P(above {m}) = {p:.3f}" for m, p in result["p_above"].items()]
        lines += [f"  note: {n}" for n in result["notes"]]
        lines += ["  predicted scores (expected score lo-hi; a new evaluation score_lo-score_hi)"]
        for bench, row in result["predictions"].items():
            seen = f"  observed {row['observed']:.3f}" if "observed" in row else ""
            lines.append(
                f"    {bench:<40} {row['mean']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]  "
                f"new [{row['score_lo']:.3f}, {row['score_hi']:.3f}]{seen}"
            )
        lines.append("")
    for row in payload.get("score_at", []):
        lines.append(
            f"score on {row['benchmark']} at capability {row['capability']:g}: {row['mean']:.3f} "
            f"[{row['lo']:.3f}, {row['hi']:.3f}]"
        )
    for row in payload.get("capability_at", []):
        lines.append(
            f"capability for a score of {row['score']:g} on {row['benchmark']}: "
            f"{row['mean']:.3f} [{row['lo']:.3f}, {row['hi']:.3f}]"
        )
    return "\n".join(lines).rstrip()


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
    from rosetta.domains import domain_names
    from rosetta.io import load_fit
    from rosetta.trend import backtest, domain_trends, trend

    fit = load_fit(posterior)
    result = trend(fit, since=since, horizon_years=horizon, random_seed=seed, domain=domain)
    if backtest_cutoff:
        result.backtest = backtest(fit, backtest_cutoff, since=since, random_seed=seed)
    if plot:
        from rosetta.plots import plot_trend

        plot_trend(result, path=plot)
    payload = result.to_dict()
    payload["domain"] = domain
    if domain_names(fit.posterior):
        payload["domains"] = domain_trends(fit, since=since, random_seed=seed)
    emit(payload, as_json, _trend_text)


def _trend_text(payload: dict) -> str:
    def interval(d):
        return f"{d['median']:.3f} per year (90% interval {d['lo']:.3f} to {d['hi']:.3f})"

    lines = [
        f"{payload['n_models']} models with a release date ({payload['scale']}); excluded: "
        + (", ".join(f"{n} {why}" for why, n in payload["excluded"].items()) or "none"),
        f"frontier growth    {interval(payload['frontier_growth_per_year'])}",
        f"all-models growth  {interval(payload['all_models_growth_per_year'])}",
        "frontier (P >= 0.5, by release date): " + ", ".join(payload["frontier"]),
        "forecast of a new frontier model (median [90% predictive interval]):",
    ]
    lines += [
        f"  {row['date']}  {row['median']:.2f} [{row['lo']:.2f}, {row['hi']:.2f}]"
        for row in payload["forecast"]
    ]
    if "backtest" in payload:
        bt = payload["backtest"]
        lines.append(
            f"back-test from {bt['cutoff']}: {bt['n_test']} later frontier models, MAE "
            f"{bt['mae']:.3f}, bias {bt['bias']:+.3f}, {bt['ci_prob']:.0%} interval coverage "
            f"{bt['coverage']:.2f}"
        )
    if payload.get("domain"):
        lines.insert(0, f"capability in domain {payload['domain']}")
    for name, row in payload.get("domains", {}).items():
        lines.append(
            f"domain {name} ({row['n_models']} models): all-models growth "
            f"{interval(row['all_models_growth_per_year'])}; gain over general "
            f"{interval(row['deviation_growth_per_year'])}, "
            f"P(faster than general) {row['p_faster_than_general']:.2f}"
        )
    lines += [f"note: {n}" for n in payload["notes"]]
    return "\n".join(lines)


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
    from rosetta.io import load_fit
    from rosetta.progress import progress

    fit = load_fit(posterior)
    result = progress(
        fit,
        method=method,
        include_distilled=include_distilled,
        since=since,
        sensitivity=not no_sensitivity,
        random_seed=seed,
    )
    if plot:
        from rosetta.plots import plot_progress

        plot_progress(result, fit, path=plot)
    emit(result.to_dict(), as_json, _progress_text)


def _progress_text(payload: dict) -> str:
    def interval(d, unit=""):
        if d["median"] is None:
            return "n/a"
        hi = "unbounded" if d["hi"] is None else f"{d['hi']:.3g}{unit}"
        share = f"{payload['ci_prob']:.0%}"
        return f"{d['median']:.3g}{unit} ({share} interval {d['lo']:.3g}{unit} to {hi})"

    sources = ", ".join(f"{n} {s}" for s, n in payload["models_by_compute_source"].items())
    direct = payload["direct"]
    lines = [
        f"method: {payload['method']}; {payload['n_models']} models with a release date and "
        f"training compute ({sources}; distilled "
        f"{'included' if payload['include_distilled'] else 'excluded'}); excluded: "
        + ", ".join(f"{n} {why}" for why, n in payload["excluded"].items() if n),
        f"k (capability per 10x compute)   {interval(payload['k'])}",
        f"g (growth per year, fixed compute) {interval(payload['b_growth_per_year'])}",
        f"efficiency gain per year         {interval(payload['efficiency_gain_per_year'], 'x')}",
        f"compute halving time             {interval(payload['halving_time_months'], ' months')}",
        f"k by family ({payload['n_families_informing_k']} families with several sizes):",
    ]
    lines += [
        f"  {family:<24} {interval(payload['k_by_family'][family])}  " + ", ".join(members)
        for family, members in payload["families_informing_k"].items()
    ]
    lines += [
        "direct observations (no regression on compute):",
        "  compute reduction per year at fixed capability  "
        + interval(direct["compute_reduction_per_year"], "x"),
        "  capability gain per year at fixed compute       "
        + interval(direct["capability_gain_per_year"])
        + "  = "
        + interval(direct["compute_equivalent_gain_per_year"], "x")
        + " compute-equivalent",
        "sensitivity (median gain per year [interval], median halving time):",
    ]
    for row in payload["variants"]:
        halving = row["halving_months_median"]
        lines.append(
            f"  {row['method']:<9} distilled {row['distilled']:<9} {row['population']:<8} "
            f"n={row['n_models']:<4} k {row['k_median']:.2f}  gain {row['gain_median']:.2f}x "
            f"[{row['gain_lo']:.2f}, {row['gain_hi']:.2f}]  halving "
            + ("n/a" if halving is None else f"{halving:.1f} months")
        )
    diagnostics = payload["diagnostics"]
    if diagnostics:
        lines.append(
            f"regression sampler: max R-hat {diagnostics['max_rhat']:.3f}, min ESS "
            f"{diagnostics['min_ess']:.0f}, {diagnostics['divergences']} divergences"
        )
    lines += [f"note: {n}" for n in payload["notes"]]
    return "\n".join(lines)


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
    from rosetta.acceleration import DEFAULT_RULE, Rule, acceleration, watch
    from rosetta.io import load_fit

    fit = load_fit(posterior)
    summary = _calibration_summary(calibration) if calibration else None
    rule = DEFAULT_RULE if summary is None else Rule(**summary["rule"])
    result = acceleration(fit, population=population, until=until, rule=rule, random_seed=seed)
    payload = result.to_dict()
    if watch_from:
        payload["sequential"] = watch(fit, watch_from, population=population, rule=rule, seed=seed)
    if report_dir:
        from rosetta.report import write_acceleration_report

        payload["report"] = str(write_acceleration_report(result, report_dir, calibration=summary))
    emit(payload, as_json, _accelerate_text)


def _calibration_summary(folder: str) -> dict:
    from rosetta.acceleration.calibration import summarise_folder

    return summarise_folder(folder)


def _accelerate_text(payload: dict) -> str:
    def interval(d, fmt="{:.3g}"):
        if d["median"] is None:
            return "n/a"
        return f"{fmt.format(d['median'])} (90% interval {fmt.format(d['lo'])} to " + (
            f"{fmt.format(d['hi'])})"
        )

    rule = payload["rule"]
    bp = payload["breakpoint"]
    lines = [
        f"hinge fitted to {_population(payload['population'])} ({payload['n_points']:.0f} "
        "models per draw on average)",
        f"breakpoint       {bp['median']} (90% interval {bp['lo']} to {bp['hi']})",
        f"slope before     {interval(payload['slope_before'])} per year",
        f"slope after      {interval(payload['slope_after'])} per year",
        f"slope ratio      {interval(payload['slope_ratio'])}",
        "P(ratio > r)     "
        + ", ".join(f"r={r}: {p:.3f}" for r, p in payload["p_ratio_above"].items()),
        f"P(hinge) vs one line: {payload['p_hinge']:.3f}",
        f"rule: P(ratio > {rule['ratio']:g}) >= {rule['threshold']:.4g} on "
        f"{_population(rule['population'])} ({rule['source']})",
        f"verdict: acceleration {'DETECTED' if payload['detected'] else 'not detected'}",
    ]
    if "sequential" in payload:
        first = payload["sequential"]["first_detection"]
        lines.append(f"watching month by month: first firing {first or 'never'}")
    if "report" in payload:
        lines.append(f"report: {payload['report']}")
    lines += [f"note: {n}" for n in payload["notes"]]
    return "\n".join(lines)


def _population(name: str) -> str:
    return "the frontier" if name == "frontier" else "all models"


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
    emit(summarise_folder(out), as_json, _calibrate_text)


def _calibrate_text(payload: dict) -> str:
    rule = payload["rule"]
    far = payload["false_alarm"]
    lines = [
        f"rule: P(ratio > {rule['ratio']:g}) >= {rule['threshold']:.4g} on "
        f"{_population(rule['population'])} ({rule['source']})",
        f"false-alarm rate {far['rate']:.3f} ({far['k']}/{far['n']} null worlds; 90% interval "
        f"{far['lo']:.3f} to {far['hi']:.3f})",
        "factor  worlds  median delay (months) [90% interval]  never  power within 12 months",
    ]
    for factor, delay in payload["detection_delay_months"].items():
        power = payload["power_12_months_interval"][factor]

        def fmt(v):
            return "inf" if v is None else f"{v:g}"

        lines.append(
            f"{factor:>6}  {delay['n']:>6}  {fmt(delay['median']):>6} [{fmt(delay['lo'])}, "
            f"{fmt(delay['hi'])}]{'':>14}{delay['never_detected']:>5}  {power['rate']:.2f} "
            f"[{power['lo']:.2f}, {power['hi']:.2f}]"
        )
    return "\n".join(lines)


@cli.command("compare")
@click.argument("posteriors", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def compare_command(posteriors, as_json) -> None:
    """Compare fits of the same scores by PSIS-LOO (e.g. --domains metadata against none).

    Fits are named by their file names; the best comes first.
    """
    from rosetta.compare import capability_spearman, compare_fits
    from rosetta.io import load_fit

    if len(posteriors) < 2:
        raise click.UsageError("give at least two posteriors to compare")
    names = [Path(p).stem for p in posteriors]
    if len(set(names)) < len(names):
        names = [str(p) for p in posteriors]
    fits = {name: load_fit(p) for name, p in zip(names, posteriors, strict=True)}
    table = compare_fits(fits)
    spearman = capability_spearman(fits)
    columns = ["elpd_loo", "se", "elpd_diff", "dse", "p_loo", "weight", "n_high_pareto_k"]
    payload = {
        "ic": "loo",
        "fits": {
            str(name): {
                **{c: (int if c == "n_high_pareto_k" else float)(row[c]) for c in columns},
                "capability_spearman": spearman[name],
            }
            for name, row in table.iterrows()
        },
        "best": str(table.index[0]),
    }
    emit(payload, as_json, _compare_text)


def _compare_text(payload: dict) -> str:
    import pandas as pd

    frame = pd.DataFrame.from_dict(payload["fits"], orient="index")
    return (
        "PSIS-LOO comparison (elpd: higher is better; elpd_diff and dse against the best)\n"
        + frame.round(3).to_string()
        + "\nn_high_pareto_k counts scores with Pareto k > 0.7, whose LOO term is unreliable: "
        "models seen on few benchmarks make each of their scores influential."
    )


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
    emit(
        payload,
        as_json,
        lambda p: (
            f"wrote {p['rows']} {p['kind']} ({p['models']} models x {p['benchmarks']} "
            f"benchmarks, {p['pairs']} pairs evaluated) to {p['out']}"
            + (f"; truth in {p['truth']}" if p["truth"] else "")
        ),
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
