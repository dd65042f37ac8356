import json

import pytest

from rosetta.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_json_on_bundled(capsys):
    code, out, _ = run(capsys, "data", "--min-benchmarks", "4", "--since", "2022-11-01", "--json")
    assert code == 0
    summary = json.loads(out)
    for key in ("n_scores", "n_models", "n_benchmarks", "components", "dropped"):
        assert key in summary
    assert summary["components"] == sorted(summary["components"], reverse=True)
    assert summary["dropped"]["model has fewer than 4 benchmarks"] > 0


def test_data_text_and_out(capsys, write_csv, tmp_path):
    path = write_csv("model,benchmark,score\na,X,0.5\nb,X,77%\nb,Y,0.1\na,Y,0.2\n")
    code, out, _ = run(capsys, "data", str(path), "--out", str(tmp_path / "tidy.csv"))
    assert code == 0
    assert "scores       4" in out
    assert (tmp_path / "tidy.csv").read_text().startswith("model,benchmark,score,floor")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model,benchmark,score\na,X,1.7\n", "score 1.7 outside [0, 1]"),
        ("model,benchmark,score\na,X,abc\n", "non-numeric score 'abc'"),
        ("model,score\na,0.5\n", "missing required column(s) 'benchmark'"),
        ("", "empty"),
        ("model,benchmark,score\na,X,0.5\nb,X,0.5\nc,Y,0.5\nd,Y,0.5\n", "disconnected"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(capsys, write_csv, text, message):
    code, out, err = run(capsys, "data", str(write_csv(text)))
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err


def test_missing_file_and_bad_option(capsys, tmp_path):
    code, _, err = run(capsys, "data", str(tmp_path / "none.csv"))
    assert code == 2 and "score file not found" in err
    code, _, err = run(capsys, "data", "--min-benchmarks", "0")
    assert code == 2 and "min-benchmarks" in err


def test_other_libraries_warnings_show_only_with_verbose(capsys, monkeypatch):
    import sys
    import warnings

    from rosetta import cli as cli_module

    def noisy(*args, **kwargs):
        warnings.warn("a library's deprecation", FutureWarning, stacklevel=1)
        warnings.warn("rosetta's own warning", cli_module.RosettaWarning, stacklevel=1)
        return original(*args, **kwargs)

    def printed(message, *args, **kwargs):  # what Python does outside pytest's recorder
        sys.stderr.write(f"{message}\n")

    original = cli_module.load_table
    monkeypatch.setattr(cli_module, "load_table", noisy)
    for argv, library_shown in ((["data"], False), (["-v", "data"], True)):
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # Python's defaults, not the suite's "error"
            warnings.showwarning = printed
            assert cli_module.main(argv) == 0
        err = capsys.readouterr().err
        assert ("deprecation" in err) is library_shown and "rosetta's own warning" in err
