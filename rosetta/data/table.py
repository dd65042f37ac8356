"""The tidy score table and the one pipeline that builds it from raw rows.

Every input (bundled Epoch data, a long table, a wide matrix) arrives here as raw long rows and
leaves as a `ScoreTable`: one row per (model, benchmark), scores in [0, 1], floors, metadata, and
an account of every row dropped and why.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from rosetta.constants import DEFAULT_MIN_MODELS, DUPLICATE_POLICIES, SCORE_COLUMNS
from rosetta.data.graph import find_components
from rosetta.data.parse import (
    operation_count,
    parse_dates,
    parse_flags,
    parse_numbers,
    parse_scores,
)
from rosetta.errors import DataValidationError, DisconnectedGraphError


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """A validated, tidy score table: one row per evaluated (model, benchmark) pair.

    Attributes
    ----------
    scores
        Columns ``model``, ``benchmark``, ``score`` (in [0, 1]), ``floor`` (benchmark's chance
        score), ``n_items``, ``stderr``, ``date`` (model release), ``compute`` (training FLOP),
        ``distilled``, ``source``; sorted by model then benchmark.
    dropped
        Reason -> number of input rows removed for it.
    source
        Where the data came from.
    components
        Connected components of the input graph (after filters, before keeping the largest), as
        ``(models, benchmarks)`` pairs, largest first.
    """

    scores: pd.DataFrame
    dropped: dict[str, int] = field(default_factory=dict)
    source: str = "DataFrame"
    components: list[tuple[list[str], list[str]]] = field(default_factory=list)

    @property
    def n_scores(self) -> int:
        """Number of (model, benchmark) scores."""
        return len(self.scores)

    @cached_property
    def models(self) -> pd.Index:
        """Model names, sorted."""
        return pd.Index(sorted(self.scores["model"].unique()), name="model")

    @cached_property
    def benchmarks(self) -> pd.Index:
        """Benchmark names, sorted."""
        return pd.Index(sorted(self.scores["benchmark"].unique()), name="benchmark")

    @property
    def coverage(self) -> float:
        """Share of the model x benchmark matrix that is observed."""
        return self.n_scores / max(len(self.models) * len(self.benchmarks), 1)

    def model_info(self) -> pd.DataFrame:
        """Per-model ``date``, ``compute``, ``compute_source``, ``distilled``, ``n_benchmarks``."""
        grouped = self.scores.groupby("model", sort=True)
        info = grouped[["date", "compute", "compute_source", "distilled"]].first()
        info["n_benchmarks"] = grouped.size()
        return info

    def benchmark_info(self) -> pd.DataFrame:
        """Per-benchmark metadata: ``floor``, ``n_models``, ``mean_score``."""
        grouped = self.scores.groupby("benchmark", sort=True)
        info = grouped[["floor"]].first()
        info["n_models"] = grouped.size()
        info["mean_score"] = grouped["score"].mean()
        return info

    def subset(self, mask) -> ScoreTable:
        """The rows selected by a boolean mask, as a new table (e.g. a training fold)."""
        scores = self.scores[np.asarray(mask, dtype=bool)].reset_index(drop=True)
        return ScoreTable(
            scores=scores,
            dropped=dict(self.dropped),
            source=self.source,
            components=find_components(scores),
        )

    def sha256(self) -> str:
        """Hash of the canonical table, stamped into every fit made from it."""
        text = self.scores.to_csv(index=False, date_format="%Y-%m-%d", float_format="%.10g")
        return hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict:
        """Counts for scripts (the ``rosetta data --json`` object)."""
        return {
            "source": self.source,
            "n_scores": self.n_scores,
            "n_models": len(self.models),
            "n_benchmarks": len(self.benchmarks),
            "coverage": round(self.coverage, 4),
            "components": [len(m) + len(b) for m, b in self.components],
            "dropped": dict(self.dropped),
            "models_with_date": int(self.model_info()["date"].notna().sum()),
            "models_with_compute": {
                source: int(count)
                for source, count in self.model_info()["compute_source"].value_counts().items()
            },
            "sha256": self.sha256(),
        }

    def summary(self) -> str:
        """Counts for people (what ``rosetta data`` prints)."""
        d = self.to_dict()
        compute = d["models_with_compute"]
        by_source = ", ".join(f"{n} {source}" for source, n in compute.items())
        lines = [
            f"source       {d['source']}",
            f"scores       {d['n_scores']}",
            f"models       {d['n_models']} ({d['models_with_date']} with a release date, "
            f"{sum(compute.values())} with training compute"
            + (f": {by_source})" if by_source else ")"),
            f"benchmarks   {d['n_benchmarks']}",
            f"coverage     {d['coverage']:.1%} of the model x benchmark matrix",
            f"components   {d['components']} (models + benchmarks per component)",
        ]
        if d["dropped"]:
            lines.append("dropped rows")
            lines += [f"  {n:6d}  {reason}" for reason, n in d["dropped"].items()]
        return "\n".join(lines)


def build_table(
    raw: pd.DataFrame,
    *,
    source: str = "DataFrame",
    score_scale: str = "fraction",
    errors: str = "raise",
    duplicates: str = "max",
    min_benchmarks: int = 1,
    min_models: int = DEFAULT_MIN_MODELS,
    since: str | pd.Timestamp | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    model_metadata: pd.DataFrame | None = None,
    benchmark_metadata: pd.DataFrame | None = None,
    keep_largest_component: bool = False,
) -> ScoreTable:
    """Validate raw long rows, merge duplicates, join metadata, filter, check connectivity.

    Parameters
    ----------
    raw
        Columns ``model``, ``benchmark``, ``score`` (raw cells or floats), optional ``date``,
        ``compute``, ``floor``, ``n_items``, ``stderr``, ``distilled``, ``source``, and ``where``
        (row descriptions used in messages).
    source
        Name of the input, used in messages.
    score_scale
        How plain numeric scores are written: ``"fraction"`` or ``"percent"``; strings ending in
        ``%`` are percentages either way.
    errors
        ``"raise"``: any invalid row raises one `DataValidationError` listing them; ``"drop"``:
        invalid rows are removed and counted in ``dropped``.
    duplicates
        Policy for repeated (model, benchmark) pairs: ``"max"``, ``"mean"``, ``"latest"`` (last
        in input order) or ``"error"``.
    min_benchmarks
        Keep models evaluated on at least this many distinct benchmarks (after the date filter).
    min_models
        Keep benchmarks evaluated by at least this many models (after the date filter, before
        ``min_benchmarks``); a benchmark seen by one model links nothing to the shared scale.
    since
        Keep models released on or after this date; models without a date are then dropped.
    include, exclude
        Benchmarks to keep or to remove (exact names).
    model_metadata
        Known ``date``/``compute``/``distilled`` per model id, used where the input has none.
    benchmark_metadata
        Known ``floor`` per benchmark, used where the input has none (0 otherwise).
    keep_largest_component
        Keep the largest connected component instead of refusing a disconnected graph.

    Returns
    -------
    ScoreTable
    """
    if errors not in ("raise", "drop"):
        raise ValueError(f"errors must be 'raise' or 'drop', got {errors!r}")
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    if int(min_benchmarks) < 1 or int(min_models) < 1:
        raise ValueError("min_benchmarks and min_models must be >= 1")
    if raw.empty:
        raise DataValidationError(["no rows: the table is empty"], source)

    dropped: Counter[str] = Counter()
    rows = _parse_rows(raw, score_scale)
    rows = _apply_row_problems(rows, errors, source, dropped)
    rows = _select_benchmarks(rows, include, exclude, source, dropped)
    rows = _merge_duplicates(rows, duplicates, source, dropped)
    rows = _join_metadata(rows, model_metadata, benchmark_metadata, source)
    rows = _filter_models(rows, since, int(min_models), int(min_benchmarks), dropped)
    if rows.empty:
        reasons = ", ".join(f"{k}: {v}" for k, v in dropped.items()) or "none"
        raise DataValidationError(
            [f"no scores left after filtering (dropped rows: {reasons})"], source
        )
    components = find_components(rows)
    if len(components) > 1:
        if not keep_largest_component:
            raise DisconnectedGraphError(components, source)
        models, benchmarks = components[0]
        keep = rows["model"].isin(models) & rows["benchmark"].isin(benchmarks)
        dropped["outside the largest connected component"] += int((~keep).sum())
        rows = rows[keep]

    scores = rows[list(SCORE_COLUMNS)].sort_values(["model", "benchmark"], ignore_index=True)
    return ScoreTable(scores=scores, dropped=dict(dropped), source=source, components=components)


def _parse_rows(raw: pd.DataFrame, score_scale: str) -> pd.DataFrame:
    """Parse every cell; collect per-row problems in a ``problem`` column."""
    rows = pd.DataFrame(index=raw.index)
    problems = pd.DataFrame(index=raw.index)
    for name in ("model", "benchmark"):
        text = raw[name].astype("string").str.strip()
        rows[name] = text
        problems[name] = np.where(text.isna() | text.eq(""), f"missing {name} name", "")
    score, problems["score"] = parse_scores(raw["score"], score_scale)
    out_of_range = score.notna() & ~score.between(0.0, 1.0)
    hint = "" if score_scale == "percent" else " (percentages? write '77%' or use percent scale)"
    problems.loc[out_of_range, "score"] = [
        f"score {v:g} outside [0, 1]" + (hint if 1 < v <= 100 else "") for v in score[out_of_range]
    ]
    rows["score"] = score
    rows["floor"], problems["floor"] = _optional_number(raw, "floor", 0.0, 1.0, right_open=True)
    rows["n_items"], problems["n_items"] = _optional_number(raw, "n_items", 1.0, np.inf)
    whole = rows["n_items"].isna() | (rows["n_items"] % 1 == 0)
    problems.loc[~whole, "n_items"] = "n_items is not a whole number"
    rows["stderr"], problems["stderr"] = _optional_number(raw, "stderr", 0.0, 1.0)
    for column in ("compute", "parameters", "training_tokens"):
        rows[column], problems[column] = _optional_number(raw, column, 0.0, np.inf, left_open=True)
    if "date" in raw:
        rows["date"], problems["date"] = parse_dates(raw["date"])
    else:
        rows["date"] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if "distilled" in raw:
        rows["distilled"], problems["distilled"] = parse_flags(raw["distilled"])
    else:
        rows["distilled"] = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    rows["source"] = raw["source"].astype("string") if "source" in raw else pd.NA
    rows["where"] = raw["where"] if "where" in raw else [f"row {i + 1}" for i in range(len(raw))]
    rows["problem"] = problems.apply(lambda r: "; ".join(p for p in r if p), axis=1)
    return rows


def _optional_number(raw, column, low, high, *, left_open=False, right_open=False):
    if column not in raw:
        return pd.Series(np.nan, index=raw.index), pd.Series("", index=raw.index)
    values, problem = parse_numbers(raw[column], column)
    too_low = values < low if not left_open else values <= low
    too_high = values > high if not right_open else values >= high
    bad = values.notna() & (too_low | too_high)
    interval = f"{'(' if left_open else '['}{low:g}, {high:g}{')' if right_open else ']'}"
    problem[bad] = [f"{column} {v:g} outside {interval}" for v in values[bad]]
    return values, problem


def _apply_row_problems(rows, errors, source, dropped):
    bad = rows["problem"].ne("")
    if not bad.any():
        return rows
    if errors == "raise":
        lines = [
            f"{w}: {p}"
            for w, p in zip(rows.loc[bad, "where"], rows.loc[bad, "problem"], strict=True)
        ]
        raise DataValidationError(lines, source)
    for problem in rows.loc[bad, "problem"]:
        dropped[_reason(problem)] += 1
    return rows[~bad]


def _reason(problem: str) -> str:
    """Group a row problem into a reason category for the ``dropped`` counts."""
    first = problem.split(";")[0]
    for key in (
        "missing score",
        "non-numeric score",
        "non-finite score",
        "outside [0, 1]",
        "missing model name",
        "missing benchmark name",
    ):
        if key in first:
            return "score outside [0, 1]" if key == "outside [0, 1]" else key
    return "invalid " + first.split(" ")[0]


def _select_benchmarks(rows, include, exclude, source, dropped):
    known = sorted(rows["benchmark"].unique())
    reasons = {"include": "benchmark not included", "exclude": "benchmark excluded"}
    for option, names in (("include", include), ("exclude", exclude)):
        if names is None:
            continue
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise DataValidationError(
                [f"{option}: unknown benchmark {n!r}{did_you_mean(n, known)}" for n in unknown],
                source,
            )
        keep = (
            rows["benchmark"].isin(names) if option == "include" else ~rows["benchmark"].isin(names)
        )
        dropped[reasons[option]] += int((~keep).sum())
        rows = rows[keep]
    return rows


def did_you_mean(name: str, known: list[str]) -> str:
    """``" (did you mean 'A', 'B'?)"`` for the known names closest to ``name``, else ``""``."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(repr(lowered[c]) for c in close)}?)" if close else ""


