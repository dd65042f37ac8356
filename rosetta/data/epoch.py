"""Readers of the bundled Epoch AI data (benchmark results, model dates, compute, distillation).

The files are shipped unchanged; see ``data/README.md`` for their provenance and licence. Inside a
wheel they live at ``rosetta/_bundled``; in a source checkout at the top-level ``data/`` folder.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from rosetta.data.parse import operation_count, parse_dates, parse_flags, parse_scores

_MANIFEST_SCALES = {
    "fraction": "fraction",
    "percent number": "percent",
    "percent string": "percent",
    "score out of 10": "out_of_10",
}
_EPOCH_RUNS = "benchmarks_runs.csv"
_STDERR = re.compile(r"[^,:]+:\s*([0-9.eE+-]+)\s*±\s*([0-9.eE+-]+)")


def bundled_dir() -> Path:
    """Folder holding the bundled Epoch data (``epoch-benchmarks/``, ``epoch-models/``).

    Returns
    -------
    Path
        The installed copy inside the package, or the checkout's ``data/`` folder.
    """
    installed = Path(str(resources.files("rosetta"))) / "_bundled"
    checkout = Path(__file__).resolve().parents[2] / "data"
    for root in (installed, checkout):
        if (root / "epoch-benchmarks" / "manifest.csv").is_file():
            return root
    raise FileNotFoundError(
        f"bundled Epoch data not found (looked in {installed} and {checkout}); "
        "reinstall rosetta or pass your own score table"
    )


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""])


@functools.cache
def read_manifest(root: Path | None = None) -> pd.DataFrame:
    """The benchmark manifest: file, columns, score scale and nominal chance of each benchmark."""
    root = root or bundled_dir()
    manifest = _read_csv(root / "epoch-benchmarks" / "manifest.csv")
    manifest["nominal_chance"] = manifest["nominal_chance"].astype(float)
    return manifest


def read_epoch_scores(root: Path | None = None) -> pd.DataFrame:
    """Every bundled score as one raw long frame, in file order (oldest Epoch run first).

    Parameters
    ----------
    root
        Data folder; the bundled one by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``benchmark``, ``score`` (a fraction, NaN where the cell is blank or
        unparsable), ``stderr`` (Epoch runs only) and ``source``.
    """
    root = root or bundled_dir()
    folder = root / "epoch-benchmarks"
    frames = []
    files: dict[str, pd.DataFrame] = {}
    for row in read_manifest(root).itertuples(index=False):
        if row.file not in files:
            files[row.file] = _read_csv(folder / row.file)
        raw = files[row.file]
        if row.file == _EPOCH_RUNS:
            raw = raw[raw["task"] == row.benchmark]
            started = pd.to_datetime(raw["started_at"], format="%d %B %Y %I:%M%p", errors="coerce")
            raw = raw.iloc[np.argsort(started.to_numpy(), kind="stable")]
            stderr = raw["Scores"].map(_best_stderr)
            source = pd.Series("Epoch AI evaluations", index=raw.index)
        else:
            stderr = pd.Series(np.nan, index=raw.index)
            source = raw["Source"] if "Source" in raw else pd.Series(row.file, index=raw.index)
        score, _ = parse_scores(raw[row.score_column], _MANIFEST_SCALES[row.score_scale])
        frames.append(
            pd.DataFrame(
                {
                    "model": raw[row.model_column],
                    "benchmark": row.benchmark,
                    "score": score,
                    "stderr": stderr.astype(float),
                    "source": source.fillna(row.file),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _best_stderr(cell: object) -> float:
    """Standard error of the best scorer in an Epoch ``Scores`` cell like ``"choice:0.85±0.02"``."""
    pairs = [(float(v), float(s)) for v, s in _STDERR.findall(str(cell))]
    return max(pairs)[1] if pairs else np.nan


@functools.cache
def read_model_metadata(root: Path | None = None) -> pd.DataFrame:
    """Release date, training compute and distillation flag per model-version id.

    Compute is joined through the model name (``Model`` in ``model_versions.csv``) to Epoch's
    notable-models table (``compute``, published); the compute supplement's parameters N and
    training tokens D give ``6 N D`` (``estimated_compute``), which `rosetta.data.table` uses only
    where no compute is published. The distilled flag comes from ``distilled_models.csv``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model``; columns ``date``, ``compute`` and ``estimated_compute`` (FLOP),
        ``distilled``, ``name``.
    """
    root = root or bundled_dir()
    versions = _read_csv(root / "epoch-benchmarks" / "model_versions.csv")
    distilled = _read_csv(root / "epoch-benchmarks" / "distilled_models.csv")
    published, estimated = _compute_by_name(root)
    dates, _ = parse_dates(versions["Version release date"])
    flags, _ = parse_flags(distilled["distilled"])
    names = versions["Model"]
    meta = pd.DataFrame(
        {
            "date": dates.to_numpy(),
            "compute": names.map(published).to_numpy(dtype=float),
            "estimated_compute": names.map(estimated).to_numpy(dtype=float),
            "name": names.to_numpy(),
        },
        index=pd.Index(versions["id"], name="model"),
    )
    meta = meta[~meta.index.duplicated()]
    meta["distilled"] = pd.Series(flags.to_numpy(), index=distilled["model"]).reindex(meta.index)
    return meta


def _compute_by_name(root: Path) -> tuple[pd.Series, pd.Series]:
    """Published training compute, and ``6 N D`` from the supplement, by Epoch model name."""
    notable = _read_csv(root / "epoch-models" / "notable_models_compute.csv")
    flop = pd.to_numeric(notable["Training compute (FLOP)"], errors="coerce")
    published = pd.Series(flop.to_numpy(), index=notable["Model"]).dropna()
    supplement = _read_csv(root / "compute-supplement" / "open_models_parameters_tokens.csv")
    estimated = pd.Series(
        operation_count(supplement["parameters"], supplement["training_tokens"]).to_numpy(),
        index=supplement["Model"],
    ).dropna()
    return (
        published[~published.index.duplicated()],
        estimated[~estimated.index.duplicated()],
    )


@functools.cache
def read_benchmark_metadata(root: Path | None = None) -> pd.DataFrame:
    """Nominal floor, release date and flags per bundled benchmark.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``benchmark``; columns ``floor`` (nominal chance), ``answer_format``,
        ``release_date``, ``optimized_for``, ``is_math``, ``is_coding``.
    """
    root = root or bundled_dir()
    manifest = read_manifest(root).set_index("benchmark")
    optim = _read_csv(root / "epoch-benchmarks" / "benchmark_optim.csv").set_index("benchmark")
    meta = pd.DataFrame(
        {"floor": manifest["nominal_chance"], "answer_format": manifest["answer_format"]}
    )
    meta["release_date"] = parse_dates(optim["benchmark_release_date"])[0].reindex(meta.index)
    for flag in ("optimized_for", "is_math", "is_coding"):
        meta[flag] = parse_flags(optim[flag])[0].reindex(meta.index)
    meta.index.name = "benchmark"
    return meta
