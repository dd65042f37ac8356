import numpy as np
import pandas as pd
import pytest
from helpers import check_result_interface

from rosetta.data import find_components
from rosetta.validation import assign_folds, cross_validate


def test_folds_keep_every_heldout_score_predictable(tiny_sim):
    table, _ = tiny_sim
    fold = assign_folds(table, 5, random_seed=1)
    assert (fold >= 0).mean() > 0.5
    scores = table.scores
    for k in range(5):
        train, test = scores[fold != k], scores[fold == k]
        assert set(test["model"]) <= set(train["model"])
        assert set(test["benchmark"]) <= set(train["benchmark"])
        assert len(find_components(train)) == 1
    np.testing.assert_array_equal(fold, assign_folds(table, 5, random_seed=1))


def test_cross_validate_reports_errors_and_coverage(tiny_sim, tmp_path):
    table, _ = tiny_sim
    result = cross_validate(
        table, folds=3, random_seed=2, method="map", draws=100, chains=1, progress=False
    )
    out = result.to_dict()
    assert out["n_heldout"] == len(result.predictions) == len(result.plot_data()) > 0
    assert 0 < out["rmse"] < 0.3 and 0 < out["mae"] <= out["rmse"]
    assert 0 <= out["coverage"] <= 1 and out["ci_prob"] == 0.9
    assert len(out["per_fold"]) == 3
    assert "90% interval coverage" in result.summary()
    assert out["method"] == "map" and "map approximations" in result.summary()
    assert "converged" not in result.summary()  # an approximation claims no convergence
    assert all(fold["ok"] is None for fold in out["per_fold"])
    check_result_interface(result, tmp_path)


def test_nuts_folds_share_one_model_and_stop_once_their_predictions_converge(tiny_sim):
    from rosetta.constants import ESS_CHECK_EVERY, ESS_MIN, RHAT_MAX

    table, _ = tiny_sim
    settings = {"folds": 3, "random_seed": 4, "draws": 800, "tune": 150, "chains": 2}
    one = cross_validate(table, workers=1, **settings)
    two = cross_validate(table, workers=2, **settings)
    pd.testing.assert_frame_equal(one.predictions, two.predictions)
    pd.testing.assert_frame_equal(one.diagnostics, two.diagnostics)
    per_fold = one.per_fold()
    assert list(per_fold["fold"]) == [0, 1, 2]
    assert (per_fold["draws"] % ESS_CHECK_EVERY == 0).all() and (per_fold["draws"] <= 800).all()
    stopped = per_fold[per_fold["draws"] < 800]
    assert len(stopped) > 0 and stopped["ok"].all() and (stopped["divergences"] == 0).all()
    assert (stopped[["min_ess_bulk", "min_ess_tail"]] >= ESS_MIN).all(axis=None)
    assert (stopped["max_rhat"] <= RHAT_MAX).all()
    assert "fold fits converged" in one.summary() and "held-out predictions" in one.summary()
    assert one.method == "nuts" and 0 < one.rmse < 0.2


def test_folds_on_a_dask_cluster_match_local_fits(tiny_sim, local_cluster):
    table, _ = tiny_sim
    settings = {"folds": 3, "random_seed": 2, "method": "map", "draws": 50, "chains": 1}
    local = cross_validate(table, **settings)
    remote = cross_validate(table, scheduler=local_cluster.scheduler_address, **settings)
    pd.testing.assert_frame_equal(local.predictions, remote.predictions)


def _result(errors):
    """A `ValidationResult` whose held-out scores are 0.5 and predictions are off by errors."""
    from rosetta.model import MeasurementSpec
    from rosetta.validation import ValidationResult

    errors = np.asarray(errors, dtype=float)
    rows = pd.DataFrame(
        {
            "fold": np.arange(len(errors)) % 3,
            "model": "m",
            "benchmark": "b",
            "score": 0.5,
            "predicted": 0.5 + errors,
            "lo": 0.4,
            "hi": 0.6,
        }
    )
    return ValidationResult(rows, 3, MeasurementSpec())


def test_one_se_rule_keeps_the_simpler_spec_unless_the_richer_is_clearly_better():
    from rosetta.validation import compare_specs

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.05, 400)
    simple = _result(noise)
    slightly = _result(noise * 0.995 + rng.normal(0, 0.002, 400))  # within the noise
    clearly = _result(noise * 0.7)
    table = compare_specs({"dimensions=0": simple, "dimensions=1": slightly})
    assert table["chosen"].tolist() == [True, False]
    assert table.loc["dimensions=1", "mse_gap"] == 0  # the best, but not by enough
    table = compare_specs({"dimensions=0": simple, "dimensions=1": slightly, "x": clearly})
    assert table.index[table["chosen"]].tolist() == ["x"]
    assert table.loc["dimensions=0", "mse_gap"] > table.loc["dimensions=0", "gap_se"]
    with pytest.raises(ValueError, match="same folds"):
        compare_specs({"a": simple, "b": _result(noise[:10])})


def test_spec_variants_are_read_from_text():
    from rosetta.model import MeasurementSpec
    from rosetta.validation import spec_variant

    base = MeasurementSpec(floors="learned")
    variant = spec_variant(base, "dimensions=2, family_effects=false", ["GSM8K", "MMLU"])
    assert (variant.dimensions, variant.family_effects, variant.floors) == (2, False, "learned")
    assert spec_variant(base, "base", []) == base
    domains = spec_variant(base, "domains=metadata", ["GSM8K", "MMLU", "SWE-Bench verified"])
    assert dict(domains.domains)["GSM8K"] == "math"
    for bad in ("dimensions", "colour=red", "dimensions=two", "floors=sideways"):
        with pytest.raises(ValueError, match="spec"):
            spec_variant(base, bad, [])
