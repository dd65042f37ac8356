"""Item-level responses: one row per (model, benchmark, item), alone or mixed with scores.

A long table with columns ``model``, ``benchmark``, ``item``, ``correct`` (0/1, or the fraction
correct of repeated attempts) and optional ``attempts`` (how many attempts the fraction is of; 1
when absent) and ``floor`` (the benchmark's chance score). `load_items` validates it, merges
repeated rows, and summarises every (model, benchmark) pair into the ordinary `ScoreTable` (score =
share correct, ``n_items`` = items answered), so filters, metadata and the connectivity check are
those of score tables. Benchmark-level scores of *other* benchmarks can join the same fit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.constants import DEFAULT_MIN_MODELS, MAX_LISTED_PROBLEMS
from rosetta.data.epoch import read_benchmark_metadata, read_model_metadata
from rosetta.data.graph import find_components
from rosetta.data.table import ScoreTable, build_table
from rosetta.errors import DataValidationError, DisconnectedGraphError

#: Columns an item-level table must have.
ITEM_COLUMNS = ("model", "benchmark", "item", "correct")


@dataclass(frozen=True, eq=False)
class ItemTable:
    """Validated item-level responses and the score table of every pair in the fit.

    Attributes
    ----------
    responses
        Columns ``model``, ``benchmark``, ``item``, ``correct`` (in [0, 1]), ``attempts`` (>= 1);
        one row per (model, benchmark, item), sorted by benchmark, item, model.
    table
        One row per evaluated (model, benchmark): item-level pairs summarised (``score`` = share
        correct, ``n_items`` = items answered) and any benchmark-level scores fitted alongside.
    """

    responses: pd.DataFrame
    table: ScoreTable

    @property
    def n_responses(self) -> int:
        """Number of (model, item) responses."""
        return len(self.responses)

    @cached_property
    def item_benchmarks(self) -> pd.Index:
        """Benchmarks with item-level data, sorted."""
        return pd.Index(sorted(self.responses["benchmark"].unique()), name="benchmark")

    @cached_property
    def items(self) -> pd.DataFrame:
        """One row per item: ``benchmark``, ``item``, ``label`` (``"benchmark | item"``)."""
        items = self.responses[["benchmark", "item"]].drop_duplicates(ignore_index=True)
        items["label"] = items["benchmark"] + " | " + items["item"]
        return items

    @cached_property
    def score_rows(self) -> np.ndarray:
        """Rows of ``table.scores`` that are benchmark-level scores (benchmarks without items)."""
        return np.flatnonzero(~self.table.scores["benchmark"].isin(self.item_benchmarks))

    @cached_property
    def indices(self) -> dict[str, np.ndarray]:
        """Integer indices of the responses for the model graph.

        Returns
        -------
        dict
            ``pair`` (row of `table` per response), ``item`` (row of `items` per response),
            ``item_benchmark`` (position in ``table.benchmarks`` per item).
        """
        scores = self.table.scores
        pairs = pd.MultiIndex.from_frame(scores[["model", "benchmark"]])
        keys = pd.MultiIndex.from_frame(self.responses[["model", "benchmark"]])
        items = pd.MultiIndex.from_frame(self.items[["benchmark", "item"]])
        answered = pd.MultiIndex.from_frame(self.responses[["benchmark", "item"]])
        return {
            "pair": pairs.get_indexer(keys),
            "item": items.get_indexer(answered),
            "item_benchmark": self.table.benchmarks.get_indexer(self.items["benchmark"]),
        }

    def sha256(self) -> str:
        """Hash of the responses and the pair table, stamped into every fit made from them."""
        digest = hashlib.sha256(self.table.sha256().encode())
        hashed = pd.util.hash_pandas_object(self.responses, index=False).to_numpy()
        digest.update(hashed.tobytes())
        return digest.hexdigest()

    def to_dict(self) -> dict:
        """Counts for scripts: the score table's and the responses'."""
        return {
            **self.table.to_dict(),
            "n_responses": self.n_responses,
            "n_items": len(self.items),
            "item_benchmarks": len(self.item_benchmarks),
        }

    def summary(self) -> str:
        """Counts for people."""
        return (
            f"{self.table.summary()}\nresponses    {self.n_responses} to {len(self.items)} "
            f"items of {len(self.item_benchmarks)} benchmarks"
        )


def load_items(
    data: str | Path | pd.DataFrame,
    scores: ScoreTable | None = None,
    *,
    min_benchmarks: int = 1,
    min_models: int = DEFAULT_MIN_MODELS,
    since: str | pd.Timestamp | None = None,
    metadata: bool = True,
    keep_largest_component: bool = False,
) -> ItemTable:
    """Load item-level responses (and optionally benchmark-level scores) into an `ItemTable`.

    Parameters
    ----------
    data
        A CSV path or a DataFrame with columns ``model``, ``benchmark``, ``item``, ``correct``
        [+ ``attempts``, ``floor``].
    scores
        Benchmark-level scores of other benchmarks to fit in the same model (mixed data).
    min_benchmarks, min_models, since
        Filters of the pair table, as in `rosetta.load_scores`; responses of dropped pairs go.
    metadata
        Fill release dates, compute and floors from the bundled metadata for known names.
    keep_largest_component
        Keep the largest connected part instead of refusing a disconnected graph.

    Returns
    -------
    ItemTable

    Examples
    --------
    >>> frame = pd.DataFrame({"model": ["a", "a", "b", "b"], "benchmark": "x",
    ...                       "item": ["q1", "q2", "q1", "q2"], "correct": [1, 0, 1, 1]})
    >>> load_items(frame).table.scores["score"].tolist()
    [0.5, 1.0]
    """
    source = str(data) if isinstance(data, str | Path) else "DataFrame"
    frame = _read(data) if isinstance(data, str | Path) else data
    responses = _validate(frame, source)
    pairs = _pair_rows(responses)
    table = build_table(
        pairs,
        source=source,
        duplicates="error",
        min_benchmarks=1 if scores is not None else min_benchmarks,
        min_models=min_models,
        since=since,
        model_metadata=read_model_metadata() if metadata else None,
        benchmark_metadata=read_benchmark_metadata() if metadata else None,
        keep_largest_component=keep_largest_component,
    )
    if scores is not None:
        table = _with_scores(table, scores, min_benchmarks, keep_largest_component)
    kept = pd.MultiIndex.from_frame(table.scores[["model", "benchmark"]])
    keys = pd.MultiIndex.from_frame(responses[["model", "benchmark"]])
    responses = responses[keys.isin(kept)].reset_index(drop=True)
    return ItemTable(responses=responses, table=table)


def _read(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such item file: {path}")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    return pd.read_csv(
        path,
        sep=sep,
        dtype={"model": str, "benchmark": str, "item": str},
        keep_default_na=False,
        na_values=[""],
    )


def _validate(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check columns and cells; merge repeated (model, benchmark, item) rows."""
    missing = [c for c in ITEM_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [f"missing column(s) {missing}; an item table needs {list(ITEM_COLUMNS)}"], source
        )
    if frame.empty:
        raise DataValidationError(["no rows: the item table is empty"], source)
    rows = pd.DataFrame(
        {name: frame[name].astype("string").str.strip() for name in ("model", "benchmark", "item")}
    )
    rows["correct"] = pd.to_numeric(frame["correct"], errors="coerce")
    given = frame["attempts"] if "attempts" in frame.columns else 1
    rows["attempts"] = pd.to_numeric(pd.Series(given, index=frame.index), errors="coerce")
    floor = frame["floor"] if "floor" in frame.columns else np.nan
    rows["floor"] = pd.to_numeric(pd.Series(floor, index=frame.index), errors="coerce")
    problems = []
    for name in ("model", "benchmark", "item"):
        bad = rows[name].isna() | (rows[name] == "")
        problems += [f"row {i + 2}: column {name!r} is empty" for i in np.flatnonzero(bad)]
    correct, attempts = rows["correct"], rows["attempts"]
    bad = ~correct.between(0, 1)
    problems += [
        f"row {i + 2}: column 'correct' must be in [0, 1], got {frame['correct'].iloc[i]!r}"
        for i in np.flatnonzero(bad)
    ]
    bad = ~((attempts >= 1) & (attempts == attempts.round()))
    problems += [
        f"row {i + 2}: column 'attempts' must be a whole number >= 1, got "
        f"{frame['attempts'].iloc[i]!r}"
        for i in np.flatnonzero(bad)
    ]
    bad = rows["floor"].notna() & ~rows["floor"].between(0, 1, inclusive="left")
    problems += [
        f"row {i + 2}: column 'floor' must be in [0, 1), got {frame['floor'].iloc[i]!r}"
        for i in np.flatnonzero(bad)
    ]
    if problems:
        more = len(problems) - MAX_LISTED_PROBLEMS
        raise DataValidationError(
            problems[:MAX_LISTED_PROBLEMS] + ([f"... and {more} more"] if more > 0 else []),
            source,
        )
    floors = rows.dropna(subset=["floor"]).groupby("benchmark")["floor"].nunique()
    if (floors > 1).any():
        names = floors[floors > 1].index.tolist()[:MAX_LISTED_PROBLEMS]
        raise DataValidationError([f"benchmark(s) {names} have conflicting floor values"], source)
    rows["attempts"] = rows["attempts"].astype(np.int64)
    rows["hits"] = rows["correct"] * rows["attempts"]
    merged = rows.groupby(["benchmark", "item", "model"], sort=True).agg(
        hits=("hits", "sum"), attempts=("attempts", "sum"), floor=("floor", "first")
    )
    merged["correct"] = merged["hits"] / merged["attempts"]
    merged = merged.reset_index()
    return merged[["model", "benchmark", "item", "correct", "attempts", "floor"]]


