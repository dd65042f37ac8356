import numpy as np
import pandas as pd
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


def test_world_speeds_up_at_the_onset_and_keeps_only_observable_scores():
    from rosetta.simulate import simulate_world

    table, truth = simulate_world(benchmarks="reference", factor=4.0, random_seed=3)
    again, _ = simulate_world(benchmarks="reference", factor=4.0, random_seed=3)
    pd.testing.assert_frame_equal(table, again)
    assert table["score"].between(0.05, 0.95, inclusive="neither").all()
    assert (table["reported"] >= table["date"]).all()
    per_year = len(truth.models) / 7
    assert 25 < per_year < 35 and 8 < len(truth.benchmarks) / 8 < 12
    dates = truth.models["date"]
    years = (dates - truth.onset).dt.days.to_numpy() / 365.25
    capability = truth.scores.capability[dates.index].to_numpy()
    before = np.polyfit(years[years < 0], capability[years < 0], 1)[0]
    after = np.polyfit(years[years > 0], capability[years > 0], 1)[0]
    assert before == pytest.approx(0.25, rel=0.2) and after / before == pytest.approx(4, rel=0.2)
    np.testing.assert_allclose(
        truth.trend(pd.DatetimeIndex(["2028-01-01"])), [4 * 0.25 * 1.0], rtol=0.01
    )


def test_tracking_world_releases_benchmarks_at_the_frontier_of_their_day():
    """Benchmarks sit a lead above the best model so far, accelerated or not, so they measure."""
    from rosetta.simulate import WORLD_DESIGNS, simulate_world

    design = WORLD_DESIGNS["tracking"]
    for factor in (1.0, 4.0):
        table, truth = simulate_world(factor=factor, random_seed=5)
        models, benchmarks = truth.models["date"], truth.benchmarks["date"]
        capability = truth.scores.capability[models.index].to_numpy()
        later = benchmarks[benchmarks > models.iloc[0]]
        best = [capability[(models < day).to_numpy()].max() for day in later]
        lead = truth.scores.benchmarks.loc[later.index, "difficulty"].to_numpy() - best
        assert np.mean(lead) == pytest.approx(design["difficulty_lead"], abs=0.15)
        assert np.std(lead) == pytest.approx(design["difficulty_sd"], rel=0.3)
        # every year of the watch still has scores from benchmarks released that year or later
        fresh = table["reported"].dt.year == table["benchmark"].map(benchmarks).dt.year
        assert table.loc[fresh, "reported"].dt.year.nunique() >= 6
    years = (models - truth.onset).dt.days.to_numpy() / 365.25
    before = np.polyfit(years[years < 0], capability[years < 0], 1)[0]
    assert before == pytest.approx(design["growth"], rel=0.2)
    with pytest.raises(ValueError, match="benchmarks must be one of"):
        simulate_world(benchmarks="fixed")
