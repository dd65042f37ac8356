"""`MeasurementSpec`: what the measurement model is (likelihood, floors, priors, scale)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from rosetta.constants import (
    DEFAULT_DRAWS,
    DEFAULT_FAMILY_EFFECTS,
    DEFAULT_TUNE,
    DIMENSION_BOUND,
    FACTOR_DRAWS,
    FACTOR_MAXDEPTH,
    FACTOR_TUNE,
    FLOOR_MODES,
    LIKELIHOODS,
    NUTPIE_EIGVAL_CUTOFF,
    NUTS_EIGVAL_CUTOFF,
    NUTS_MAXDEPTH,
)
from rosetta.scale import Scale

#: Prior hyperparameters on the raw scale, where capabilities are standard normal.
DEFAULT_PRIORS = MappingProxyType(
    {
        "difficulty_mu_sd": 1.5,  # difficulty_mu ~ Normal(0, .)
        "difficulty_sigma_sd": 1.5,  # difficulty_sigma ~ HalfNormal(.)
        "log_slope_mu_mean": 0.5,  # log_slope_mu ~ Normal(., log_slope_mu_sd)
        "log_slope_mu_sd": 0.75,
        "log_slope_sigma_sd": 0.5,  # log_slope_sigma ~ HalfNormal(.)
        "log_precision_mu_mean": 4.0,  # log_precision_mu ~ Normal(., log_precision_mu_sd)
        "log_precision_mu_sd": 1.5,
        "log_precision_sigma_median": 1.0,  # log_precision_sigma ~ LogNormal(log ., log_sd)
        "log_precision_sigma_log_sd": 0.5,
        "zero_cutpoint_mean": -4.0,  # ordered-beta cutpoint for exact zeros
        "one_cutpoint_mean": 4.0,  # ... and for exact ones
        "cutpoint_sd": 2.0,
        "noise_sd": 0.1,  # normal likelihood: sigma ~ HalfNormal(.)
        "floor_logit_sd": 0.5,  # learned floors: logit(floor) ~ Normal(logit(nominal), .)
        "domain_sd_sd": 0.5,  # bifactor: sd of the domain deviations ~ HalfNormal(.)
        "family_effect_sd_sd": 0.5,  # sd of the family x benchmark effects ~ HalfNormal(.)
        "dimension_sd_sd": 0.5,  # learned dimensions: sd of the loadings ~ HalfNormal(.)
        "dimension_bound": DIMENSION_BOUND,  # ... and |loading| < this (times the general one)
        "item_difficulty_sd_sd": 1.5,  # items: spread of difficulties in a benchmark ~ HalfNormal
        "item_log_slope_sd_sd": 0.5,  # items: spread of log slopes in a benchmark ~ HalfNormal
    }
)


@dataclass(frozen=True)
class MeasurementSpec:
    """Specification of the measurement model; JSON-serialisable, stored with every fit.

    Attributes
    ----------
    likelihood
        ``"beta"`` (default: ordered Beta for scores, exact 0 and 1 included; beta-binomial for
        rows with ``n_items``) or ``"normal"`` (least squares, the reference method of Ho et al.).
    floors
        ``"nominal"`` (chance scores from the table), ``"zero"``, or ``"learned"`` (estimated,
        prior centred on the nominal value).
    scale
        The anchor scale every reported number is put on.
    priors
        Overrides of `DEFAULT_PRIORS`.
    centred
        Centred (default) or non-centred partial pooling of the benchmark parameters.
    domains
        ``(benchmark, domain)`` pairs of the bifactor model (`rosetta.domains`); empty (default):
        the one-number model. Benchmarks not listed measure the general capability only.
    family_effects
        Give each (model family, benchmark) cell with two or more scores its own effect on the
        measured capability (`rosetta.families`): variants of one model share quirks.
    dimensions
        Learned dimensions beyond the general capability (exploratory multidimensional IRT,
        see `rosetta.model.measurement`): each model gets ``dimensions`` scores, each benchmark
        loadings on them. ``0`` (default): the one-number model.
    """

    likelihood: str = "beta"
    floors: str = "nominal"
    scale: Scale = field(default_factory=Scale)
    priors: Mapping[str, float] = field(default_factory=dict)
    centred: bool = True
    domains: tuple[tuple[str, str], ...] = ()
    family_effects: bool = DEFAULT_FAMILY_EFFECTS
    dimensions: int = 0

    def __post_init__(self) -> None:
        if int(self.dimensions) != self.dimensions or self.dimensions < 0:
            raise ValueError(f"dimensions must be an integer >= 0, got {self.dimensions!r}")
        object.__setattr__(self, "dimensions", int(self.dimensions))
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if self.floors not in FLOOR_MODES:
            raise ValueError(f"floors must be one of {FLOOR_MODES}, got {self.floors!r}")
        unknown = set(self.priors) - set(DEFAULT_PRIORS)
        if unknown:
            raise ValueError(f"unknown prior(s) {sorted(unknown)}; known: {sorted(DEFAULT_PRIORS)}")
        object.__setattr__(self, "priors", MappingProxyType({**DEFAULT_PRIORS, **self.priors}))
        bound = self.priors["dimension_bound"]
        if not 0 < bound <= 1:
            raise ValueError(
                f"prior dimension_bound is a share of the general loading, in (0, 1]; got {bound!r}"
            )
        pairs = dict(self.domains.items() if isinstance(self.domains, Mapping) else self.domains)
        domains = tuple(sorted((str(b), str(d)) for b, d in pairs.items() if d))
        object.__setattr__(self, "domains", domains)

    @property
    def default_draws(self) -> int:
        """NUTS draws per chain by default: `FACTOR_DRAWS` with dimensions or domains."""
        return FACTOR_DRAWS if self._factors else DEFAULT_DRAWS

    @property
    def default_tune(self) -> int:
        """NUTS warm-up steps per chain by default: `FACTOR_TUNE` with dimensions or domains."""
        return FACTOR_TUNE if self._factors else DEFAULT_TUNE

    @property
    def maxdepth(self) -> int:
        """NUTS tree depth cap: `FACTOR_MAXDEPTH` with dimensions or domains."""
        return FACTOR_MAXDEPTH if self._factors else NUTS_MAXDEPTH

    @property
    def eigval_cutoff(self) -> float:
        """Low-rank mass-matrix cutoff: `NUTPIE_EIGVAL_CUTOFF` with dimensions or domains."""
        return NUTPIE_EIGVAL_CUTOFF if self._factors else NUTS_EIGVAL_CUTOFF

    @property
    def _factors(self) -> bool:
        return bool(self.dimensions or self.domains)

    def with_scale(self, scale: Scale) -> MeasurementSpec:
        """The same specification on another scale."""
        return replace(self, scale=scale, priors=dict(self.priors))

    def resolved_for(self, table) -> MeasurementSpec:
        """The same specification with its scale resolved on ``table`` (`Scale.resolve`)."""
        counts = table.benchmark_info()["n_models"].to_dict()
        return self.with_scale(self.scale.resolve(table.models, table.benchmarks, counts))

    def to_json(self) -> str:
        """Serialise for the attrs of a saved posterior."""
        return json.dumps(
            {
                "likelihood": self.likelihood,
                "floors": self.floors,
                "scale": json.loads(self.scale.to_json()),
                "priors": dict(self.priors),
                "centred": self.centred,
                "domains": [list(pair) for pair in self.domains],
                "family_effects": self.family_effects,
                "dimensions": self.dimensions,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> MeasurementSpec:
        """Read back what `to_json` wrote."""
        data = json.loads(text)
        scale = Scale.from_json(json.dumps(data.pop("scale")))
        domains = tuple(tuple(pair) for pair in data.pop("domains", []))
        data.setdefault("family_effects", False)  # fits saved before family effects had none
        # Fits saved before the spread of log precisions became log-normal name its half-normal
        # scale; read back, they take today's prior (their posterior is what it is).
        data["priors"] = {
            name: value
            for name, value in data.get("priors", {}).items()
            if name != "log_precision_sigma_sd"
        }
        return cls(scale=scale, domains=domains, **data)
