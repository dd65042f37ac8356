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

Either way the candidates are tried simplest first, and the richer ones are not tried once a
candidate scores no better than the best simpler one, or is given up because a fit of it is
far from converged (`unusable`: a fit that did not converge says nothing of its spec). On the
bundled table two learned dimensions are given up that way at their first fold fit (R-hat
1.24), which took longer than the five fold fits of one dimension together.

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
from rosetta.errors import SamplingError
from rosetta.validation import compare_specs, cross_validate, spec_variant

log = logging.getLogger("rosetta")

#: The specs `choose_spec` compares by default: 0 to 3 learned dimensions, simplest first.
AUTO_CANDIDATES = ("dimensions=0", "dimensions=1", "dimensions=2", "dimensions=3")

#: ``"auto"``: PSIS-LOO where its Pareto k allows, else K-fold; or either by name.
CRITERIA = ("auto", "loo", "cv")

#: PSIS-LOO decides only if at most this share of the scores has Pareto k > 0.7 under every
#: candidate. On the simulated table with no structure (300 x 100, 25% filled) 0.1% (no
#: dimension) and 0.5% (one); on the bundled table 10% (no dimension); on the 3-dimension
#: simulation 1.0%, 1.9% and 2.7% with one, two and three dimensions.
LOO_MAX_HIGH_K_SHARE = 0.01

#: A fit this far from converged says nothing of its spec: `choose_spec` gives the spec up (and
#: the richer candidates after it) when a fit of it has R-hat above this, or divergent
#: transitions in more than `GIVE_UP_DIVERGENT_SHARE` of its draws. On the bundled table the
#: first fold fit of two dimensions had R-hat 1.24 and 85 divergent transitions in 3,600 draws;
#: those of one dimension at most 1.015 and 6.
GIVE_UP_RHAT = 1.1
GIVE_UP_DIVERGENT_SHARE = 0.01

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
    ``note`` says why PSIS-LOO did not decide, if it did not, and where the candidates stopped
    (those not tried have no row). ``fitted``: candidates fitted on the whole table (with
    ``settings``, the options and seed of those fits).
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

    Candidates are tried in order until one scores no better than a simpler one or is given up
    (`unusable`); the one-SE rule then picks among those tried (see the module doc).

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
    if criterion == "loo" and method != "nuts":
        raise ValueError(f"PSIS-LOO weighs posterior draws: it needs NUTS, not {method!r}")
    fitted: dict = {}
    loo_note = ""
    if criterion == "auto" and method != "nuts":
        loo_note = f"PSIS-LOO not tried: it needs NUTS draws, not {method!r}"
    elif criterion != "cv":
        try:
            step = _loo_step(table, specs, settings, fitted, criterion)
            loos, stop = _ladder(labels, step, score=lambda loo: loo.elpd_loo)
        except _LooUnreliable as why:
            loo_note = str(why)
            log.info("%s; choosing by %d-fold cross-validation", loo_note, folds)
        else:
            compared = loo_rule(loos)
            label = str(compared.index[compared["chosen"]][0])
            return SpecChoice(label, specs[label], compared, "loo", None, stop, fitted, settings)

    def validated(label: str):
        def check(k: int, diagnostics: dict) -> None:
            problem = unusable(diagnostics)
            if problem:
                raise _GiveUp(
                    f"{label} given up: its fold {k + 1} fit did not converge ({problem})"
                )

        return cross_validate(
            table, specs[label], folds=folds, random_seed=random_seed, on_fold=check, **options
        )

    results, stop = _ladder(labels, validated, score=lambda result: -result.rmse)
    compared = compare_specs(results)
    label = str(compared.index[compared["chosen"]][0])
    note = "; ".join(text for text in (loo_note, stop) if text)
    return SpecChoice(label, specs[label], compared, "cv", folds, note, fitted, settings)


def unusable(diagnostics: Mapping) -> str | None:
    """What makes a fit too far from converged to say anything of its spec, or ``None``.

    R-hat above `GIVE_UP_RHAT`, or divergent transitions in more than
    `GIVE_UP_DIVERGENT_SHARE` of the draws (approximate fits have neither).
    """
    problems = []
    rhat, divergent = diagnostics.get("max_rhat"), diagnostics.get("divergences") or 0
    if rhat is not None and rhat > GIVE_UP_RHAT:
        problems.append(f"R-hat {rhat:.2f}")
    if divergent > GIVE_UP_DIVERGENT_SHARE * (diagnostics.get("n_draws") or 0):
        problems.append(f"{divergent} divergent transitions")
    return ", ".join(problems) or None


class _GiveUp(Exception):
    """A candidate's fit did not converge: it and the richer candidates are left out."""


class _LooUnreliable(Exception):
    """Too many scores with high Pareto k: PSIS-LOO cannot decide."""


def _ladder(labels, evaluate, score):
    """``(results, note)``: candidates evaluated simplest first, up to where it stops.

    ``score(result)``: higher is better.

    It stops at a candidate that is given up (`_GiveUp`: left out) or that scores no better
    than the best simpler one (kept): richer candidates are then not tried, and ``note`` says
    so. Raises `rosetta.errors.SamplingError` when the simplest is given up.
    """
    results = {}
    for i, label in enumerate(labels):
        rest = labels[i + 1 :]
        untried = f"; not tried: {', '.join(rest)}" if rest else ""
        try:
            result = evaluate(label)
        except _GiveUp as why:
            if not results:
                raise SamplingError(f"no candidate could be fitted: {why}") from None
            log.info("%s", why)
            return results, f"{why}{untried}"
        better = not results or score(result) > max(map(score, results.values()))
        results[label] = result
        if not better and rest:
            log.info("%s is no better than a simpler candidate%s", label, untried)
            return results, f"{label} is no better than a simpler candidate{untried}"
    return results, ""


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


def _loo_step(table: ScoreTable, specs: dict, settings: dict, fits: dict, criterion: str):
    """A `_ladder` step: fit a candidate on the whole table (kept in ``fits``), its PSIS-LOO.

    Under ``criterion`` ``"auto"`` it raises `_LooUnreliable` when more than
    `LOO_MAX_HIGH_K_SHARE` of the scores have Pareto k above 0.7.
    """
    from rosetta.comparison import PARETO_K_MAX, psis_loo
    from rosetta.model import fit

    def step(label: str):
        log.info("fitting %s on all %d scores for PSIS-LOO", label, len(table.scores))
        fits[label] = fit(table, specs[label], warn=False, **settings)
        problem = unusable(fits[label].diagnostics)
        if problem:
            raise _GiveUp(f"{label} given up: its fit did not converge ({problem})")
        loo = psis_loo(fits[label])
        share = float((loo.pareto_k > PARETO_K_MAX).mean())
        if share > LOO_MAX_HIGH_K_SHARE and criterion == "auto":
            raise _LooUnreliable(
                f"PSIS-LOO not used: {share:.1%} of the scores have Pareto k > {PARETO_K_MAX} "
                f"under {label} (at most {LOO_MAX_HIGH_K_SHARE:.0%} allowed)"
            )
        return loo

    return step
