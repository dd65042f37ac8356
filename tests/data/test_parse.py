import numpy as np
import pandas as pd
import pytest

from rosetta.data.parse import normalise_column, parse_dates, parse_flags, parse_scores


def test_parse_scores_notations():
    values = pd.Series([0.5, "77.0%", " 12 % ", "0.25", 1, None, "", "abc", float("inf")])
    scores, problems = parse_scores(values)
    np.testing.assert_allclose(scores[:5], [0.5, 0.77, 0.12, 0.25, 1.0])
    assert scores[5:].isna().all()
    assert problems.tolist()[:5] == [""] * 5
    assert problems[5] == problems[6] == "missing score"
    assert problems[7] == "non-numeric score 'abc'"
    assert "non-finite" in problems[8]


def test_parse_scores_scales():
    values = pd.Series([77, "8.5", "50%"])
    assert parse_scores(values, "percent")[0].tolist() == pytest.approx([0.77, 0.085, 0.5])
    assert parse_scores(values, "out_of_10")[0].tolist() == pytest.approx([7.7, 0.85, 0.5])
    with pytest.raises(ValueError, match="score scale"):
        parse_scores(values, "permille")


def test_parse_flags_and_dates():
    flags, problems = parse_flags(pd.Series(["TRUE", "no", None, "maybe"]))
    assert flags.tolist()[:2] == [True, False]
    assert flags.isna()[2]
    assert "maybe" in problems[3]
    dates, problems = parse_dates(pd.Series(["2024-05-01", "", "not a date"]))
    assert dates[0] == pd.Timestamp("2024-05-01")
    assert pd.isna(dates[1]) and problems[1] == ""
    assert "unparsable date" in problems[2]


def test_normalise_column():
    assert normalise_column("\ufeff Model ") == "model"
    assert normalise_column("N items") == "n_items"
