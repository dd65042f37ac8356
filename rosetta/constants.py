"""Project-wide defaults and names: every default lives here, never inside a function."""

from typing import Final

#: Probability mass of every reported interval (5% and 95% quantiles).
CI_PROB: Final = 0.90

#: Seed used when the caller gives none, so that two runs agree.
DEFAULT_SEED: Final = 2025

# Dimension names: singular nouns equal to the table columns.
MODEL: Final = "model"
BENCHMARK: Final = "benchmark"
OBS: Final = "obs"
DOMAIN: Final = "domain"
FAMILY_CELL: Final = "family_cell"
#: Learned dimensions of the multidimensional model (`MeasurementSpec(dimensions=K)`).
DIMENSION: Final = "dimension"
#: Learned dimensions: no benchmark measures one more than this share of the general capability.
DIMENSION_BOUND: Final = 0.5
ITEM: Final = "item"
#: Benchmarks with item-level data (the dim of the item-spread hyperparameters).
ITEM_BENCHMARK: Final = "item_benchmark"

#: Columns of the tidy score table, in canonical order.
SCORE_COLUMNS: Final = (
    "model",
    "benchmark",
    "score",
    "floor",
    "n_items",
    "stderr",
    "date",
    "compute",
    "compute_source",
    "distilled",
    "source",
)
#: Columns a user table must have (long layout).
REQUIRED_COLUMNS: Final = ("model", "benchmark", "score")
#: Optional user columns understood by the reader.
OPTIONAL_COLUMNS: Final = (
    "date",
    "compute",
    "parameters",
    "training_tokens",
    "floor",
    "n_items",
    "stderr",
    "distilled",
    "source",
)

#: How repeated (model, benchmark) pairs are merged.
DUPLICATE_POLICIES: Final = ("max", "mean", "latest", "error")
#: The reference analysis (Ho et al. 2025) keeps the best score of a pair.
DEFAULT_DUPLICATES: Final = "max"

#: Benchmarks seen by fewer models are dropped (with a count): one model links nothing.
DEFAULT_MIN_MODELS: Final = 2

#: Filters of the reference analysis (Ho et al. 2025); options, not defaults of the library.
REFERENCE_MIN_BENCHMARKS: Final = 4
REFERENCE_SINCE: Final = "2022-11-01"

#: At most this many problems are listed in one validation message.
MAX_LISTED_PROBLEMS: Final = 10

# Convergence thresholds reported after every fit.
RHAT_MAX: Final = 1.01
ESS_MIN: Final = 400

# Choices of the measurement model and its inference (kept here so the CLI needs no PyMC).
LIKELIHOODS: Final = ("beta", "normal")
FLOOR_MODES: Final = ("nominal", "zero", "learned")
#: Variants of one model share a (family, benchmark) effect (see `rosetta.families`).
DEFAULT_FAMILY_EFFECTS: Final = True
METHODS: Final = ("nuts", "map", "advi")
SAMPLERS: Final = ("auto", "nutpie", "numpyro", "pymc")

