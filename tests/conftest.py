"""Shared fixtures and the --run-slow / --only-slow switches."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pandas as pd
import pytest


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")
    parser.addoption("--only-slow", action="store_true", help="run only tests marked slow")


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--run-slow") or config.getoption("--only-slow")
    for item in items:
        is_slow = "slow" in item.keywords
        if config.getoption("--only-slow") and not is_slow:
            item.add_marker(pytest.mark.skip(reason="--only-slow"))
        elif is_slow and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: use --run-slow"))


@pytest.fixture
def small_long() -> pd.DataFrame:
    """A tiny connected long table with mixed score notations."""
    return pd.DataFrame(
        {
            "model": ["m1", "m1", "m2", "m2", "m3", "m3"],
            "benchmark": ["A", "B", "A", "C", "B", "C"],
            "score": [0.5, "77%", 0.25, "0.9", 0.4, 1.0],
        }
    )


@pytest.fixture
def write_csv(tmp_path):
    """Write text to a CSV file in tmp_path and return its path."""

    def write(text: str, name: str = "scores.csv"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
