"""K-fold cross-validation of the measurement model over observed scores."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rosetta.constants import (
    CI_PROB,
    DEFAULT_CHAINS,
    DEFAULT_SEED,
    DEFAULT_TARGET_ACCEPT,
    ESS_MIN,
    FOLD_DRAWS,
    RHAT_MAX,
)
from rosetta.data import ScoreTable, find_components
from rosetta.diagnostics import meets, variable_diagnostic
from rosetta.errors import RosettaError
from rosetta.executors import executor
from rosetta.intervals import bounds, label
from rosetta.prediction import expected_score, predictive_scores
from rosetta.results import Result

log = logging.getLogger("rosetta")


def assign_folds(table: ScoreTable, folds: int, random_seed: int = DEFAULT_SEED) -> np.ndarray:
    """Assign each score to a fold so that every held-out score stays predictable.

    A score is held out in fold k only if its model and its benchmark keep at least one other
    score in the training part of fold k, and the training part stays connected; scores that
    cannot be held out get fold ``-1`` (always trained on).

    Parameters
    ----------
    table
        The score table.
    folds
        Number of folds (at least 2).
    random_seed
        The same seed gives the same folds, so two specifications can be compared fairly.

    Returns
    -------
    numpy.ndarray
        Fold index per row of ``table.scores``.
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    scores = table.scores
    rng = np.random.default_rng(random_seed)
    model = scores["model"].to_numpy()
    bench = scores["benchmark"].to_numpy()
    totals_m = pd.Series(model).value_counts().to_dict()
    totals_b = pd.Series(bench).value_counts().to_dict()
    held_m: dict = {}
    held_b: dict = {}
    fold = np.full(len(scores), -1)
    for i in rng.permutation(len(scores)):
        for k in rng.permutation(folds):
            if (
                held_m.get((model[i], k), 0) + 1 < totals_m[model[i]]
                and held_b.get((bench[i], k), 0) + 1 < totals_b[bench[i]]
            ):
                fold[i] = k
                held_m[(model[i], k)] = held_m.get((model[i], k), 0) + 1
                held_b[(bench[i], k)] = held_b.get((bench[i], k), 0) + 1
                break
    for k in range(folds):  # give back held-out scores until the training graph is connected
        for i in rng.permutation(np.flatnonzero(fold == k)):
            if len(find_components(scores[fold != k])) == 1:
                break
            fold[i] = -1
    return fold


#: Other specifications `cross_validate` can validate on the same folds, by name.
BASELINES = ("reference", "one_number")

#: What a SPEC of `spec_variant` may set, and how its text is read.
_VARIANT_OPTIONS = {
    "dimensions": int,
    "floors": str,
    "likelihood": str,
    "family_effects": lambda text: {"true": True, "false": False}[text.lower()],
    "domains": str,
}


def spec_variant(spec, text: str, benchmarks):
    """``spec`` with the options of ``text`` changed: ``"dimensions=2,floors=learned"``.

    Options: ``dimensions`` (an integer), ``floors``, ``likelihood``, ``family_effects``
    (``true``/``false``) and ``domains`` (``none``, ``metadata`` or a CSV file, resolved on
    ``benchmarks``). ``"base"`` is ``spec`` itself.

    Raises
    ------
    ValueError
        An unknown option, a missing ``=`` or a value the option does not take.
    """
    from rosetta.domains import domain_map

    changes = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part == "base":
            continue
        key, sep, value = (t.strip() for t in part.partition("="))
        if not sep or key not in _VARIANT_OPTIONS:
            raise ValueError(
                f"cannot read spec {text!r} at {part!r}: expected KEY=VALUE with KEY one of "
                f"{', '.join(_VARIANT_OPTIONS)}"
            )
        try:
            changes[key] = _VARIANT_OPTIONS[key](value)
        except (ValueError, KeyError):
            raise ValueError(f"spec {text!r}: {key} cannot be {value!r}") from None
    try:
        if "domains" in changes:
            changes["domains"] = tuple(domain_map(changes["domains"], benchmarks).items())
        return replace(spec, priors=dict(spec.priors), **changes)
    except (ValueError, RosettaError) as err:
        raise ValueError(f"spec {text!r}: {err}") from None


