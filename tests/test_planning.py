"""Evaluation planning: next-benchmark suggestions, placing a new benchmark, saturation dates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import check_result_interface

from rosetta.benchmark_placement import place
from rosetta.cli import main
from rosetta.errors import DataValidationError, RosettaError
from rosetta.likelihoods import expected_score
from rosetta.placement import query
from rosetta.prediction import draw_scores
from rosetta.saturation_forecast import STATUSES, saturation
from rosetta.suggestion import suggest
from rosetta.trends import trend

START = {"b00": 0.8}


# --- suggest -----------------------------------------------------------------------------------


def test_suggest_ranks_the_benchmarks_not_run_and_repeats_with_its_seed(tiny_fit, tmp_path):
    idata, _ = tiny_fit
    result = suggest(idata, START, n=3)
    ranking = result.ranking
    assert "b00" not in ranking.index and len(ranking) == 5
    assert list(ranking["value"]) == sorted(ranking["value"], reverse=True)
    assert (ranking["expected_sd_after"] <= result.query.sd * 1.02).all()
    assert len(result.best) == 3
    again = suggest(idata, START, n=3)
    pd.testing.assert_frame_equal(ranking, again.ranking)
    out = result.to_dict()
    assert [s["benchmark"] for s in out["suggestions"]] == result.best
    assert {"benchmark", "expected_sd_after"} <= set(out["suggestions"][0])
    check_result_interface(result, tmp_path)


def test_expected_sd_after_matches_querying_simulated_outcomes(tiny_fit):
    """The preposterior shortcut against brute force: query each simulated score, average."""
    idata, _ = tiny_fit
    result = suggest(idata, START)
    now = query(idata, START)
    rng = np.random.default_rng(5)
    draws = now._draws
    for bench in ("b02", result.best[-1]):
        j = draws.benchmarks.get_loc(bench)
        pick = rng.choice(len(now.capability), size=150, replace=False)
        index = now.draw_index[pick]
        x = draws.slope[index, j] * (now.capability[pick] - draws.difficulty[index, j])
        p, _ = expected_score(x, draws.floor[index, j])
        y = draw_scores(
            p,
            precision=draws.precision[index, j],
            zero_cutpoint=None if draws.zero_cutpoint is None else draws.zero_cutpoint[index],
            one_cutpoint=None if draws.one_cutpoint is None else draws.one_cutpoint[index],
            rng=rng,
        )
        y = np.clip(y, 1e-3, 1 - 1e-3)  # the tiny fit may lack a point mass at an end
        brute = np.mean([query(idata, {**START, bench: s}).sd ** 2 for s in y])
        shortcut = result.ranking.loc[bench, "expected_sd_after"] ** 2
        assert shortcut == pytest.approx(brute, rel=0.2), bench


def test_costs_rank_by_reduction_per_unit_and_are_checked(tiny_fit):
    idata, _ = tiny_fit
    costs = {"b01": 1.0, "b02": 100.0, "b03": 1.0}
    result = suggest(idata, START, costs=costs)
    assert set(result.ranking.index) == set(costs)
    assert result.ranking.index[-1] == "b02"
    assert any("no cost" in n for n in result.notes)
    frame = pd.DataFrame({"benchmark": ["b01", "b02"], "cost": [1, 2]})
    assert set(suggest(idata, START, costs=frame).ranking.index) == {"b01", "b02"}
    with pytest.raises(RosettaError, match="unknown benchmark 'b99'"):
        suggest(idata, START, costs={"b99": 1.0})
    with pytest.raises(RosettaError, match="positive"):
        suggest(idata, START, costs={"b01": -1.0})
    twice = pd.DataFrame({"benchmark": ["b01", "b01"], "cost": [1, 2]})
    with pytest.raises(RosettaError, match="'b01' is given twice"):
        suggest(idata, START, costs=twice)
    everything = {f"b0{j}": 0.5 for j in range(6)}
    with pytest.raises(RosettaError, match="nothing is left to suggest"):
        suggest(idata, everything)


def test_query_cli_suggests(capsys, tiny_fit, tmp_path):
    _, path = tiny_fit
    code = main(["query", str(path), "--score", "b00=0.8", "--suggest", "2", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and len(payload["suggestions"]) == 2
    assert payload["suggestions"][0]["expected_sd_after"] < payload["capability"]["sd"]
    costs = tmp_path / "costs.csv"
    costs.write_text("benchmark,cost\nb01,1\nb02,3\n")
    code = main(["query", str(path), "--score", "b00=0.8", "--suggest", "5", "--costs", str(costs)])
    out = capsys.readouterr().out
    assert code == 0 and "cost 3" in out and "no cost given for 3 benchmark(s)" in out
    assert main(["query", str(path), "--score", "b00=0.8", "--costs", str(path)]) == 2
    assert "--suggest" in capsys.readouterr().err


# --- place -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def new_benchmark(tiny_fit):
    """Scores of 18 fitted models on a made-up benchmark of known difficulty and slope."""
    idata, _ = tiny_fit
    capability = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    rng = np.random.default_rng(8)
    models = capability.index[rng.permutation(len(capability))[:18]]
    p, _ = expected_score(1.6 * (capability[models].to_numpy() - 0.3), 0.0)
    score = rng.beta(p * 80, (1 - p) * 80)
    return pd.DataFrame({"model": models, "benchmark": "new", "score": score})


def test_place_recovers_a_benchmark_and_predicts_every_model(tiny_fit, new_benchmark, tmp_path):
    idata, _ = tiny_fit
    result = place(idata, new_benchmark)
    row = result.parameters.loc["new"]
    assert row["difficulty_lo"] < 0.3 < row["difficulty_hi"]
    assert row["slope_lo"] < 1.6 < row["slope_hi"]
    predicted = result.predicted.set_index("model")
    assert len(predicted) == idata.posterior.sizes["model"]
    assert (predicted["score_lo"] <= predicted["lo"]).all()
    assert (predicted["hi"] <= predicted["score_hi"]).all()
    seen = predicted.loc[new_benchmark["model"]]
    inside = (seen["score_lo"] <= seen["observed"]) & (seen["observed"] <= seen["score_hi"])
    assert inside.mean() >= 0.8
    out = result.to_dict()["benchmarks"]["new"]
    assert {"mean", "lo", "hi"} <= set(out["difficulty"]) and len(out["predicted"]) == 25
    again = place(idata, new_benchmark)
    pd.testing.assert_frame_equal(result.predicted, again.predicted)
    check_result_interface(result, tmp_path)


def test_place_from_two_scores_leans_on_the_prior_and_says_so(tiny_fit, new_benchmark):
    idata, _ = tiny_fit
    result = place(idata, new_benchmark.head(2))
    notes = " ".join(result.notes["new"])
    assert "only 2 score" in notes
    wide = result.parameters.loc["new"]
    narrow = place(idata, new_benchmark).parameters.loc["new"]
    assert (
        wide["difficulty_hi"] - wide["difficulty_lo"]
        > narrow["difficulty_hi"] - narrow["difficulty_lo"]
    )


def test_place_checks_its_input(tiny_fit, new_benchmark):
    idata, _ = tiny_fit
    bad = new_benchmark.head(3).copy()
    bad.loc[bad.index[0], "model"] = "m99x"
    bad.loc[bad.index[1], "benchmark"] = "b01"
    with pytest.raises(DataValidationError) as err:
        place(idata, pd.concat([bad, bad.tail(1)]))
    text = str(err.value)
    assert "'m99x' is not in the fit" in text and "'b01' is already in the fit" in text
    assert "scored twice" in text
    floors = new_benchmark.head(2).assign(floor=[0.0, 0.25])
    with pytest.raises(DataValidationError, match="several floors"):
        place(idata, floors)
    placed = place(idata, new_benchmark, floors={"new": 0.1})
    assert placed.parameters.loc["new", ["floor_lo", "floor_hi"]].tolist() == [0.1, 0.1]
    with pytest.raises(RosettaError, match="give a number in"):
        place(idata, new_benchmark, floors={"new": 1.0})


def test_place_cli(capsys, tiny_fit, new_benchmark, tmp_path):
    _, path = tiny_fit
    csv = tmp_path / "new.csv"
    new_benchmark.to_csv(csv, index=False)
    code = main(["place", str(path), "--scores", str(csv), "--floor", "new=0", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"difficulty", "slope", "predicted"} <= set(payload["benchmarks"]["new"])


# --- saturation --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dated(tiny_fit):
    """Release dates for the tiny fit: later models are more capable on average."""
    idata, _ = tiny_fit
    mean = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    days = 60 * mean.rank().to_numpy() + np.random.default_rng(2).normal(0, 40, len(mean))
    return pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(days, "D"), index=mean.index)


def test_saturation_dates_follow_the_levels(tiny_fit, dated, tmp_path):
    idata, _ = tiny_fit
    result = saturation(idata, dates=dated, levels=(0.3, 0.6, 0.95))
    table = result.table
    assert set(table["status"]) <= set(STATUSES)
    for _, rows in table.groupby("benchmark"):
        medians = rows.sort_values("level")["median"].fillna(result.horizon)
        assert medians.is_monotonic_increasing
    out = saturation(idata, "b03", dates=dated, levels=[50]).to_dict()
    assert set(out["levels"]) == {"0.5"}
    assert {"median", "lo", "hi", "status"} <= set(out["levels"]["0.5"])
    check_result_interface(result, tmp_path)


def test_saturation_median_is_where_half_the_draws_cross(tiny_fit, dated):
    """At the forecast median date the frontier line's expected score is at the level in half
    of the draws (for a level no fitted model reached)."""
    idata, _ = tiny_fit
    result = saturation(idata, dates=dated, levels=[0.99], line="frontier", horizon_years=30)
    rows = result.table[(result.table["status"] == "forecast") & (result.table["p_reached"] == 0)]
    assert len(rows), "the tiny fit should leave some benchmark short of 0.99"
    line = trend(idata, dates=dated, horizon_years=1.0).frontier_line
    draws = idata.posterior
    for _, row in rows.iterrows():
        theta = line.predict([row["median"]], np.random.default_rng(0), noise=False)[:, 0]
        bench = draws.sel(benchmark=row["benchmark"])
        slope = bench["slope"].to_numpy().ravel()
        difficulty = bench["difficulty"].to_numpy().ravel()
        p, _ = expected_score(slope * (theta - difficulty), bench["floor"].to_numpy().ravel())
        assert np.mean(p >= 0.99) == pytest.approx(0.5, abs=0.06), row["benchmark"]


def test_saturation_cli(capsys, tiny_fit):
    _, path = tiny_fit
    # The tiny table has no release dates: one line, exit 2.
    assert main(["saturation", str(path), "--benchmark", "b01"]) == 2
    assert "release date" in capsys.readouterr().err
    assert main(["saturation", str(path), "0.5"]) == 2
    with pytest.raises(RosettaError, match="at least one level"):
        saturation(path, levels=[])


def test_saturation_without_a_frontier_line_falls_back_to_the_envelope(tiny_fit, dated):
    """Capability falling with time leaves one or two frontier models: no line through them."""
    idata, _ = tiny_fit
    reversed_dates = pd.Series(
        dated.sort_values().to_numpy()[::-1], index=dated.sort_values().index
    )
    result = saturation(idata, "b05", dates=reversed_dates, levels=[0.99], line="frontier")
    assert any("envelope line stands in" in n for n in result.notes)
    assert result.table["status"].iloc[0] in STATUSES
    with pytest.raises(ValueError, match="line must be one of"):
        saturation(idata, "b05", dates=dated, line="straight")


def test_placing_a_fitted_benchmark_again_recovers_its_posterior(tiny_fit):
    """A fitted benchmark's own scores, placed under a new name against the same fit, give back
    its difficulty and slope intervals (the cut keeps the capabilities as the fit has them)."""
    idata, _ = tiny_fit
    table = idata.table.scores
    rows = table[table["benchmark"] == "b03"][["model", "benchmark", "score", "floor"]]
    placed = place(idata, rows.assign(benchmark="again")).parameters.loc["again"]
    for name in ("difficulty", "slope"):
        draws = idata.posterior[name].sel(benchmark="b03").to_numpy().ravel()
        lo, hi = np.quantile(draws, [0.05, 0.95])
        width = hi - lo
        assert placed[f"{name}_lo"] == pytest.approx(lo, abs=0.2 * width), name
        assert placed[f"{name}_hi"] == pytest.approx(hi, abs=0.2 * width), name


def test_a_learned_floor_is_found_above_the_prior(tiny_fit):
    """Scores that never fall below 0.3 (a 30% chance floor): the learned floor moves up to it."""
    idata, _ = tiny_fit
    capability = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    p, _ = expected_score(1.5 * (capability.to_numpy() - 0.8), 0.3)
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {"model": capability.index, "benchmark": "mc", "score": rng.beta(p * 150, (1 - p) * 150)}
    )
    result = place(idata, frame, floors={"mc": "learned"})
    row = result.parameters.loc["mc"]
    assert row["floor_learned"] and row["floor_lo"] < 0.3 < row["floor_hi"]
    assert row["floor_mean"] > 0.2  # the prior's median is 0.1
    assert result.to_dict()["benchmarks"]["mc"]["floor"]["hi"] > row["floor_lo"]
