"""Choose a spec among candidates by held-out accuracy (what ``rosetta fit --auto`` does).

Both routes apply the one-standard-error rule, candidates given simplest first: the choice is
the first whose held-out accuracy is within one standard error of the best candidate's, so a
richer spec must beat the simpler ones by more than the noise of the comparison.

- **PSIS-LOO** (`arviz.loo`): one NUTS fit per candidate on the whole table, compared by
  expected log predictive density (the standard error of each difference from the paired
  pointwise terms, `arviz.compare`'s ``dse``). It is trusted only where at most
  `LOO_MAX_HIGH_K_SHARE` of the scores have Pareto k above 0.7 under every candidate (those
  terms' importance weights are unreliable). Sparse tables fail that: on the bundled table 10%
  of the scores do already under the one-number model, as each score of a model seen on three
  benchmarks moves that model's capability.
- **K-fold cross-validation** (`rosetta.validation.cross_validate`, every candidate on the same
  folds; `rosetta.validation.compare_specs`): held-out mean squared error. It decides when
  PSIS-LOO is not trusted, and for approximate methods (no posterior draws to weight).

Candidates fitted on the whole table on the way are kept: `SpecChoice.fit` reuses the chosen
one when asked for the same fit of the same scores.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from rosetta.constants import DEFAULT_SEED
from rosetta.data import ScoreTable
from rosetta.validation import compare_specs, cross_validate, spec_variant

log = logging.getLogger("rosetta")

#: The specs `choose_spec` compares by default: 0 to 3 learned dimensions, simplest first.
AUTO_CANDIDATES = ("dimensions=0", "dimensions=1", "dimensions=2", "dimensions=3")

#: ``"auto"``: PSIS-LOO where its Pareto k allows, else K-fold; or either by name.
CRITERIA = ("auto", "loo", "cv")

#: PSIS-LOO decides only if at most this share of the scores has Pareto k > 0.7 under every
#: candidate. On the simulated table with no structure (300 x 100, 25% filled) the one-number
#: fit has 0.1%; on the bundled table 10%, on the 3-dimension simulation 4% (three dimensions).
LOO_MAX_HIGH_K_SHARE = 0.01

#: Options of `choose_spec` that are cross-validation's only, not a fit's.
_CV_ONLY = ("workers", "scheduler")

_RULES = {
    "loo": "the simplest spec within one standard error of the best expected log predictive "
    "density (PSIS-LOO)",
    "cv": "the simplest spec within one standard error of the best held-out MSE",
}


@dataclass(frozen=True)
class SpecChoice:
    """The spec `choose_spec` picked, how (``criterion`` ``"loo"`` or ``"cv"``), and why.

    ``table`` has one row per candidate and a ``chosen`` column: for PSIS-LOO ``elpd_loo``,
    ``se``, ``elpd_diff`` and ``dse`` (against the best), ``p_loo``, ``n_high_pareto_k``; for
    cross-validation ``rmse``, ``coverage``, ``mse_gap`` and ``gap_se`` (`compare_specs`).
    ``note`` says why PSIS-LOO did not decide, if it did not. ``fitted``: candidates fitted on
    the whole table (with ``settings``, the options and seed of those fits).
    """

    label: str
    spec: object
    table: pd.DataFrame
    criterion: str
    folds: int | None = None
    note: str = ""
    fitted: Mapping = field(default_factory=dict, repr=False, compare=False)
    settings: Mapping = field(default_factory=dict, repr=False, compare=False)

    def record(self) -> dict:
        """What a fit stores of the choice (``FitInfo.selection``)."""
        return {
            "chosen": self.label,
            "criterion": self.criterion,
            "folds": self.folds,
            "rule": _RULES[self.criterion],
            "candidates": self.table.reset_index().to_dict(orient="records"),
            "reason": self.reason(),
        }

    def fit(self, data, **fit_options):
        """`rosetta.fit` of the chosen spec, the choice stored in its ``info.selection``.

        The candidate's fit on the whole table is reused when ``data`` is the same scores and
        ``fit_options`` the same as `choose_spec` was given (its convergence warning, if any, is
        given again unless ``warn=False``).
        """
        from rosetta.diagnostics import warn_unconverged
        from rosetta.fitted import Fit
        from rosetta.model import fit

        warn = fit_options.pop("warn", True)
        fitted = self.fitted.get(self.label)
        same = (
            fitted is not None
            and isinstance(data, ScoreTable)
            and data.sha256() == fitted.info.data_sha256
            and {"random_seed": DEFAULT_SEED, **fit_options} == dict(self.settings)
        )
        if same:
            log.info("the chosen spec was fitted on these scores already: reusing that fit")
            if warn:
                warn_unconverged(fitted.diagnostics)
        else:
            fitted = fit(data, self.spec, warn=warn, **fit_options)
        return Fit.stamped(fitted.idata, replace(fitted.info, selection=self.record()))

    def reason(self) -> str:
        """One line: which spec, and why."""
        table, label = self.table, self.label
        row = table.loc[label]
        if self.criterion == "loo":
            best = table["elpd_loo"].idxmax()
            how = f"PSIS-LOO of {len(table)} candidates"
            figures = (
                f"elpd {row['elpd_loo']:.1f}, SE {row['se']:.1f}; {row['n_high_pareto_k']} "
                "scores with Pareto k > 0.7"
            )
            best_is, gap = "expected log predictive density", "elpd difference"
            gap += f" {row['elpd_diff']:.1f} <= SE {row['dse']:.1f}"
        else:
            best = table["mse_gap"].idxmin()
            how = f"{self.folds}-fold cross-validation of {len(table)} candidates"
            figures = f"RMSE {row['rmse']:.4f}, coverage {row['coverage']:.3f}"
            best_is = "held-out RMSE"
            gap = f"RMSE {table.loc[best, 'rmse']:.4f}; gap {row['mse_gap']:.2e} <= SE "
            gap += f"{row['gap_se']:.2e}"
        why = (
            f"the best {best_is}"
            if label == best
            else f"within one SE of the best ({best}: {gap}) and simpler"
        )
        note = f" ({self.note})" if self.note else ""
        return f"spec chosen by {how}: {label} ({figures}): {why}{note}"


def choose_spec(
    table: ScoreTable,
    spec=None,
    candidates: Iterable[str] = AUTO_CANDIDATES,
    *,
    criterion: str = "auto",
    folds: int = 5,
    random_seed: int = DEFAULT_SEED,
    **options,
) -> SpecChoice:
    """Compare ``candidates`` (variants of ``spec``, simplest first) and pick one.

    Parameters
    ----------
    table
        The score table.
    spec
        The spec the candidates vary (`rosetta.validation.spec_variant`); `MeasurementSpec()`
        by default.
    candidates
        SPEC texts, simplest first.
    criterion
        ``"auto"``: PSIS-LOO if its Pareto k allows (`LOO_MAX_HIGH_K_SHARE`) and the method is
        NUTS, else K-fold cross-validation; ``"loo"`` or ``"cv"`` force one (``"loo"`` reports
        its high-k scores in the table instead of falling back).
    folds, random_seed
        Cross-validation folds; the seed of the folds and of every fit.
    **options
        `rosetta.fit` options for every fit, and `cross_validate`'s ``workers`` and
        ``scheduler``.
    """
    from rosetta.model import MeasurementSpec

    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    labels = list(dict.fromkeys(candidates))
    if len(labels) < 2:
        raise ValueError("give at least two candidate specs to choose from")
    base = spec or MeasurementSpec()
    specs = {label: spec_variant(base, label, table.benchmarks) for label in labels}
    settings = {"random_seed": random_seed}
    settings.update({k: v for k, v in options.items() if k not in _CV_ONLY})
    method = options.get("method", "nuts")
    fitted, note = {}, ""
    if criterion == "loo" and method != "nuts":
        raise ValueError(f"PSIS-LOO weighs posterior draws: it needs NUTS, not {method!r}")
    if criterion == "auto" and method != "nuts":
        note = f"PSIS-LOO not tried: it needs NUTS draws, not {method!r}"
    elif criterion != "cv":
        fitted, loos, note = _loo_candidates(table, specs, settings, strict=criterion == "loo")
        if not note:
            compared = loo_rule(loos)
            label = str(compared.index[compared["chosen"]][0])
            return SpecChoice(label, specs[label], compared, "loo", None, "", fitted, settings)
        log.info("%s; choosing by %d-fold cross-validation", note, folds)
    first, *rest = labels
    result = cross_validate(
        table,
        specs[first],
        folds=folds,
        random_seed=random_seed,
        compare={label: specs[label] for label in rest},
        **options,
    )
    compared = compare_specs({first: result, **{k: result.baselines[k] for k in rest}})
    label = str(compared.index[compared["chosen"]][0])
    return SpecChoice(label, specs[label], compared, "cv", folds, note, fitted, settings)


def loo_rule(loos: Mapping) -> pd.DataFrame:
    """PSIS-LOO results (label -> `arviz.ELPDData`, simplest first) and the one-SE choice.

    One row per candidate in the order given: ``elpd_loo``, ``se``, ``elpd_diff`` and ``dse``
    (the best's elpd minus this one's, and that difference's standard error), ``p_loo``,
    ``n_high_pareto_k`` and ``chosen``: the first whose difference is within one SE.
    """
    from rosetta.comparison import compare_loos

    columns = ["elpd_loo", "se", "elpd_diff", "dse", "p_loo", "n_high_pareto_k"]
    table = compare_loos(loos).reindex(list(loos))[columns].rename_axis("spec")
    table = table.astype(dict.fromkeys(columns[:-1], float))
    within = table["elpd_diff"] <= table["dse"]
    table["chosen"] = False
    table.loc[within.idxmax(), "chosen"] = True
    return table


def _loo_candidates(table: ScoreTable, specs: dict, settings: dict, strict: bool):
    """``(fits, loos, note)``: each candidate fitted and its PSIS-LOO, in order.

    Unless ``strict``, stops at the first candidate whose share of Pareto k above 0.7 exceeds
    `LOO_MAX_HIGH_K_SHARE`, with ``note`` saying so (``""`` when every candidate passed).
    """
    from rosetta.comparison import PARETO_K_MAX, psis_loo
    from rosetta.model import fit

    fits, loos = {}, {}
    for label, spec in specs.items():
        log.info("fitting %s on all %d scores for PSIS-LOO", label, len(table.scores))
        fits[label] = fit(table, spec, warn=False, **settings)
        loos[label] = psis_loo(fits[label])
        share = float((loos[label].pareto_k > PARETO_K_MAX).mean())
        if share > LOO_MAX_HIGH_K_SHARE and not strict:
            note = (
                f"PSIS-LOO not used: {share:.1%} of the scores have Pareto k > {PARETO_K_MAX} "
                f"under {label} (at most {LOO_MAX_HIGH_K_SHARE:.0%} allowed)"
            )
            return fits, loos, note
    return fits, loos, ""
