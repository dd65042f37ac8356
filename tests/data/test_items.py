"""Item-level responses: reading, validation, merging and the pair table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rosetta.data import load_scores
from rosetta.data.items import load_items
from rosetta.errors import DataValidationError, DisconnectedGraphError
from rosetta.simulate import simulate_items


def frame(**columns) -> pd.DataFrame:
    base = {
        "model": ["a", "a", "b", "b", "a", "b"],
        "benchmark": ["X", "X", "X", "X", "Y", "Y"],
        "item": ["q1", "q2", "q1", "q2", "q1", "q1"],
        "correct": [1, 0, 1, 1, 0, 1],
    }
    return pd.DataFrame({**base, **columns})


def test_pairs_summarise_the_responses():
    items = load_items(frame(), metadata=False)
    scores = items.table.scores.set_index(["model", "benchmark"])
    assert scores.loc[("a", "X"), "score"] == 0.5
    assert scores.loc[("b", "X"), "n_items"] == 2
    assert items.n_responses == 6
    assert items.items["label"].tolist() == ["X | q1", "X | q2", "Y | q1"]
    index = items.indices
    pairs = items.table.scores[["model", "benchmark"]].to_numpy()[index["pair"]]
    np.testing.assert_array_equal(pairs, items.responses[["model", "benchmark"]].to_numpy())
    assert items.to_dict()["n_items"] == 3


def test_repeated_rows_and_attempts_merge_into_one_response():
    raw = frame(attempts=[2, 1, 1, 1, 1, 1], correct=[0.5, 0, 1, 1, 0, 1])  # 1 of 2 attempts
    doubled = pd.concat([raw, raw.iloc[[0]].assign(correct=1.0)], ignore_index=True)
    items = load_items(doubled, metadata=False)
    row = items.responses.query("model == 'a' and item == 'q1' and benchmark == 'X'").iloc[0]
    assert (row["attempts"], row["correct"]) == (4, 0.75)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"correct": [1, 0, 2, 1, 0, 1]}, "row 4: column 'correct' must be in [0, 1]"),
        ({"correct": [1, 0, "yes", 1, 0, 1]}, "row 4: column 'correct'"),
        ({"attempts": [1, 0, 1, 1, 1, 1]}, "row 3: column 'attempts' must be a whole number"),
        ({"attempts": [1.5, 1, 1, 1, 1, 1]}, "row 2: column 'attempts'"),
        ({"item": ["q1", "", "q1", "q2", "q1", "q1"]}, "row 3: column 'item' is empty"),
        ({"floor": [0.25, 0.5, 0.25, 0.25, 0, 0]}, "conflicting floor"),
    ],
)
def test_bad_cells_are_named(change, message):
    with pytest.raises(DataValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_items(frame(**change), metadata=False)


def test_missing_columns_and_disconnected_data_are_refused():
    with pytest.raises(DataValidationError, match="missing column"):
        load_items(frame().drop(columns="item"))
    apart = frame(model=["a", "a", "b", "b", "c", "d"], benchmark=["X", "X", "X", "X", "Y", "Y"])
    with pytest.raises(DisconnectedGraphError):
        load_items(apart, metadata=False)


def test_scores_of_other_benchmarks_join_but_not_of_the_same():
    scores = load_scores(
        pd.DataFrame({"model": ["a", "b"], "benchmark": ["Z", "Z"], "score": [0.3, 0.6]}),
        metadata=False,
    )
    items = load_items(frame(), scores, metadata=False)
    assert list(items.table.benchmarks) == ["X", "Y", "Z"]
    assert list(items.item_benchmarks) == ["X", "Y"]
    clash = load_scores(
        pd.DataFrame({"model": ["a", "b"], "benchmark": ["X", "X"], "score": [0.3, 0.6]}),
        metadata=False,
    )
    with pytest.raises(DataValidationError, match="both item-level data and benchmark-level"):
        load_items(frame(), clash, metadata=False)


def test_items_file_round_trip(tmp_path):
    responses, _ = simulate_items(6, 3, 4, random_seed=3)
    path = tmp_path / "items.csv"
    responses.to_csv(path, index=False)
    assert load_items(path).sha256() == load_items(responses).sha256()
    with pytest.raises(FileNotFoundError):
        load_items(tmp_path / "nope.csv")
