"""The anchor scale: every reported number is put on a declared scale, draw by draw.

The measurement model is identified only up to a shift and a stretch of the capability axis. Each
posterior draw is mapped by the affine transform ``x -> shift + stretch * x`` that puts the anchor
at its declared place:

- benchmark anchor (default): the anchor benchmark gets difficulty ``difficulty`` and slope
  ``slope`` (Winogrande at 0 and 1, the convention of Ho et al. 2025);
- model anchor: two models are pinned at two values (the convention of Epoch AI's capabilities
  index, e.g. Claude 3.5 Sonnet at 130 and GPT-5 at 150).

Predicted scores are unchanged by the transform: ``slope * (capability - difficulty)`` is invariant.
This module uses numpy and xarray only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from rosetta.errors import RosettaError

#: Default anchor benchmark and its declared place (Ho et al. 2025).
DEFAULT_ANCHOR_BENCHMARK = "Winogrande"
#: Our reading of the ECI convention; pass explicit model ids to override.
ECI_ANCHOR_MODELS = {"claude-3-5-sonnet-20240620": 130.0, "gpt-5-2025-08-07_medium": 150.0}


@dataclass(frozen=True)
class Scale:
    """A declared anchor scale.

    Attributes
    ----------
    kind
        ``"benchmark"`` or ``"models"``.
    benchmark, difficulty, slope
        For a benchmark anchor: its name and declared difficulty and slope.
    models
        For a model anchor: ``(model id, value)`` pairs, exactly two.
    note
        Why this anchor was chosen when it is a fallback.
    """

    kind: str = "benchmark"
    benchmark: str | None = DEFAULT_ANCHOR_BENCHMARK
    difficulty: float = 0.0
    slope: float = 1.0
    models: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("benchmark", "models"):
            raise ValueError(f"scale kind must be 'benchmark' or 'models', got {self.kind!r}")
        if self.kind == "models":
            values = [v for _, v in self.models]
            if len(self.models) != 2 or values[0] == values[1]:
                raise ValueError("a model anchor needs exactly two models at two different values")
            if self.models[0][0] == self.models[1][0]:
                raise ValueError("a model anchor needs two different models")
        elif not self.slope > 0:
            raise ValueError(f"the anchor slope must be positive, got {self.slope}")

    @classmethod
    def from_models(cls, pins: Mapping[str, float]) -> Scale:
        """Anchor two models at two values, e.g. ``{"model-a": 130, "model-b": 150}``."""
        return cls(
            kind="models", benchmark=None, models=tuple((str(k), float(v)) for k, v in pins.items())
        )

    def describe(self) -> str:
        """One line saying what the numbers mean, printed with every table."""
        if self.kind == "benchmark":
            text = (
                f"benchmark anchor: {self.benchmark} at difficulty {self.difficulty:g}, "
                f"slope {self.slope:g}"
            )
        else:
            text = "model anchor: " + ", ".join(f"{m} = {v:g}" for m, v in self.models)
        return text + (f" ({self.note})" if self.note else "")

    def to_dict(self) -> dict:
        """The anchor as plain data, with its description."""
        return {
            "kind": self.kind,
            "benchmark": self.benchmark,
            "difficulty": self.difficulty,
            "slope": self.slope,
            "models": [list(p) for p in self.models],
            "note": self.note,
            "description": self.describe(),
        }

    def to_json(self) -> str:
        """Serialise for the attrs of a saved posterior."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Scale:
        """Read back what `to_json` wrote."""
        data = json.loads(text)
        data.pop("description", None)
        data["models"] = tuple((str(m), float(v)) for m, v in data.get("models", []))
        return cls(**data)

    def resolve(
        self,
        models: Iterable[str],
        benchmarks: Iterable[str],
        counts: Mapping[str, int] | None = None,
    ) -> Scale:
        """Check the anchor exists in the data; fall back for a missing default benchmark.

        When the default anchor benchmark (Winogrande) is absent, the benchmark evaluated on the
        most models (ties: alphabetical) becomes the anchor, and the note says so. An explicitly
        chosen anchor that is absent is an error.
        """
        models, benchmarks = list(models), list(benchmarks)
        if self.kind == "models":
            missing = [m for m, _ in self.models if m not in models]
            if missing:
                raise RosettaError(f"anchor model(s) not in the data: {missing}")
            return self
        if self.benchmark in benchmarks:
            return self
        if self.benchmark != DEFAULT_ANCHOR_BENCHMARK:
            raise RosettaError(f"anchor benchmark {self.benchmark!r} is not in the data")
        counts = counts or {}
        chosen = min(benchmarks, key=lambda b: (-counts.get(b, 0), b))
        return Scale(
            benchmark=chosen,
            difficulty=self.difficulty,
            slope=self.slope,
            note=f"{DEFAULT_ANCHOR_BENCHMARK} absent; most-evaluated benchmark used",
        )

    def transform(
        self, capability: xr.DataArray, difficulty: xr.DataArray, slope: xr.DataArray
    ) -> tuple[xr.DataArray, xr.DataArray]:
        """Per-draw ``(shift, stretch)`` putting the anchor at its declared place."""
        if self.kind == "benchmark":
            stretch = slope.sel(benchmark=self.benchmark) / self.slope
            shift = self.difficulty - stretch * difficulty.sel(benchmark=self.benchmark)
        else:
            (model_a, value_a), (model_b, value_b) = self.models
            theta_a = capability.sel(model=model_a)
            theta_b = capability.sel(model=model_b)
            stretch = (value_b - value_a) / (theta_b - theta_a)
            shift = value_a - stretch * theta_a
        return shift.drop_vars(["benchmark", "model"], errors="ignore"), stretch.drop_vars(
            ["benchmark", "model"], errors="ignore"
        )


