"""The hierarchical measurement model as a PyMC graph (graph only; no sampling here).

For model m and benchmark b with observed score y in [0, 1]::

    p_mb = floor_b + (1 - floor_b) * sigmoid(slope_b * (capability_m - difficulty_b))

    capability     = z / rms(z),  z ~ ZeroSumNormal(1)   population prior, standardised:
                                                       no date or compute; mean 0, sd 1
    difficulty_b    ~ Normal(difficulty_mu, difficulty_sigma)          partial pooling
    log slope_b     ~ Normal(log_slope_mu, log_slope_sigma)
    log precision_b ~ Normal(log_precision_mu, log_precision_sigma)

The bifactor model (``MeasurementSpec(domains=...)``) adds, for each domain d, a deviation per
model that the benchmarks of that domain measure on top of the general capability::

    x_mb = slope_b * (capability_m + deviation_m,d(b) - difficulty_b)
    deviation = domain_sd * u,   u ~ ZeroSumNormal(1) over models and over domains,
    domain_sd ~ HalfNormal(domain_sd_sd)

Deviations are in capability units (every benchmark loads on its domain as on the general
factor: a testlet model), so ``domain_capability = capability + deviation`` is on the Rosetta
scale too. A model's deviations sum to zero over the domains: the general capability is the mean
of its domain capabilities. Without that, adding c to the capability and taking c from every
deviation would leave each score unchanged, and the general factor would drift towards the
domain with most benchmarks. With that constraint one spread is shared by all domains (two
domains leave one free deviation per model, which two spreads could not both explain).
Deviations also sum to zero over models, so they cannot shift a domain's difficulties, and a
model never seen in a domain keeps a deviation near zero there.

Learned dimensions (``MeasurementSpec(dimensions=K)``, exploratory multidimensional IRT) add to
what benchmark b measures of model m the product of the model's K dimension scores and the
benchmark's K loadings, in capability units::

    x_mb = slope_b * (capability_m + sum_k loading_bk * score_mk - difficulty_b)
    loading = v - sum_b(slope_b^2 v_b) / sum_b(slope_b^2),  v = bound tanh(Normal(0, dimension_sd))
    score   = u - capability * (capability . u) / n_models,   u ~ ZeroSumNormal(1) over models
    dimension_sd ~ HalfNormal(dimension_sd_sd)

The general capability and the dimensions are orthogonal factors: the scores are uncorrelated
with the capability over models, and on the logit scale each benchmark's loadings
``slope_b * loading_bk`` are orthogonal to its general loading ``slope_b`` over benchmarks
(``sum_b slope_b^2 loading_bk = 0``). Without both, a rotation mixing the capability with a
dimension would explain the scores as well, and the general factor would have no fixed
meaning: with scores orthogonal and loadings only summing to zero, chains on the bundled table
settled in two such rotations, their capabilities correlated at 0.69. With both, the rotation
is fixed (the principal axes of the two loading columns; swapping the factors would give the
general one loadings of both signs, which a slope cannot have), so the capability stays the
anchored Rosetta scale. That alone left a local mode on the bundled table (one dimension) in
which a few benchmarks measured the dimension 2.5 times as much as the general capability, and
the capability ranked the models at Spearman 0.49 with the one-number model's (log density some
60 below the best mode's, but chains that fell in never left): ``tanh`` keeps every loading
within about ``bound`` (prior ``dimension_bound``, 0.5), which defines the general factor as the
dominant one. A bound of 1 was not enough: on the bundled table (one dimension) two seeds found
two modes, one a dimension of old against new benchmarks (loadings -0.8 to 0.9) whose general
capability ranked the models at Spearman 0.88 with the one-number model's, so the dimension was
taking over the linking across eras that the general scale exists for; with 0.5 three runs,
with and without the search for a start, agreed at 0.983. Chains also start from the best of
several short runs (`rosetta.model.sampling`). Scores sum to zero over models, so they cannot
shift difficulties; the weighted sum removes the one loading direction a shift of all
benchmarks would need. The product is unchanged by any
rotation (or sign flip) of the dimensions taken by the loadings and the scores together; the
prior is rotation-invariant too, so the sampler is left free along that orbit and the
posterior is reported through what does not depend on it: each benchmark's
``dimension_strength`` (the length of its loading vector) is checked for convergence, and
`rosetta.dimensions.align_dimensions` rotates every draw onto a common orientation for display.

Family effects (``MeasurementSpec(family_effects=True)``) add to the measured capability one
effect per (model family, benchmark) cell seen by two or more scores (`rosetta.families`),
``family_effect ~ Normal(0, family_effect_sd)``: variants of one model share benchmark quirks.

Item-level data (an `ItemTable`) put items inside benchmarks: item i of benchmark b has
``item_difficulty_i ~ Normal(difficulty_b, item_difficulty_sd_b)`` and ``log item_slope_i ~
Normal(log slope_b, item_log_slope_sd)``, and a response of model m is binomial with
``p = floor_b + (1 - floor_b) * sigmoid(item_slope_i * (capability_m - item_difficulty_i))``.
Benchmarks with responses enter through them, the others through their scores, in one graph; a
benchmark of items is reported as its set of items (`_item_sets`). For
ADVI the responses can come in random minibatches (``batch_size``), their log-likelihood scaled
up to the whole data.

In the centred (default) model each difficulty is sampled through its gap
``slope * (difficulty - centre)`` (see `_difficulty_by_gap`); its prior is unchanged.

Benchmark difficulties and slopes are centred by default: on the bundled data most benchmarks are
seen by many models, and the centred form samples several times more effective draws per second
than the non-centred one (``MeasurementSpec(centred=False)``, ``name = mu + sigma *
name_offset``), which stays available for small or sparse tables where funnels appear. Precisions
are always non-centred (see `_noise`).

The raw scale is pinned by standardising the capabilities of the fitted models (mean 0, root mean
square 1) inside the model: the likelihood then sees only the direction of ``z``, so the shift and
stretch that leave every predicted score unchanged cannot form a ridge in the posterior (a soft,
prior-only identification samples about 100 effective draws in 4,000). `rosetta.scale` maps every
draw onto the declared anchor scale afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.math import softplus
from scipy.special import logit

from rosetta.constants import (
    BENCHMARK,
    DIMENSION,
    DOMAIN,
    FAMILY_CELL,
    ITEM,
    ITEM_BENCHMARK,
    MODEL,
    OBS,
)
from rosetta.data import ScoreTable
from rosetta.data.items import ItemTable
from rosetta.families import family_cells
from rosetta.likelihoods import (
    Ops,
    beta_family_logp,
    capped_precision,
    expected_score,
    item_count_pairs,
    likelihood_branch,
    normal_logp,
    response_logp,
)
from rosetta.model.score_kernel import register_score_kernels, score_constants, score_loglik
from rosetta.model.spec import MeasurementSpec
from rosetta.prediction import draw_scores

#: PyTensor's elementwise operations, for the likelihoods shared with `rosetta.placement`.
PYTENSOR = Ops(
    sigmoid=pt.sigmoid,
    log=pt.log,
    log1p=pt.log1p,
    expm1=pt.expm1,
    softplus=softplus,
    gammaln=pt.gammaln,
    round=pt.round,
    concat=lambda parts: pt.concatenate(parts, axis=-1),
)

#: Fewer benchmarks than this get a fixed population prior (see `_population`).
POOLING_MIN_BENCHMARKS = 3

#: The sd of the length of the raw capability vector (see `_capability`).
RADIAL_SD = 0.1

#: Where the spread of the learned loadings starts: near zero, the one-number solution.
_INITIAL_LOADING_SD = 0.05

#: Floors are kept this far inside [0, 1) in logit space when learned.
_FLOOR_EPS = 1e-3


def build_coords(table: ScoreTable) -> tuple[dict, np.ndarray, np.ndarray]:
    """Coordinates and integer indices of the long table.

    Returns
    -------
    coords, model_idx, benchmark_idx
        ``{"model": ..., "benchmark": ..., "obs": 0..n-1}`` and per-score indices.
    """
    scores = table.scores
    coords = {
        MODEL: list(table.models),
        BENCHMARK: list(table.benchmarks),
        OBS: np.arange(len(scores)),
    }
    model_idx = table.models.get_indexer(scores["model"])
    benchmark_idx = table.benchmarks.get_indexer(scores["benchmark"])
    return coords, model_idx, benchmark_idx


def build_model(
    data: ScoreTable | ItemTable,
    spec: MeasurementSpec | None = None,
    *,
    batch_size: int | None = None,
    weighted: bool = False,
    centred: bool = True,
    fused: bool = True,
) -> pm.Model:
    """Build the PyMC measurement model for a score table or item-level responses.

    Parameters
    ----------
    data
        A validated `ScoreTable`, or an `ItemTable` (item-level responses, with benchmark-level
        scores of other benchmarks if it has them).
    spec
        Likelihood, floors and priors; defaults to `MeasurementSpec()`.
    batch_size
        Item-level data only: evaluate the responses in random minibatches of this size (for
        ADVI), their log-likelihood scaled up to the whole data.
    weighted
        Each score's log-likelihood is multiplied by its entry of ``score_weight`` (a
        `pymc.Data` of ones, in `likelihood_order`), and the scores enter as the potential
        ``score_loglik`` instead of the observed ``score``. Weights of 0 hold scores out, so all
        folds of a cross-validation share one compiled model (see `rosetta.validation`).
    centred
        Learned dimensions: the loadings' pre-bound values drawn centred, ``Normal(0,
        dimension_sd)``, which NUTS samples better, or non-centred, ``dimension_sd * Normal(0,
        1)``, which MAP and ADVI need (the centred joint mode is at ``dimension_sd = 0``).
    fused
        The Beta-family likelihood of the scores through `rosetta.model.score_kernel` (one
        Numba loop for its value, one for its gradient) where it applies; ``False``: as a
        PyTensor graph of elementwise operations (JAX, which the kernel lacks).

    Returns
    -------
    pymc.Model
        Free variables ``capability_raw``, ``*_offset``, hyperparameters; deterministic
        ``capability``, ``difficulty``, ``slope``, ``floor``, ``precision`` (beta); ``sigma``
        (normal); the scores as the observed ``score`` (see `score_distribution`). With items:
        ``item_difficulty``, ``item_slope`` (dim ``item``) and their spreads per benchmark (dim
        ``item_benchmark``); ``precision``/``sigma`` and ``score`` only if some benchmark has
        benchmark-level scores.
    """
    spec = spec or MeasurementSpec()
    items = data if isinstance(data, ItemTable) else None
    table = items.table if items is not None else data
    prior = spec.priors
    coords, model_idx, bench_idx = build_coords(table)
    scores = table.scores
    # Benchmarks with item-level data enter through their responses, the others through their
    # scores, which the model holds in the order of `likelihood_order`.
    coords[OBS] = likelihood_order(scores, items.score_rows if items is not None else None)
    nominal = table.benchmark_info()["floor"].to_numpy(dtype=float)

    with pm.Model(coords=coords) as model:
        capability = _capability(scores, model_idx, len(table.models))
        deviation, domain_idx = _domain_deviations(model, table, spec, capability)
        log_slope, slope, difficulty = _slope_and_difficulty(
            scores, spec, model_idx, bench_idx, len(table.models), items is not None
        )
        floor = _floor(spec.floors, nominal, prior["floor_logit_sd"])
        family = _family_effects(model, scores, spec) if spec.family_effects else None
        dimensions = _learned_dimensions(model, spec, capability, centred=centred)
        measured = _Measured(
            capability, deviation, domain_idx, family, dimensions, model_idx, bench_idx
        )
        if coords[OBS].size:
            _observe_scores(
                scores,
                spec,
                coords[OBS],
                measured,
                difficulty,
                slope,
                floor,
                weight=pm.Data("score_weight", np.ones(coords[OBS].size), dims=OBS)
                if weighted
                else None,
                fused=fused,
            )
        if items is not None:
            pair_floor = floor[bench_idx]
            _item_responses(
                model,
                items,
                spec,
                measured.at(np.arange(len(scores))),
                difficulty,
                log_slope,
                pair_floor,
                batch_size,
            )
    return model


def likelihood_model(table: ScoreTable, spec: MeasurementSpec, rows=None) -> pm.Model:
    """The score likelihood of `build_model` alone, its parameters flat: for a fit's draws.

    Every parameter the likelihood reads is a free ``pm.Flat`` named as in a fit's posterior
    (``capability``, ``difficulty``, ``slope``, ``floor``, ``precision`` and the cutpoints or
    ``sigma``, ``domain_deviation``, ``family_effect``), so `pymc.compute_log_likelihood` and
    `pymc.sample_posterior_predictive` take a fit's posterior as it is: the anchor scale leaves
    every ``slope * (capability - difficulty)`` unchanged. (The fit's own predictive draws and
    `rosetta.comparison.pointwise_loglik` compute the same in NumPy, several seconds faster per
    command than PyMC's per-draw loops; the tests check that both agree.)

    Parameters
    ----------
    table
        The fit's table (``ScoreTable(rosetta.io.scores_of_fit(fit))``).
    spec
        The fit's spec.
    rows
        The scores to hold (all by default), as in `build_model` held in `likelihood_order`.
    """
    scores = table.scores
    coords, model_idx, bench_idx = build_coords(table)
    coords[OBS] = likelihood_order(scores, rows)
    with pm.Model(coords=coords) as model:
        capability = pm.Flat("capability", dims=MODEL)
        deviation, domain_idx = _domain_deviations(model, table, spec, capability, flat=True)
        family = _family_effects(model, scores, spec, flat=True) if spec.family_effects else None
        dimensions = _learned_dimensions(model, spec, capability, flat=True)
        difficulty, slope, floor = (
            pm.Flat(name, dims=BENCHMARK) for name in ("difficulty", "slope", "floor")
        )
        measured = _Measured(
            capability, deviation, domain_idx, family, dimensions, model_idx, bench_idx
        )
        _observe_scores(scores, spec, coords[OBS], measured, difficulty, slope, floor, flat=True)
    return model


def likelihood_order(scores: pd.DataFrame, rows=None) -> np.ndarray:
    """The score ``rows`` (all by default), grouped by `rosetta.likelihoods.likelihood_branch`.

    Grouped so, each branch of the likelihood is computed on its own scores only.
    """
    rows = np.arange(len(scores)) if rows is None else np.asarray(rows)
    y, n_items = _observed(scores, rows)
    return rows[np.argsort(likelihood_branch(y, n_items), kind="stable")]


def score_distribution(y, n_items, p, q, noise: dict, bench_idx, weight=None):
    """The scores ``y`` (grouped by likelihood branch) as ``score``, a `pm.CustomDist` (dim obs).

    Its logp is `beta_family_logp` (or `normal_logp`), its random draws come from
    `rosetta.prediction.draw_scores`. ``noise`` holds ``sigma`` (normal) or ``precision`` (per
    benchmark) and the cutpoints the data need; ``bench_idx`` is each score's benchmark. With a
    ``weight`` per score, the weighted log-likelihood is the potential ``score_loglik`` instead.
    """

    def observe(*params, logp, random):
        if weight is None:
            return pm.CustomDist("score", *params, logp=logp, random=random, observed=y, dims=OBS)
        dist = pm.CustomDist.dist(*params, logp=logp, random=random)
        return pm.Potential("score_loglik", pt.sum(weight * pm.logp(dist, y)))

    if "sigma" in noise:
        return observe(
            p,
            noise["sigma"],
            logp=lambda value, p, sigma: normal_logp(value, p, sigma, PYTENSOR),
            random=lambda p, sigma, rng=None, size=None: draw_scores(
                np.broadcast_to(p, size or p.shape), sigma=sigma, rng=rng
            ),
        )
    branch = likelihood_branch(y, n_items)
    cuts = [name for name in ("zero_cutpoint", "one_cutpoint") if noise[name] is not None]

    def logp(value, p, q, precision, gammaln_precision, gammaln_n_precision, *cutpoints):
        given = dict(zip(cuts, cutpoints, strict=True))
        return beta_family_logp(
            value,
            n_items,
            p,
            q,
            precision,
            gammaln_precision,
            **given,
            ops=PYTENSOR,
            branch=branch,
            gammaln_n_precision=gammaln_n_precision,
        )

    def random(p, q, precision, gammaln_precision, _, *cutpoints, rng=None, size=None):
        given = dict(zip(cuts, cutpoints, strict=True))
        mean = np.broadcast_to(p, size or p.shape)
        return draw_scores(mean, precision=precision, n_items=n_items, rng=rng, **given)

    precision = noise["precision"]
    # gammaln(n + precision) depends on the benchmark and the item count only: computed once per
    # pair of them (a few hundred), not per score, with its digamma in the gradient.
    pairs, pair_of = item_count_pairs(bench_idx, n_items)
    per_pair = pt.gammaln(pairs[:, 1] + precision[pairs[:, 0].astype(int)])
    return observe(
        p,
        q,
        precision[bench_idx],
        pt.gammaln(precision)[bench_idx],
        per_pair[pair_of],
        *(noise[name] for name in cuts),
        logp=logp,
        random=random,
    )


def _observe_scores(
    scores, spec, order, measured, difficulty, slope, floor, flat=False, weight=None, fused=True
):
    """The scores ``order`` as the observed ``score``, with the noise parameters they need.

    ``fused``: through `rosetta.model.score_kernel` where it computes this likelihood.
    """
    y, n_items = _observed(scores, order)
    noise = _noise(spec, y, n_items, flat)
    if fused and spec.likelihood == "beta" and measured.fusable:
        return _fused_scores(y, n_items, order, measured, difficulty, slope, floor, noise, weight)
    b = measured.bench_idx[order]
    x = slope[b] * (measured.at(order) - difficulty[b])
    p, q = expected_score(x, floor[b], PYTENSOR)
    return score_distribution(y, n_items, p, q, noise, b, weight)


def _fused_scores(y, n_items, order, measured, difficulty, slope, floor, noise, weight):
    """`score_distribution` of the Beta family through `rosetta.model.score_kernel`'s ops.

    ``score`` is a `pm.CustomDist` over whole parameter vectors (signature ``(m),(c),(b),(b),
    (b),(b),(k)->()``), one entry per score: its log-likelihood is `score_loglik` of the
    observed scores, which it holds as constants.
    """
    if measured.family is None:
        effect, cell = pt.zeros(1), np.zeros(len(measured.model_idx), dtype=int)
    else:
        effect, cell = measured.family
    model_idx, bench_idx, cell = measured.model_idx[order], measured.bench_idx[order], cell[order]
    index, data = score_constants(y, n_items, model_idx, cell, bench_idx)
    cuts = [noise[name] for name in ("zero_cutpoint", "one_cutpoint")]
    ends = np.array([cut is not None for cut in cuts], dtype=np.int64)
    cutpoints = pt.stack([pt.as_tensor(0.0) if cut is None else cut for cut in cuts])
    register_score_kernels()

    def logp(value, *params):
        if not np.array_equal(getattr(value, "data", value), y):
            raise NotImplementedError(
                "the fused score likelihood is that of its observed scores only; "
                "build the model with fused=False to evaluate other values"
            )
        return score_loglik(*map(_core, params), index, data, ends)[0]

    def random(*params, rng, size):
        capability, effect, slope, difficulty, floor, precision, cutpoints = map(_core, params)
        x = slope[bench_idx] * (capability[model_idx] + effect[cell] - difficulty[bench_idx])
        given = {
            name: cut
            for name, cut, used in zip(
                ("zero_cutpoint", "one_cutpoint"), cutpoints, ends, strict=True
            )
            if used
        }
        mean = expected_score(x, floor[bench_idx])[0]
        return draw_scores(mean, precision=precision[bench_idx], n_items=n_items, rng=rng, **given)

    params = (measured.capability, effect, slope, difficulty, floor, noise["precision"], cutpoints)
    signature = "(m),(c),(b),(b),(b),(b),(k)->()"
    if weight is None:
        return pm.CustomDist(
            "score", *params, logp=logp, random=random, signature=signature, observed=y, dims=OBS
        )
    return pm.Potential("score_loglik", pt.sum(weight * logp(y, *params)))


def _core(param):
    """A parameter of `_fused_scores` without the leading length-1 axes PyMC's batch gives it."""
    return param[(0,) * (param.ndim - 1)]


def _observed(scores: pd.DataFrame, rows) -> tuple[np.ndarray, np.ndarray]:
    """Scores and item counts (NaN where unknown) of ``rows``."""
    y = scores["score"].to_numpy(dtype=float)[rows]
    n_items = scores["n_items"].to_numpy(dtype=float, na_value=np.nan)[rows]
    return y, n_items


def _capability(scores, model_idx: np.ndarray, n_models: int):
    """``capability = z / rms(z)``, ``z ~ ZeroSumNormal(1)``: the direction of ``z``.

    The likelihood sees only the direction of ``z``, so its length ``r`` is free to be given any
    distribution without changing the posterior of ``capability``. A potential makes it about
    ``Normal(sqrt(n), RADIAL_SD)``: the mode of ``z`` lies near the unit-RMS sphere (MAP and
    Laplace are well posed, ``z`` is about ``capability``), and the radial direction is about as
    narrow as a capability's posterior. Left at the ``ZeroSumNormal``'s own spread (sd 0.7),
    it was the widest direction of the posterior on tables with many scores per model, which
    a diagonal mass matrix cannot see, and NUTS needed trajectories of hundreds of steps.
    """
    raw = pm.ZeroSumNormal(
        "capability_raw",
        sigma=1.0,
        dims=MODEL,
        initval=_initial_capability(scores, model_idx, n_models),
    )
    radius = pt.sqrt(pt.sum(raw**2))
    # ZeroSumNormal(1) has log density -r^2/2: take it out, put a narrow normal in r in. (With
    # the volume of the n - 1 dimensional shell, r has mode sqrt(n) + RADIAL_SD^2 (n - 2) /
    # sqrt(n) and sd about RADIAL_SD; taking the volume out too would make a pole at r = 0.)
    pm.Potential(
        "capability_radius",
        radius**2 / 2 - 0.5 * ((radius - np.sqrt(n_models)) / RADIAL_SD) ** 2,
    )
    return pm.Deterministic("capability", raw * (np.sqrt(n_models) / radius), dims=MODEL)


def _slope_and_difficulty(scores, spec, model_idx, bench_idx, n_models: int, items: bool):
    """``(log_slope, slope, difficulty)`` per benchmark, centred or not (see the module doc)."""
    prior = spec.priors
    # With items, a benchmark's slope is the typical slope of items that each pin theirs only
    # loosely: its spread over benchmarks forms a funnel unless it is non-centred.
    log_slope = _pooled(
        "log_slope",
        prior["log_slope_mu_mean"],
        prior["log_slope_mu_sd"],
        prior["log_slope_sigma_sd"],
        spec.centred and not items,
    )
    slope = pm.Deterministic("slope", pt.exp(log_slope), dims=BENCHMARK)
    if spec.centred:
        centre = _benchmark_centres(scores, model_idx, bench_idx, n_models)
        difficulty = _difficulty_by_gap(
            prior["difficulty_mu_sd"], prior["difficulty_sigma_sd"], log_slope, slope, centre
        )
    else:
        difficulty = _pooled(
            "difficulty", 0.0, prior["difficulty_mu_sd"], prior["difficulty_sigma_sd"], False
        )
    return log_slope, slope, difficulty


@dataclass(frozen=True)
class _Measured:
    """What the benchmark of each score measures of its model (`at`), and its parts.

    The capability, plus the domain deviation (bifactor), the family effect (``(effect,
    cell)``: the effects with a last 0, and each score's entry in them) and the learned
    dimensions (``(loading, score)``) where present.
    """

    capability: object
    deviation: object
    domain_idx: np.ndarray | None
    family: tuple | None
    dimensions: tuple | None
    model_idx: np.ndarray
    bench_idx: np.ndarray

    def at(self, rows):
        """Per score of ``rows`` (score rows of the table), what its benchmark measures."""
        model_idx, bench_idx = self.model_idx[rows], self.bench_idx[rows]
        out = self.capability[model_idx]
        if self.deviation is not None:
            out = out + self.deviation[model_idx, self.domain_idx[bench_idx]]
        if self.dimensions is not None:
            loading, score = self.dimensions
            out = out + (score[model_idx] * loading[bench_idx]).sum(axis=-1)
        if self.family is not None:
            effect, cell = self.family
            out = out + effect[cell[rows]]
        return out

    @property
    def fusable(self) -> bool:
        """Capability plus a family effect at most: `rosetta.model.score_kernel` computes it."""
        return self.deviation is None and self.dimensions is None


def _noise(spec: MeasurementSpec, y, n_items, flat: bool = False) -> dict:
    """The noise of the scores: ``sigma`` (normal), or ``precision`` and the cutpoints (beta).

    ``flat``: flat variables of the same names (see `likelihood_model`).
    """
    prior = spec.priors
    if spec.likelihood == "normal":
        return {"sigma": pm.Flat("sigma") if flat else pm.HalfNormal("sigma", prior["noise_sd"])}
    counted = np.isfinite(n_items)
    zeros, ones = (~counted & (y <= 0)).any(), (~counted & (y >= 1)).any()
    if flat:
        return {
            "precision": pm.Flat("precision", dims=BENCHMARK),
            "zero_cutpoint": pm.Flat("zero_cutpoint") if zeros else None,
            "one_cutpoint": pm.Flat("one_cutpoint") if ones else None,
        }
    # Non-centred in both forms: where the scores are no noisier than their items' binomial
    # spread (counted scores often are), the data bound each precision only from below, and
    # centred precisions drift up together with their mean, a ridge through every benchmark
    # that NUTS crossed with trajectories of hundreds of steps (a simulated 300 x 200 table).
    # On the bundled data both forms sample alike. The spread is log-normal, not half-normal:
    # with every precision bounded only from below, the data allow any spread down to zero, and
    # trajectories that shrank it pushed the benchmarks whose bound lies above the mean into
    # their bounds (steep: the log-likelihood falls like exp(-log precision) there). On that
    # table both divergent transitions of seed 1 ended at a spread below 0.003.
    log_precision = _pooled(
        "log_precision",
        prior["log_precision_mu_mean"],
        prior["log_precision_mu_sd"],
        prior["log_precision_sigma_median"],
        centred=False,
        sigma_log_sd=prior["log_precision_sigma_log_sd"],
    )
    precision = pm.Deterministic(
        "precision", capped_precision(log_precision, pt.exp), dims=BENCHMARK
    )
    zero, one = _cutpoints(zeros, ones, prior)
    return {"precision": precision, "zero_cutpoint": zero, "one_cutpoint": one}


def _domain_deviations(
    model: pm.Model, table: ScoreTable, spec: MeasurementSpec, capability, flat: bool = False
):
    """Bifactor deviations and each benchmark's column in them (``(None, None)``: one number).

    The deviations come as ``(model, domain + 1)``: a last column of zeros serves the benchmarks
    that measure the general capability only. ``flat``: a flat ``domain_deviation`` (see
    `likelihood_model`).
    """
    mapping = {b: d for b, d in spec.domains if b in set(table.benchmarks)}
    if not mapping:
        return None, None
    names = sorted(set(mapping.values()))
    if len(names) < 2:
        raise ValueError(f"a bifactor model needs at least two domains in the data, got {names}")
    model.add_coord(DOMAIN, names)
    column = {d: k for k, d in enumerate(names)}
    domain_idx = np.array([column.get(mapping.get(b), len(names)) for b in table.benchmarks])
    if flat:
        deviation = pm.Flat("domain_deviation", dims=(MODEL, DOMAIN))
    else:
        sd = pm.HalfNormal("domain_sd", spec.priors["domain_sd_sd"])
        unit = pm.ZeroSumNormal("domain_offset", sigma=1.0, dims=(MODEL, DOMAIN), n_zerosum_axes=2)
        deviation = pm.Deterministic("domain_deviation", sd * unit, dims=(MODEL, DOMAIN))
        pm.Deterministic("domain_capability", capability[:, None] + deviation, dims=(MODEL, DOMAIN))
    padded = pt.concatenate([deviation, pt.zeros((len(table.models), 1))], axis=1)
    return padded, domain_idx


def _learned_dimensions(
    model: pm.Model, spec: MeasurementSpec, capability, flat: bool = False, centred: bool = True
):
    """``(loading, score)`` of the learned dimensions, or ``None`` without them.

    Dims (benchmark, dimension) and (model, dimension); see the module doc. ``flat``: flat
    variables of the same names (see `likelihood_model`); ``centred``: see `build_model`.
    """
    if not spec.dimensions:
        return None
    model.add_coord(DIMENSION, [f"dim{k + 1}" for k in range(spec.dimensions)])
    if flat:
        return (
            pm.Flat("dimension_loading", dims=(BENCHMARK, DIMENSION)),
            pm.Flat("dimension_score", dims=(MODEL, DIMENSION)),
        )
    n_models = len(model.coords[MODEL])
    sd = pm.HalfNormal("dimension_sd", spec.priors["dimension_sd_sd"], initval=_INITIAL_LOADING_SD)
    # Centred for NUTS: on the bundled table (one dimension, 3,600 draws) seeds 2025 and 2026
    # converged (R-hat 1.006, 1.002; min bulk ESS 497, 563; no divergence); non-centred, seed
    # 2026 had 7 divergent transitions. (Today's libraries: centred, seed 2026 has 9, at
    # GSM8K's precision far in its tail; README.)
    if centred:
        z = pm.Normal("dimension_loading_z", 0.0, sd, dims=(BENCHMARK, DIMENSION))
    else:
        unit = pm.Normal("dimension_loading_offset", 0.0, 1.0, dims=(BENCHMARK, DIMENSION))
        z = sd * unit
    weight = model["slope"][:, None] ** 2
    free = spec.priors["dimension_bound"] * pt.tanh(z)
    loading = free - (weight * free).sum(axis=0) / weight.sum()
    loading = pm.Deterministic("dimension_loading", loading, dims=(BENCHMARK, DIMENSION))
    raw = pm.ZeroSumNormal("dimension_score_raw", sigma=1.0, dims=(DIMENSION, MODEL)).T
    score = raw - capability[:, None] * ((capability[:, None] * raw).sum(axis=0) / n_models)
    score = pm.Deterministic("dimension_score", score, dims=(MODEL, DIMENSION))
    return loading, score


def _item_responses(
    model, items: ItemTable, spec, measured, difficulty, log_slope, pair_floor, batch
):
    """Items nested in their benchmarks, and the log-likelihood of the responses.

    ``item_difficulty ~ Normal(difficulty_b, item_difficulty_sd_b)`` and ``log item_slope ~
    Normal(log slope_b, item_log_slope_sd)``: ``difficulty_b`` and ``slope_b`` locate the
    population of the benchmark's items (its reported ones are its item set's, `_item_sets`).
    Difficulties spread differently in each benchmark; one spread of log
    slopes serves all (an item's responses pin its slope only loosely). A response is a
    binomial count of ``correct * attempts`` hits, the benchmark's floor the chance of a guess.
    """
    prior = spec.priors
    index = items.indices
    owners = index["item_benchmark"]
    model.add_coord(ITEM, items.items["label"])
    model.add_coord(ITEM_BENCHMARK, items.item_benchmarks)
    spread_of = items.item_benchmarks.get_indexer(items.items["benchmark"])
    difficulty_sd = pm.HalfNormal(
        "item_difficulty_sd", prior["item_difficulty_sd_sd"], dims=ITEM_BENCHMARK
    )
    log_slope_sd = pm.HalfNormal("item_log_slope_sd", prior["item_log_slope_sd_sd"])
    if spec.centred:
        item_difficulty = pm.Normal(
            "item_difficulty", difficulty[owners], difficulty_sd[spread_of], dims=ITEM
        )
    else:
        offset = pm.Normal("item_difficulty_offset", 0.0, 1.0, dims=ITEM)
        item_difficulty = pm.Deterministic(
            "item_difficulty", difficulty[owners] + difficulty_sd[spread_of] * offset, dims=ITEM
        )
    # Slopes are weakly pinned by an item's responses (a funnel when centred): non-centred.
    slope_offset = pm.Normal("item_log_slope_offset", 0.0, 1.0, dims=ITEM)
    item_log_slope = log_slope[owners] + log_slope_sd * slope_offset
    item_slope = pm.Deterministic("item_slope", pt.exp(item_log_slope), dims=ITEM)
    _item_sets(len(items.item_benchmarks), spread_of, item_difficulty, item_log_slope)

    responses = items.responses
    attempts = responses["attempts"].to_numpy(dtype=float)
    hits = responses["correct"].to_numpy(dtype=float) * attempts
    columns = [index["pair"], index["item"], hits, attempts - hits]
    item_floors = items.table.benchmark_info()["floor"].reindex(items.item_benchmarks)
    zero_floor = spec.floors == "zero" or (spec.floors == "nominal" and not item_floors.any())
    scale = 1.0
    if batch and batch < len(hits):
        columns = pm.Minibatch(*columns, batch_size=int(batch))
        scale = len(hits) / int(batch)
    pair, item, n_hit, n_miss = columns
    x = item_slope[item] * (measured[pair] - item_difficulty[item])
    guess = None if zero_floor else pair_floor[pair]
    loglik = response_logp(n_hit, n_miss, x, guess, PYTENSOR)
    pm.Potential("response_loglik", scale * loglik.sum())


def _item_sets(sets: int, spread_of: np.ndarray, item_difficulty, item_log_slope) -> None:
    """Each item benchmark's items' mean difficulty and mean log slope (dim ``item_benchmark``).

    ``sets`` item benchmarks, ``spread_of`` each item's. A benchmark fitted from its items is
    that set of items: `rosetta.model.anchor_posterior` reports these as its difficulty and
    slope, in place of the location of the population its items are drawn from, which differs
    from them by the item set's sampling error (sd 0.07 for 500 items spread 1.5); anchored on
    that location, every model of a one-benchmark fit moved together off the truth of a
    simulated one. (The set's expected score is the mean of its items' curves, not the one
    logistic at these two numbers.)
    """
    counts = np.bincount(spread_of, minlength=sets).astype(float)
    for name, values in (("difficulty", item_difficulty), ("log_slope", item_log_slope)):
        total = pt.inc_subtensor(pt.zeros(sets)[spread_of], values)
        pm.Deterministic(f"item_set_{name}", total / counts, dims=ITEM_BENCHMARK)


def _family_effects(model: pm.Model, scores, spec: MeasurementSpec, flat: bool = False):
    """``(effect, cell)``: the (family, benchmark) cells' effects with a last 0, and per score.

    Each score's entry in ``effect`` is the last (the 0) for a cell seen once. ``flat``: a flat
    ``family_effect`` (see `likelihood_model`).
    """
    cell, cells = family_cells(scores["model"], scores["benchmark"])
    cell = np.where(cell < 0, len(cells), cell)
    if cells.empty:
        return pt.zeros(1), cell
    model.add_coord(FAMILY_CELL, cells["family"] + " | " + cells["benchmark"])
    if flat:
        effect = pm.Flat("family_effect", dims=FAMILY_CELL)
    else:
        sd = pm.HalfNormal("family_effect_sd", spec.priors["family_effect_sd_sd"])
        offset = pm.Normal("family_effect_offset", 0.0, 1.0, dims=FAMILY_CELL)
        effect = pm.Deterministic("family_effect", sd * offset, dims=FAMILY_CELL)
    return pt.concatenate([effect, pt.zeros(1)]), cell


def _initial_capability(scores, model_idx: np.ndarray, n_models: int) -> np.ndarray:
    """Standardised mean benchmark-centred score per model: a start near the mode, never 0."""
    centred = scores["score"] - scores.groupby("benchmark")["score"].transform("mean")
    start = np.bincount(model_idx, centred, n_models) / np.bincount(model_idx, None, n_models)
    start = start - start.mean()
    spread = start.std()
    if not spread > 0:
        start, spread = np.linspace(-1, 1, n_models), np.linspace(-1, 1, n_models).std()
    return start / spread


def _benchmark_centres(scores, model_idx, bench_idx, n_models: int) -> np.ndarray:
    """Mean starting capability of the models scored on each benchmark (a constant)."""
    start = _initial_capability(scores, model_idx, n_models)[model_idx]
    n_benchmarks = int(bench_idx.max()) + 1
    counts = np.bincount(bench_idx, None, n_benchmarks)
    return np.bincount(bench_idx, start, n_benchmarks) / np.maximum(counts, 1)


def _difficulty_by_gap(mu_sd: float, sigma_sd: float, log_slope, slope, centre: np.ndarray):
    """``difficulty ~ Normal(difficulty_mu, difficulty_sigma)``, sampled through its gap.

    The free variable is ``difficulty_gap = slope * (difficulty - centre)``, the logit of the
    expected score (above the floor) of a model of capability ``centre``, the mean of the models
    the benchmark has seen. The data pin it nearly independently of the slope, whereas for a
    benchmark far from most models (all near the floor or the ceiling) difficulty and slope
    form a curved ridge that NUTS crosses slowly. Same prior on ``difficulty``: its density
    plus the log-Jacobian ``-log slope`` of ``difficulty = centre + gap / slope``.
    """
    mu, sigma = _population("difficulty", 0.0, mu_sd, sigma_sd)
    gap = pm.Flat("difficulty_gap", dims=BENCHMARK)
    difficulty = pm.Deterministic("difficulty", centre + gap / slope, dims=BENCHMARK)
    prior = pm.logp(pm.Normal.dist(mu, sigma), difficulty).sum() - log_slope.sum()
    pm.Potential("difficulty_prior", prior)
    return difficulty


def _pooled(
    name: str,
    mu_mean: float,
    mu_sd: float,
    sigma_scale: float,
    centred: bool = False,
    sigma_log_sd: float | None = None,
):
    """Partial pooling over benchmarks: ``name ~ Normal(mu, sigma)``, centred or not.

    ``sigma_scale`` and ``sigma_log_sd``: the prior of the spread (see `_population`).
    """
    mu, sigma = _population(name, mu_mean, mu_sd, sigma_scale, sigma_log_sd=sigma_log_sd)
    if centred:
        return pm.Normal(name, mu, sigma, dims=BENCHMARK)
    offset = pm.Normal(f"{name}_offset", 0.0, 1.0, dims=BENCHMARK)
    return pm.Deterministic(name, mu + sigma * offset, dims=BENCHMARK)


def _population(name: str, mu_mean, mu_sd, sigma_scale, *, sigma_log_sd=None):
    """``(name_mu, name_sigma)``: the benchmark population, learned from enough benchmarks.

    ``name_mu ~ Normal(mu_mean, mu_sd)``; ``name_sigma ~ HalfNormal(sigma_scale)``, or with
    ``sigma_log_sd`` ``LogNormal(log sigma_scale, sigma_log_sd)`` (median ``sigma_scale``).

    With fewer than `POOLING_MIN_BENCHMARKS` benchmarks (one benchmark's items, say) the data
    cannot tell a population's mean and spread from the benchmarks themselves: learned, they
    form a funnel (the mean pinned to the one benchmark as the spread shrinks) that NUTS
    crosses with divergences. They are then constants, the prior's mean and the sd of a
    benchmark under the hierarchical prior, ``sqrt(mu_sd^2 + E[sigma^2])``: the same prior for
    each benchmark, without the funnel.
    """
    if len(pm.modelcontext(None).coords[BENCHMARK]) >= POOLING_MIN_BENCHMARKS:
        mu = pm.Normal(f"{name}_mu", mu_mean, mu_sd)
        if sigma_log_sd is None:
            return mu, pm.HalfNormal(f"{name}_sigma", sigma_scale)
        return mu, pm.LogNormal(f"{name}_sigma", np.log(sigma_scale), sigma_log_sd)
    spread = sigma_scale if sigma_log_sd is None else sigma_scale * np.exp(sigma_log_sd**2)
    mu = pm.Deterministic(f"{name}_mu", pt.as_tensor(float(mu_mean)))
    return mu, pm.Deterministic(f"{name}_sigma", pt.as_tensor(float(np.hypot(mu_sd, spread))))


def _floor(mode: str, nominal: np.ndarray, logit_sd: float):
    if mode == "zero":
        return pm.Deterministic("floor", pt.zeros(len(nominal)), dims=BENCHMARK)
    if mode == "nominal":
        return pm.Deterministic("floor", pt.as_tensor(nominal), dims=BENCHMARK)
    centre = logit(np.clip(nominal, _FLOOR_EPS, 1 - _FLOOR_EPS))
    offset = pm.Normal("floor_offset", 0.0, 1.0, dims=BENCHMARK)
    return pm.Deterministic("floor", pm.math.sigmoid(centre + logit_sd * offset), dims=BENCHMARK)


def _cutpoints(zeros: bool, ones: bool, prior):
    """Ordered-Beta cutpoints for the ends the data reach (``None`` for the others)."""
    mean0, mean1, sd = (
        prior["zero_cutpoint_mean"],
        prior["one_cutpoint_mean"],
        prior["cutpoint_sd"],
    )
    if zeros and ones:
        cuts = pm.Normal(
            "cutpoints",
            [mean0, mean1],
            sd,
            shape=2,
            transform=pm.distributions.transforms.ordered,
            initval=[mean0, mean1],
        )
        return (
            pm.Deterministic("zero_cutpoint", cuts[0]),
            pm.Deterministic("one_cutpoint", cuts[1]),
        )
    zero = pm.Normal("zero_cutpoint", mean0, sd) if zeros else None
    one = pm.Normal("one_cutpoint", mean1, sd) if ones else None
    return zero, one
