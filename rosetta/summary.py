"""Summary tables of a fitted posterior (numpy/xarray only): capabilities, domains, benchmarks."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from rosetta.constants import CI_PROB
from rosetta.intervals import bounds, quantile_names


def _describe(draws: xr.DataArray, dim: str, ci_prob: float) -> pd.DataFrame:
    lo, hi = bounds(ci_prob)
    lo_name, hi_name = quantile_names(ci_prob)
    stacked = draws.stack(sample=("chain", "draw"))
    frame = pd.DataFrame(
        {
            "mean": stacked.mean("sample").to_series(),
            "sd": stacked.std("sample").to_series(),
            lo_name: stacked.quantile(lo, "sample").to_series(),
            hi_name: stacked.quantile(hi, "sample").to_series(),
        }
    )
    frame.index.name = dim
    return frame


def capability_table(idata, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Capability per model (mean, sd, interval), most capable first, with its data coverage.

    Parameters
    ----------
    idata
        A fit (anything with ``posterior`` and ``constant_data`` groups).
    ci_prob
        Probability mass of the equal-tailed interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by model: ``mean``, ``sd``, ``q5``, ``q95``, ``n_scores``, ``release_date``.
    """
    table = _describe(idata.posterior["capability"], "model", ci_prob)
    constant = idata.constant_data
    counts = pd.Series(constant["model_idx"].to_numpy()).value_counts()
    table["n_scores"] = [int(counts.get(i, 0)) for i in range(len(table))]
    if "release_date" in constant and constant["release_date"].notnull().any():
        table["release_date"] = constant["release_date"].to_series().dt.date
    return table.sort_values("mean", ascending=False)


def domain_table(idata, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Domain profile per model of a bifactor fit: capability and deviation in each domain.

    Returns
    -------
    pandas.DataFrame
        Indexed by model, most capable (general) first: ``capability`` (general mean), then per
        domain ``{domain}`` (domain capability mean), ``{domain}_deviation`` with its interval
        ``{domain}_lo`` / ``{domain}_hi``, and ``{domain}_scores`` (the model's scores there).
    """
    from rosetta.domains import domain_names, scores_per_domain

    posterior = idata.posterior
    domains = domain_names(posterior)
    if not domains:
        raise ValueError("domain profiles need a bifactor fit (rosetta fit --domains ...)")
    general = posterior["capability"].mean(("chain", "draw")).to_series()
    table = pd.DataFrame({"capability": general})
    counts = scores_per_domain(idata).reindex(table.index)
    for domain in domains:
        capability = posterior["domain_capability"].sel(domain=domain, drop=True)
        deviation = _describe(
            posterior["domain_deviation"].sel(domain=domain, drop=True), "model", ci_prob
        )
        table[domain] = capability.mean(("chain", "draw")).to_series()
        table[f"{domain}_deviation"] = deviation["mean"]
        table[f"{domain}_lo"], table[f"{domain}_hi"] = deviation.iloc[:, 2], deviation.iloc[:, 3]
        table[f"{domain}_scores"] = counts[domain]
    return table.sort_values("capability", ascending=False)


def benchmark_table(idata, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Difficulty, slope and floor per benchmark (mean, sd, interval), easiest first.

    Returns
    -------
    pandas.DataFrame
        Indexed by benchmark, columns ``difficulty_*``, ``slope_*``, ``floor``, ``n_scores``.
    """
    posterior = idata.posterior
    parts = [
        _describe(posterior[name], "benchmark", ci_prob).add_prefix(f"{name}_")
        for name in ("difficulty", "slope")
    ]
    table = pd.concat(parts, axis=1)
    table["floor"] = posterior["floor"].mean(("chain", "draw")).to_series()
    counts = pd.Series(idata.constant_data["benchmark_idx"].to_numpy()).value_counts()
    table["n_scores"] = [int(counts.get(i, 0)) for i in range(len(table))]
    return table.sort_values("difficulty_mean")


def dimension_table(idata, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Loadings per benchmark of a fit with learned dimensions (aligned draws), strongest first.

    Returns
    -------
    pandas.DataFrame
        Indexed by benchmark: ``strength`` (length of its loading vector: how much it measures
        beyond the general capability, in capability units per unit score) with its interval
        ``strength_lo`` / ``strength_hi``, then per dimension ``{dim}`` (mean loading) with
        ``{dim}_lo`` / ``{dim}_hi``.
    """
    posterior = idata.posterior
    if "dimension_loading" not in posterior:
        raise ValueError("loadings need a fit with learned dimensions (rosetta fit --dimensions K)")
    strength = _describe(posterior["dimension_strength"], "benchmark", ci_prob)
    table = pd.DataFrame(
        {
            "strength": strength["mean"],
            "strength_lo": strength.iloc[:, 2],
            "strength_hi": strength.iloc[:, 3],
        }
    )
    for dim in posterior["dimension"].to_numpy().astype(str):
        loading = _describe(
            posterior["dimension_loading"].sel(dimension=dim, drop=True), "benchmark", ci_prob
        )
        table[dim] = loading["mean"]
        table[f"{dim}_lo"], table[f"{dim}_hi"] = loading.iloc[:, 2], loading.iloc[:, 3]
    return table.sort_values("strength", ascending=False)
