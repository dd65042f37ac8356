"""Helpers shared by test modules (``tests`` is on the path: see pyproject)."""

from __future__ import annotations


def rosetta_attrs(**fields) -> dict:
    """Posterior attrs of a made-up fit, for fit-shaped test objects built without sampling."""
    from rosetta.io import FitInfo
    from rosetta.scale import Scale

    defaults = {
        "rosetta_version": "test",
        "spec_json": "{}",
        "scale": Scale(),
        "scale_description": "test scale",
        "likelihood": "beta",
        "floors": "nominal",
        "method": "nuts",
        "sampler": "test",
        "random_seed": 0,
        "draws": 1,
        "tune": 1,
        "chains": 1,
        "wall_seconds": 0.0,
        "data_source": "test",
        "data_sha256": "",
        "n_models": 0,
        "n_benchmarks": 0,
        "n_scores": 0,
    }
    return FitInfo(**{**defaults, **fields}).to_attrs()


def check_result_interface(result, tmp_path) -> None:
    """``result`` has the shared interface: JSON-ready dict, text, tidy frame, saved figure."""
    import json

    import matplotlib.pyplot as plt
    import pandas as pd

    json.dumps(result.to_dict(), default=str)
    assert isinstance(result.summary(), str) and result.summary().strip()
    assert str(result) == result.summary()
    assert isinstance(result.plot_data(), pd.DataFrame)
    path = tmp_path / f"{type(result).__name__}.png"
    figure = result.plot(path=path)
    assert figure.axes and path.stat().st_size > 0
    plt.close(figure)


def nap(seconds: float) -> dict:
    """A task for the watchdog's tests: sleeps, then says how long."""
    import time

    time.sleep(seconds)
    return {"slept": seconds}


#: Flags for a headless, offline Chromium: no sandbox (root in CI), no background requests.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    """The Chromium to drive: ``ROSETTA_CHROMIUM``, else the first one on the path, else None."""
    import os
    import shutil

    given = os.environ.get("ROSETTA_CHROMIUM")
    if given:
        return given
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((path for path in map(shutil.which, names) if path), None)
