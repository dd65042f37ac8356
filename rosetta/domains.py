"""Domains of the bifactor model: which benchmark measures which domain, and domain capabilities.

In the bifactor model each model has its general capability (the Rosetta scale) plus one
deviation per domain; a benchmark of domain ``d`` measures ``capability + deviation[d]``, a
benchmark with no domain measures the general capability alone. A domain map says which is which:

- ``"metadata"``: from the bundled benchmark flags: ``math`` (``is_math``
  only), ``coding`` (``is_coding`` only; coding and agentic coding), ``other`` for the rest
  (knowledge, language, reasoning, agents, games). A benchmark flagged both math and coding
  (LiveBench) mixes domains, and one without flags is unknown: both load on the general
  capability only.
- a CSV file with columns ``benchmark`` and ``domain`` (an empty domain: general only).

This module uses pandas and xarray only (no PyMC).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rosetta.errors import DomainMapError, RosettaError

#: Name of the non-dimension coordinate on ``benchmark`` that records each benchmark's domain.
BENCHMARK_DOMAIN = "benchmark_domain"


def domain_map(source: str | Path | None, benchmarks: Iterable[str]) -> dict[str, str]:
    """Benchmark -> domain for the given benchmarks (benchmarks without a domain are left out).

    Parameters
    ----------
    source
        ``"none"`` (or ``None``): no domains; ``"metadata"``: the bundled flags; otherwise the
        path of a CSV with columns ``benchmark`` and ``domain``.
    benchmarks
        The benchmarks of the table to be fitted.

    Raises
    ------
    DomainMapError
        A file that cannot be read, lacks the columns, names a benchmark twice, or gives every
        benchmark the same domain (one domain is the general capability again).
    """
    benchmarks = list(benchmarks)
    if source is None or source == "none":
        return {}
    if source == "metadata":
        mapping = _metadata_map()
        what = "the bundled metadata"
    elif Path(source).is_file():
        mapping = _read_map(Path(source))
        what = str(source)
    else:
        raise DomainMapError(
            f"domains must be 'none', 'metadata' or a CSV file (benchmark, domain); "
            f"{str(source)!r} is none of these"
        )
    mapped = {b: mapping[b] for b in benchmarks if mapping.get(b)}
    if len(set(mapped.values())) < 2:
        raise DomainMapError(
            f"{what} gives the benchmarks of this table fewer than two domains "
            f"({sorted(set(mapped.values()))}); a bifactor model needs at least two"
        )
    return mapped


def _metadata_map() -> dict[str, str]:
    from rosetta.data import read_benchmark_metadata

    meta = read_benchmark_metadata()
    math, coding = meta["is_math"], meta["is_coding"]
    unknown = math.isna() | coding.isna()
    math, coding = math.fillna(False).astype(bool), coding.fillna(False).astype(bool)
    domain = np.select(
        [unknown | (math & coding), math, coding], ["", "math", "coding"], default="other"
    )
    return dict(zip(meta.index, domain, strict=True))


def _read_map(path: Path) -> dict[str, str]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DomainMapError(f"cannot read the domain map {path}: {err}") from err
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = {"benchmark", "domain"} - set(frame.columns)
    if missing:
        raise DomainMapError(
            f"the domain map {path} needs columns 'benchmark' and 'domain'; "
            f"missing {sorted(missing)}"
        )
    names = frame["benchmark"].str.strip()
    repeated = sorted(names[names.duplicated()].unique())
    if repeated:
        raise DomainMapError(f"the domain map {path} names benchmark(s) twice: {repeated[:10]}")
    return dict(zip(names, frame["domain"].str.strip(), strict=True))


def benchmark_domains(posterior: xr.Dataset) -> pd.Series:
    """Each benchmark's domain in a fitted posterior (``""``: general only; all ``""`` without)."""
    names = posterior["benchmark"].to_numpy()
    if BENCHMARK_DOMAIN in posterior.coords:
        values = posterior[BENCHMARK_DOMAIN].to_numpy().astype(str)
    else:
        values = np.full(len(names), "")
    return pd.Series(values, index=pd.Index(names, name="benchmark"), name="domain")


def scores_per_domain(fit) -> pd.DataFrame:
    """How many scores each model has in each domain of a fit (models x domains, all models)."""
    const = fit.constant_data
    domains = benchmark_domains(fit.posterior).to_numpy()[const["benchmark_idx"].to_numpy()]
    models = const["model"].to_numpy().astype(str)
    counts = pd.crosstab(models[const["model_idx"].to_numpy()], domains)
    return counts.reindex(index=models, columns=domain_names(fit.posterior), fill_value=0)


def domain_names(posterior: xr.Dataset) -> list[str]:
    """The domains of a bifactor fit (empty for a one-number fit)."""
    return [str(d) for d in posterior["domain"].to_numpy()] if "domain" in posterior.dims else []


def capability_of(posterior: xr.Dataset, domain: str | None = None) -> xr.DataArray:
    """Capability draws ``(chain, draw, model)``: general, or in one domain of a bifactor fit."""
    if domain is None:
        return posterior["capability"]
    known = domain_names(posterior)
    if domain not in known:
        have = f"its domains are {known}" if known else "it is a one-number fit (no --domains)"
        raise RosettaError(f"domain {domain!r} is not in this fit: {have}")
    return posterior["domain_capability"].sel(domain=domain, drop=True)
