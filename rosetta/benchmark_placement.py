"""Where does a new benchmark sit? Its difficulty and slope from a few fitted models' scores.

The mirror image of `rosetta.query`: models of the fit are scored on a new benchmark, and its
parameters are inferred draw by draw against the fit's capabilities, without refitting. For each
posterior draw ``s`` the new benchmark's parameters ``phi = (difficulty, log slope[, log
precision])`` have the fit's own population prior of benchmarks in that draw
(``difficulty ~ Normal(difficulty_mu_s, difficulty_sigma_s)`` and so on) and the posterior::

    p_s(phi | y)  ∝  prior_s(phi) * prod_m L(y_m | capability_m,s, phi)

with the fit's likelihood (`rosetta.placement.score_loglik`). It is sampled by importance
sampling, draw by draw: a few rounds of adaptive importance sampling over all draws give a
starting point, damped Newton steps (finite differences) find each draw's mode and Laplace
covariance, and a multivariate Student-t around it (scale inflated by 1.3) proposes 32 values, of
which one is drawn in proportion to its weight.

The new scores do not feed back into the capabilities (a "cut" of the feedback, Plummer 2015):
the answer is the benchmark's posterior given the fit's capability posterior, which carries the
capabilities' uncertainty without letting one benchmark's scores move them. Reweighting the
draws by their evidence ``p(y | draw s)``, as `rosetta.query` does, collapses onto a handful of
draws once a benchmark has tens of scores (an effective sample size of 3 of 1,000 draws for
MATH level 5 placed from its 87 scores): with that many scores, refit.

The floor (chance score) of a new benchmark is given (0 unless a ``floor`` column or argument
says otherwise), or learned (``floors={name: "learned"}``) with the prior ``logit floor ~
Normal(logit 0.1, 1.5)`` (median 0.1, 90% between 0.01 and 0.57). Family effects of the fit do
not extend to a new benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln, logit

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.data.readers import read_file, to_raw_long
from rosetta.data.table import did_you_mean
from rosetta.errors import DataValidationError, RosettaError
from rosetta.intervals import interval, label
from rosetta.likelihoods import capped_precision, expected_score, likelihood_branch
from rosetta.placement import (
    _as_posterior,
    _Draws,
    _parse_number,
    _parse_score,
    read_ends,
    score_loglik,
)
from rosetta.prediction import draw_scores, flat_draws
from rosetta.results import Result, json_number

#: Posterior draws used (evenly thinned), proposals per draw, rounds of pooled adaptation that
#: give the Newton steps their start.
_MAX_DRAWS = 1_000
_PROPOSALS = 32
_ROUNDS = 3
#: Per draw: damped Newton steps to the mode, their finite-difference step and largest move
#: (unconstrained units), and the inflation of the Laplace scale in the proposal.
_NEWTON_STEPS = 8
_STEP = 1e-3
_MAX_STEP = 1.0
_INFLATE = 1.3
#: Below this share of effective proposals per draw the importance sampling is flagged.
_THIN = 0.1
#: Prior of a learned floor: ``logit floor ~ Normal(logit 0.1, 1.5)``.
_FLOOR_PRIOR = (float(logit(0.1)), 1.5)
#: Degrees of freedom of the Student-t proposal (heavy tails keep the weights bounded).
_T_DOF = 5.0
#: A placement is flagged as weakly informed below this many scores, or when the difficulty's
#: posterior sd is above this share of the prior's (a benchmark drawn at random).
_FEW_SCORES = 3
_UNINFORMED = 0.7


_PREDICTED = ("mean", "lo", "hi", "score_lo", "score_hi", "observed")
_SHOWN = ("difficulty", "slope", "floor")
#: The ``floors`` value that asks for a floor to be inferred.
LEARNED = "learned"


@dataclass
class BenchmarkPlacement(Result):
    """Difficulty, slope and predicted scores of new benchmarks, from the fit's capabilities.

    Attributes
    ----------
    parameters
        One row per new benchmark: ``n_scores``, ``floor_learned`` and ``mean``, ``lo``, ``hi``
        of ``difficulty``, ``slope`` and ``floor`` (columns ``difficulty_mean`` ...).
    predicted
        Long frame (``benchmark``, ``model``): the expected score ``mean``, ``lo``, ``hi``, the
        interval of an evaluation's score ``score_lo``, ``score_hi``, and ``observed``.
    draws
        Per new benchmark, the ``difficulty``, ``slope`` and ``floor`` draws.
    notes
        Per new benchmark, warnings (few or uninformative scores, thin importance sampling).
    ladder, capability_means
        The fitted benchmarks' mean difficulties and the fitted models' mean capabilities.
    """

    parameters: pd.DataFrame
    predicted: pd.DataFrame
    draws: dict[str, dict[str, np.ndarray]]
    notes: dict[str, list[str]]
    scale: str
    ci_prob: float = CI_PROB
    ladder: pd.Series = field(default_factory=pd.Series)
    capability_means: pd.Series = field(default_factory=pd.Series)

    def to_dict(self) -> dict:
        """The ``--json`` object: ``benchmarks``, name -> parameters and predictions.

        Each has ``difficulty``, ``slope`` and ``floor`` (``mean``, ``lo``, ``hi``; a given floor
        has all three equal), ``floor_learned`` and ``predicted`` (model -> ``mean``, ``lo``,
        ``hi``, ``score_lo``, ``score_hi``, ``observed``).
        """
        out = {}
        for name, row in self.parameters.iterrows():
            rows = self.predicted[self.predicted["benchmark"] == name].set_index("model")
            out[name] = {
                "n_scores": int(row["n_scores"]),
                "floor_learned": bool(row["floor_learned"]),
                **{
                    par: {k: float(row[f"{par}_{k}"]) for k in ("mean", "lo", "hi")}
                    for par in _SHOWN
                },
                "predicted": {
                    m: {k: json_number(r[k]) for k in ("mean", "lo", "hi", "score_lo", "score_hi")}
                    | {"observed": json_number(r["observed"])}
                    for m, r in rows.iterrows()
                },
                "notes": self.notes[name],
            }
        return {"scale": self.scale, "ci_prob": self.ci_prob, "benchmarks": out}

    def summary(self) -> str:
        """Each benchmark's difficulty, slope, ladder neighbours and a few predictions."""
        lines = [
            f"new benchmarks on the fit's scale ({self.scale}; {label(self.ci_prob)} intervals)"
        ]
        for name, row in self.parameters.iterrows():
            lines += [
                f"{name}  ({int(row['n_scores'])} scores, {self._floor(row)})",
                f"  difficulty {row['difficulty_mean']:.2f} [{row['difficulty_lo']:.2f}, "
                f"{row['difficulty_hi']:.2f}]   slope {row['slope_mean']:.2f} "
                f"[{row['slope_lo']:.2f}, {row['slope_hi']:.2f}]",
                f"  nearest fitted benchmarks by difficulty: {', '.join(self._neighbours(row))}",
                "  predicted scores of the most capable fitted models (expected, interval):",
            ]
            rows = self.predicted[self.predicted["benchmark"] == name]
            for _, r in rows.nlargest(5, "mean").iterrows():
                seen = "" if np.isnan(r["observed"]) else f"  observed {r['observed']:.2f}"
                lines.append(
                    f"    {r['model']:<32} {r['mean']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}]{seen}"
                )
            lines += [f"  note: {n}" for n in self.notes[name]]
        return "\n".join(lines)

    def _floor(self, row) -> str:
        if not row["floor_learned"]:
            return f"floor {row['floor_mean']:g}"
        return (
            f"floor learned: {row['floor_mean']:.2f} [{row['floor_lo']:.2f}, {row['floor_hi']:.2f}]"
        )

    def _neighbours(self, row) -> list[str]:
        gaps = (self.ladder - row["difficulty_mean"]).abs().sort_values()
        return [f"{b} ({self.ladder[b]:.2f})" for b in gaps.index[:3]]

    def plot_data(self) -> pd.DataFrame:
        """The predictions, one row per (new benchmark, fitted model)."""
        return self.predicted

    def plot(self, *, path: str | Path | None = None):
        """Each new benchmark's curve of expected score against capability, with its scores."""
        from rosetta.plots_planning import plot_benchmark_placement

        return plot_benchmark_placement(self, path=path)


