import numpy as np
import pandas as pd
import pytest

from rosetta.data import load_scores
from rosetta.errors import DataValidationError, DisconnectedGraphError


def test_long_table_is_tidy(small_long):
    table = load_scores(small_long, metadata=False)
    assert table.n_scores == 6
    assert list(table.models) == ["m1", "m2", "m3"]
    assert list(table.benchmarks) == ["A", "B", "C"]
    row = table.scores.set_index(["model", "benchmark"]).loc[("m1", "B")]
    assert row["score"] == pytest.approx(0.77)
    assert (table.scores["floor"] == 0).all()
    assert table.components == [(["m1", "m2", "m3"], ["A", "B", "C"])]


def test_wide_matrix_blanks_are_not_evaluated(write_csv):
    path = write_csv("model,GPQA diamond,MMLU\nm1,0.5,80%\nm2,,0.6\nm3,0.4,\n")
    table = load_scores(path)
    assert table.n_scores == 4
    assert set(table.benchmarks) == {"GPQA diamond", "MMLU"}
    floors = table.benchmark_info()["floor"]
    assert floors["MMLU"] == 0.25  # nominal chance from the bundled manifest


def test_percent_scale_and_user_floor_override():
    frame = pd.DataFrame(
        {"model": ["a", "b"], "benchmark": ["MMLU", "MMLU"], "score": [77, 40], "floor": [0.2, 0.2]}
    )
    table = load_scores(frame, score_scale="percent")
    assert table.scores["score"].tolist() == pytest.approx([0.77, 0.40])
    assert (table.scores["floor"] == 0.2).all()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": [1.7]}),
            r"row 1 \(model='a', benchmark='X'\): score 1.7 outside \[0, 1\]",
        ),
        (
            pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": ["abc"]}),
            r"non-numeric score 'abc'",
        ),
        (
            pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": [np.nan]}),
            r"row 1 .*missing score",
        ),
        (
            pd.DataFrame({"model": ["a"], "score": [0.5]}),
            r"missing required column\(s\) 'benchmark'",
        ),
        (
            pd.DataFrame({"model": [None], "benchmark": ["X"], "score": [0.5]}),
            r"missing model name",
        ),
        (
            pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": [0.5], "floor": [1.0]}),
            r"floor 1 outside \[0, 1\)",
        ),
        (
            pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": [0.5], "n_items": [2.5]}),
            r"n_items is not a whole number",
        ),
        (
            pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": [0.5], "date": ["soon"]}),
            r"unparsable date 'soon'",
        ),
        (pd.DataFrame(columns=["model", "benchmark", "score"]), r"empty"),
    ],
)
def test_invalid_rows_are_named(frame, message):
    with pytest.raises(DataValidationError, match=message):
        load_scores(frame, metadata=False)


def test_many_problems_are_listed_once():
    frame = pd.DataFrame({"model": list("abcdefghijkl"), "benchmark": "X", "score": 2.0})
    with pytest.raises(DataValidationError) as info:
        load_scores(frame)
    assert len(info.value.problems) == 12
    assert "and 2 more" in str(info.value)
    assert "\n" not in str(info.value)


def test_drop_invalid_counts_reasons():
    frame = pd.DataFrame(
        {
            "model": ["a", "a", "b", "c"],
            "benchmark": ["X", "Y", "X", "X"],
            "score": [0.5, "abc", 0.7, 1.5],
        }
    )
    table = load_scores(frame, errors="drop", metadata=False)
    assert table.n_scores == 2
    assert table.dropped == {"non-numeric score": 1, "score outside [0, 1]": 1}


def test_duplicate_policies():
    frame = pd.DataFrame(
        {
            "model": ["a", "a", "a", "b"],
            "benchmark": ["X", "X", "X", "X"],
            "score": [0.2, 0.6, 0.4, 0.5],
        }
    )
    pick = {}
    for policy in ("max", "mean", "latest"):
        table = load_scores(frame, duplicates=policy, metadata=False)
        pick[policy] = table.scores.set_index("model").loc["a", "score"]
        assert table.dropped == {f"duplicate pair merged ({policy})": 2}
    assert pick == pytest.approx({"max": 0.6, "mean": 0.4, "latest": 0.4})
    with pytest.raises(DataValidationError, match=r"model 'a' on benchmark 'X' appears 3 times"):
        load_scores(frame, duplicates="error")


