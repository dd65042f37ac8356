"""Synthetic score tables drawn from the measurement model, with the truth that made them.

Used by the tests (parameter recovery, interval calibration) and by later calibration studies.
The generative story, for model m and benchmark b::

    capability_m ~ Normal(capability_mu, capability_sd)
    difficulty_b ~ Normal(difficulty_mu, difficulty_sd)
    slope_b      ~ LogNormal(log(slope_median), slope_log_sd)
    p_mb  = floor_b + (1 - floor_b) * sigmoid(slope_b * (capability_m - difficulty_b))
          (with ``domains``: capability_m + deviation_m,d(b), deviation ~ Normal(0, domain_sd);
           with ``dimensions``: capability_m + sum_k loading_bk * score_mk, see `simulate_scores`)
    score ~ Beta(p * precision_b, (1 - p) * precision_b)    (noise="beta")
          | Binomial(n_items, p) / n_items                  (noise="binomial")
          | Normal(p, noise_sd) clipped to [0, 1]           (noise="normal")

`simulate_items` draws item-level responses instead: items nested in benchmarks, each with its
own difficulty and slope around its benchmark's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from rosetta.constants import DEFAULT_SEED, DIMENSION_BOUND


@dataclass(frozen=True)
class Truth:
    """The parameters a synthetic table was drawn from (on the simulation's raw scale).

    Attributes
    ----------
    capability
        Indexed by model.
    benchmarks
        Indexed by benchmark; columns ``difficulty``, ``slope``, ``floor``, ``precision`` and,
        with domains, ``domain``.
    deviation
        Domain deviations (models x domains) when the table was drawn with domains.
    loading, dimension_score
        Learned-dimension truth (benchmarks x dimensions, models x dimensions) when the table
        was drawn with ``dimensions``.
    items
        Item parameters (``benchmark``, ``item``, ``difficulty``, ``slope``) of item-level data.
    """

    capability: pd.Series
    benchmarks: pd.DataFrame
    deviation: pd.DataFrame | None = None
    items: pd.DataFrame | None = None
    loading: pd.DataFrame | None = None
    dimension_score: pd.DataFrame | None = None

    def on_benchmark_scale(
        self, benchmark: str, difficulty: float = 0.0, slope: float = 1.0
    ) -> Truth:
        """The same truth with ``benchmark`` placed at ``difficulty`` and ``slope``."""
        stretch = self.benchmarks.loc[benchmark, "slope"] / slope
        shift = difficulty - stretch * self.benchmarks.loc[benchmark, "difficulty"]
        bench = self.benchmarks.copy()
        bench["difficulty"] = shift + stretch * bench["difficulty"]
        bench["slope"] = bench["slope"] / stretch
        deviation = None if self.deviation is None else stretch * self.deviation
        items = None
        if self.items is not None:
            items = self.items.assign(
                difficulty=shift + stretch * self.items["difficulty"],
                slope=self.items["slope"] / stretch,
            )
        return Truth(
            capability=shift + stretch * self.capability,
            benchmarks=bench,
            deviation=deviation,
            items=items,
            loading=None if self.loading is None else stretch * self.loading,
            dimension_score=self.dimension_score,
        )


def simulate_scores(
    n_models: int = 40,
    n_benchmarks: int = 15,
    *,
    observed_fraction: float = 0.5,
    floors: float | np.ndarray = 0.0,
    noise: str = "beta",
    precision: float = 60.0,
    noise_sd: float = 0.05,
    n_items: int | None = None,
    capability_mu: float = 0.0,
    capability_sd: float = 1.0,
    difficulty_mu: float = 0.0,
    difficulty_sd: float = 1.0,
    slope_median: float = 1.5,
    slope_log_sd: float = 0.4,
    capability: np.ndarray | None = None,
    dates=None,
    domains: int = 0,
    domain_sd: float = 0.5,
    dimensions: int = 0,
    dimension_sd: float = 1.0,
    random_seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> tuple[pd.DataFrame, Truth]:
    """Draw a sparse long score table from known parameters.

    Every model is observed on at least two benchmarks and every benchmark on at least two
    models, along a chain that keeps the model-benchmark graph connected.

    Parameters
    ----------
    n_models, n_benchmarks
        Table size; models are named ``m000``..., benchmarks ``b00``....
    observed_fraction
        Share of (model, benchmark) pairs observed (before the connectivity chain is added).
    floors
        Chance score per benchmark (a scalar or one value per benchmark).
    noise
        ``"beta"``, ``"binomial"`` (needs ``n_items``) or ``"normal"``.
    precision
        Beta precision (``noise="beta"``), the same for every benchmark.
    noise_sd
        Standard deviation of ``noise="normal"``.
    n_items
        Items per benchmark; also written to an ``n_items`` column when given.
    capability_mu, capability_sd, difficulty_mu, difficulty_sd, slope_median, slope_log_sd
        Population distributions of the parameters.
    capability
        The models' true capabilities (``n_models`` values) instead of population draws, e.g. a
        trend over release dates.
    dates
        Release date per model, written to a ``date`` column.
    domains, domain_sd
        Bifactor truth: benchmark ``j`` belongs to domain ``d{j % domains}`` and measures the
        capability plus the model's deviation there, ``Normal(0, domain_sd)``. ``0``: none.
    dimensions, dimension_sd
        Multidimensional truth: each benchmark measures the capability plus ``sum_k
        loading_bk * score_mk`` with loadings ``0.5 tanh(Normal(0, dimension_sd))`` less their
        slope-squared-weighted mean and standard-normal scores uncorrelated with the capability
        (the prior and identification of ``MeasurementSpec(dimensions=K)``). ``0``: none.
    random_seed
        Seed or generator; the same seed gives the same table.

    Returns
    -------
    table, truth
        Long frame (``model``, ``benchmark``, ``score``, ``floor`` [, ``n_items``]) and the
        `Truth`.

    Examples
    --------
    >>> table, truth = simulate_scores(10, 4, random_seed=1)
    >>> sorted(table.columns)
    ['benchmark', 'floor', 'model', 'score']
    """
    _check_size_and_noise(n_models, n_benchmarks, observed_fraction, noise, n_items)
    rng = np.random.default_rng(random_seed)
    models = [f"m{i:03d}" for i in range(n_models)]
    benchmarks = [f"b{j:02d}" for j in range(n_benchmarks)]
    if capability is None:
        capability = rng.normal(capability_mu, capability_sd, n_models)
    capability = np.asarray(capability, dtype=float)
    if capability.shape != (n_models,):
        raise ValueError(f"capability needs {n_models} values, got shape {capability.shape}")
    difficulty = rng.normal(difficulty_mu, difficulty_sd, n_benchmarks)
    slope = np.exp(rng.normal(np.log(slope_median), slope_log_sd, n_benchmarks))
    floor = np.broadcast_to(np.asarray(floors, dtype=float), (n_benchmarks,)).copy()

    rows, cols = _observed_pairs(rng, n_models, n_benchmarks, observed_fraction)

    deviation = _deviations(rng, n_models, domains, domain_sd, models) if domains else None
    loading, dimension_score = (
        _dimensions(rng, capability, slope, dimensions, dimension_sd, models, benchmarks)
        if dimensions
        else (None, None)
    )
    measured = _measured(capability, rows, cols, deviation, loading, dimension_score)
    p = floor[cols] + (1 - floor[cols]) * expit(slope[cols] * (measured - difficulty[cols]))
    score = _noisy(rng, p, noise, precision, n_items, noise_sd)

    table = pd.DataFrame(
        {
            "model": np.array(models)[rows],
            "benchmark": np.array(benchmarks)[cols],
            "score": score,
            "floor": floor[cols],
        }
    )
    if n_items:
        table["n_items"] = n_items
    if dates is not None:
        table["date"] = _model_dates(dates, n_models)[rows]
    truth = Truth(
        capability=pd.Series(capability, index=pd.Index(models, name="model"), name="capability"),
        benchmarks=pd.DataFrame(
            {
                "difficulty": difficulty,
                "slope": slope,
                "floor": floor,
                "precision": np.full(n_benchmarks, precision),
            },
            index=pd.Index(benchmarks, name="benchmark"),
        ),
        deviation=deviation,
        loading=loading,
        dimension_score=dimension_score,
    )
    if domains:
        truth.benchmarks["domain"] = [f"d{j % domains}" for j in range(n_benchmarks)]
    return table, truth


def _measured(capability, rows, cols, deviation, loading, dimension_score) -> np.ndarray:
    """What benchmark ``cols[i]`` measures of model ``rows[i]``: capability, deviation, dims."""
    measured = capability[rows]
    if deviation is not None:
        measured = measured + deviation.to_numpy()[rows, cols % deviation.shape[1]]
    if loading is not None:
        pairs = dimension_score.to_numpy()[rows] * loading.to_numpy()[cols]
        measured = measured + pairs.sum(axis=1)
    return measured


def _deviations(rng, n_models, domains, domain_sd, models) -> pd.DataFrame:
    """Domain deviations ``Normal(0, domain_sd)`` (models x domains ``d0``, ``d1``, ...)."""
    return pd.DataFrame(
        rng.normal(0.0, domain_sd, (n_models, domains)),
        index=pd.Index(models, name="model"),
        columns=pd.Index([f"d{k}" for k in range(domains)], name="domain"),
    )


def _dimensions(rng, capability, slope, k, sd, models, benchmarks):
    """Loadings and scores identified as in ``MeasurementSpec(dimensions=K)``.

    ``sum_b slope_b^2 loading_bk = 0``; scores centred and uncorrelated with the capability.
    """
    names = pd.Index([f"dim{j + 1}" for j in range(k)], name="dimension")
    loading = DIMENSION_BOUND * np.tanh(rng.normal(0.0, sd, (len(slope), k)))
    weight = slope[:, None] ** 2
    loading -= (weight * loading).sum(axis=0) / weight.sum()
    score = rng.normal(0.0, 1.0, (len(capability), k))
    centred = capability - capability.mean()
    score -= score.mean(axis=0)
    score -= np.outer(centred, centred @ score) / max(centred @ centred, 1e-12)
    return (
        pd.DataFrame(loading, index=pd.Index(benchmarks, name="benchmark"), columns=names),
        pd.DataFrame(score, index=pd.Index(models, name="model"), columns=names),
    )


def _model_dates(dates, n_models: int) -> pd.DatetimeIndex:
    dates = pd.DatetimeIndex(dates)
    if len(dates) != n_models:
        raise ValueError(f"dates needs {n_models} values, got {len(dates)}")
    return dates


def _check_size_and_noise(n_models, n_benchmarks, observed_fraction, noise, n_items) -> None:
    if n_models < 2 or n_benchmarks < 2:
        raise ValueError("simulate at least 2 models and 2 benchmarks")
    if not 0 < observed_fraction <= 1:
        raise ValueError(f"observed_fraction must be in (0, 1], got {observed_fraction}")
    if noise not in ("beta", "binomial", "normal"):
        raise ValueError(f"noise must be 'beta', 'binomial' or 'normal', got {noise!r}")
    if noise == "binomial" and not n_items:
        raise ValueError("noise='binomial' needs n_items")


def _noisy(rng, p: np.ndarray, noise: str, precision: float, n_items, noise_sd: float):
    """Observed scores around expected scores ``p`` under the ``noise`` model."""
    if noise == "beta":
        return rng.beta(p * precision, (1 - p) * precision)
    if noise == "binomial":
        return rng.binomial(n_items, p) / n_items
    return np.clip(rng.normal(p, noise_sd), 0.0, 1.0)


def _observed_pairs(rng, n_models: int, n_benchmarks: int, fraction: float):
    """Rows and columns of the observed (model, benchmark) pairs, along a connecting chain."""
    observed = rng.random((n_models, n_benchmarks)) < fraction
    for i in range(n_models):  # a connected chain: model i sees benchmarks i and i+1 (cyclic)
        observed[i, i % n_benchmarks] = observed[i, (i + 1) % n_benchmarks] = True
    for j in range(n_benchmarks):
        observed[j % n_models, j] = observed[(j + 1) % n_models, j] = True
    return np.nonzero(observed)


def simulate_items(
    n_models: int = 40,
    n_benchmarks: int = 8,
    items_per_benchmark: int = 30,
    *,
    observed_fraction: float = 1.0,
    floors: float | np.ndarray = 0.0,
    attempts: int = 1,
    item_difficulty_sd: float = 1.0,
    item_log_slope_sd: float = 0.3,
    difficulty_mean: float = 0.0,
    difficulty_sd: float = 1.0,
    slope_median: float = 1.5,
    slope_log_sd: float = 0.3,
    random_seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> tuple[pd.DataFrame, Truth]:
    """Draw item-level responses from the item model, items nested in benchmarks.

    ``capability_m ~ Normal(0, 1)``; per benchmark ``difficulty_b ~ Normal(difficulty_mean,
    difficulty_sd)``,
    ``log slope_b ~ Normal(log slope_median, slope_log_sd)``; per item ``difficulty_i ~
    Normal(difficulty_b, item_difficulty_sd)``, ``log slope_i ~ Normal(log slope_b,
    item_log_slope_sd)``; a model evaluated on a benchmark answers all its items, ``correct ~
    Binomial(attempts, floor + (1 - floor) sigmoid(slope_i (capability_m - difficulty_i))) /
    attempts``.

    Parameters
    ----------
    n_models, n_benchmarks, items_per_benchmark
        Sizes; models ``m000``..., benchmarks ``b00``..., items ``q000``... within each benchmark.
    observed_fraction
        Share of (model, benchmark) pairs evaluated (1: all), along a chain that keeps the graph
        connected.
    floors
        Chance score per benchmark (a scalar or one value per benchmark).
    attempts
        Attempts per response (1: 0/1 answers; more: ``correct`` is a fraction).
    random_seed
        Seed or generator; the same seed gives the same responses.

    Returns
    -------
    responses, truth
        Long frame (``model``, ``benchmark``, ``item``, ``correct``, ``floor`` [, ``attempts``])
        and the `Truth`, whose ``items`` holds each item's ``difficulty`` and ``slope``. A
        benchmark's ``difficulty`` and ``slope`` there are those of its drawn items (their mean
        difficulty and geometric-mean slope), as a fit reports them, not ``difficulty_b`` and
        ``slope_b`` of the population they were drawn from.

    Examples
    --------
    >>> responses, truth = simulate_items(5, 2, 3, random_seed=1)
    >>> len(responses), sorted(truth.items.columns)
    (30, ['benchmark', 'difficulty', 'item', 'slope'])
    """
    if n_models < 2 or n_benchmarks < 1 or items_per_benchmark < 1:
        raise ValueError("simulate at least 2 models, 1 benchmark and 1 item per benchmark")
    if not 0 < observed_fraction <= 1:
        raise ValueError(f"observed_fraction must be in (0, 1], got {observed_fraction}")
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    rng = np.random.default_rng(random_seed)
    capability = rng.normal(0.0, 1.0, n_models)
    difficulty = rng.normal(difficulty_mean, difficulty_sd, n_benchmarks)
    log_slope = rng.normal(np.log(slope_median), slope_log_sd, n_benchmarks)
    floor = np.broadcast_to(np.asarray(floors, dtype=float), (n_benchmarks,)).copy()
    shape = (n_benchmarks, items_per_benchmark)
    item_difficulty = difficulty[:, None] + rng.normal(0.0, item_difficulty_sd, shape)
    item_slope = np.exp(log_slope[:, None] + rng.normal(0.0, item_log_slope_sd, shape))

    rows, cols = _observed_pairs(rng, n_models, n_benchmarks, observed_fraction)
    pair_model = np.repeat(rows, items_per_benchmark)
    pair_bench = np.repeat(cols, items_per_benchmark)
    item = np.tile(np.arange(items_per_benchmark), len(rows))
    x = item_slope[pair_bench, item] * (capability[pair_model] - item_difficulty[pair_bench, item])
    p = floor[pair_bench] + (1 - floor[pair_bench]) * expit(x)
    hits = rng.binomial(attempts, p)

    models = np.array([f"m{i:03d}" for i in range(n_models)])
    benchmarks = np.array([f"b{j:02d}" for j in range(n_benchmarks)])
    names = np.array([f"q{k:03d}" for k in range(items_per_benchmark)])
    responses = pd.DataFrame(
        {
            "model": models[pair_model],
            "benchmark": benchmarks[pair_bench],
            "item": names[item],
            "correct": hits / attempts if attempts > 1 else hits,
            "floor": floor[pair_bench],
        }
    )
    if attempts > 1:
        responses["attempts"] = attempts
    truth = Truth(
        capability=pd.Series(capability, index=pd.Index(models, name="model"), name="capability"),
        benchmarks=pd.DataFrame(
            {
                "difficulty": item_difficulty.mean(axis=1),
                "slope": np.exp(np.log(item_slope).mean(axis=1)),
                "floor": floor,
            },
            index=pd.Index(benchmarks, name="benchmark"),
        ),
        items=pd.DataFrame(
            {
                "benchmark": np.repeat(benchmarks, items_per_benchmark),
                "item": np.tile(names, n_benchmarks),
                "difficulty": item_difficulty.ravel(),
                "slope": item_slope.ravel(),
            }
        ),
    )
    return responses, truth


@dataclass(frozen=True)
class ProgressTruth:
    """The truth behind `simulate_progress`: capabilities, families and the two rates.

    Attributes
    ----------
    scores
        The `Truth` of the score table (capabilities and benchmark parameters).
    models
        Indexed by model: ``family``, ``date``, ``compute``.
    k
        Population mean of the families' capability per factor 10 of training compute (raw
        scale); ``models["k"]`` holds each family's own.
    b_growth
        Growth per year of capability at fixed compute (raw scale).
    growth
        Growth per year of the capability of all models, compute growth included (raw scale).
    """

    scores: Truth
    models: pd.DataFrame
    k: float
    b_growth: float
    growth: float

    @property
    def efficiency_gain(self) -> float:
        """Compute-equivalent efficiency gain per year, ``10 ** (b_growth / k)`` (scale-free)."""
        return float(10 ** (self.b_growth / self.k))

    def growth_on(self, benchmark: str, slope: float = 1.0) -> float:
        """The all-models growth per year on the scale that puts ``benchmark`` at ``slope``."""
        return self.growth * self.scores.benchmarks.loc[benchmark, "slope"] / slope

    def k_on(self, benchmark: str, slope: float = 1.0) -> float:
        """The mean compute slope ``k`` on the scale that puts ``benchmark`` at ``slope``."""
        return self.k * self.scores.benchmarks.loc[benchmark, "slope"] / slope


def simulate_progress(
    n_families: int = 12,
    sizes_per_family: int = 3,
    n_single: int = 20,
    n_benchmarks: int = 12,
    *,
    k: float = 0.7,
    k_sd: float = 0.0,
    b_growth: float = 0.3,
    compute_growth: float = 0.5,
    start: str = "2023-01-01",
    years: float = 3.0,
    family_sd: float = 0.15,
    residual_sd: float = 0.15,
    observed_fraction: float = 0.4,
    random_seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> tuple[pd.DataFrame, ProgressTruth]:
    """A score table whose models follow ``capability = k log10(compute) + b(date)``.

    Families release ``sizes_per_family`` models on one date, a factor 5 of compute apart, with a
    shared family effect and their own compute slope ``k_f ~ Normal(k, k_sd)``; ``n_single``
    more models stand alone (each its own family). Log-compute itself grows by
    ``compute_growth`` per year, so compute and date are confounded as in real data.

    Returns
    -------
    table, truth
        Long frame with ``date`` and ``compute`` columns, and the `ProgressTruth`.
    """
    rng = np.random.default_rng(random_seed)
    family_t = rng.uniform(0, years, n_families)
    t = np.concatenate([np.repeat(family_t, sizes_per_family), rng.uniform(0, years, n_single)])
    family = [f"f{i:02d}" for i in range(n_families) for _ in range(sizes_per_family)]
    family += [f"single{i:02d}" for i in range(n_single)]
    base = 23.5 + compute_growth * t + rng.normal(0, 0.4, len(t))
    size_step = np.tile(np.log10(5.0) * np.arange(sizes_per_family), n_families)
    family_base = np.repeat(
        base[: n_families * sizes_per_family : sizes_per_family], sizes_per_family
    )
    log_c = np.concatenate([family_base + size_step, base[n_families * sizes_per_family :]])
    effect = pd.Series(rng.normal(0, family_sd, len(set(family))), index=sorted(set(family)))
    # No draw when k_sd is 0, so a seed gives the same world as before family slopes existed.
    slopes = rng.normal(k, k_sd, len(effect)) if k_sd > 0 else np.full(len(effect), k)
    slope = pd.Series(slopes, index=effect.index)
    capability = (
        slope[family].to_numpy() * (log_c - 24.0)
        + b_growth * t
        + effect[family].to_numpy()
        + rng.normal(0, residual_sd, len(t))
    )
    dates = pd.Timestamp(start) + pd.to_timedelta(np.round(t * 365.25), "D")
    frame, truth = simulate_scores(
        len(t),
        n_benchmarks,
        observed_fraction=observed_fraction,
        capability=capability,
        dates=dates,
        difficulty_mu=float(capability.mean()),
        difficulty_sd=float(capability.std()),
        random_seed=rng,
    )
    models = pd.DataFrame(
        {"family": family, "date": dates, "compute": 10**log_c, "k": slope[family].to_numpy()},
        index=truth.capability.index,
    )
    frame["compute"] = frame["model"].map(models["compute"])
    return frame, ProgressTruth(
        scores=truth,
        models=models,
        k=k,
        b_growth=b_growth,
        growth=b_growth + k * compute_growth,
    )


@dataclass(frozen=True)
class WorldTruth:
    """The truth behind `simulate_world`: the capability trajectory and what was drawn from it.

    Attributes
    ----------
    scores
        The `Truth` of the score table (capabilities and benchmark parameters, raw scale).
    models, benchmarks
        Release ``date`` of every model and benchmark drawn (also those left with no score).
    growth
        Growth per year of the trend before the onset (raw scale).
    factor
        The trend grows ``factor`` times faster from ``onset`` on (1: no acceleration).
    onset
        The date the acceleration starts.
    """

    scores: Truth
    models: pd.DataFrame
    benchmarks: pd.DataFrame
    growth: float
    factor: float
    onset: pd.Timestamp

    def trend(self, dates) -> np.ndarray:
        """The true trend capability on ``dates`` (raw scale)."""
        from rosetta.trends import years_since

        years = years_since(dates, self.onset)
        return self.growth * np.where(years < 0, years, self.factor * years)


#: Benchmark release rules of `simulate_world` and the parameters each brings.
#:
#: ``reference``: the synthetic worlds of Ho et al. (2025) as used so far: a benchmark is
#: released ``difficulty_lead`` above the *trend* of its day, at a slow growth (0.25 a year)
#: that keeps those benchmarks informative after a speed-up.
#: ``tracking``: benchmarks are released at the *frontier* of their day (the most capable model
#: released so far, accelerated or not) plus a lead, as benchmark makers do, so progress can run
#: at the real pace. Matched to the bundled Epoch table (`benchmarks/world_realism.py`): growth
#: over the spread of models around the trend 2.5 a year (bundled: 2.25); a benchmark's 50%
#: point a median 0.6 years of progress above the frontier at its release, spread (sd) 0.9
#: years (bundled: 0.61, IQR -0.24 to 1.02 years, 23 benchmarks released within the models'
#: span); slopes 1.25 logits a year of progress at the median, 0.65-1.85 from the 10th to the
#: 90th percentile (bundled: 1.08, 0.56-2.5).
WORLD_DESIGNS = {
    "reference": {
        "growth": 0.25,
        "difficulty_lead": 0.5,
        "difficulty_sd": 0.2,
        "slope_range": (3.0, 10.0),
    },
    "tracking": {
        "growth": 0.5,
        "difficulty_lead": 0.3,
        "difficulty_sd": 0.45,
        "slope_range": (1.0, 4.0),
    },
}


def simulate_world(
    *,
    benchmarks: str = "tracking",
    start: str = "2024-01-01",
    end: str = "2031-01-01",
    models_per_year: float = 30.0,
    benchmarks_per_year: float = 10.0,
    growth: float | None = None,
    factor: float = 1.0,
    onset: str = "2027-01-01",
    capability_sd: float = 0.2,
    difficulty_sd: float | None = None,
    difficulty_lead: float | None = None,
    slope_range: tuple[float, float] | None = None,
    observed_fraction: float = 0.25,
    noise_sd: float = 0.025,
    observable: tuple[float, float] = (0.05, 0.95),
    random_seed: int | np.random.Generator | None = DEFAULT_SEED,
) -> tuple[pd.DataFrame, WorldTruth]:
    """Models and benchmarks released over time, with an optional speed-up of progress.

    Both designs follow the synthetic worlds of Ho et al. (2025) in their sparsity and noise:
    2024-2030, about 30 models and 10 benchmarks a year, a quarter of the model-benchmark pairs
    evaluated, only scores inside (0.05, 0.95) kept, score noise 0.025, models scattered around
    the trend with sd 0.2, and the trend growing ``factor`` times faster from 2027 on. The
    trend is ``growth * years`` before the onset (0 at the onset). Benchmarks start a year
    before the models, so the first models have some in their range; a score is dated when
    both the model and the benchmark exist (the later release).

    ``benchmarks`` picks the release rule and its defaults for ``growth``, ``difficulty_lead``,
    ``difficulty_sd`` and ``slope_range`` (`WORLD_DESIGNS`; an argument given overrides it):
    ``"tracking"`` releases a benchmark ``difficulty_lead`` above the frontier of its day (the
    best model released so far; the trend before the first model), ``"reference"`` above the
    trend. The growth rates, leads and early benchmarks are our choices, not the study's.

    Returns
    -------
    table, truth
        Long frame (``model``, ``benchmark``, ``score``, ``floor``, ``date`` of the model,
        ``reported``: the day the score could first be reported) and the `WorldTruth`.
    """
    if benchmarks not in WORLD_DESIGNS:
        raise ValueError(f"benchmarks must be one of {sorted(WORLD_DESIGNS)}, got {benchmarks!r}")
    design = WORLD_DESIGNS[benchmarks]
    growth = design["growth"] if growth is None else growth
    difficulty_lead = design["difficulty_lead"] if difficulty_lead is None else difficulty_lead
    difficulty_sd = design["difficulty_sd"] if difficulty_sd is None else difficulty_sd
    slope_range = design["slope_range"] if slope_range is None else slope_range
    rng = np.random.default_rng(random_seed)
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    span = (last - first).days
    n_models = rng.poisson(models_per_year * span / 365.25)
    model_dates = first + pd.to_timedelta(np.sort(rng.integers(0, span, n_models)), "D")
    # Benchmarks start a year early, so the first models have benchmarks in their range.
    n_benchmarks = rng.poisson(benchmarks_per_year * (span + 365.25) / 365.25)
    bench_days = np.sort(rng.integers(-365, span, n_benchmarks))
    bench_dates = first + pd.to_timedelta(bench_days, "D")
    truth_world = WorldTruth(None, None, None, growth, factor, pd.Timestamp(onset))
    capability = truth_world.trend(model_dates) + rng.normal(0, capability_sd, n_models)
    if benchmarks == "tracking":
        level = _frontier_at(bench_dates, model_dates, capability, truth_world.trend(bench_dates))
    else:
        level = truth_world.trend(bench_dates)
    difficulty = level + difficulty_lead + rng.normal(0, difficulty_sd, n_benchmarks)
    slope = rng.uniform(*slope_range, n_benchmarks)

    rows, cols = np.nonzero(rng.random((n_models, n_benchmarks)) < observed_fraction)
    p = expit(slope[cols] * (capability[rows] - difficulty[cols]))
    score = p + rng.normal(0, noise_sd, len(p))
    keep = (score > observable[0]) & (score < observable[1])
    rows, cols, score = rows[keep], cols[keep], score[keep]

    models = pd.Index([f"m{i:03d}" for i in range(n_models)], name="model")
    names = pd.Index([f"b{j:02d}" for j in range(n_benchmarks)], name="benchmark")
    table = pd.DataFrame(
        {
            "model": models[rows],
            "benchmark": names[cols],
            "score": score,
            "floor": 0.0,
            "date": model_dates[rows],
            "reported": np.maximum(model_dates[rows], bench_dates[cols]),
        }
    )
    truth = Truth(
        capability=pd.Series(capability, index=models, name="capability"),
        benchmarks=pd.DataFrame(
            {"difficulty": difficulty, "slope": slope, "floor": 0.0, "precision": np.nan},
            index=names,
        ),
    )
    return table, WorldTruth(
        scores=truth,
        models=pd.DataFrame({"date": model_dates}, index=models),
        benchmarks=pd.DataFrame({"date": bench_dates}, index=names),
        growth=growth,
        factor=factor,
        onset=pd.Timestamp(onset),
    )


def _frontier_at(dates, model_dates, capability, trend) -> np.ndarray:
    """The best capability among models released before each date (``trend`` before any)."""
    best = np.maximum.accumulate(capability)  # model_dates are sorted
    released = np.searchsorted(model_dates.to_numpy(), dates.to_numpy(), side="left")
    return np.where(released > 0, best[np.maximum(released - 1, 0)], trend)