def _merge_duplicates(rows, policy, source, dropped):
    key = ["model", "benchmark"]
    repeated = rows.duplicated(key, keep=False)
    if not repeated.any():
        return rows
    if policy == "error":
        groups = rows[repeated].groupby(key, sort=True)["where"].agg(list)
        lines = [
            f"model {m!r} on benchmark {b!r} appears {len(w)} times ("
            + ", ".join(x.split(" (")[0] for x in w)
            + ")"
            for (m, b), w in groups.items()
        ]
        raise DataValidationError(
            [*lines, "choose a duplicate policy: max, mean or latest"], source
        )
    n_before = len(rows)
    if policy == "max":
        merged = rows.sort_values("score", kind="stable").drop_duplicates(key, keep="last")
    elif policy == "latest":
        merged = rows.drop_duplicates(key, keep="last")
    else:  # mean
        merged = rows.drop_duplicates(key, keep="last").set_index(key)
        merged["score"] = rows.groupby(key)["score"].mean()
        merged["stderr"] = rows.groupby(key)["stderr"].mean()
        merged = merged.reset_index()
    dropped[f"duplicate pair merged ({policy})"] += n_before - len(merged)
    return merged


def _join_metadata(rows, model_metadata, benchmark_metadata, source):
    """Fill per-model date/compute/distilled and per-benchmark floors; check they agree."""
    problems = []
    for column, owner in (
        ("date", "model"),
        ("compute", "model"),
        ("parameters", "model"),
        ("training_tokens", "model"),
        ("distilled", "model"),
        ("floor", "benchmark"),
    ):
        given = rows.dropna(subset=[column]).groupby(owner)[column]
        conflicting = given.nunique()
        for name in conflicting[conflicting > 1].index:
            values = sorted(map(str, rows.loc[rows[owner] == name, column].dropna().unique()))
            problems.append(f"{owner} {name!r} has conflicting {column} values {values}")
        dtype = rows[column].dtype
        first = given.first().astype(dtype)
        known = benchmark_metadata if column == "floor" else model_metadata
        if known is not None and column in known and column != "compute":
            first = first.combine_first(known[column].astype(dtype))
        filled = first.reindex(rows[owner].to_numpy()).to_numpy()
        rows[column] = pd.Series(filled, index=rows.index).astype(dtype)
    if problems:
        raise DataValidationError(problems, source)
    rows["compute"], rows["compute_source"] = _training_compute(rows, model_metadata)
    rows["floor"] = rows["floor"].fillna(0.0).astype(float)
    rows["n_items"] = rows["n_items"].astype("Int64")
    return rows


