"""Which benchmark to run next: the one expected to shrink a new model's capability interval most.

`rosetta.query` gives the new model's posterior as pairs ``(theta_s, benchmark parameters_s)``,
one per posterior draw. Running benchmark j would add one score ``y``; its posterior predictive
is the fit's likelihood at ``theta_s`` with draw s's parameters of j. After seeing ``y`` the
pairs are reweighted by that likelihood, ``w_s ∝ L(y | theta_s, j in draw s)``, and the new
posterior variance is the weighted variance of ``theta``. Averaging it over outcomes ``y`` drawn
from the predictive gives the expected posterior variance after running j (a preposterior
analysis, as in Bayesian adaptive testing, here across whole benchmarks)::

    E_y[Var(theta | scores, y_j)]  ≈  1/M sum_m Var_{w(y_m)}(theta)

The benchmarks are ranked by the expected variance reduction, divided by a cost when costs are
given. The ends of the ordered-Beta likelihood (scores of exactly 0 or 1) and the Normal
likelihood are handled as in the fit; a new evaluation is scored as a plain fraction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.data.readers import read_file
from rosetta.data.table import did_you_mean
from rosetta.errors import RosettaError
from rosetta.likelihoods import beta_family_logp, expected_score, normal_logp
from rosetta.placement import DEFAULT_TOP, QueryResult, query
from rosetta.prediction import draw_scores
from rosetta.results import Result, json_number

#: Pairs (capability, benchmark parameters) that represent the current posterior, and simulated
#: outcomes per candidate benchmark (see `benchmarks/bench_suggest.py` for the cost and the
#: seed-to-seed spread of the ranking).
_PAIRS = 500
_OUTCOMES = 96
#: How many suggestions to list by default.
DEFAULT_SUGGESTIONS = 5


@dataclass
class Suggestions(Result):
    """The fitted benchmarks ranked by how much running them would pin a new model down.

    Attributes
    ----------
    query
        The capability posterior of the new model from its scores so far.
    ranking
        One row per candidate benchmark, best first: ``expected_sd_after``,
        ``variance_reduction`` (share of the current variance expected to go), ``cost`` and
        ``value`` (variance reduction per unit cost, or the reduction itself without costs),
        ``predicted_score`` (the expected score of the new model there).
    n
        How many of the ranking to report.
    """

    query: QueryResult
    ranking: pd.DataFrame
    n: int = DEFAULT_SUGGESTIONS
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> list[str]:
        """The ``n`` suggested benchmarks, best first."""
        return list(self.ranking.index[: self.n])

    def to_dict(self) -> dict:
        """``model``, ``sd_now`` and ``suggestions`` (best first): ``rosetta query --suggest``."""
        rows = self.ranking.head(self.n)
        return {
            "model": self.query.name,
            "capability_mean": self.query.mean,
            "sd_now": self.query.sd,
            "suggestions": [
                {"benchmark": b, **{k: json_number(v) for k, v in row.items()}}
                for b, row in rows.iterrows()
            ],
            "notes": self.notes,
        }

    def summary(self) -> str:
        """A table of the suggestions."""
        lines = [
            f"next benchmarks for {self.query.name} (capability sd now {self.query.sd:.3f}; "
            "expected sd after running each):"
        ]
        costed = self.ranking["cost"].notna().any()
        for rank, (bench, row) in enumerate(self.ranking.head(self.n).iterrows(), 1):
            cost = f"  cost {row['cost']:g}" if costed else ""
            lines.append(
                f"  {rank}. {bench:<28} sd {row['expected_sd_after']:.3f}  "
                f"(-{100 * row['variance_reduction']:.0f}% variance; expected score "
                f"{row['predicted_score']:.2f}){cost}"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """The full ranking, one row per candidate benchmark."""
        return self.ranking.reset_index()

    def plot(self, *, path: str | Path | None = None):
        """Expected capability sd after each candidate benchmark, against the sd now."""
        from rosetta.plots_planning import plot_suggestions

        return plot_suggestions(self, path=path)


def suggest(
    posterior,
    scores: Mapping[str, object] | pd.DataFrame,
    *,
    n: int = DEFAULT_SUGGESTIONS,
    costs: Mapping[str, float] | pd.DataFrame | str | Path | None = None,
    name: str = "new model",
    top: int = DEFAULT_TOP,
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> Suggestions:
    """Rank the benchmarks a new model has not run by how much they would narrow its capability.

    The criterion is the expected reduction of the capability's posterior variance.

    Parameters
    ----------
    posterior, scores, name, top, ci_prob
        As for `rosetta.query`.
    n
        How many suggestions to report (the ranking keeps every candidate).
    costs
        Cost of running each benchmark (a mapping, a DataFrame or CSV with ``benchmark`` and
        ``cost``): benchmarks are then ranked by variance reduction per unit cost, and those
        without a cost are left out (with a note).
    random_seed
        Seed of the query and of the simulated outcomes.

    Returns
    -------
    Suggestions
    """
    result = query(posterior, scores, name=name, top=top, ci_prob=ci_prob, random_seed=random_seed)
    return rank_next(result, n=n, costs=costs, random_seed=random_seed)


def rank_next(
    result: QueryResult,
    *,
    n: int = DEFAULT_SUGGESTIONS,
    costs: Mapping[str, float] | pd.DataFrame | str | Path | None = None,
    random_seed: int | None = DEFAULT_SEED,
) -> Suggestions:
    """`suggest` for a query already made (``rosetta query --suggest`` on each queried model)."""
    draws = result._draws
    scored = set(result.scores["benchmark"])
    candidates = [b for b in draws.benchmarks if b not in scored and b not in draws.item_benchmarks]
    notes = []
    cost = _costs(costs, draws.benchmarks, candidates, notes)
    if cost is not None:
        candidates = [b for b in candidates if b in cost.index]
    if not candidates:
        raise RosettaError(
            f"{result.name}: every fitted benchmark (with a cost, if costs are given) already has "
            "a score; nothing is left to suggest"
        )
    rng = np.random.default_rng(None if random_seed is None else random_seed + 1)
    pairs = np.linspace(0, len(result.capability) - 1, min(_PAIRS, len(result.capability)))
    pairs = pairs.astype(int)
    theta = result.capability[pairs]
    # Outcomes at pairs spread evenly over the capability's quantiles (stratified: the
    # capability drives the score most), each drawn with the pair's own parameters.
    strata = np.linspace(0, len(pairs) - 1, min(_OUTCOMES, len(pairs))).astype(int)
    outcomes = np.argsort(theta, kind="stable")[strata]
    par = draws.take(result.draw_index[pairs], draws.benchmarks.get_indexer(candidates))
    p, q = expected_score(par["slope"] * (theta[:, None] - par["difficulty"]), par["floor"])
    # Keep both away from 0: a saturated benchmark's Beta would otherwise be degenerate.
    p, q = np.maximum(p, 1e-12), np.maximum(q, 1e-12)
    # The share of variance expected to go, applied to the query's own (quadrature) sd; a
    # share below 0 can only be Monte Carlo noise (the expected posterior variance never
    # exceeds the current one).
    share = np.clip(1 - _expected_variance(theta, p, q, par, outcomes, rng) / theta.var(), 0, 1)
    frame = pd.DataFrame(
        {
            "expected_sd_after": result.sd * np.sqrt(1 - share),
            "variance_reduction": share,
            "cost": np.nan if cost is None else cost.reindex(candidates).to_numpy(),
            "predicted_score": p.mean(axis=0),
        },
        index=pd.Index(candidates, name="benchmark"),
    )
    frame["value"] = frame["variance_reduction"] / (1.0 if cost is None else frame["cost"])
    frame = frame.sort_values(["value", "expected_sd_after"], ascending=[False, True])
    return Suggestions(result, frame, n=n, notes=notes)


def _expected_variance(theta, p, q, par, outcomes, rng) -> np.ndarray:
    """``E_y Var(theta | y_j)`` per benchmark j, the ``y`` drawn at the pairs ``outcomes``."""
    y = draw_scores(
        p[outcomes],
        **{
            name: None if par.get(name) is None else par[name][outcomes]
            for name in ("precision", "sigma", "zero_cutpoint", "one_cutpoint")
        },
        rng=rng,
    )
    loglik = _outcome_loglik(y, p, q, par)  # (benchmark, outcome, pair)
    w = np.exp(loglik - loglik.max(axis=2, keepdims=True))
    theta = theta.astype(w.dtype)
    total = w.sum(axis=2)
    mean = (w @ theta) / total
    return np.mean((w @ theta**2) / total - mean**2, axis=1, dtype=float)


def _outcome_loglik(y: np.ndarray, p: np.ndarray, q: np.ndarray, par: dict) -> np.ndarray:
    """Log-likelihood of outcomes ``y`` (M, J) under each pair's ``p``, ``q`` (S, J): (J, M, S).

    The Beta log-density is linear in ``log y`` and ``log(1 - y)`` with per-pair coefficients
    ``alpha - 1`` and ``beta - 1``, so the fit's own likelihood is evaluated once per pair at
    ``y = 1/2`` and moved to each outcome along that line; ends (0 or 1) take the fit's point
    masses.
    """
    if par.get("precision") is None:
        return normal_logp(y.T[:, :, None], p.T[:, None, :], par["sigma"][:, 0])
    precision = par["precision"]
    n_benchmarks = p.shape[1]

    def at(value):
        return beta_family_logp(
            np.full(n_benchmarks, value),
            np.full(n_benchmarks, np.nan),
            p,
            q,
            precision,
            gammaln(precision),
            par["zero_cutpoint"],
            par["one_cutpoint"],
        ).T[:, None, :]

    # log L = at(1/2) + [log y - log 1/2, log(1 - y) - log 1/2] @ [alpha - 1, beta - 1]
    inside = np.clip(y, 1e-12, 1 - 1e-12).T
    logs = np.stack([np.log(inside), np.log1p(-inside)], axis=2) - math.log(0.5)
    slopes = np.stack([p * precision - 1, q * precision - 1]).transpose(2, 0, 1)
    loglik = at(0.5).astype(np.float32) + logs.astype(np.float32) @ slopes.astype(np.float32)
    for end, cut in ((0.0, "zero_cutpoint"), (1.0, "one_cutpoint")):
        hit = end == y.T
        if hit.any() and par[cut] is not None:
            loglik = np.where(hit[:, :, None], at(end), loglik)
    return loglik


def _costs(costs, known: pd.Index, candidates: list[str], notes: list[str]) -> pd.Series | None:
    """Per-benchmark costs as a Series (checked: known names, positive numbers) or None."""
    if costs is None:
        return None
    if isinstance(costs, str | Path):
        costs = read_file(costs)
    problems = []
    if isinstance(costs, pd.DataFrame):
        frame = costs.rename(columns=lambda c: str(c).strip().lower())
        if not {"benchmark", "cost"} <= set(frame.columns):
            raise RosettaError("costs: a cost table needs the columns 'benchmark' and 'cost'")
        names = frame["benchmark"].astype(str).str.strip()
        problems += [f"{b!r} is given twice" for b in sorted(set(names[names.duplicated()]))]
        costs = dict(zip(names, frame["cost"], strict=True))
    problems += [
        f"cost of unknown benchmark {b!r}{did_you_mean(b, list(known))}"
        for b in costs
        if b not in known
    ]
    series = pd.Series(pd.to_numeric(pd.Series(costs), errors="coerce"), dtype=float)
    problems += [f"cost of {b!r} must be a positive number" for b, v in series.items() if not v > 0]
    if problems:
        raise RosettaError("costs: " + "; ".join(problems))
    missing = [b for b in candidates if b not in series.index]
    if missing:
        notes.append(f"no cost given for {len(missing)} benchmark(s), not ranked: {missing}")
    return series
