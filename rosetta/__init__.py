"""rosetta: AI-model capabilities and benchmark difficulties on one Bayesian scale.

The top level holds the analyses and the `Fit` they take; each returns a result with
``to_dict()``, ``summary()``, ``plot()`` and ``plot_data()``. ``import rosetta`` stays light: the
analyses load their modules (PyMC only for fitting) on first use.
"""

from __future__ import annotations

import importlib

from rosetta._version import __version__
from rosetta.data import ScoreTable, load_epoch, load_scores
from rosetta.fitted import Fit
from rosetta.scale import Scale
from rosetta.simulate import simulate_scores

#: Public name -> (module, attribute), imported on first use.
_LAZY = {
    "fit": ("rosetta.model", "fit"),
    "MeasurementSpec": ("rosetta.model.spec", "MeasurementSpec"),
    "load_items": ("rosetta.data.items", "load_items"),
    "predict": ("rosetta.prediction", "predict"),
    "query": ("rosetta.placement", "query"),
    "query_table": ("rosetta.placement", "query_table"),
    "score_at": ("rosetta.placement", "score_at"),
    "capability_at": ("rosetta.placement", "capability_at"),
    "suggest": ("rosetta.suggestion", "suggest"),
    "place": ("rosetta.benchmark_placement", "place"),
    "saturation": ("rosetta.saturation_forecast", "saturation"),
    "trend": ("rosetta.trends", "trend"),
    "backtest": ("rosetta.trends", "backtest"),
    "domain_trends": ("rosetta.trends", "domain_trends"),
    "progress": ("rosetta.algorithmic_progress", "progress"),
    "accelerate": ("rosetta.acceleration", "acceleration"),
    "watch": ("rosetta.acceleration", "watch"),
    "validate": ("rosetta.validation", "cross_validate"),
    "choose_spec": ("rosetta.selection", "choose_spec"),
    "compare": ("rosetta.comparison", "compare"),
    "build_report": ("rosetta.report", "build_report"),
}

__all__ = [
    "Fit",
    "Scale",
    "ScoreTable",
    "__version__",
    "load",
    "load_epoch",
    "load_scores",
    "simulate_scores",
    *_LAZY,
]

#: ``rosetta.load(path)`` reads a saved fit.
load = Fit.load


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'rosetta' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