# NUTS defaults: two chains suit a 2-core laptop (PyMC's own default there is two chains).
DEFAULT_CHAINS: Final = 2
#: Warm-up steps per chain. With trees capped at `NUTS_MAXDEPTH`, 300 steps cost half the
#: gradients of 600 (bundled table 32-40k against 61-78k; 300 x 200 table 24-27k against 50k),
#: and every one of seeds 2025-2029 (bundled) and 1-3 (300 x 200) converged with no divergence,
#: one of them (2028) after sampling on to 2,600 draws (`benchmarks/sampler_work.py`). 200 steps
#: saved 4% of the gradients over seeds 2025-2034 (1.18M against 1.23M) but three of the ten
#: seeds sampled on to 1,800 draws (none beyond 1,600 with 300).
DEFAULT_TUNE: Final = 300
#: Draws per chain planned by default (PyMC's and Stan's default), sampling on to the first
#: converged checkpoint when they fall short (`MAX_DRAWS_FACTOR`). On the bundled table, seeds
#: 2025-2029 stop at 1,000-1,400 draws with min bulk ESS 417-512 (1,800 draws had given 545-727),
#: and their posterior means are no further from those of the other four seeds' 3,600 draws
#: than their ESS claims (sd of the standardised error 0.93, 0.86 over each seed's lowest-ESS
#: tenth; 0.96 and 0.86 at 1,800 draws): the 26% fewer gradients cost no honesty.
DEFAULT_DRAWS: Final = 1000
#: ... with learned dimensions or domains, which mix more slowly (one dimension converged at
#: 2,000-2,200 draws on the README's table, within the limit of twice this).
FACTOR_DRAWS: Final = 1800
#: Validation's folds sample at most this many draws per chain by default, stopping sooner once
#: their held-out predictions converge (`rosetta.validation`).
FOLD_DRAWS: Final = 1800
#: NUTS trajectories have at most 2**this - 1 leapfrog steps (nutpie's and Stan's default: 10).
#: The one-number model samples at 31 (never above 63: bundled and 300 x 200 tables, one
#: benchmark's items), so the cap never binds in sampling; it trims the first warm-up steps,
#: whose trees, before the mass matrix adapts, ran to 1,023 steps. On the bundled table, seeds
#: 2025-2034, depth 7 took 30,100 warm-up gradients a fit against 35,200 at depth 8 (1.14M
#: gradients in all against 1.22M), every seed converged with no divergence; depth 6 (23,700)
#: left one divergent transition on seed 2026 (`benchmarks/sampler_work.py --maxdepth`).
NUTS_MAXDEPTH: Final = 7
#: nutpie's low-rank mass matrix keeps the directions of posterior variance more than this
#: factor from its diagonal's. nutpie's default, 2, keeps ~155 of the bundled table's 538
#: directions, and with a gradient of ~105 us each leapfrog step then cost 156 us in sampling
#: (292 us in warm-up, where the directions are re-estimated); 10 keeps the 3-5 strongest (old
#: against new benchmarks, linked through few models) at 89 us a step (226 in warm-up), a
#: diagonal mass matrix 82 us (101). Over seeds 2025-2034 (`benchmarks/sampler_work.py
#: --eigval-cutoff`), 10 sampled 19% more gradients to the stop than 2 (1.05M against 0.88M; 5:
#: 0.97M), every seed converged with no divergence, and two chains sampled to the limit in 13.0 s
#: against 17.5 s (medians). A diagonal mass matrix left seed 2025 unconverged at 2,000 draws
#: (R-hat 1.013, bulk ESS 243).
NUTS_EIGVAL_CUTOFF: Final = 10.0
#: nutpie's own cutoff, kept by models with learned dimensions or domains (not re-measured with
#: the cheaper gradient) and by models of fewer than `SMALL_MODEL_PARAMETERS` free parameters,
#: where a step's low-rank cost is a few microseconds: on the tiny test table's folds (25 models
#: x 6 benchmarks, ~50 scores each, ~70 parameters; seeds 1-4), 10 left 30 divergent
#: transitions in 12 fits, 8 of them with some, against 7 in 6 with 2.
NUTPIE_EIGVAL_CUTOFF: Final = 2.0
SMALL_MODEL_PARAMETERS: Final = 200
#: Models with learned dimensions or domains keep 600 warm-up steps and depth 10: one dimension
#: samples at 63-127 steps per draw, and on the bundled table seed 2025 had two divergent
#: transitions after 300 steps at depth 8 and two after 600 at depth 8, none after 600 at depth
#: 10 (nor had seed 2026; seed 2027 had one).
FACTOR_TUNE: Final = 600
FACTOR_MAXDEPTH: Final = 10
#: Posterior-predictive draws stored with a fit (evenly thinned over each chain): enough for
#: predictive intervals and checks, while the file grows with the parameters, not scores x draws.
#: ``rosetta fit --full-predictive`` keeps one per posterior draw.
PREDICTIVE_DRAWS: Final = 500
#: ... but by default no more than this many values (draws x scores) in all, and never fewer than
#: `PREDICTIVE_MIN_DRAWS` draws: a table of 14,000 scores keeps 285 draws (16 MB), not 500.
PREDICTIVE_VALUES: Final = 4_000_000
PREDICTIVE_MIN_DRAWS: Final = 100
#: NUTS's target acceptance rate. On the bundled table the fit's length is set by its weakest
#: entries (OSWorld's slope, difficulty and precision: nine scores near zero, where a flatter
#: slope with noisier scores explains them nearly as well, a curved ridge), and draws to the
#: stop vary with the seed far more than with this: over seeds 2025-2034, 0.90 took 3% fewer
#: gradients than 0.92 in all (1.19M against 1.23M) but sampled one seed (2034) to the limit;
#: 0.88 on 2025-2029, 5% fewer; 0.95 had lowered ESS (`benchmarks/sampler_work.py
#: --target-accept`).
DEFAULT_TARGET_ACCEPT: Final = 0.92
#: NUTS (nutpie) stops before ``draws`` at the first checkpoint (every `ESS_CHECK_EVERY` draws
#: per chain) where every checked quantity has bulk and tail ESS of at least this, R-hat at most
#: `RHAT_MAX` and no divergence: twice the convergence bar `ESS_MIN`, so that the estimate's own
#: noise does not decide convergence. Big, well-identified tables get there in a few hundred draws.
DEFAULT_MIN_ESS: Final = 800
ESS_CHECK_EVERY: Final = 200
#: ... and where the convergence bars (`ESS_MIN`, `RHAT_MAX`, no divergence) are not met at
#: ``draws``, it samples on, up to this many times ``draws``, to the first checkpoint where they
#: are (the full bundled table, 469 models, seed 2025: one benchmark's precision had bulk ESS 327
#: after 1,800 draws; learned dimensions mix more slowly: one dimension on the README's table,
#: seeds 2025 and 2027, converged at 2,200 and 2,000 draws). A divergence ends it at once: more
#: draws do not remove one.
MAX_DRAWS_FACTOR: Final = 2

# Item-level data (`rosetta.data.items`): minibatch ADVI settings of the fast path. On 1e6
# responses (200 models x 50 benchmarks x 100 items), batches of 20,000 and 5,000 Adam steps at
# rate 0.01 (100 passes over the data) recovered capabilities at correlation 0.999 in about 40 s on
# 2 cores (benchmarks/bench_items.py).
ITEM_BATCH_SIZE: Final = 20_000
ITEM_ADVI_ITERATIONS: Final = 5_000
ITEM_ADVI_LEARNING_RATE: Final = 0.01
#: Draws kept from an approximate item-level fit (item parameters make every draw large).
ITEM_APPROX_DRAWS: Final = 1_000
