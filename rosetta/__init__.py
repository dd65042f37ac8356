"""rosetta: AI-model capabilities and benchmark difficulties on one Bayesian scale.

The top-level namespace stays light (no PyMC import); heavy modules load on first use.
"""

from rosetta._version import __version__
from rosetta.data import ScoreTable, load_epoch, load_scores

__all__ = ["ScoreTable", "__version__", "load_epoch", "load_scores"]
