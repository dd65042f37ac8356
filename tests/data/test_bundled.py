import json
import subprocess
import sys
import zipfile

import pytest

from rosetta.data import bundled_dir, load_epoch


def test_reference_filters_reproduce_the_reference_counts():
    table = load_epoch(min_benchmarks=4, since="2022-11-01")
    summary = table.to_dict()
    # Ho et al. (2025): 1,324 scores, 179 models, 38 benchmarks (see data/README.md for the gap)
    assert abs(summary["n_scores"] - 1324) <= 15
    assert abs(summary["n_models"] - 179) <= 2
    assert summary["n_benchmarks"] in (38, 39)
    assert summary["components"] == [summary["n_models"] + summary["n_benchmarks"]]
    assert (table.model_info()["date"] >= "2022-11-01").all()
    assert (table.model_info()["n_benchmarks"] >= 4).all()
    scores = table.scores
    assert scores["score"].between(0, 1).all()
    assert not scores.duplicated(["model", "benchmark"]).any()
    floors = table.benchmark_info()["floor"]
    assert floors["GPQA diamond"] == 0.25 and floors["Winogrande"] == 0.5
    assert floors["FrontierMath-2025-02-28-Private"] == 0.0


def test_bundled_metadata_joined():
    table = load_epoch()
    info = table.model_info()
    assert info["compute"].notna().sum() > 100
    assert info["distilled"].fillna(False).sum() > 10
    gpqa = table.scores[table.scores["benchmark"] == "GPQA diamond"]
    assert gpqa["stderr"].notna().all()


@pytest.mark.slow
def test_bundled_data_found_from_an_installed_wheel(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=bundled_dir().parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("rosetta-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "rosetta/_bundled/epoch-benchmarks/manifest.csv" in names
        archive.extractall(tmp_path / "site")
    code = (
        "import json, rosetta.data as d; t = d.load_epoch(min_benchmarks=4, since='2022-11-01');"
        "print(json.dumps([str(d.bundled_dir()), t.n_scores]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert run.returncode == 0, run.stderr
    where, n_scores = json.loads(run.stdout)
    assert where.startswith(str(tmp_path / "site")) and where.endswith("_bundled")
    assert n_scores == load_epoch(min_benchmarks=4, since="2022-11-01").n_scores
