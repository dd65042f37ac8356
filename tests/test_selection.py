import arviz as az
import numpy as np
import pytest

import rosetta.selection as selection
from rosetta.model import MeasurementSpec
from rosetta.selection import choose_spec, loo_rule

#: Tiny NUTS fits: enough draws for PSIS-LOO to run, not to converge.
_NUTS = {"draws": 100, "tune": 100, "chains": 2, "progress": False}


@pytest.fixture
def patient(monkeypatch):
    """No candidate is given up for the tiny fits' poor convergence (tested on its own)."""
    monkeypatch.setattr(selection, "GIVE_UP_RHAT", np.inf)
    monkeypatch.setattr(selection, "GIVE_UP_DIVERGENT_SHARE", np.inf)


def _loo(pointwise):
    """`arviz.loo` of a fake fit whose draws give each score the log-likelihood ``pointwise``."""
    rng = np.random.default_rng(0)
    draws = pointwise + 0.05 * rng.standard_normal((2, 200, len(pointwise)))
    idata = az.from_dict(
        posterior={"a": rng.standard_normal((2, 200))}, log_likelihood={"score": draws}
    )
    return az.loo(idata, pointwise=True)


def test_the_loo_rule_keeps_the_simplest_spec_within_one_standard_error():
    rng = np.random.default_rng(1)
    simple = rng.normal(-1.0, 0.5, 300)
    slightly = simple + rng.normal(0.002, 0.05, 300)  # better by less than its noise
    clearly = simple + 0.3
    table = loo_rule({"k0": _loo(simple), "k1": _loo(slightly)})
    assert list(table.index) == ["k0", "k1"] and table["chosen"].tolist() == [True, False]
    assert (
        table.loc["k1", "elpd_diff"] == 0 < table.loc["k0", "elpd_diff"] <= table.loc["k0", "dse"]
    )
    table = loo_rule({"k0": _loo(simple), "k1": _loo(slightly), "k2": _loo(clearly)})
    assert table["chosen"].tolist() == [False, False, True]
    assert {"elpd_loo", "se", "p_loo", "n_high_pareto_k"} <= set(table.columns)


def test_choose_spec_by_psis_loo_reuses_the_chosen_fit(tiny_sim, monkeypatch, patient):
    table, _ = tiny_sim
    spec = MeasurementSpec(family_effects=False)
    texts = ["dimensions=0", "dimensions=1"]
    choice = choose_spec(table, spec, texts, criterion="loo", random_seed=3, **_NUTS)
    assert choice.criterion == "loo" and choice.folds is None and not choice.note
    assert list(choice.table.index) == texts and choice.table["chosen"].sum() == 1
    assert set(choice.fitted) == set(texts)
    assert choice.reason().startswith(f"spec chosen by PSIS-LOO of 2 candidates: {choice.label}")
    record = choice.record()
    assert record["criterion"] == "loo" and "PSIS-LOO" in record["rule"]

    def no_refit(*args, **kwargs):
        raise AssertionError("the chosen candidate was fitted already")

    monkeypatch.setattr("rosetta.model.fit", no_refit)
    chosen = choice.fit(table, random_seed=3, warn=False, **_NUTS)
    assert chosen.info.selection["chosen"] == choice.label
    assert chosen.posterior is choice.fitted[choice.label].posterior
    with pytest.raises(AssertionError, match="fitted already"):
        choice.fit(table, random_seed=4, **_NUTS)  # another seed is another fit


def test_choose_spec_falls_back_to_cross_validation_when_pareto_k_is_high(
    tiny_sim, monkeypatch, patient
):
    table, _ = tiny_sim
    monkeypatch.setattr(selection, "LOO_MAX_HIGH_K_SHARE", -1.0)  # no share passes
    spec = MeasurementSpec(family_effects=False)
    texts = ["dimensions=0", "dimensions=1"]
    choice = choose_spec(table, spec, texts, folds=2, random_seed=3, **_NUTS)
    assert choice.criterion == "cv" and choice.folds == 2
    assert choice.note.startswith("PSIS-LOO not used: ") and "under dimensions=0" in choice.note
    assert list(choice.fitted) == ["dimensions=0"]  # it stopped at the first failing candidate
    assert {"rmse", "mse_gap", "gap_se", "chosen"} <= set(choice.table.columns)
    assert choice.note in choice.reason() and "2-fold cross-validation" in choice.reason()


