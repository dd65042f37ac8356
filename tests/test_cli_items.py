"""`rosetta simulate` and `rosetta fit --item-level` end to end."""

import json

import pandas as pd

from rosetta.cli import main
from rosetta.io import load_fit


def test_simulate_then_fit_items(capsys, tmp_path):
    data, truth, out = tmp_path / "items.csv", tmp_path / "truth.csv", tmp_path / "fit.nc"
    args = ["simulate", "--item-level", "--models", "20", "--benchmarks", "4"]
    args += ["--items-per-benchmark", "10", "--observed-fraction", "0.8", "--seed", "3"]
    code = main([*args, "--out", str(data), "--truth", str(truth), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["rows"] == 10 * payload["pairs"]
    assert list(pd.read_csv(truth).columns) == ["model", "capability"]
    assert list(pd.read_csv(data).columns[:4]) == ["model", "benchmark", "item", "correct"]

    args = ["fit", str(data), "--item-level", "--method", "advi", "--chains", "1"]
    code = main([*args, "--draws", "100", "--out", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["n_responses"] == 10 * payload["n_scores"]
    assert payload["method"] == "advi"
    idata = load_fit(out)
    assert idata.posterior.sizes["draw"] == 100
    assert "item_slope" in idata.posterior


def test_item_level_errors(capsys, tmp_path):
    data = tmp_path / "items.csv"
    main(["simulate", "--item-level", "--models", "6", "--benchmarks", "2", "--out", str(data)])
    capsys.readouterr()
    assert main(["fit", str(data), "--item-level", "--method", "map"]) == 2
    assert "degenerate" in capsys.readouterr().err
    scores = tmp_path / "scores.csv"
    main(["simulate", "--models", "6", "--benchmarks", "2", "--out", str(scores)])
    capsys.readouterr()
    assert main(["fit", str(data), "--item-level", "--scores", str(scores)]) == 2
    assert "both item-level data and benchmark-level" in capsys.readouterr().err
    assert main(["fit", str(scores), "--scores", str(scores)]) == 2
    assert main(["fit", str(scores), "--item-level"]) == 2
    assert "missing column" in capsys.readouterr().err