def place(
    posterior,
    scores: pd.DataFrame | str | Path,
    *,
    floors: Mapping[str, float | str] | None = None,
    layout: str = "auto",
    ci_prob: float = CI_PROB,
    random_seed: int | None = DEFAULT_SEED,
) -> BenchmarkPlacement:
    """Place new benchmarks on a fitted scale from fitted models' scores on them (no refit).

    Parameters
    ----------
    posterior
        A fit (`rosetta.fit` / `rosetta.load`), its ``posterior`` Dataset, or a ``.nc`` path.
    scores
        A long table (or CSV path) with ``model`` (models of the fit), ``benchmark`` (new
        benchmarks), ``score`` and optionally ``n_items``, ``stderr``, ``floor``; or a wide one
        (model in the first column, one column per new benchmark).
    floors
        Chance score per new benchmark (overrides a ``floor`` column), or ``"learned"`` to infer
        it (see the module notes); 0 where not given.
    layout
        ``"long"``, ``"wide"`` or ``"auto"``.
    ci_prob
        Probability mass of the intervals.
    random_seed
        Seed of the importance sampling and the predictive draws.

    Returns
    -------
    BenchmarkPlacement
    """
    post = _as_posterior(posterior)
    draws = _Draws.from_posterior(post)
    priors = _Priors.from_posterior(post, draws)
    source = str(scores) if isinstance(scores, str | Path) else "DataFrame"
    frame = read_file(scores) if isinstance(scores, str | Path) else scores.copy()
    table = _new_scores(to_raw_long(frame, layout=layout, source=source), draws, floors, source)
    rng = np.random.default_rng(random_seed)
    rows, predicted, samples, notes = [], [], {}, {}
    for name, group in table.groupby("benchmark", sort=False):
        notes[name] = [
            f"{what}: placed on the general capability ({taken} taken as 0)"
            for what, taken, present in (
                ("bifactor fit", "domain deviations", draws.domains),
                ("learned dimensions", "the new benchmark's loadings", draws.dimensions),
            )
            if present
        ]
        placed = _place_one(draws, priors, group, rng, notes[name])
        samples[name] = {k: np.broadcast_to(placed[k], placed["index"].shape) for k in _SHOWN}
        rows.append(_parameter_row(name, group, placed, priors, ci_prob, notes[name]))
        predicted.append(_predict(draws, placed, group, ci_prob, rng).assign(benchmark=name))
    predicted = pd.concat(predicted, ignore_index=True)
    ladder = pd.Series(draws.difficulty.mean(axis=0), index=draws.benchmarks)
    return BenchmarkPlacement(
        parameters=pd.DataFrame(rows).set_index("benchmark"),
        predicted=predicted[["benchmark", "model", *_PREDICTED]],
        draws=samples,
        notes=notes,
        scale=draws.scale,
        ci_prob=ci_prob,
        ladder=ladder,
        capability_means=pd.Series(draws.capability.mean(axis=0), index=draws.models),
    )