def test_choose_spec_checks_its_criterion(tiny_sim):
    table, _ = tiny_sim
    with pytest.raises(ValueError, match="criterion must be one of"):
        choose_spec(table, criterion="waic")
    with pytest.raises(ValueError, match="needs NUTS"):
        choose_spec(table, criterion="loo", method="map")
    with pytest.raises(ValueError, match="at least two"):
        choose_spec(table, candidates=["dimensions=0"])


def test_a_choice_says_which_spec_and_why():
    import pandas as pd

    from rosetta.selection import SpecChoice

    index = pd.Index(["dimensions=0", "dimensions=1"], name="spec")
    loo = pd.DataFrame(
        {"elpd_loo": [-10.0, -9.0], "se": [3.0, 3.0], "elpd_diff": [1.0, 0.0], "dse": [2.0, 0.0]},
        index=index,
    ).assign(p_loo=[3.0, 4.0], n_high_pareto_k=[0, 1], chosen=[True, False])
    reason = SpecChoice("dimensions=0", None, loo, "loo").reason()
    assert reason == (
        "spec chosen by PSIS-LOO of 2 candidates: dimensions=0 (elpd -10.0, SE 3.0; 0 scores "
        "with Pareto k > 0.7): within one SE of the best (dimensions=1: elpd difference 1.0 <= "
        "SE 2.0) and simpler"
    )
    assert (
        SpecChoice("dimensions=1", None, loo, "loo")
        .reason()
        .endswith("the best expected log predictive density")
    )
    cv = pd.DataFrame(
        {"rmse": [0.1, 0.09], "coverage": [0.9, 0.91], "mse_gap": [1e-4, 0.0]}, index=index
    ).assign(gap_se=[2e-4, 0.0], chosen=[True, False])
    choice = SpecChoice("dimensions=0", None, cv, "cv", 5, "PSIS-LOO not used: why")
    assert choice.reason().startswith("spec chosen by 5-fold cross-validation of 2 candidates: ")
    assert "gap 1.00e-04 <= SE 2.00e-04) and simpler (PSIS-LOO not used: why)" in choice.reason()
    record = choice.record()
    assert record["criterion"] == "cv" and record["folds"] == 5 and "MSE" in record["rule"]
    assert [row["spec"] for row in record["candidates"]] == list(index)


def test_candidates_are_tried_until_one_is_no_better_or_given_up():
    from rosetta.errors import SamplingError
    from rosetta.selection import _GiveUp, _ladder

    labels = ["k0", "k1", "k2", "k3"]

    def scored(values):
        def evaluate(label):
            value = values[label]
            if value is None:
                raise _GiveUp(f"{label} given up: its fit did not converge (R-hat 1.30)")
            return value

        return evaluate

    results, note = _ladder(labels, scored({"k0": 1, "k1": 3, "k2": 2, "k3": 9}), score=int)
    assert results == {"k0": 1, "k1": 3, "k2": 2}
    assert note == "k2 is no better than a simpler candidate; not tried: k3"
    results, note = _ladder(labels, scored({"k0": 1, "k1": 3, "k2": None, "k3": 9}), score=int)
    assert results == {"k0": 1, "k1": 3}
    assert note == "k2 given up: its fit did not converge (R-hat 1.30); not tried: k3"
    results, note = _ladder(labels, scored({"k0": 1, "k1": 2, "k2": 3, "k3": 3}), score=int)
    assert len(results) == 4 and note == ""  # the last one being no better stops nothing
    with pytest.raises(SamplingError, match="no candidate could be fitted: k0 given up"):
        _ladder(labels, scored({"k0": None}), score=int)


def test_a_fit_far_from_converged_is_unusable():
    from rosetta.selection import unusable

    assert unusable({"max_rhat": 1.02, "divergences": 6, "n_draws": 3600}) is None
    assert unusable({"max_rhat": None, "divergences": 0, "n_draws": 100}) is None  # MAP
    assert unusable({"max_rhat": 1.24, "divergences": 85, "n_draws": 3600}) == (
        "R-hat 1.24, 85 divergent transitions"
    )


def test_cross_validation_stops_when_a_fold_is_refused(tiny_sim):
    from rosetta.validation import cross_validate

    table, _ = tiny_sim
    seen = []

    def refuse_second(k, diagnostics):
        seen.append(k)
        if k == 1:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        cross_validate(
            table, folds=3, method="map", draws=20, chains=1, progress=False, on_fold=refuse_second
        )
    assert seen == [0, 1]