def _training_compute(rows, known) -> tuple[pd.Series, pd.Series]:
    """Each row's model compute and its source, best first.

    A compute given in the input, then the known metadata's ``compute``, are ``"published"``;
    then ``6 N D`` from the input's ``parameters`` and ``training_tokens``, then the known
    metadata's ``estimated_compute``, are ``"estimated"``. A published value is never replaced.
    """
    known = known if known is not None else pd.DataFrame(columns=["compute"])

    def known_column(name):
        values = known[name] if name in known else pd.Series(dtype=float)
        return values.reindex(rows["model"].to_numpy()).set_axis(rows.index)

    candidates = (
        ("published", rows["compute"]),
        ("published", known_column("compute")),
        ("estimated", operation_count(rows["parameters"], rows["training_tokens"])),
        ("estimated", known_column("estimated_compute")),
    )
    compute = pd.Series(np.nan, index=rows.index)
    source = pd.Series(pd.NA, index=rows.index, dtype="string")
    for name, values in candidates:
        fill = compute.isna() & pd.to_numeric(values, errors="coerce").gt(0)
        compute[fill] = values[fill].astype(float)
        source[fill] = name
    return compute, source


def _filter_models(rows, since, min_models, min_benchmarks, dropped):
    if since is not None:
        cutoff = pd.Timestamp(since)
        undated = rows["date"].isna()
        early = rows["date"] < cutoff
        dropped["model has no release date"] += int(undated.sum())
        dropped[f"model released before {cutoff.date()}"] += int(early.sum())
        rows = rows[~undated & ~early]
    if min_models > 1:
        counts = rows.groupby("benchmark")["model"].transform("nunique")
        few = counts < min_models
        dropped[f"benchmark has fewer than {min_models} models"] += int(few.sum())
        rows = rows[~few]
    if min_benchmarks > 1:
        counts = rows.groupby("model")["benchmark"].transform("nunique")
        few = counts < min_benchmarks
        dropped[f"model has fewer than {min_benchmarks} benchmarks"] += int(few.sum())
        rows = rows[~few]
    for reason in [r for r, n in dropped.items() if n == 0]:
        del dropped[reason]
    return rows
