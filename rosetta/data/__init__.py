"""Read, normalise and validate score data into one tidy `ScoreTable`.

Three inputs, one output: the bundled Epoch AI data (through its manifest), a user's long table
(``model``, ``benchmark``, ``score`` [+ ``date``, ``compute``, ``floor``, ``n_items``, ``stderr``])
and a user's wide matrix (rows models, columns benchmarks, blanks = not evaluated).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from rosetta.constants import DEFAULT_DUPLICATES, DEFAULT_MIN_MODELS
from rosetta.data.epoch import (
    bundled_dir,
    read_benchmark_metadata,
    read_epoch_scores,
    read_model_metadata,
)
from rosetta.data.graph import find_components
from rosetta.data.readers import read_file, to_raw_long
from rosetta.data.table import ScoreTable, build_table

__all__ = [
    "ScoreTable",
    "bundled_dir",
    "find_components",
    "load_epoch",
    "load_scores",
]


def load_scores(
    data: str | Path | pd.DataFrame | None = None,
    *,
    layout: str = "auto",
    score_scale: str = "fraction",
    errors: str | None = None,
    duplicates: str = DEFAULT_DUPLICATES,
    min_benchmarks: int = 1,
    min_models: int = DEFAULT_MIN_MODELS,
    since: str | pd.Timestamp | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    metadata: bool = True,
    keep_largest_component: bool = False,
) -> ScoreTable:
    """Load scores from a file, a DataFrame or the bundled Epoch data into a `ScoreTable`.

    Parameters
    ----------
    data
        A CSV/TSV path, a DataFrame, or ``None`` for the bundled Epoch AI data.
    layout
        ``"long"``, ``"wide"`` or ``"auto"`` (long when there is a ``benchmark`` or ``score``
        column, else wide with the first column as the model id).
    score_scale
        How plain numbers are written: ``"fraction"`` (default) or ``"percent"``. Strings like
        ``"77.0%"`` are read as percentages either way.
    errors
        ``"raise"`` (default for user data): one `DataValidationError` lists every invalid row.
        ``"drop"`` (default for the bundled data, whose leaderboards have blank cells): invalid
        rows are removed and counted in ``ScoreTable.dropped``.
    duplicates
        Policy for repeated (model, benchmark) pairs: ``"max"`` (the reference analysis),
        ``"mean"``, ``"latest"`` or ``"error"``.
    min_benchmarks
        Keep models evaluated on at least this many benchmarks.
    min_models
        Keep benchmarks evaluated by at least this many models (default 2: a benchmark seen by
        one model links nothing to the shared scale and only slows the sampler).
    since
        Keep models released on or after this date (``"YYYY-MM-DD"``).
    include, exclude
        Benchmark names to keep or to drop.
    metadata
        Fill release date, compute, distilled flag and floors from the bundled metadata when the
        input lacks them and the names are known.
    keep_largest_component
        Keep the largest connected part of a disconnected table instead of refusing it.

    Returns
    -------
    ScoreTable

    Examples
    --------
    >>> import pandas as pd
    >>> from rosetta.data import load_scores
    >>> frame = pd.DataFrame({"model": ["a", "a", "b"], "benchmark": ["x", "y", "x"],
    ...                       "score": ["77%", 0.5, 0.25]})
    >>> load_scores(frame).scores[["model", "benchmark", "score"]].to_numpy().tolist()
    [['a', 'x', 0.77], ['a', 'y', 0.5], ['b', 'x', 0.25]]
    """
    model_meta = read_model_metadata() if metadata else None
    bench_meta = read_benchmark_metadata() if metadata else None
    if data is None:
        raw, source, errors = read_epoch_scores(), "bundled Epoch AI data", errors or "drop"
        raw["where"] = [
            f"{b!r} score of model {m!r}"
            for m, b in zip(raw["model"], raw["benchmark"], strict=True)
        ]
    else:
        source = str(data) if isinstance(data, str | Path) else "DataFrame"
        frame = read_file(data) if isinstance(data, str | Path) else data
        raw = to_raw_long(frame, layout=layout, source=source)
        errors = errors or "raise"
    return build_table(
        raw,
        source=source,
        score_scale=score_scale,
        errors=errors,
        duplicates=duplicates,
        min_benchmarks=min_benchmarks,
        min_models=min_models,
        since=since,
        include=include,
        exclude=exclude,
        model_metadata=model_meta,
        benchmark_metadata=bench_meta,
        keep_largest_component=keep_largest_component,
    )


def load_epoch(**options) -> ScoreTable:
    """Load the bundled Epoch AI benchmark data; ``options`` are those of `load_scores`."""
    return load_scores(None, **options)
