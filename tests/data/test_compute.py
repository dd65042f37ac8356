"""Training compute: published values, operation counting (6 N D) and the bundled supplement."""

import json

import pandas as pd
import pytest

from rosetta.cli import main
from rosetta.data import load_epoch, load_scores
from rosetta.errors import DataValidationError


def test_operation_counting_fills_compute_and_never_overrides_a_published_value():
    frame = pd.DataFrame(
        {
            "model": ["a", "a", "b", "b", "c", "c"],
            "benchmark": ["x", "y"] * 3,
            "score": [0.5, 0.6, 0.4, 0.3, 0.7, 0.2],
            "compute": [1e23, 1e23, None, None, None, None],
            "parameters": [7e9, 7e9, 7e9, 7e9, None, None],
            "training_tokens": ["1e12", "1e12", 2e12, 2e12, 1e12, 1e12],
        }
    )
    info = load_scores(frame, metadata=False).model_info()
    assert info.loc["a", "compute"] == 1e23 and info.loc["a", "compute_source"] == "published"
    assert info.loc["b", "compute"] == pytest.approx(6 * 7e9 * 2e12)
    assert info.loc["b", "compute_source"] == "estimated"
    assert pd.isna(info.loc["c", "compute"]) and pd.isna(info.loc["c", "compute_source"])


def test_bad_parameter_counts_name_the_row():
    frame = pd.DataFrame(
        {"model": ["a", "b"], "benchmark": ["x", "x"], "score": [0.5, 0.6], "parameters": [-1, 3]}
    )
    with pytest.raises(DataValidationError, match="parameters -1 outside"):
        load_scores(frame, metadata=False)


def test_bundled_data_has_published_and_estimated_compute(capsys):
    table = load_epoch(min_benchmarks=4, since="2022-11-01")
    info = table.model_info()
    assert (info["compute"] > 0).sum() >= 85
    llama = info.loc[["LLaMA-7B", "LLaMA-13B", "LLaMA-33B", "LLaMA-65B"]]
    assert list(llama["compute_source"]) == ["estimated", "estimated", "estimated", "published"]
    assert llama.loc["LLaMA-7B", "compute"] == pytest.approx(6 * 6.7e9 * 1.0e12)
    assert llama.loc["LLaMA-65B", "compute"] == 5.5e23  # Epoch's value, not 6ND
    assert main(["data", "--min-benchmarks", "4", "--since", "2022-11-01", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)["models_with_compute"]
    assert counts["published"] >= 73 and counts["estimated"] >= 12


def test_non_numeric_token_counts_name_the_column():
    frame = pd.DataFrame(
        {
            "model": ["a", "b"],
            "benchmark": ["x", "x"],
            "score": [0.5, 0.6],
            "training_tokens": ["lots", 1e12],
        }
    )
    with pytest.raises(DataValidationError, match="non-numeric training_tokens 'lots'"):
        load_scores(frame, metadata=False)
