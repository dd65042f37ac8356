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


@pytest.fixture(scope="session")
def tiny_sim():
    """A small simulated table (25 models x 6 benchmarks) and its truth."""
    from rosetta.data import load_scores
    from rosetta.simulate import simulate_scores

    frame, truth = simulate_scores(
        25, 6, observed_fraction=0.5, floors=[0.25, 0, 0, 0, 0.5, 0], random_seed=11
    )
    return load_scores(frame, metadata=False), truth


@pytest.fixture(scope="session")
def tiny_fit(tiny_sim, tmp_path_factory):
    """One real NUTS fit of the tiny table, shared by the session, and its saved file."""
    from rosetta.io import save_fit
    from rosetta.model import MeasurementSpec, fit
    from rosetta.scale import Scale

    table, _ = tiny_sim
    spec = MeasurementSpec(scale=Scale(benchmark="b01"))
    settings = {"draws": 150, "tune": 150, "chains": 2, "random_seed": 3, "min_ess": None}
    idata = fit(table, spec, progress=False, warn=False, **settings)  # exactly 150 draws
    path = tmp_path_factory.mktemp("fit") / "tiny.nc"
    save_fit(idata, path)
    return idata, path


@pytest.fixture
def local_cluster():
    """A two-process Dask cluster whose dashboard takes a free port.

    The default port (8787) is shared by every cluster on the machine, and a clash is a warning,
    so a test run beside another cluster would fail.
    """
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster
