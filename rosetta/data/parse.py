"""Cell-level parsing: scores written as fractions, percent numbers or strings like ``"77.0%"``."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Score scales understood by `parse_scores`, and the divisor each implies for plain numbers.
SCORE_SCALES = {"fraction": 1.0, "percent": 100.0, "out_of_10": 10.0}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_scores(values: pd.Series, scale: str = "fraction") -> tuple[pd.Series, pd.Series]:
    """Turn raw score cells into floats on [0, 1] where possible.

    Strings ending in ``%`` are always percentages; plain numbers are divided according to
    ``scale``. Range is not checked here.

    Parameters
    ----------
    values
        Raw cells: numbers, numeric strings, ``"77.0%"``, blanks.
    scale
        ``"fraction"``, ``"percent"`` or ``"out_of_10"``: how plain numbers are written.

    Returns
    -------
    scores, problem
        Parsed floats (NaN where unparsable or blank) and, per cell, ``""`` when fine or a short
        description of what is wrong (``"missing score"``, ``"non-numeric score 'abc'"``).
    """
    if scale not in SCORE_SCALES:
        raise ValueError(f"score scale must be one of {sorted(SCORE_SCALES)}, got {scale!r}")
    divisor = SCORE_SCALES[scale]
    out = np.full(len(values), np.nan)
    problem = np.full(len(values), "", dtype=object)
    for i, cell in enumerate(values.tolist()):
        value, why = parse_cell(cell, divisor)
        out[i] = value
        problem[i] = why
    return (
        pd.Series(out, index=values.index, dtype="float64"),
        pd.Series(problem, index=values.index, dtype=object),
    )


def parse_cell(cell: object, divisor: float) -> tuple[float, str]:
    """One score cell as a float (``NaN`` when it fails) and ``""`` or what is wrong."""
    if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)):
        return np.nan, "missing score"
    if isinstance(cell, bool | np.bool_):
        return np.nan, f"non-numeric score {cell!r}"
    if isinstance(cell, int | float | np.integer | np.floating):
        value = float(cell)
        if not np.isfinite(value):
            return np.nan, f"non-finite score {cell!r}"
        return value / divisor, ""
    text = str(cell).strip()
    if not text:
        return np.nan, "missing score"
    percent = text.endswith("%")
    number = text[:-1].strip() if percent else text
    if not _NUMBER.match(number):
        return np.nan, f"non-numeric score {text!r}"
    return float(number) / (100.0 if percent else divisor), ""


def parse_numbers(values: pd.Series, name: str = "value") -> tuple[pd.Series, pd.Series]:
    """Parse an optional numeric column; blanks stay NaN and are not problems.

    Parameters
    ----------
    values
        Raw cells.
    name
        What the column holds, named in problems (``"non-numeric compute 'x'"``).

    Returns
    -------
    numbers, problem
        Floats (NaN for blanks and failures) and a per-cell problem string (``""`` when fine).
    """
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    blank = values.isna() | values.astype(str).str.strip().eq("")
    bad = numbers.isna() & ~blank
    problem = pd.Series("", index=values.index, dtype=object)
    problem[bad] = [f"non-numeric {name} {v!r}" for v in values[bad].tolist()]
    return numbers, problem


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse an optional date column (ISO dates preferred); blanks become NaT.

    Parameters
    ----------
    values
        Raw cells.

    Returns
    -------
    dates, problem
        ``datetime64[ns]`` values and a per-cell problem string (``""`` when fine).
    """
    dates = pd.to_datetime(values, errors="coerce", format="mixed").astype("datetime64[ns]")
    blank = values.isna() | values.astype(str).str.strip().eq("")
    bad = dates.isna() & ~blank
    problem = pd.Series("", index=values.index, dtype=object)
    problem[bad] = [f"unparsable date {v!r}" for v in values[bad].tolist()]
    return dates, problem


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse an optional true/false column (``TRUE``, ``yes``, ``1``, ...); blanks become NA.

    Parameters
    ----------
    values
        Raw cells.

    Returns
    -------
    flags, problem
        Nullable booleans and a per-cell problem string (``""`` when fine).
    """
    truthy = {"true", "t", "yes", "y", "1", "1.0"}
    falsy = {"false", "f", "no", "n", "0", "0.0"}
    flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
    problem = pd.Series("", index=values.index, dtype=object)
    for idx, cell in values.items():
        if cell is None or cell is pd.NA or (isinstance(cell, float) and np.isnan(cell)):
            continue
        text = str(cell).strip().lower()
        if text in truthy:
            flags[idx] = True
        elif text in falsy:
            flags[idx] = False
        elif text:
            problem[idx] = f"not a true/false value {cell!r}"
    return flags, problem


def normalise_column(name: object) -> str:
    """Lower-case, strip and snake-case a header so ``" Model "`` and ``"N items"`` match."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def operation_count(parameters, training_tokens) -> pd.Series:
    """Training compute by operation counting, ``6 N D`` FLOP (N activated parameters)."""
    n = pd.to_numeric(pd.Series(parameters), errors="coerce")
    d = pd.to_numeric(pd.Series(training_tokens), errors="coerce")
    return 6.0 * n * d
