"""Parameter recovery and interval calibration on simulated data (slow: real NUTS fits)."""

import numpy as np
import pytest

from rosetta.data import load_scores
from rosetta.model import MeasurementSpec, fit
from rosetta.scale import Scale
from rosetta.simulate import simulate_scores

pytestmark = pytest.mark.slow
SPEC = MeasurementSpec(scale=Scale(benchmark="b00"))
SETTINGS = {"draws": 500, "tune": 500, "chains": 2, "progress": False, "warn": False}


def test_capabilities_recovered_at_quarter_coverage():
    frame, truth = simulate_scores(40, 15, observed_fraction=0.25, floors=0.1, random_seed=21)
    idata = fit(load_scores(frame, metadata=False), SPEC, random_seed=1, **SETTINGS)
    estimate = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    r = np.corrcoef(estimate, truth.capability.loc[estimate.index])[0, 1]
    print(f"recovery: r = {r:.3f} over {len(estimate)} models, {len(frame)} scores")
    assert r >= 0.95, f"r(posterior mean, truth) = {r:.3f} < 0.95"


def test_ninety_percent_intervals_cover_the_truth():
    hits, total = 0, 0
    for seed in range(8):
        frame, truth = simulate_scores(30, 10, observed_fraction=0.5, random_seed=100 + seed)
        idata = fit(load_scores(frame, metadata=False), SPEC, random_seed=seed, **SETTINGS)
        anchored = truth.on_benchmark_scale("b00").capability
        draws = idata.posterior["capability"].stack(sample=("chain", "draw"))
        lo = draws.quantile(0.05, "sample").to_series()
        hi = draws.quantile(0.95, "sample").to_series()
        inside = (anchored.loc[lo.index] >= lo) & (anchored.loc[hi.index] <= hi)
        hits, total = hits + int(inside.sum()), total + len(inside)
    coverage = hits / total
    print(f"calibration: 90% intervals cover {hits}/{total} = {coverage:.3f}")
    assert 0.85 <= coverage <= 0.95, f"coverage {coverage:.3f} outside [0.85, 0.95]"