@dataclass(frozen=True)
class _Priors:
    """The fit's population prior of a benchmark, per draw: means and sds ``(S, d)``."""

    mean: np.ndarray
    sd: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def from_posterior(cls, posterior, draws: _Draws) -> _Priors:
        names = ("difficulty", "log_slope") + (
            ("log_precision",) if draws.precision is not None else ()
        )
        needed = [f"{n}_{s}" for n in names for s in ("mu", "sigma")]
        missing = [v for v in needed if v not in posterior]
        if missing:
            raise DataValidationError(
                [
                    f"the posterior lacks the benchmark population {missing}: "
                    "refit with this version"
                ],
                "posterior",
            )

        mean = np.stack([flat_draws(posterior[f"{n}_mu"]) for n in names], axis=1)
        sd = np.stack([flat_draws(posterior[f"{n}_sigma"]) for n in names], axis=1)
        return cls(mean=mean, sd=sd, names=names)


def _place_one(draws: _Draws, priors: _Priors, group: pd.DataFrame, rng, notes) -> dict:
    """One new benchmark: a parameter draw per posterior draw used."""
    use = np.linspace(0, draws.n_draws - 1, min(draws.n_draws, _MAX_DRAWS)).astype(int)
    data = _data(draws, group, use, notes)
    mean, sd, data["names"] = priors.mean[use], priors.sd[use], priors.names
    if np.isnan(data["floor"]):  # learned: one more parameter, with a fixed prior
        mean = np.column_stack([mean, np.full(len(use), _FLOOR_PRIOR[0])])
        sd = np.column_stack([sd, np.full(len(use), _FLOOR_PRIOR[1])])
        data["names"] = (*priors.names, "logit_floor")

    def log_post(phi):
        return _log_prior(phi, mean, sd) + _log_likelihood(phi, data)

    centre, cov = _pooled_start(log_post, mean, sd, rng)
    mode, chol = _laplace(log_post, np.tile(centre, (len(use), 1)), np.linalg.cholesky(cov))
    phi, log_q = _t_proposal(mode, chol, _PROPOSALS, rng)
    log_w = log_post(phi) - log_q
    # One phi per draw, in proportion to its weight (the draws themselves keep equal weights:
    # the new scores do not feed back into the capabilities).
    chosen = phi[np.arange(len(use)), _pick(log_w, rng)]
    within = _row_weights(log_w)
    within /= np.maximum(within.sum(axis=1, keepdims=True), 1e-300)
    within_ess = float(np.median(1.0 / np.sum(within**2, axis=1)))
    if within_ess < _THIN * _PROPOSALS:
        notes.append(
            f"importance sampling is thin (median {within_ess:.1f} effective proposals of "
            f"{_PROPOSALS} per draw): the intervals are rough; a refit with it is safer"
        )
    return {"index": use, "floor": data["floor"], **_natural(chosen, data["names"])}