def compare_specs(results: dict[str, ValidationResult]) -> pd.DataFrame:
    """Specs validated on the same folds, side by side, and the one the one-SE rule picks.

    Per spec (in the order given, simplest first): ``rmse``, ``coverage``, ``mse_gap`` (its
    held-out mean squared error minus the best spec's) and ``gap_se`` (the standard error of
    that gap, from the paired squared errors of the same held-out scores), and ``chosen``: the
    first spec whose gap is within one standard error of the best. A richer spec must beat the
    simpler ones by more than the noise of the comparison to be chosen.
    """
    labels = list(results)
    squared = {
        name: ((r.predictions["predicted"] - r.predictions["score"]) ** 2).to_numpy()
        for name, r in results.items()
    }
    sizes = {len(v) for v in squared.values()}
    if len(sizes) != 1:
        raise ValueError("specs must be validated on the same folds to be compared")
    best = min(labels, key=lambda name: squared[name].mean())
    rows = []
    for name in labels:
        gap = squared[name] - squared[best]
        rows.append(
            {
                "spec": name,
                "rmse": results[name].rmse,
                "coverage": results[name].coverage,
                "mse_gap": float(gap.mean()),
                "gap_se": float(gap.std(ddof=1) / np.sqrt(len(gap))) if len(gap) > 1 else 0.0,
            }
        )
    table = pd.DataFrame(rows).set_index("spec")
    within = table["mse_gap"] <= table["gap_se"]
    table["chosen"] = False
    table.loc[within.idxmax(), "chosen"] = True
    return table


def baseline_spec(spec, name: str):
    """The specification of a baseline, by name.

    ``"reference"`` is the least-squares sigmoid of Ho et al. (normal likelihood, zero floors,
    no domains or family effects); ``"one_number"`` is ``spec`` without its domains.
    """
    if name == "reference":
        return replace(
            spec, likelihood="normal", floors="zero", priors={}, domains=(), family_effects=False
        )
    if name == "one_number":
        if not spec.domains:
            raise ValueError("the one-number baseline needs a specification with domains")
        return replace(spec, domains=())
    raise ValueError(f"baseline must be one of {BASELINES}, got {name!r}")


