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