def _natural(phi: np.ndarray, names: tuple[str, ...]) -> dict:
    """The parameters on their own scales: ``log_x`` -> exp, ``logit_x`` -> expit."""
    out = {}
    for k, name in enumerate(names):
        value = phi[..., k]
        if name == "log_precision":  # as the fit keeps it (`capped_precision`)
            out["precision"] = capped_precision(value)
        elif name.startswith("log_"):
            out[name.removeprefix("log_")] = np.exp(value)
        elif name.startswith("logit_"):
            out[name.removeprefix("logit_")] = expit(value)
        else:
            out[name] = value
    return out


def _data(draws: _Draws, group: pd.DataFrame, use: np.ndarray, notes) -> dict:
    """The new benchmark's scores (grouped by likelihood branch) and the draws they meet."""
    y = read_ends(group["score"].to_numpy(float), group["n_items"].to_numpy(float), draws, notes)
    order = np.argsort(likelihood_branch(y, group["n_items"].to_numpy(float)), kind="stable")
    group = group.iloc[order]
    return {
        "y": y[order],
        "n_items": group["n_items"].to_numpy(float),
        "stderr": group["stderr"].to_numpy(float),
        "floor": float(group["floor"].iloc[0]),
        "theta": draws.capability[use][:, draws.models.get_indexer(group["model"])][:, None, :],
        "noise": {
            name: None if getattr(draws, name) is None else getattr(draws, name)[use, None, None]
            for name in ("sigma", "zero_cutpoint", "one_cutpoint")
        },
    }