def _pair_rows(responses: pd.DataFrame) -> pd.DataFrame:
    """One raw score row per (model, benchmark): attempt-weighted share correct, items answered."""
    grouped = responses.assign(hits=responses["correct"] * responses["attempts"]).groupby(
        ["model", "benchmark"], sort=True
    )
    pairs = grouped.agg(
        hits=("hits", "sum"),
        attempts=("attempts", "sum"),
        n_items=("item", "size"),
        floor=("floor", "first"),
    ).reset_index()
    pairs["score"] = (pairs["hits"] / pairs["attempts"]).clip(0.0, 1.0)
    pairs["where"] = [
        f"items of model {m!r} on {b!r}"
        for m, b in zip(pairs["model"], pairs["benchmark"], strict=True)
    ]
    return pairs[["model", "benchmark", "score", "floor", "n_items", "where"]]


def _with_scores(
    table: ScoreTable, scores: ScoreTable, min_benchmarks: int, keep_largest: bool
) -> ScoreTable:
    """Join benchmark-level scores of other benchmarks to the item pairs."""
    both = sorted(set(table.benchmarks) & set(scores.benchmarks))
    if both:
        raise DataValidationError(
            [
                f"benchmark(s) {both[:MAX_LISTED_PROBLEMS]} have both item-level data and "
                "benchmark-level scores; give each benchmark one kind (drop its scores with "
                "--exclude, or its items)"
            ],
            table.source,
        )
    rows = pd.concat([table.scores, scores.scores], ignore_index=True)
    if min_benchmarks > 1:
        rows = rows[rows.groupby("model")["benchmark"].transform("nunique") >= min_benchmarks]
    components = find_components(rows)
    if len(components) > 1:
        if not keep_largest:
            raise DisconnectedGraphError(components, f"{table.source} + {scores.source}")
        models, benchmarks = components[0]
        rows = rows[rows["model"].isin(models) & rows["benchmark"].isin(benchmarks)]
    rows = rows.sort_values(["model", "benchmark"], ignore_index=True)
    dropped = {**scores.dropped, **table.dropped}
    return ScoreTable(
        scores=rows,
        dropped=dropped,
        source=f"{table.source} + {scores.source}",
        components=components,
    )
