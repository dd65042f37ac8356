"""The interface every analysis result shares, so people and scripts read them one way.

``to_dict()`` is what ``--json`` prints, ``summary()`` what the command prints, ``plot_data()``
the tidy frame behind ``plot()``, which returns a matplotlib Figure (saved with ``path=``).
"""

from __future__ import annotations

import abc
import math
from pathlib import Path

import pandas as pd


class Result(abc.ABC):
    """Base of every analysis result (fit summary, query, trend, progress, acceleration, ...)."""

    @abc.abstractmethod
    def to_dict(self) -> dict:
        """A JSON-ready summary (the ``--json`` object of the command)."""

    @abc.abstractmethod
    def summary(self) -> str:
        """The readable text the command prints."""

    @abc.abstractmethod
    def plot_data(self) -> pd.DataFrame:
        """The tidy frame behind `plot`."""

    @abc.abstractmethod
    def plot(self, *, path: str | Path | None = None):
        """A matplotlib Figure of the result, also saved to ``path`` when given."""

    def __str__(self) -> str:
        return self.summary()


def json_number(value) -> float | None:
    """A number for ``to_dict()``: a float, or ``None`` for a missing value (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
