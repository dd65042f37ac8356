"""The main job end to end on the bundled data (slow)."""

import json

import pytest

from rosetta.cli import main
from rosetta.io import load_fit

pytestmark = pytest.mark.slow


def test_fit_bundled_data_end_to_end(capsys, tmp_path):
    out = tmp_path / "posterior.nc"
    code = main(
        ["fit", "--min-benchmarks", "4", "--since", "2022-11-01", "--out", str(out), "--json"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["n_models"] > 150 and payload["n_benchmarks"] >= 38
    assert payload["max_rhat"] < 1.05 and payload["divergences"] < 10
    capability = load_fit(out).posterior["capability"].mean(("chain", "draw")).to_series()
    # sanity: frontier reasoning models of 2025 sit above the models of 2023
    assert capability["gpt-5-2025-08-07_high"] > capability["gpt-4-0613"] + 0.5
    assert capability["claude-3-5-sonnet-20241022"] > capability["claude-3-haiku-20240307"]
