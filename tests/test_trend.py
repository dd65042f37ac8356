"""rosetta.trends: frontier per draw, regression draws, the trend of a fit, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import check_result_interface

from rosetta.cli import main
from rosetta.trends import fit_lines, frontier_mask, release_dates, trend


def test_frontier_counts_earlier_and_same_day_rivals():
    dates = np.array(["2024-01-01", "2024-02-01", "2024-02-01", "2024-03-01"], dtype="M8[ns]")
    capability = np.array(
        [
            [1.0, 2.0, 1.5, 1.8],  # model 1 leads; 2 loses to a same-day rival; 3 below 1
            [1.0, 0.5, 0.7, 3.0],  # nobody beats model 0 until model 3
        ]
    )
    expected = np.array([[True, True, False, False], [True, False, False, True]])
    np.testing.assert_array_equal(frontier_mask(capability, dates), expected)


def test_line_draws_follow_least_squares_theory():
    rng = np.random.default_rng(1)
    years = np.linspace(0, 4, 30)
    values = 0.5 + 0.8 * years + rng.normal(0, 0.3, 30)
    lines = fit_lines(years, np.tile(values, (20000, 1)), np.ones(30, bool), "2020-01-01", rng)
    slope, intercept = np.polyfit(years, values, 1)
    resid = values - (intercept + slope * years)
    se = np.sqrt(resid @ resid / 28 / np.sum((years - years.mean()) ** 2))
    assert lines.slope.mean() == pytest.approx(slope, abs=0.03 * se)
    # Student-t with 28 degrees of freedom: sd = se * sqrt(28 / 26).
    assert lines.slope.std() == pytest.approx(se * np.sqrt(28 / 26), rel=0.03)


def test_lines_need_three_points():
    rng = np.random.default_rng(0)
    use = np.array([[True, True, False], [True, True, True]])
    lines = fit_lines(np.array([0.0, 1.0, 2.0]), np.ones((2, 3)), use, "2020-01-01", rng)
    assert np.isnan(lines.slope[0]) and np.isfinite(lines.slope[1])


@pytest.fixture(scope="module")
def dated(tiny_fit):
    """Release dates for the tiny fit: later models are more capable on average."""
    idata, _ = tiny_fit
    mean = idata.posterior["capability"].mean(("chain", "draw")).to_series()
    order = mean.rank().to_numpy()
    days = 60 * order + np.random.default_rng(2).normal(0, 40, len(order))
    return pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(days, "D"), index=mean.index)


def test_trend_of_a_fit(tiny_fit, dated, tmp_path):
    idata, _ = tiny_fit
    result = trend(idata, dates=dated, horizon_years=1.0)
    check_result_interface(result, tmp_path)
    assert result.summary().startswith("25 models with a release date")
    out = result.to_dict()
    growth = out["all_models_growth_per_year"]
    assert growth["lo"] < growth["median"] < growth["hi"] and growth["lo"] > 0
    assert out["frontier"] and set(out["frontier"]) <= set(dated.index)
    assert out["n_models"] == 25 and out["excluded"] == {"no release date": 0}
    dates = [row["date"] for row in out["forecast"]]
    assert dates == sorted(dates) and len(dates) == 5
    assert all(row["lo"] < row["median"] < row["hi"] for row in out["forecast"])
    assert out["forecast"][-1]["hi"] - out["forecast"][-1]["lo"] > 0


def test_models_without_dates_are_counted(tiny_fit, dated):
    idata, _ = tiny_fit
    assert release_dates(idata).isna().all()  # the simulated table has no dates
    partial = dated.iloc[:20]
    result = trend(idata, dates=partial, since=partial.sort_values().iloc[2])
    assert result.excluded == {"no release date": 5, "released before since": 2}
    assert len(result.capability) == 18


@pytest.fixture(scope="module")
def dated_fit(tiny_sim, dated, tmp_path_factory):
    """A quick (MAP) fit of the tiny table with release dates, saved."""
    from rosetta.io import save_fit
    from rosetta.model import MeasurementSpec, fit
    from rosetta.scale import Scale

    table, _ = tiny_sim
    frame = table.scores[["model", "benchmark", "score", "floor"]].assign(
        date=lambda f: f["model"].map(dated)
    )
    idata = fit(
        frame,
        MeasurementSpec(scale=Scale(benchmark="b01")),
        method="map",
        draws=200,
        chains=1,
        progress=False,
    )
    path = tmp_path_factory.mktemp("dated") / "dated.nc"
    save_fit(idata, path)
    return idata, path


def test_trend_cli_json(capsys, tmp_path, dated_fit):
    png = tmp_path / "trend.png"
    code = main(["trend", str(dated_fit[1]), "--horizon", "1", "--plot", str(png), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and png.stat().st_size > 10_000
    for key in ("frontier_growth_per_year", "all_models_growth_per_year"):
        assert set(payload[key]) >= {"median", "lo", "hi"}
    assert isinstance(payload["frontier"], list)
    assert {"date", "median", "lo", "hi"} <= set(payload["forecast"][0])


def test_backtest_refits_on_earlier_models_only(dated_fit, dated, tmp_path):
    from rosetta.trends import backtest

    idata, _ = dated_fit
    cutoff = dated.sort_values().iloc[17]
    backtested = backtest(idata, cutoff, method="map", draws=200, chains=1)
    result = backtested.to_dict()
    assert "back-test from" in backtested.summary()
    check_result_interface(backtested, tmp_path)
    assert len(backtested.plot_data()) == result["n_test"]
    assert result["n_train_models"] == 17  # the models released before the cutoff
    assert result["n_test"] >= 1
    assert all(row["date"] >= cutoff.date().isoformat() for row in result["models"])
    assert result["mae"] >= 0 and 0 <= result["coverage"] <= 1
    assert all(row["lo"] <= row["median"] <= row["hi"] for row in result["models"])


def test_trend_cli_on_a_fit_without_dates_says_so_in_one_line(capsys, tiny_fit):
    code = main(["trend", str(tiny_fit[1])])
    err = capsys.readouterr().err
    assert code == 2
    assert "release date" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
