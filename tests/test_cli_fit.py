import gc
import json
import sys
from importlib.metadata import entry_points

import pytest

from rosetta.cli import main, run
from rosetta.io import load_fit


def test_fit_json_and_tables(capsys, tmp_path, tiny_sim):
    table, _ = tiny_sim
    path = tmp_path / "scores.csv"
    table.scores[["model", "benchmark", "score", "floor"]].to_csv(path, index=False)
    out = tmp_path / "post.nc"
    code = main(
        [
            "fit",
            str(path),
            "--method",
            "map",
            "--draws",
            "50",
            "--chains",
            "1",
            "--anchor-benchmark",
            "b01",
            "--out",
            str(out),
            "--tables",
            str(tmp_path / "tables"),
            "--json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in (
        "n_models",
        "n_benchmarks",
        "n_scores",
        "wall_seconds",
        "max_rhat",
        "min_ess_bulk",
        "divergences",
        "scale",
    ):
        assert key in payload
    assert payload["scale"]["benchmark"] == "b01"
    assert payload["converged"] is None  # an approximation makes no convergence claim
    assert load_fit(out).posterior.attrs["method"] == "map"
    assert (tmp_path / "tables" / "capabilities.csv").read_text().startswith("model,mean,sd")


def test_fit_rejects_bad_anchor_and_bad_data(capsys, tmp_path, write_csv):
    path = write_csv("model,benchmark,score\na,X,0.5\nb,X,0.6\na,Y,0.2\nb,Y,0.3\n")
    code = main(
        [
            "fit",
            str(path),
            "--method",
            "map",
            "--anchor-benchmark",
            "Nope",
            "--out",
            str(tmp_path / "x.nc"),
        ]
    )
    assert code == 2 and "anchor benchmark 'Nope'" in capsys.readouterr().err
    code = main(["fit", str(path), "--anchor-models", "a=1", "b", "--out", str(tmp_path / "x.nc")])
    assert code == 2 and "ID=VALUE" in capsys.readouterr().err
    code = main(["fit", str(write_csv("model,benchmark,score\na,X,1.7\n", "bad.csv"))])
    assert code == 2 and "score 1.7 outside [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "x.nc").exists()


def test_fit_passes_the_target_accept_and_rejects_one_outside_its_range(
    capsys, monkeypatch, tmp_path, tiny_sim
):
    import rosetta.model

    table, _ = tiny_sim
    path = tmp_path / "scores.csv"
    table.scores[["model", "benchmark", "score"]].to_csv(path, index=False)
    real, seen = rosetta.model.fit, {}

    def recording_fit(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(rosetta.model, "fit", recording_fit)
    args = ["fit", str(path), "--method", "map", "--draws", "50", "--chains", "1"]
    args += ["--anchor-benchmark", "b01", "--out", str(tmp_path / "p.nc")]
    assert main([*args, "--target-accept", "0.97"]) == 0
    assert seen["target_accept"] == 0.97
    assert main([*args, "--target-accept", "1"]) == 2
    assert "--target-accept" in capsys.readouterr().err


def test_approximate_fit_text_makes_no_convergence_claim(capsys, tmp_path, tiny_sim):
    table, _ = tiny_sim
    path = tmp_path / "scores.csv"
    table.scores[["model", "benchmark", "score"]].to_csv(path, index=False)
    args = ["fit", str(path), "--method", "map", "--draws", "50", "--chains", "1"]
    code = main([*args, "--anchor-benchmark", "b01", "--out", str(tmp_path / "p.nc")])
    text = capsys.readouterr().out
    assert code == 0
    assert "approximate (map)" in text and "-> ok" not in text


def test_a_table_of_one_benchmark_fits_and_every_analysis_answers_in_one_line(
    capsys, tmp_path, write_csv
):
    """One benchmark, no dates, no compute: the fit works, analyses that need more say so."""
    data = write_csv("model,benchmark,score\na,X,0.2\nb,X,0.4\nc,X,0.6\nd,X,0.8\n")
    out = tmp_path / "one.nc"
    fit_args = ["fit", str(data), "--method", "map", "--draws", "50", "--chains", "1"]
    assert main([*fit_args, "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_benchmarks"] == 1 and payload["converged"] is None
    for command in (["trend"], ["progress", "--no-sensitivity"], ["accelerate"]):
        assert main([*command, str(out)]) == 2, command
        err = capsys.readouterr().err
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    assert main(["query", str(out), "--score", "X=0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_fitted_models"] == 4
    assert main(["report", str(out), "--out", str(tmp_path / "one.html")]) == 0


def test_fit_auto_chooses_a_spec_by_cross_validation_and_stores_why(capsys, tmp_path):
    from rosetta.simulate import simulate_scores

    frame, _ = simulate_scores(30, 8, observed_fraction=0.6, random_seed=5)
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "post.nc"
    common = ["--method", "map", "--draws", "40", "--chains", "1", "--anchor-benchmark", "b00"]
    options = ["--no-family-effects", "--auto", "--auto-folds", "2"]
    candidates = ["--candidates", "dimensions=0", "--candidates", "dimensions=1"]
    code = main(["fit", str(path), *common, *options, *candidates, "--out", str(out), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    selection = payload["selection"]
    assert [row["spec"] for row in selection["candidates"]] == ["dimensions=0", "dimensions=1"]
    assert selection["folds"] == 2 and selection["chosen"] in ("dimensions=0", "dimensions=1")
    assert selection["criterion"] == "cv" and "PSIS-LOO not tried" in selection["reason"]
    chosen = next(r for r in selection["candidates"] if r["spec"] == selection["chosen"])
    assert chosen["mse_gap"] <= chosen["gap_se"]
    saved = load_fit(out)
    assert saved.info.selection["chosen"] == selection["chosen"]
    assert saved.info.dimensions == int(selection["chosen"][-1])
    assert "spec chosen by 2-fold cross-validation" in saved.summary()
    code = main(["fit", str(path), *common, "--candidates", "dimensions=1", "--out", str(out)])
    assert code == 2 and "--candidates goes with --auto" in capsys.readouterr().err
    code = main(["fit", str(path), *common, "--auto-criterion", "cv", "--out", str(out)])
    assert code == 2 and "go with --auto" in capsys.readouterr().err
    code = main(["fit", str(path), *common, *options, "--auto-criterion", "loo", "--out", str(out)])
    assert code == 2 and "weighs NUTS draws" in capsys.readouterr().err


def test_validate_compares_specs_on_the_same_folds(capsys, tmp_path):
    from rosetta.simulate import simulate_scores

    frame, _ = simulate_scores(30, 8, observed_fraction=0.6, random_seed=5)
    path = tmp_path / "scores.csv"
    frame.to_csv(path, index=False)
    common = ["--method", "map", "--draws", "40", "--chains", "1", "--anchor-benchmark", "b00"]
    code = main(
        ["validate", str(path), *common, "--folds", "2", "--compare", "dimensions=1", "--json"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [row["spec"] for row in payload["comparison"]] == ["base", "dimensions=1"]
    assert payload["dimensions=1"]["n_heldout"] == payload["n_heldout"]
    code = main(["validate", str(path), *common, "--folds", "2", "--compare", "dims=1"])
    assert code == 2 and "dims=1" in capsys.readouterr().err


def test_the_program_exits_with_mains_status(monkeypatch):
    (script,) = entry_points(group="console_scripts", name="rosetta")
    assert script.load() is run
    monkeypatch.setattr(sys, "argv", ["rosetta", "fit", "--draws", "0"])  # a usage error
    try:
        with pytest.raises(SystemExit) as done:
            run()
    finally:
        gc.unfreeze()
    assert done.value.code == 2