@dataclass
class ValidationResult(Result):
    """Held-out predictions of a cross-validation (see `cross_validate`).

    ``predictions`` has one row per held-out score: ``fold``, ``model``, ``benchmark``,
    ``score``, ``predicted`` (posterior mean), ``lo``, ``hi`` (predictive interval).
    ``baselines`` holds the same validation of other specifications on the same folds, and
    ``diagnostics`` the convergence of each fold's fit: for NUTS that of what the fold is used
    for, its held-out scores' expected values (``fold``, ``draws`` per chain, ``max_rhat``,
    ``min_ess_bulk``, ``min_ess_tail``, ``divergences``; ``ok``: R-hat at most `RHAT_MAX`,
    both ESS at least `ESS_MIN` for every held-out score, and no divergence).
    ``method`` is the fits' (``nuts``, or an approximation, whose folds claim no convergence).
    """

    predictions: pd.DataFrame
    folds: int
    spec: object
    ci_prob: float = CI_PROB
    baselines: dict[str, ValidationResult] = field(default_factory=dict)
    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "nuts"

    @property
    def rmse(self) -> float:
        """Root mean squared error of the posterior-mean predictions."""
        error = self.predictions["predicted"] - self.predictions["score"]
        return float(np.sqrt((error**2).mean()))

    @property
    def mae(self) -> float:
        """Mean absolute error of the posterior-mean predictions."""
        return float((self.predictions["predicted"] - self.predictions["score"]).abs().mean())

    @property
    def coverage(self) -> float:
        """Share of held-out scores inside their predictive interval."""
        rows = self.predictions
        return float(rows["score"].between(rows["lo"], rows["hi"]).mean())

    def per_fold(self) -> pd.DataFrame:
        """Per fold: ``n``, ``coverage``, ``rmse`` and the fit's convergence figures."""
        rows = self.predictions
        errors = (
            rows.assign(
                sq=(rows["predicted"] - rows["score"]) ** 2,
                covered=rows["score"].between(rows["lo"], rows["hi"]),
            )
            .groupby("fold")
            .agg(n=("score", "size"), mse=("sq", "mean"), coverage=("covered", "mean"))
            .assign(rmse=lambda f: np.sqrt(f["mse"]))
            .drop(columns="mse")
            .reset_index()
        )
        if self.diagnostics.empty:
            return errors
        return errors.merge(self.diagnostics, on="fold", how="left")

    def to_dict(self) -> dict:
        """Errors, coverage, folds and specification, and each baseline's figures.

        The RMSE reduction against a baseline is ``rmse_reduction`` for the reference and
        ``rmse_reduction_vs_<name>`` for the others.
        """
        spec = self.spec
        out = {
            "rmse": self.rmse,
            "mae": self.mae,
            "coverage": self.coverage,
            "ci_prob": self.ci_prob,
            "n_heldout": len(self.predictions),
            "folds": self.folds,
            "method": self.method,
            "per_fold": self.per_fold().round(4).to_dict(orient="records"),
            "likelihood": spec.likelihood,
            "floors": spec.floors,
            "family_effects": spec.family_effects,
            "domains": sorted({d for _, d in spec.domains}),
            "dimensions": spec.dimensions,
        }
        for name, other in self.baselines.items():
            out[name] = {
                "rmse": other.rmse,
                "mae": other.mae,
                "coverage": other.coverage,
                "n_heldout": len(other.predictions),
            }
            key = "rmse_reduction" if name == "reference" else f"rmse_reduction_vs_{name}"
            out[key] = round(1 - self.rmse / other.rmse, 4)
        if any(name not in BASELINES for name in self.baselines):
            out["comparison"] = self.comparison().reset_index().to_dict(orient="records")
        return out

    def summary(self) -> str:
        """Errors and coverage, and each baseline's with the RMSE reduction against it."""
        d = self.to_dict()
        lines = [
            f"{self.folds}-fold cross-validation, {d['n_heldout']} held-out scores "
            f"({d['likelihood']} likelihood, {d['floors']} floors"
            + (", family effects" if d["family_effects"] else "")
            + (f", domains {', '.join(d['domains'])}" if d["domains"] else "")
            + (f", {d['dimensions']} learned dimensions" if d["dimensions"] else "")
            + ")",
            f"  RMSE {self.rmse:.4f}   MAE {self.mae:.4f}   "
            f"{label(self.ci_prob)} interval coverage {self.coverage:.3f}",
        ]
        if self.method != "nuts":
            lines.append(
                f"  fold fits: {len(self.diagnostics)} {self.method} approximations (not a "
                "posterior sample: no convergence to check)"
            )
        elif not self.diagnostics.empty:
            fits = self.diagnostics
            lines.append(
                f"  fold fits converged: {int(fits['ok'].sum())}/{len(fits)} (held-out "
                f"predictions: worst R-hat {fits['max_rhat'].max():.3f}, lowest bulk ESS "
                f"{fits['min_ess_bulk'].min():.0f}; {int(fits['divergences'].sum())} divergences; "
                f"{fits['draws'].median():.0f} draws per chain, median)"
            )
        names = {"reference": "reference least squares", "one_number": "one-number model"}
        for name, other in self.baselines.items():
            title = names.get(name, f"spec {name}")
            lines.append(
                f"{title}: RMSE {other.rmse:.4f}   MAE {other.mae:.4f}   "
                f"coverage {other.coverage:.3f}"
            )
            lines.append(f"RMSE reduction vs {title}: {1 - self.rmse / other.rmse:.1%}")
        compared = [name for name in self.baselines if name not in names]
        if compared:
            table = self.comparison()
            lines += ["", "specs on the same folds (one-SE rule: simplest within 1 SE of best)"]
            lines.append(table.to_string(float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def comparison(self) -> pd.DataFrame:
        """The validated spec (``base``) and every compared one, ranked by `compare_specs`."""
        compared = {k: v for k, v in self.baselines.items() if k not in BASELINES}
        return compare_specs({"base": self, **compared})

    def plot_data(self) -> pd.DataFrame:
        """The held-out predictions (one row per held-out score)."""
        return self.predictions

    def plot(self, *, path: str | Path | None = None):
        """Held-out scores against their predictions and intervals."""
        from rosetta.plots import plot_validation

        return plot_validation(self, path=path)


def cross_validate(
    table: ScoreTable,
    spec=None,
    *,
    folds: int = 10,
    random_seed: int = DEFAULT_SEED,
    ci_prob: float = CI_PROB,
    baselines: Iterable[str] = (),
    compare: dict | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_fold: Callable[[int, dict], None] | None = None,
    **fit_options,
) -> ValidationResult:
    """Fit on K-1 folds, predict the held-out scores, and score the predictions.

    Parameters
    ----------
    table
        The score table.
    spec
        `MeasurementSpec` of the model to validate.
    folds, random_seed
        Fold count and seed (fold assignment and fits).
    ci_prob
        Mass of the predictive interval whose coverage is reported.
    baselines
        Names of `BASELINES` also validated on the same folds, for comparison.
    compare
        Other specifications by label (see `spec_variant`), validated on the same folds too;
        `ValidationResult.comparison` ranks them with ``spec``.
    workers
        NUTS folds sampled at once (each on ``chains`` cores); by default as many as the cores
        allow. The answer does not depend on it.
    scheduler
        Address of a Dask scheduler: each fold is then fitted on its training scores alone, as
        one task of the cluster.
    on_fold
        Called with each fold's number and convergence summary as its fit is done (in fold
        order, the spec's folds before the baselines'); an exception it raises stops the
        validation (`rosetta.selection.choose_spec` gives up on a spec that way).
    **fit_options
        Passed to `rosetta.fit` (draws, tune, chains, method, sampler, ...).

    Returns
    -------
    ValidationResult
    """
    from rosetta.model import MeasurementSpec

    spec = spec or MeasurementSpec()
    others = {name: baseline_spec(spec, name) for name in baselines}
    others.update(compare or {})
    fold = assign_folds(table, folds, random_seed)
    options = {**fit_options, "workers": workers, "scheduler": scheduler, "on_fold": on_fold}
    result = _validate(table, spec, fold, folds, random_seed, ci_prob, options)
    for name, other in others.items():
        log.info("validating %s", name)
        result.baselines[name] = _validate(table, other, fold, folds, random_seed, ci_prob, options)
    return result


def _validate(table, spec, fold, folds, random_seed, ci_prob, fit_options) -> ValidationResult:
    nuts = (fit_options.get("method") or "nuts") == "nuts"
    on_fold = fit_options.get("on_fold") or (lambda k, diagnostics: None)
    rows, checks = [], []
    for k, posterior, diagnostics in _fold_fits(table, spec, fold, folds, random_seed, fit_options):
        test = table.scores[fold == k]
        models, benchmarks = test["model"].tolist(), test["benchmark"].tolist()
        expected = expected_score(posterior, models, benchmarks)
        draws = predictive_scores(
            posterior,
            models,
            benchmarks,
            likelihood=spec.likelihood,
            n_items=test["n_items"].to_numpy(dtype=float, na_value=np.nan),
            random_seed=random_seed + k,
        )
        rows.append(_fold_predictions(k, test, expected, draws, ci_prob))
        if nuts:
            check = _prediction_diagnostics(expected, diagnostics["divergences"])
        else:
            check = {key: diagnostics.get(key) for key in _APPROXIMATE_CHECKS} | {"ok": None}
        _log_fold(k, folds, fold, check)
        on_fold(k, {**check, "n_draws": posterior.sizes["chain"] * posterior.sizes["draw"]})
        checks.append({"fold": k, **check})
    predictions = pd.concat(rows, ignore_index=True)
    return ValidationResult(
        predictions,
        folds,
        spec,
        ci_prob,
        diagnostics=pd.DataFrame(checks),
        method=fit_options.get("method") or "nuts",
    )


def _fold_predictions(k, test, expected, draws, ci_prob) -> pd.DataFrame:
    """One row per held-out score of fold ``k``: mean prediction and predictive interval."""
    lo, hi = bounds(ci_prob)
    stacked = draws.stack(sample=("chain", "draw"))
    return pd.DataFrame(
        {
            "fold": k,
            "model": test["model"].to_numpy(),
            "benchmark": test["benchmark"].to_numpy(),
            "score": test["score"].to_numpy(),
            "predicted": expected.mean(("chain", "draw")).to_numpy(),
            "lo": stacked.quantile(lo, "sample").to_numpy(),
            "hi": stacked.quantile(hi, "sample").to_numpy(),
        }
    )


#: Figures reported per fold of an approximate method (``ok`` is None: its draws claim no
#: convergence).
_APPROXIMATE_CHECKS = ("max_rhat", "min_ess_bulk", "divergences")
#: What a NUTS fold's held-out predictions must reach, each entry (ESS at least, R-hat at most).
_PREDICTION_BARS = {"min_ess_bulk": ESS_MIN, "min_ess_tail": ESS_MIN, "max_rhat": RHAT_MAX}


def _prediction_diagnostics(expected: xr.DataArray, divergences: int) -> dict:
    """Convergence of a fold's held-out expected scores ``expected`` (chain, draw, pair).

    ``draws`` per chain, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, ``divergences`` and
    ``ok``: every held-out score meets `_PREDICTION_BARS`, and no divergence. Cross-validation
    uses a fold's fit for these predictions only, so a fold samples until they converge
    (`_fold_fits`), not its every parameter.
    """
    values = expected.rename("expected").to_dataset()
    out: dict = {"draws": int(expected.sizes["draw"])}
    out.update((key, variable_diagnostic(values, "expected", key)) for key in _PREDICTION_BARS)
    out["divergences"] = int(divergences)
    out["ok"] = not divergences and all(
        meets(key, out[key], bar) for key, bar in _PREDICTION_BARS.items()
    )
    return out


def _predictions_converged(table: ScoreTable, held: np.ndarray):
    """A `run_nuts_each` check: no divergence, and the held-out predictions meet the bars.

    The diagnostics are computed one at a time, up to the first shortfall (most checkpoints
    fall short on bulk ESS), on the sampling cores' time.
    """
    test = table.scores[held]
    models, benchmarks = test["model"].tolist(), test["benchmark"].tolist()

    def check(raw) -> bool:
        if raw.sample_stats["diverging"].any():
            return False
        expected = expected_score(raw.posterior, models, benchmarks)  # same on any anchor scale
        values = expected.rename("expected").to_dataset()
        return all(
            meets(key, variable_diagnostic(values, "expected", key), bar)
            for key, bar in _PREDICTION_BARS.items()
        )

    return check


def _fold_fits(table, spec, fold, folds, random_seed, fit_options):
    """``(k, posterior, diagnostics)`` for each fold ``k`` with held-out scores, in order.

    NUTS fits share one model compiled once: held-out scores get weight 0 in the likelihood
    (`rosetta.model.build_model` with ``weighted=True``), which is the posterior of the training
    scores alone, and folds run side by side on the cores (`run_nuts_each`). Each samples up to
    ``draws`` per chain, stopping at the first checkpoint where its held-out predictions have
    converged (`_prediction_diagnostics`): on the bundled table after 600-1,400 draws. The model's
    parameters are those of the whole table: every held-out model and benchmark keeps training
    scores (`assign_folds`). Approximate methods fit each training table in turn; with a Dask
    ``scheduler`` every fold fits its training table as a task of the cluster.
    """
    from rosetta.model import anchor_posterior, build_model
    from rosetta.model.measurement import likelihood_order
    from rosetta.model.sampling import run_nuts_each, runs_score_kernel

    held = [k for k in range(folds) if (fold == k).any()]
    options = dict(fit_options)
    options.pop("progress", None)
    workers = options.pop("workers", None)
    scheduler = options.pop("scheduler", None)
    options.pop("on_fold", None)
    if scheduler is not None:
        with executor(scheduler) as cluster:
            tasks = [
                cluster.submit(_fit_fold, table.subset(fold != k), spec, random_seed + k, options)
                for k in held
            ]
            for k, task in zip(held, tasks, strict=True):
                yield k, *task.result()
        return
    if options.get("method", "nuts") != "nuts":
        for k in held:
            log.info("fold %d/%d: fitting", k + 1, folds)
            yield k, *_fit_fold(table.subset(fold != k), spec, random_seed + k, options)
        return
    options.pop("method", None)
    sampler = options.get("sampler", "auto")
    model = build_model(table, spec, weighted=True, fused=runs_score_kernel(sampler))
    order = likelihood_order(table.scores)
    weights = [{"score_weight": (fold[order] != k).astype(float)} for k in held]
    posteriors = run_nuts_each(
        model,
        weights,
        [random_seed + k for k in held],
        draws=options.get("draws") or FOLD_DRAWS,
        tune=spec.default_tune if options.get("tune") is None else options["tune"],
        chains=options.get("chains", DEFAULT_CHAINS),
        sampler=sampler,
        target_accept=options.get("target_accept", DEFAULT_TARGET_ACCEPT),
        maxdepth=spec.maxdepth,
        eigval_cutoff=spec.eigval_cutoff,
        concurrent=workers,
        enough=[_predictions_converged(table, fold == k) for k in held],
    )
    for k, raw in zip(held, posteriors, strict=True):
        train = table.subset(fold != k)
        posterior = anchor_posterior(raw.posterior, spec.resolved_for(train), train)
        yield k, posterior, {"divergences": int(raw.sample_stats["diverging"].sum())}


def _fit_fold(train, spec, seed: int, options: dict):
    """``(posterior, diagnostics)`` of a fit of the training scores alone (a task of its own)."""
    from rosetta.model import fit

    fitted = fit(train, spec, random_seed=seed, warn=False, progress=False, **options)
    return fitted.posterior, fitted.diagnostics


def _log_fold(k: int, folds: int, fold: np.ndarray, check: dict) -> None:
    held, trained = int((fold == k).sum()), int((fold != k).sum())
    text = f"fold {k + 1}/{folds}: {trained} training scores, {held} held out"
    if check.get("max_rhat") is not None:
        text += (
            f"; held-out predictions after {check['draws']} draws per chain: max R-hat "
            f"{check['max_rhat']:.3f}, min bulk ESS {check['min_ess_bulk']:.0f}, "
            f"{check['divergences']} divergences"
        )
    log.info(text)