def test_disconnected_graph_is_refused_with_components():
    frame = pd.DataFrame(
        {"model": ["a", "b", "x", "y"], "benchmark": ["A", "A", "Z", "Z"], "score": 0.5}
    )
    with pytest.raises(DisconnectedGraphError, match="2 disconnected components") as info:
        load_scores(frame, metadata=False)
    assert [c[0] for c in info.value.components] == [["a", "b"], ["x", "y"]]
    kept = load_scores(frame, metadata=False, keep_largest_component=True)
    assert kept.n_scores == 2
    assert kept.dropped == {"outside the largest connected component": 2}
    assert kept.to_dict()["components"] == [3, 3]


def test_filters_min_benchmarks_since_include_exclude():
    frame = pd.DataFrame(
        {
            "model": ["old", "old", "new", "new", "new", "one"],
            "benchmark": ["A", "B", "A", "B", "C", "A"],
            "score": 0.5,
            "date": [
                "2020-01-01",
                "2020-01-01",
                "2024-01-01",
                "2024-01-01",
                "2024-01-01",
                "2024-02-01",
            ],
        }
    )
    table = load_scores(frame, since="2023-01-01", min_benchmarks=2, min_models=1, metadata=False)
    assert list(table.models) == ["new"]
    assert table.dropped == {
        "model released before 2023-01-01": 2,
        "model has fewer than 2 benchmarks": 1,
    }
    only_a = load_scores(frame, include=["A"], metadata=False)
    assert load_scores(frame, metadata=False).dropped == {"benchmark has fewer than 2 models": 1}
    assert list(only_a.benchmarks) == ["A"]
    no_a = load_scores(frame, exclude=["A"], metadata=False)
    assert "A" not in set(no_a.benchmarks)
    with pytest.raises(DataValidationError, match=r"unknown benchmark 'a'.*did you mean 'A'"):
        load_scores(frame, include=["a"], metadata=False)


def test_conflicting_metadata_is_refused():
    frame = pd.DataFrame(
        {
            "model": ["a", "a"],
            "benchmark": ["X", "Y"],
            "score": 0.5,
            "date": ["2024-01-01", "2024-06-01"],
        }
    )
    with pytest.raises(DataValidationError, match="model 'a' has conflicting date"):
        load_scores(frame)


def test_everything_filtered_out_is_refused():
    frame = pd.DataFrame({"model": ["a"], "benchmark": ["X"], "score": 0.5})
    with pytest.raises(DataValidationError, match="no scores left after filtering"):
        load_scores(frame, min_benchmarks=2)


def test_wide_all_blank_row_or_column_is_refused(write_csv):
    path = write_csv("model,A,B,C\nm1,0.5,0.4,\nm2,,,\n")
    with pytest.raises(DataValidationError, match="model 'm2' has no scores") as info:
        load_scores(path)
    assert "column 'C': benchmark has no scores" in str(info.value)


def test_empty_file(write_csv):
    with pytest.raises(DataValidationError, match="empty"):
        load_scores(write_csv(""))
    with pytest.raises(DataValidationError, match="empty"):
        load_scores(write_csv("model,benchmark,score\n"))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="score file not found"):
        load_scores(tmp_path / "nope.csv")


def test_metadata_join_for_known_models():
    frame = pd.DataFrame(
        {
            "model": ["gpt-4-0314", "gpt-4-0314", "mystery"],
            "benchmark": ["MMLU", "X", "X"],
            "score": [0.86, 0.5, 0.4],
        }
    )
    info = load_scores(frame).model_info()
    assert info.loc["gpt-4-0314", "date"] == pd.Timestamp("2023-03-14")
    assert info.loc["gpt-4-0314", "compute"] > 1e24
    assert pd.isna(info.loc["mystery", "date"])


def test_sha256_is_stable(small_long):
    assert load_scores(small_long).sha256() == load_scores(small_long.iloc[::-1]).sha256()