def _pooled_start(log_post, mean, sd, rng):
    """Centre and covariance of the posterior pooled over draws: where Newton steps start.

    A few rounds of adaptive importance sampling, starting from the prior.
    """
    centre = mean.mean(axis=0)
    cov = np.diag(sd.mean(axis=0) ** 2 + mean.var(axis=0))
    for _ in range(_ROUNDS):
        phi, log_q = _t_proposal(centre, np.linalg.cholesky(cov), _PROPOSALS // 4, rng, len(mean))
        log_w = log_post(phi) - log_q
        pooled = np.exp(log_w - log_w.max()).ravel()
        pooled /= pooled.sum()
        flat = phi.reshape(-1, phi.shape[-1])
        centre = pooled @ flat
        cov = np.cov(flat.T, aweights=pooled) + 1e-6 * np.eye(len(centre))
    return centre, cov


def _laplace(log_post, x: np.ndarray, fallback: np.ndarray):
    """Each draw's posterior mode and the Cholesky factor of its Laplace covariance.

    Damped Newton steps on finite differences; the covariance is inflated by `_INFLATE`, and
    ``fallback`` stands in where the log-posterior is not concave at the mode.
    """
    d = x.shape[1]
    stencil = _stencil(d)
    for _ in range(_NEWTON_STEPS):
        grad, hess = _derivatives(log_post(x[:, None, :] + stencil), d)
        step = _newton(grad, hess)
        tries = x[:, None, :] + step[:, None, :] * np.array([1.0, 0.5, 0.25, 0.0])[:, None]
        x = tries[np.arange(len(x)), np.argmax(log_post(tries), axis=1)]
    _, hess = _derivatives(log_post(x[:, None, :] + stencil), d)
    chol = np.broadcast_to(fallback, (len(x), d, d)).copy()
    concave = np.all(np.linalg.eigvalsh(-hess) > 0, axis=1)
    chol[concave] = _INFLATE * np.linalg.cholesky(np.linalg.inv(-hess[concave]))
    return x, chol


def _stencil(d: int) -> np.ndarray:
    """Offsets of central differences: 0, +-h e_i, and +-h e_i +-h e_j (i < j)."""
    eye = _STEP * np.eye(d)
    points = [np.zeros(d), *eye, *(-eye)]
    for i in range(d):
        for j in range(i + 1, d):
            points += [eye[i] + eye[j], eye[i] - eye[j], -eye[i] + eye[j], -eye[i] - eye[j]]
    return np.array(points)


def _derivatives(f: np.ndarray, d: int):
    """Gradient and Hessian per draw from values on `_stencil`."""
    h = _STEP
    centre, plus, minus = f[:, 0], f[:, 1 : d + 1], f[:, d + 1 : 2 * d + 1]
    grad = (plus - minus) / (2 * h)
    hess = np.zeros((len(f), d, d))
    hess[:, np.arange(d), np.arange(d)] = (plus - 2 * centre[:, None] + minus) / h**2
    k = 2 * d + 1
    for i in range(d):
        for j in range(i + 1, d):
            pp, pm, mp, mm = f[:, k : k + 4].T
            hess[:, i, j] = hess[:, j, i] = (pp - pm - mp + mm) / (4 * h**2)
            k += 4
    return np.nan_to_num(grad), np.nan_to_num(hess)


def _newton(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """Newton steps where the Hessian is negative definite, gradient steps elsewhere; capped."""
    concave = np.all(np.linalg.eigvalsh(-hess) > 1e-9, axis=1)
    step = 0.1 * grad
    if concave.any():
        step[concave] = np.linalg.solve(-hess[concave], grad[concave][..., None])[..., 0]
    return np.clip(step, -_MAX_STEP, _MAX_STEP)


def _t_proposal(centre, chol, count: int, rng, n_draws: int | None = None):
    """``count`` multivariate Student-t draws per draw and their log densities.

    ``centre`` and the scale's Cholesky factor ``chol`` are shared (``(d,)``, ``(d, d)``) or
    per draw (``(S, d)``, ``(S, d, d)``).
    """
    d = chol.shape[-1]
    n_draws = len(centre) if np.ndim(centre) == 2 else n_draws
    z = rng.standard_normal((n_draws, count, d))
    u = rng.chisquare(_T_DOF, (n_draws, count)) / _T_DOF
    scale = chol if chol.ndim == 3 else np.broadcast_to(chol, (n_draws, d, d))
    offset = np.einsum("skj,sij->ski", z, scale)
    phi = np.reshape(centre, (-1, 1, d)) + offset / np.sqrt(u)[..., None]
    log_det = np.sum(np.log(np.diagonal(scale, axis1=1, axis2=2)), axis=1)[:, None]
    log_q = (
        gammaln((_T_DOF + d) / 2)
        - gammaln(_T_DOF / 2)
        - 0.5 * d * math.log(_T_DOF * math.pi)
        - log_det
        - 0.5 * (_T_DOF + d) * np.log1p(np.sum(z**2, axis=-1) / u / _T_DOF)
    )
    return phi, log_q


def _log_prior(phi, mean, sd):
    z = (phi - mean[:, None, :]) / sd[:, None, :]
    return np.sum(-0.5 * z**2 - np.log(sd[:, None, :]), axis=-1) - 0.5 * phi.shape[-1] * math.log(
        2 * math.pi
    )


def _log_likelihood(phi, data) -> np.ndarray:
    """Log-likelihood of the new benchmark's scores per (draw, proposal)."""
    par = _natural(phi[..., None, :], data["names"])  # each (draw, proposal, 1)
    floor = par.get("floor", data["floor"])
    p, q = expected_score(par["slope"] * (data["theta"] - par["difficulty"]), floor)
    precision = par.get("precision")
    # Far-out proposals can put an expected score at exactly 0 or 1: weight 0, not NaN.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        loglik = score_loglik(
            data["y"],
            data["n_items"],
            data["stderr"],
            p,
            q,
            precision=precision,
            gammaln_precision=None if precision is None else gammaln(precision),
            **data["noise"],
        ).sum(axis=-1)
    return np.where(np.isnan(loglik), -np.inf, loglik)


def _pick(log_w: np.ndarray, rng) -> np.ndarray:
    """One column per row, drawn in proportion to ``exp(log_w)``."""
    cumulative = np.cumsum(_row_weights(log_w), axis=1)
    target = rng.random(len(log_w)) * cumulative[:, -1]
    return np.minimum((cumulative < target[:, None]).sum(axis=1), log_w.shape[1] - 1)


def _row_weights(log_w: np.ndarray) -> np.ndarray:
    """``exp(log_w)`` scaled by each row's largest (rows without a finite weight give zeros)."""
    top = log_w.max(axis=1, keepdims=True)
    return np.exp(log_w - np.where(np.isfinite(top), top, 0.0))


def _parameter_row(name, group, placed, priors, ci_prob, notes) -> dict:
    row = {"benchmark": name, "n_scores": len(group), "floor_learned": np.ndim(placed["floor"]) > 0}
    for par in _SHOWN:
        lo, hi = interval(np.broadcast_to(placed[par], placed["index"].shape), ci_prob)
        row |= {f"{par}_mean": float(np.mean(placed[par])), f"{par}_lo": lo, f"{par}_hi": hi}
    y = group["score"].to_numpy(float)
    if len(group) < _FEW_SCORES:
        notes.append(f"only {len(group)} score(s): the placement leans on the benchmark prior")
    prior_sd = float(priors.sd[:, 0].mean())
    if placed["difficulty"].std() > _UNINFORMED * prior_sd:
        notes.append(
            f"the scores say little about the difficulty (posterior sd "
            f"{placed['difficulty'].std():.2f} against {prior_sd:.2f} for a benchmark drawn at "
            "random): score models of more varied capability"
        )
    if np.all(y >= 0.95) or np.all(y <= np.mean(placed["floor"]) + 0.05):
        end = "ceiling" if np.all(y >= 0.95) else "floor"
        notes.append(f"every score is at the {end}: the difficulty is only bounded")
    return row


def _predict(draws: _Draws, placed: dict, group: pd.DataFrame, ci_prob, rng) -> pd.DataFrame:
    """Expected and new-evaluation scores of every fitted model on the placed benchmark."""
    index = placed["index"]
    theta = draws.capability[index]
    x = placed["slope"][:, None] * (theta - placed["difficulty"][:, None])
    p, _ = expected_score(x, np.reshape(placed["floor"], (-1, 1)))
    noise = {
        name: None if getattr(draws, name) is None else getattr(draws, name)[index, None]
        for name in ("sigma", "zero_cutpoint", "one_cutpoint")
    }
    precision = placed.get("precision")
    noisy = draw_scores(
        p, precision=None if precision is None else precision[:, None], **noise, rng=rng
    )
    lo, hi = interval(p, ci_prob)
    score_lo, score_hi = interval(noisy, ci_prob)
    observed = group.set_index("model")["score"].reindex(draws.models)
    return pd.DataFrame(
        {
            "model": draws.models,
            "mean": p.mean(axis=0),
            "lo": lo,
            "hi": hi,
            "score_lo": score_lo,
            "score_hi": score_hi,
            "observed": observed.to_numpy(),
        }
    )


def _new_scores(raw: pd.DataFrame, draws: _Draws, floors, source: str) -> pd.DataFrame:
    """Parse and check the new benchmarks' scores: known models, new benchmarks, one floor each."""
    problems, rows = [], []
    for record in raw.to_dict(orient="records"):
        model, bench = str(record["model"]).strip(), str(record["benchmark"]).strip()
        score, problem = _parse_score(record["score"])
        found = [problem] if problem else []
        extra = {}
        for column, low, high in (
            ("n_items", 1.0, math.inf),
            ("stderr", 0.0, 1.0),
            ("floor", 0.0, 0.99),
        ):
            value, problem = _parse_number(record.get(column), column)
            if not problem and not (math.isnan(value) or low <= value <= high):
                problem = f"{column} {value:g} outside [{low:g}, {high:g}]"
            found += [problem] if problem else []
            extra[column] = value
        if model not in draws.models:
            found.append(
                f"model {model!r} is not in the fit{did_you_mean(model, list(draws.models))}"
            )
        if bench in draws.benchmarks:
            found.append(
                f"benchmark {bench!r} is already in the fit: its posterior is there "
                "(`rosetta.predict`); place only new benchmarks"
            )
        if found:
            problems.append(f"{record.get('where', model)}: {'; '.join(found)}")
        rows.append({"model": model, "benchmark": bench, "score": score, **extra})
    table = pd.DataFrame(rows)
    duplicated = table[table.duplicated(["model", "benchmark"], keep=False)]
    problems += [
        f"model {m!r} is scored twice on {b!r}"
        for m, b in duplicated[["model", "benchmark"]].drop_duplicates().itertuples(index=False)
    ]
    for bench, column in table.groupby("benchmark")["floor"]:
        if column.nunique() > 1:
            problems.append(f"benchmark {bench!r} has several floors: {sorted(column.unique())}")
    if problems:
        raise DataValidationError(problems, source)
    given = table.groupby("benchmark")["floor"].first()
    if floors is not None:
        problems = [
            f"floor given for {b!r}, which has no scores" for b in floors if b not in given.index
        ]
        problems += [
            f"floor {v!r} of {b!r}: give a number in [0, 0.99] or 'learned'"
            for b, v in floors.items()
            if v != LEARNED and not (isinstance(v, int | float) and 0 <= v <= 0.99)
        ]
        if problems:
            raise RosettaError("floors: " + "; ".join(problems))
        numbers = {b: v for b, v in floors.items() if v != LEARNED}
        given.update(pd.Series(numbers, dtype=float))
    given = given.fillna(0.0)
    # NaN marks a floor to learn.
    given[[b for b, v in (floors or {}).items() if v == LEARNED]] = np.nan
    table["floor"] = table["benchmark"].map(given)
    return table
