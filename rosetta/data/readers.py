"""Readers of user tables: a long CSV/DataFrame or a wide model x benchmark matrix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rosetta.constants import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from rosetta.data.parse import normalise_column
from rosetta.errors import DataValidationError

LAYOUTS = ("auto", "long", "wide")


def read_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV (or ``.tsv``) file as strings, keeping blanks as missing.

    Parameters
    ----------
    path
        File to read.

    Returns
    -------
    pandas.DataFrame
        Every cell as text or NaN.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"score file not found: {path}")
    sep = "\t" if path.suffix.lower() in {".tsv", ".tab"} else ","
    try:
        frame = pd.read_csv(
            path, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
    except pd.errors.EmptyDataError:
        raise DataValidationError(["the file is empty (no header, no rows)"], str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        first = str(err).strip().splitlines()[0]
        raise DataValidationError([f"not a readable CSV file ({first})"], str(path)) from None
    return frame


def to_raw_long(frame: pd.DataFrame, *, layout: str = "auto", source: str = "DataFrame"):
    """Bring a user frame into the raw long form used by the table builder.

    Parameters
    ----------
    frame
        Long (``model``, ``benchmark``, ``score`` [+ optional columns]) or wide (first column the
        model id, one column per benchmark, blanks = not evaluated).
    layout
        ``"long"``, ``"wide"`` or ``"auto"``: long when a ``benchmark`` or ``score`` column exists.
    source
        Name of the input used in messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``benchmark``, ``score`` (raw cells), any optional columns, and
        ``where`` (a row description for messages).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame or a path, got {type(frame).__name__}")
    if frame.shape[1] == 0 or frame.empty:
        raise DataValidationError(["no rows: the table is empty"], source)
    normalised = [normalise_column(c) for c in frame.columns]
    if layout == "auto":
        layout = "long" if {"benchmark", "score"} & set(normalised) else "wide"
    names = (
        normalised
        if layout == "long"
        else [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataValidationError([f"duplicated column(s) {duplicated}"], source)
    frame = frame.set_axis(names, axis=1)
    return _long(frame, source) if layout == "long" else _wide(frame, source)


def _long(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        found = ", ".join(repr(c) for c in frame.columns)
        raise DataValidationError(
            [f"missing required column(s) {', '.join(repr(c) for c in missing)} (found {found})"],
            source,
        )
    keep = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in frame.columns]
    raw = frame[keep].reset_index(drop=True)
    raw["where"] = [
        f"row {i + 1} (model={m!r}, benchmark={b!r})"
        for i, (m, b) in enumerate(zip(raw["model"], raw["benchmark"], strict=True))
    ]
    return raw


def _wide(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    model_col = frame.columns[0]
    benchmarks = list(frame.columns[1:])
    if not benchmarks:
        raise DataValidationError(
            ["a wide table needs a model column followed by one column per benchmark"], source
        )
    cells = frame[benchmarks]
    blank = cells.isna() | cells.astype(str).apply(lambda col: col.str.strip().eq(""))
    problems = [
        f"row {i + 1}: model {frame[model_col].iloc[i]!r} has no scores (all cells blank)"
        for i in range(len(frame))
        if blank.iloc[i].all()
    ]
    problems += [
        f"column {b!r}: benchmark has no scores (all cells blank)"
        for b in benchmarks
        if blank[b].all()
    ]
    if problems:
        raise DataValidationError(problems, source)
    rows, cols = (~blank.to_numpy()).nonzero()
    return pd.DataFrame(
        {
            "model": frame[model_col].to_numpy()[rows],
            "benchmark": [benchmarks[j] for j in cols],
            "score": cells.to_numpy()[rows, cols],
            "where": [
                f"row {i + 1}, column {benchmarks[j]!r} (model={frame[model_col].iloc[i]!r})"
                for i, j in zip(rows, cols, strict=True)
            ],
        }
    )