def apply_scale(posterior: xr.Dataset, scale: Scale) -> xr.Dataset:
    """Put a raw posterior on ``scale``, draw by draw.

    Parameters
    ----------
    posterior
        Raw draws with ``capability`` (model), ``difficulty`` and ``slope`` (benchmark); and
        optionally ``difficulty_mu``, ``difficulty_sigma``, ``log_slope_mu`` and the bifactor
        ``domain_capability``, ``domain_deviation``, ``domain_sd``, ``family_effect``,
        ``family_effect_sd``, the learned ``dimension_loading`` and ``dimension_sd``
        (capability per unit of a dimension score) and the item-level
        ``item_difficulty``, ``item_slope``, ``item_difficulty_sd``. The raw capability
        population is standard normal.
    scale
        The declared scale.

    Returns
    -------
    xarray.Dataset
        The same variables on the anchored scale, plus ``capability_mu`` and ``capability_sigma``
        (the population prior of capabilities on that scale) and ``scale_shift`` /
        ``scale_stretch`` (the per-draw transform). Attrs gain ``scale``.
    """
    shift, stretch = scale.transform(
        posterior["capability"], posterior["difficulty"], posterior["slope"]
    )
    if bool((stretch <= 0).any()):
        raise RosettaError(
            f"the anchor ({scale.describe()}) flips the scale in some draws: its two models are "
            "not clearly ordered; choose anchors further apart"
        )
    out = posterior.copy()
    out["capability"] = shift + stretch * posterior["capability"]
    out["difficulty"] = shift + stretch * posterior["difficulty"]
    out["slope"] = posterior["slope"] / stretch
    out["capability_mu"] = shift
    out["capability_sigma"] = stretch * xr.ones_like(shift)
    if "difficulty_mu" in posterior:
        out["difficulty_mu"] = shift + stretch * posterior["difficulty_mu"]
        out["difficulty_sigma"] = stretch * posterior["difficulty_sigma"]
    if "domain_deviation" in posterior:  # bifactor: deviations are capability differences
        out["domain_capability"] = shift + stretch * posterior["domain_capability"]
        out["domain_deviation"] = stretch * posterior["domain_deviation"]
        out["domain_sd"] = stretch * posterior["domain_sd"]
    differences = ("family_effect", "family_effect_sd", "item_difficulty_sd")
    loadings = ("dimension_loading", "dimension_sd")  # capability per unit score
    for name in differences + loadings:
        if name in posterior:
            out[name] = stretch * posterior[name]
    if "item_difficulty" in posterior:  # item-level data: items like benchmarks
        out["item_difficulty"] = shift + stretch * posterior["item_difficulty"]
        out["item_slope"] = posterior["item_slope"] / stretch
    if "log_slope_mu" in posterior:
        out["log_slope_mu"] = posterior["log_slope_mu"] - np.log(stretch)
    out["scale_shift"], out["scale_stretch"] = shift, stretch
    return out
