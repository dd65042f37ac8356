"""`Fit`: a fitted measurement model, the object every analysis takes.

A `Fit` wraps the anchored InferenceData (``.idata``) and reads its provenance once, into a typed
`rosetta.io.FitInfo`: nothing else parses the posterior's attrs. Its groups are reachable as
attributes (``fit.posterior``, ``fit.constant_data``), so code written for an InferenceData reads
a `Fit` unchanged; ArviZ functions take ``fit.idata``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.constants import CI_PROB, SCORE_COLUMNS
from rosetta.intervals import label
from rosetta.io import FitInfo, check_attrs, read_idata, save_fit, scores_of_fit
from rosetta.results import Result


class Fit(Result):
    """A fitted measurement model: posterior draws on the anchor scale and how they were made.

    Parameters
    ----------
    idata
        The InferenceData of `rosetta.fit` (posterior attrs written by it).

    Attributes
    ----------
    idata
        The InferenceData: ``posterior``, ``posterior_predictive``, ``observed_data``,
        ``constant_data`` and, for NUTS, ``sample_stats``.
    info
        Typed provenance: method, sampler, settings, data hash, diagnostics, versions.
    """

    def __init__(self, idata) -> None:
        attrs = idata.posterior.attrs if "posterior" in idata.groups() else {}
        check_attrs(attrs, "the InferenceData")
        self.idata = idata
        self.info = FitInfo.from_attrs(attrs)

    def __getattr__(self, name: str):
        idata = self.__dict__.get("idata")
        if idata is not None and name in idata.groups():
            return getattr(idata, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def groups(self) -> list[str]:
        """The InferenceData groups the fit holds."""
        return self.idata.groups()

    def __repr__(self) -> str:
        info = self.info
        return (
            f"<rosetta.Fit: {info.n_models} models x {info.n_benchmarks} benchmarks, "
            f"{info.n_scores} scores; {info.method} ({info.sampler}); {self.verdict()}>"
        )

    @classmethod
    def stamped(cls, idata, info: FitInfo) -> Fit:
        """A new fit: ``info`` written into the posterior's attrs of ``idata``."""
        idata.posterior.attrs.update(info.to_attrs())
        return cls(idata)

    @classmethod
    def load(cls, path: str | Path) -> Fit:
        """Read a fit saved by `save` or ``rosetta fit --out``."""
        return cls(read_idata(path))

    def save(self, path: str | Path) -> Path:
        """Write the fit to netCDF atomically (an interrupted save keeps the old file)."""
        return save_fit(self.idata, path)

    @cached_property
    def spec(self):
        """The `rosetta.MeasurementSpec` the fit was made with (its scale resolved)."""
        from rosetta.model.spec import MeasurementSpec

        return MeasurementSpec.from_json(self.info.spec_json)

    @cached_property
    def query_draws(self):
        """The posterior's draws flattened as `rosetta.query` reads them, made on first use.

        Kept with the fit, so that repeated queries of it do not flatten them again.
        """
        from rosetta.placement import _Draws

        return _Draws.from_posterior(self.posterior)

    @property
    def scale(self):
        """The anchor `rosetta.Scale` of the posterior."""
        return self.info.scale

    @property
    def diagnostics(self) -> dict:
        """Convergence summary (`rosetta.diagnostics.summarize_diagnostics`) made at fit time."""
        return dict(self.info.diagnostics)

    @cached_property
    def table(self):
        """The `rosetta.ScoreTable` the fit was made from, rebuilt from its saved groups."""
        from rosetta.data import ScoreTable

        scores = scores_of_fit(self.idata)
        scores["source"] = pd.array([pd.NA] * len(scores), dtype="string")
        scores = scores[list(SCORE_COLUMNS)].sort_values(["model", "benchmark"], ignore_index=True)
        groups = [(sorted(scores["model"].unique()), sorted(scores["benchmark"].unique()))]
        return ScoreTable(
            scores=scores,
            dropped=dict(self.info.data_dropped),
            source=self.info.data_source,
            components=groups,
        )

    def capabilities(self, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """Capability per model, most capable first (`rosetta.summary.capability_table`)."""
        from rosetta.summary import capability_table

        return capability_table(self.idata, ci_prob=ci_prob)

    def benchmarks(self, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """Difficulty, slope, floor per benchmark, easiest first."""
        from rosetta.summary import benchmark_table

        return benchmark_table(self.idata, ci_prob=ci_prob)

    def verdict(self) -> str:
        """``ok``, ``NOT converged: ...``, or the approximation said as such."""
        info = self.info
        if info.converged is None:
            return (
                f"approximate ({info.method}): draws of the approximation, no convergence "
                "claim; use --method nuts for a converged posterior (and "
                "rosetta.comparison.approximation_accuracy for this one's distance from it)"
            )
        problems = info.diagnostics.get("problems", [])
        return "ok" if info.converged else "NOT converged: " + "; ".join(problems)

    def to_dict(self, top: int = 10) -> dict:
        """Size, method, diagnostics, scale and the ``top`` models (``rosetta fit --json``)."""
        info, diagnostics = self.info, self.info.diagnostics
        out = {
            "n_models": info.n_models,
            "n_benchmarks": info.n_benchmarks,
            "n_scores": info.n_scores,
            **(
                {"n_responses": info.n_responses, "n_items": info.n_items}
                if info.item_level
                else {}
            ),
            "fit_seconds": info.wall_seconds,
            "method": info.method,
            "sampler": info.sampler,
            **{
                key: diagnostics.get(key)
                for key in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences")
            },
            "converged": info.converged,
            "problems": list(diagnostics.get("problems", [])),
            "scale": info.scale.to_dict(),
            "likelihood": info.likelihood,
            "floors": info.floors,
            "family_effects": info.family_effects,
            "domains": info.domains,
            "dimensions": info.dimensions,
            **({"selection": dict(info.selection)} if info.selection else {}),
            "top_models": self.capabilities().head(top)["mean"].round(3).to_dict(),
        }
        return out

    def summary(self, top: int = 10, ci_prob: float = CI_PROB) -> str:
        """Readable account of the fit: size, scale, diagnostics, top models, benchmarks."""
        info, diagnostics = self.info, self.info.diagnostics
        rhat = diagnostics.get("max_rhat")
        responses = (
            f" ({info.n_responses} responses to {info.n_items} items)" if info.item_level else ""
        )
        domains = info.domains
        lines = [
            f"fitted {info.n_scores} scores{responses}: {info.n_models} models x "
            f"{info.n_benchmarks} benchmarks in {info.wall_seconds:.1f} s "
            f"({info.method}, {info.sampler})",
            f"scale: {info.scale_description}",
            *([f"bifactor domains: {', '.join(domains)} (profiles: --tables)"] if domains else []),
            *(
                [f"learned dimensions: {info.dimensions} beyond the general capability"]
                if info.dimensions
                else []
            ),
            *([info.selection["reason"]] if info.selection else []),
            "diagnostics: max R-hat "
            + (f"{rhat:.4f}" if rhat is not None else "n/a")
            + f", min bulk ESS {diagnostics.get('min_ess_bulk', np.nan):.0f}, min tail ESS "
            f"{diagnostics.get('min_ess_tail', np.nan):.0f}, divergences "
            f"{diagnostics.get('divergences', 0)} -> {self.verdict()}",
            "",
            f"capabilities (top models; {label(ci_prob)} interval)",
            self.capabilities(ci_prob).head(top).round(3).to_string(),
            "",
            f"benchmarks (easiest first; {label(ci_prob)} intervals)",
            self.benchmarks(ci_prob).round(3).to_string(),
        ]
        return "\n".join(lines)

    def plot_data(self, ci_prob: float = CI_PROB) -> pd.DataFrame:
        """The tidy frame behind `plot`: one row per model with its interval and release date."""
        return self.capabilities(ci_prob).reset_index()

    def plot(self, *, top: int = 30, ci_prob: float = CI_PROB, path: str | Path | None = None):
        """The ``top`` models' capabilities with their intervals (a matplotlib Figure)."""
        from rosetta.plots import plot_capabilities

        return plot_capabilities(self.plot_data(ci_prob).head(top), ci_prob, path=path)


def as_fit(fit) -> Fit:
    """A `Fit` from a `Fit`, a rosetta InferenceData, or the path of a saved fit."""
    if isinstance(fit, Fit):
        return fit
    if isinstance(fit, str | Path):
        return Fit.load(fit)
    if hasattr(fit, "groups") and hasattr(fit, "posterior"):
        return Fit(fit)
    raise TypeError(f"expected a rosetta Fit, an InferenceData or a .nc path, got {type(fit)}")


__all__ = ["Fit", "as_fit"]
