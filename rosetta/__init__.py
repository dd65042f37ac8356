"""rosetta: AI-model capabilities and benchmark difficulties on one Bayesian scale.

The top-level namespace stays light: ``import rosetta`` does not import PyMC; `fit` and the
modelling classes load it on first use.
"""

from __future__ import annotations

import importlib

from rosetta._version import __version__
from rosetta.data import ScoreTable, load_epoch, load_scores
from rosetta.io import load_fit, save_fit
from rosetta.predict import predict
from rosetta.query import query
from rosetta.scale import Scale
from rosetta.simulate import simulate_scores

_LAZY = {"fit": "rosetta.model", "MeasurementSpec": "rosetta.model"}

__all__ = [
    "MeasurementSpec",
    "Scale",
    "ScoreTable",
    "__version__",
    "fit",
    "load",
    "load_epoch",
    "load_fit",
    "load_scores",
    "predict",
    "query",
    "save_fit",
    "simulate_scores",
]

#: ``rosetta.load(path)`` reads a saved posterior (alias of `load_fit`).
load = load_fit


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rosetta' has no attribute {name!r}")
