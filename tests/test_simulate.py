import numpy as np
import pytest

from rosetta.data import load_scores
from rosetta.simulate import simulate_scores


def test_same_seed_same_table_and_connected():
    a, truth = simulate_scores(25, 6, observed_fraction=0.2, random_seed=4)
    b, _ = simulate_scores(25, 6, observed_fraction=0.2, random_seed=4)
    assert a.equals(b)
    table = load_scores(a, metadata=False)
    assert len(table.components) == 1
    assert (table.model_info()["n_benchmarks"] >= 2).all()
    assert truth.capability.index.tolist() == sorted(a["model"].unique())


@pytest.mark.parametrize("noise", ["beta", "binomial", "normal"])
def test_noise_models_stay_in_range(noise):
    table, _ = simulate_scores(10, 4, noise=noise, n_items=50, floors=0.25, random_seed=1)
    assert table["score"].between(0, 1).all()
    if noise == "binomial":
        assert np.allclose(table["score"] * 50, np.round(table["score"] * 50))


def test_truth_rescaling_puts_anchor_in_place():
    _, truth = simulate_scores(10, 4, random_seed=1)
    anchored = truth.on_benchmark_scale("b02")
    assert anchored.benchmarks.loc["b02", "difficulty"] == pytest.approx(0)
    assert anchored.benchmarks.loc["b02", "slope"] == pytest.approx(1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_items"):
        simulate_scores(5, 3, noise="binomial")
    with pytest.raises(ValueError, match="observed_fraction"):
        simulate_scores(5, 3, observed_fraction=0)
