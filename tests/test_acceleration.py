"""rosetta.acceleration: the exact hinge posterior, sequential watching, calibration, the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import check_result_interface
from scipy import stats

from rosetta.acceleration import Rule, acceleration, analyse, sequential
from rosetta.acceleration import hinge as hinge_module
from rosetta.acceleration.calibration import choose_rule, summarise, summarise_folder
from rosetta.acceleration.hinge import fit_hinge
from rosetta.cli import main
from rosetta.errors import RosettaError


def _broken_line(factor: float, n: int = 80, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 6, n))
    y = 0.5 * np.where(x < 3, x - 3, factor * (x - 3)) + rng.normal(0, 0.2, n)
    return x, y


@pytest.mark.parametrize("measured", [False, True])
def test_closed_form_evidence_matches_the_gaussian_marginal(measured):
    """Per (tau, sigma), the evidence is N(y | X m0, diag(sigma^2 + v) + X S0 X')."""
    x, y = _broken_line(2.0, n=25)
    weight = np.ones((1, x.size))
    known = (
        np.random.default_rng(3).uniform(0.01, 0.1, (1, x.size)) if measured else np.zeros((1, 1))
    )
    taus, log_sigmas = np.array([2.5, 3.1]), np.log([0.15, 0.3])
    prior = (np.array([0.2, 0.0, 0.0]), np.array([2.0, 0.7, 0.9]))
    got = hinge_module._evidence(x, y[None], weight, known, taus, log_sigmas, prior, hinge=True)
    for t, tau in enumerate(taus):
        gap = x - tau
        design = np.column_stack([np.ones_like(x), gap, np.maximum(gap, 0)])
        for s, log_sigma in enumerate(log_sigmas):
            noise = np.exp(2 * log_sigma) + np.broadcast_to(known[0], x.shape)
            cov = np.diag(noise) + design @ np.diag(prior[1] ** 2) @ design.T
            exact = stats.multivariate_normal(design @ prior[0], cov).logpdf(y) - np.log(4)
            assert got.log_evidence[0, t, s] == pytest.approx(exact, abs=1e-8)


def test_hinge_recovers_a_speed_up():
    x, y = _broken_line(3.0)
    result = fit_hinge(x, y, rng=np.random.default_rng(1))
    lo, hi = np.quantile(result.breakpoint, [0.05, 0.95])
    assert lo < 3.0 < hi and hi - lo < 1.0
    ratio_lo, ratio_hi = np.nanquantile(result.ratio, [0.05, 0.95])
    assert ratio_lo < 3.0 < ratio_hi
    assert result.p_ratio_above(1.5) > 0.99 and result.p_hinge > 0.99


def test_hinge_on_a_straight_line_finds_no_speed_up():
    x, y = _broken_line(1.0)
    result = fit_hinge(x, y, rng=np.random.default_rng(1))
    assert result.p_hinge < 0.5
    assert result.p_ratio_above(2.0) < 0.5
    again = fit_hinge(x, y, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(result.ratio, again.ratio)


def test_hinge_refuses_too_few_points():
    with pytest.raises(ValueError, match="at least 9 points"):
        fit_hinge(np.arange(5.0), np.arange(5.0))


def _draws(factor: float, seed: int = 0, n_draws: int = 30):
    """Capability draws of dated models whose trend speeds up ``factor`` times in 2027."""
    rng = np.random.default_rng(seed)
    dates = pd.DatetimeIndex(np.sort(pd.Timestamp("2024-01-01") + pd.to_timedelta(
        rng.integers(0, 6 * 365, 150), "D")))  # fmt: skip
    years = (dates - pd.Timestamp("2027-01-01")).days.to_numpy() / 365.25
    truth = 0.5 * np.where(years < 0, years, factor * years) + rng.normal(0, 0.2, len(years))
    return truth + rng.normal(0, 0.05, (n_draws, len(years))), dates


def test_analyse_and_sequential_watch():
    capability, dates = _draws(4.0)
    rule = Rule("all", ratio=1.5, threshold=0.95)
    result = analyse(capability, dates, population="all", rule=rule)
    assert result.detected and result.to_dict()["detected"]
    breakpoint = pd.Timestamp(result.to_dict()["breakpoint"]["median"])
    assert abs((breakpoint - pd.Timestamp("2027-01-01")).days) < 90  # the grid is ~monthly
    checkpoints = pd.date_range("2026-01-01", "2029-01-01", freq="3MS")
    table = sequential(capability, dates, checkpoints, population="all", rule=rule)
    assert table["first"].sum() == 1
    first = table.loc[table["first"], "date"].iloc[0]
    assert pd.Timestamp("2027-01-01") < first <= pd.Timestamp("2028-01-01")
    assert table.loc[table["date"] >= first, "detected"].iloc[:2].all()


def _record(factor, seed, p, dates, oracle=None):
    def by_detector(p):
        return {
            key: {f"{r:g}": list(p) for r in (1.0, 1.5, 2.0, 3.0)}
            for key in ("frontier", "all", "all:separate")
        }

    record = {
        "factor": factor,
        "seed": seed,
        "onset": "2027-01-01",
        "dates": dates,
        "p_above": by_detector(p),
    }
    if oracle is not None:
        record["oracle"] = by_detector(oracle)
    return record


def test_separate_noise_tells_the_scatter_from_the_measurement_error():
    """Scatter 0.2, measurement sd 0.3: separate, sigma is the scatter; pooled, it is both.

    Pooled counts the measurement error twice: the posterior mean is off by it, and each draw
    is as far again from the mean, so sigma is sqrt(0.2^2 + 2 * 0.3^2) = 0.47.
    """
    rng = np.random.default_rng(4)
    dates = pd.date_range("2024-01-01", periods=200, freq="7D")
    years = (dates - dates[0]).days.to_numpy() / 365.25
    truth = 0.5 * years + rng.normal(0, 0.2, years.size)
    error = rng.normal(0, 0.3, years.size)  # the posterior mean's error, fixed across draws
    draws = truth + error + rng.normal(0, 0.3, (400, years.size))
    pooled = analyse(draws, dates, population="all", noise="pooled")
    separate = analyse(draws, dates, population="all", noise="separate")
    assert np.median(pooled.hinge.sigma) == pytest.approx(np.sqrt(0.2**2 + 2 * 0.3**2), rel=0.1)
    assert np.median(separate.hinge.sigma) == pytest.approx(0.2, rel=0.3)
    assert separate.noise == "separate" and separate.to_dict()["noise"] == "separate"
    assert separate.p_above[1.0] < 0.9  # no speed-up
    with pytest.raises(ValueError, match="frontier"):
        analyse(draws, dates, population="frontier", noise="separate")


def test_rule_keeps_the_false_alarm_rate_and_delays_are_counted():
    dates = [d.date().isoformat() for d in pd.date_range("2026-01-01", "2028-12-01", freq="MS")]
    rng = np.random.default_rng(0)
    null = [_record(1.0, s, rng.uniform(0, 0.9, len(dates)), dates) for s in range(40)]
    fast = []
    for seed, month in enumerate([2, 5, 20]):
        p = np.full(len(dates), 0.1)
        p[12 + month :] = 0.999  # onset is the 13th checkpoint
        fast.append(_record(2.0, seed, p, dates))
    rule = choose_rule(null + fast)
    out = summarise(null + fast, rule)
    assert out["false_alarm"]["k"] <= 2 and out["false_alarm"]["n"] == 40
    assert out["false_alarm_rate"] == out["false_alarm"]["k"] / 40
    delay = out["detection_delay_months"]["2"]
    assert delay["median"] == 5 and delay["never_detected"] == 0
    assert out["power_12_months"]["2"] == pytest.approx(2 / 3)
    curve = out["power_curve"]
    assert curve["2"][curve["months"].index(3)] == pytest.approx(1 / 3)
    assert curve["2"][curve["months"].index(36)] == pytest.approx(1)


def test_the_oracle_is_calibrated_on_its_own_null_worlds(tmp_path):
    """The oracle gets the chosen detector with a threshold set on the true capabilities."""
    dates = [d.date().isoformat() for d in pd.date_range("2026-01-01", "2028-12-01", freq="MS")]
    rng = np.random.default_rng(0)
    lines = [
        _record(1.0, s, rng.uniform(0, 0.9, len(dates)), dates, rng.uniform(0, 0.5, len(dates)))
        for s in range(30)
    ]
    for seed in range(9):
        late, early = (np.arange(len(dates)) >= k for k in (12 + 14, 12 + 2))
        lines.append(_record(2.0, seed, np.where(late, 0.999, 0.1), dates, np.where(early, 0.8, 0)))
    (tmp_path / "worlds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    summary = summarise_folder(tmp_path).to_dict()
    assert summary["power_12_months"]["2"] == 0 and summary["oracle_power_12_months"]["2"] == 1
    assert summary["oracle"]["rule"]["threshold"] < 0.8 < summary["rule"]["threshold"]
    assert [row["detector"] for row in summary["detectors"]] == ["frontier", "all", "all:separate"]
    assert "oracle" in summarise_folder(tmp_path).summary()


@pytest.fixture
def dated_posterior(tiny_fit, tmp_path):
    """The tiny fit with release dates that rise with capability, saved."""
    from rosetta.io import save_fit

    idata, _ = tiny_fit
    mean = idata.posterior["capability"].mean(("chain", "draw"))
    days = 40 * mean.to_series().rank().to_numpy() + np.random.default_rng(2).normal(
        0, 20, mean.size
    )
    release = pd.Timestamp("2023-01-01") + pd.to_timedelta(days, "D")
    dated = idata.idata.copy()  # deep: the session's fit stays undated
    dated.constant_data = dated.constant_data.assign(
        release_date=xr.DataArray(release.to_numpy(), coords={"model": mean["model"]})
    )
    path = tmp_path / "dated.nc"
    save_fit(dated, path)
    return path


def test_accelerate_cli_json_and_report(capsys, tmp_path, dated_posterior):
    code = main(
        [
            "accelerate", str(dated_posterior), "--population", "all", "--watch-from",
            "2023-09-01", "--report", str(tmp_path / "rep"), "--json",
        ]
    )  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(payload["breakpoint"]) == {"median", "lo", "hi"}
    assert set(payload["slope_ratio"]) == {"median", "lo", "hi"}
    assert 0 <= payload["p_before_positive"] <= 1
    assert 0 <= payload["p_acceleration"] <= 1 and isinstance(payload["detected"], bool)
    assert payload["sequential"]["checkpoints"]
    assert (tmp_path / "rep" / "acceleration.png").stat().st_size > 10_000
    html = (tmp_path / "rep" / "acceleration.html").read_text()
    assert "data:image/png;base64" in html and "http" not in html.replace("<!DOCTYPE html>", "")


def test_accelerate_cli_without_dates_is_a_clean_error(capsys, tiny_fit):
    code = main(["accelerate", str(tiny_fit[1])])
    assert code == 2 and "release date" in capsys.readouterr().err


TINY = {
    "watch_start": "2026-01-01",
    "watch_end": "2026-07-01",
    "tune": 60,
    "draws": 60,
    "hinge_draws": 8,
    "models_per_year": 10.0,
    "benchmarks_per_year": 5.0,
}


@pytest.mark.slow
def test_sweep_on_a_dask_cluster_resumes_and_refuses_other_settings(tmp_path, local_cluster):
    """Two tiny worlds on a LocalCluster, then a third: only the new one runs."""
    from rosetta.acceleration.calibration import SweepSettings, load_records, summarise_folder
    from rosetta.acceleration.calibration import sweep as run_sweep

    settings = SweepSettings(**TINY)
    first = run_sweep(
        tmp_path, (1.0, 4.0), 1, settings=settings, scheduler=local_cluster.scheduler_address
    )
    assert sorted((r["factor"], r["seed"]) for r in first) == [(1.0, 0), (4.0, 0)]
    stamp = (tmp_path / "worlds.jsonl").read_text()
    second = run_sweep(
        tmp_path,
        (1.0,),
        1,
        null_worlds=2,
        settings=settings,
        scheduler=local_cluster.scheduler_address,
    )
    assert (tmp_path / "worlds.jsonl").read_text().startswith(stamp)  # nothing rerun
    assert len(second) == 3 and len(load_records(tmp_path / "worlds.jsonl")) == 3
    record = second[0]
    assert len(record["dates"]) == 6
    assert set(record["p_above"]) == set(record["oracle"]) == {"frontier", "all", "all:separate"}
    assert len(record["capability_sd"]) == record["n_models"] and record["design"] == "tracking"
    summary = summarise_folder(tmp_path).to_dict()
    assert summary["false_alarm"]["n"] == 2 and not summary["held_out"]
    with pytest.raises(RosettaError, match="other settings"):
        run_sweep(tmp_path, (1.0,), 1, settings=SweepSettings(**{**TINY, "tune": 61}))


def test_sequential_gives_no_verdict_while_the_frontier_is_too_short():
    capability, dates = _draws(1.0, n_draws=5)
    checkpoints = [pd.Timestamp("2024-03-01"), pd.Timestamp("2029-06-01")]
    table = sequential(capability, dates, checkpoints, population="frontier", min_points=5)
    early, late = table.iloc[0], table.iloc[1]
    assert np.isnan(early["p_above_1.5"]) and not early["detected"]
    assert np.isfinite(late["p_above_1.5"])


def test_accelerate_uses_a_calibration_folder(capsys, tmp_path, dated_posterior):
    dates = [d.date().isoformat() for d in pd.date_range("2026-01-01", "2028-12-01", freq="MS")]
    rng = np.random.default_rng(1)
    lines = [_record(1.0, s, rng.uniform(0, 0.8, len(dates)), dates) for s in range(15)]
    p = np.where(np.arange(len(dates)) >= 15, 0.99, 0.1)
    lines += [_record(f, s, p, dates) for f in (2.0, 4.0) for s in range(6)]
    folder = tmp_path / "calibration"
    folder.mkdir()
    (folder / "worlds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    code = main(
        [
            "accelerate", str(dated_posterior), "--calibration", str(folder),
            "--report", str(tmp_path / "rep"), "--json",
        ]
    )  # fmt: skip
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["rule"]["source"] == "calibrated on 5 null worlds"
    assert "Calibration" in (tmp_path / "rep" / "acceleration.html").read_text()
    done = ["--worlds", "6", "--null-worlds", "15", "--factors", "1,2,4"]  # nothing left to run
    assert main(["calibrate", *done, "--json", "--out", str(folder)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert main(["calibrate", *done, "--design", "reference", "--out", str(folder)]) == 2
    assert "other settings" in capsys.readouterr().err
    assert summary["power_12_months"] == {"2": 1.0, "4": 1.0} and summary["held_out"]
    assert summary["false_alarm_rate"] <= 0.25
    calibration = summarise_folder(folder)
    check_result_interface(calibration, tmp_path)
    assert "false-alarm rate" in calibration.summary()
    result = acceleration(dated_posterior, watch_from="2023-06-01", rule=Rule(**calibration.rule))
    check_result_interface(result, tmp_path)
    check_result_interface(result.watch, tmp_path)
    assert result.to_dict()["sequential"]["checkpoints"]


def test_calibrate_needs_null_worlds(capsys):
    assert main(["calibrate", "--factors", "2,4"]) == 2
    assert "factor 1" in capsys.readouterr().err


def test_accelerate_refuses_a_bad_date(capsys, tiny_fit):
    assert main(["accelerate", str(tiny_fit[1]), "--until", "notadate"]) == 2
    assert "not a date: 'notadate'" in capsys.readouterr().err


def test_a_sweep_on_dask_without_dask_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    from rosetta.errors import RosettaError
    from rosetta.executors import executor

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(RosettaError, match=r"rosetta\[dask\]"):
        executor("tcp://localhost:8786", None)


def test_the_watchdog_stops_a_hung_task_and_runs_it_again(monkeypatch, caplog):
    """A task past its limit is killed, logged and rerun with new arguments; failures surface."""
    from rosetta.executors import TimedOut, run_limited

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # the child imports helpers
    start = time.perf_counter()
    done = run_limited(
        "helpers:nap", {"seconds": 600}, limit=8, retries=1, retry=lambda kwargs, a: {"seconds": 0}
    )
    assert done == {"slept": 0, "attempts": 2}
    assert time.perf_counter() - start < 120
    assert "no result after 8 s, stopped (attempt 1 of 2)" in caplog.text
    with pytest.raises(TimedOut, match=r"within 3 s \(1 attempt\)"):
        run_limited("helpers:nap", {"seconds": 600}, limit=3, retries=0)
    with pytest.raises(RuntimeError, match="TypeError"):
        run_limited("helpers:nap", {"seconds": "a while"}, limit=60)


def test_the_shipped_rule_is_its_calibration_s_and_keeps_the_false_alarm_rate():
    """DEFAULT_RULE comes from the shipped sweep summary, scored on >= 100 held-out null worlds."""
    from rosetta.acceleration import DEFAULT_RULE, default_calibration

    summary = default_calibration()
    rule = summary["rule"]
    assert (DEFAULT_RULE.population, DEFAULT_RULE.noise) == (rule["population"], rule["noise"])
    assert (DEFAULT_RULE.ratio, DEFAULT_RULE.threshold) == (rule["ratio"], rule["threshold"])
    assert summary["design"] == "tracking" and summary["held_out"]
    far = summary["false_alarm"]
    assert far["n"] >= 100 and far["rate"] <= 0.05
    assert set(summary["oracle_power_12_months"]) == set(summary["power_12_months"])
    assert "held-out false alarms" in DEFAULT_RULE.source
