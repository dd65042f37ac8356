import json
import subprocess
import sys

import pytest

from rosetta.cli import main


def run(capsys, *args):
    code = main(["query", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_query_json_keys(capsys, tiny_fit):
    _, path = tiny_fit
    code, out, _ = run(capsys, path, "--score", "b00=0.8", "--score", "b02=60%", "--json")
    assert code == 0
    payload = json.loads(out)
    assert set(payload["capability"]) == {"mean", "sd", "lo", "hi"}
    assert 0 <= payload["percentile"] <= 100
    assert payload["n_fitted_models"] == 25
    assert {"mean", "lo", "hi"} <= set(payload["predictions"]["b05"])


def test_query_several_models_and_inverse_questions(capsys, tiny_fit, write_csv):
    _, path = tiny_fit
    scores = write_csv("model,b00,b02\nx,0.8,0.6\ny,0.3,\n")
    code, out, _ = run(
        capsys,
        path,
        "--scores",
        scores,
        "--score-at",
        "b03=0.5",
        "--capability-at",
        "b03=50%",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    assert [m["model"] for m in payload["models"]] == ["x", "y"]
    assert payload["score_at"][0]["benchmark"] == "b03"
    assert payload["capability_at"][0]["score"] == 0.5
    code, out, _ = run(capsys, path, "--score", "b00=0.8")
    assert code == 0 and "rank" in out and "b05" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--score", "GPQA=0.5"], "not in the posterior"),
        (["--score", "B00=0.5"], "did you mean 'b00'"),
        (["--score", "b00=abc"], "non-numeric"),
        (["--score", "b00=120"], "outside"),
        (["--score", "b00"], "NAME=VALUE"),
        ([], "nothing to query"),
    ],
)
def test_query_errors_exit_2_with_one_line(capsys, tiny_fit, args, message):
    code, _, err = run(capsys, tiny_fit[1], *args)
    assert code == 2
    assert message in err


def test_query_on_a_broken_file(capsys, tmp_path):
    broken = tmp_path / "broken.nc"
    broken.write_bytes(b"not a netCDF file")
    code, _, err = run(capsys, broken, "--score", "b00=0.5")
    assert code == 2 and "cannot read" in err
    code, _, err = run(capsys, tmp_path / "missing.nc", "--score", "b00=0.5")
    assert code == 2 and "not found" in err


def test_query_command_does_not_import_pymc_or_arviz(tiny_fit):
    code = (
        "import sys; from rosetta.cli import main;"
        f"assert main(['query', {str(tiny_fit[1])!r}, '--score', 'b00=0.8']) == 0;"
        "assert 'pymc' not in sys.modules and 'arviz' not in sys.modules"
    )
    run_ = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run_.returncode == 0, run_.stderr


def test_query_plot_is_interactive_as_html_and_an_image_otherwise(capsys, tiny_fit, tmp_path):
    _, path = tiny_fit
    page, image = tmp_path / "q.html", tmp_path / "q.png"
    code, out, _ = run(capsys, path, "--score", "b00=0.8", "--plot", page, "--json")
    assert code == 0 and json.loads(out)["plot"] == str(page)
    text = page.read_text()
    # Self-contained: Plotly inlined, every benchmark on the figure, the observed score marked.
    assert "plotly-graph-div" in text and "<script src" not in text
    assert all(f"b0{j}" in text for j in range(6)) and '"observed"' in text
    assert run(capsys, path, "--score", "b00=0.8", "--plot", image)[0] == 0
    assert image.read_bytes()[:4] == b"\x89PNG"


def test_query_plot_needs_one_model(capsys, tiny_fit, write_csv, tmp_path):
    _, path = tiny_fit
    scores = write_csv("model,b00,b02\nx,0.8,0.6\ny,0.3,\n")
    code, _, err = run(capsys, path, "--scores", scores, "--plot", tmp_path / "q.html")
    assert code == 2 and "query one model" in err
