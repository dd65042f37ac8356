"""Convergence diagnostics after every fit: R-hat, bulk/tail ESS, divergences, with warnings."""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd
import xarray as xr

from rosetta import rank_diagnostics
from rosetta.constants import DEFAULT_TARGET_ACCEPT, ESS_MIN, RHAT_MAX
from rosetta.errors import ConvergenceWarning

#: Variables whose convergence is checked (the ones every later number is built from).
CHECKED = (
    "capability",
    "difficulty",
    "slope",
    "precision",
    "sigma",
    "floor",
    "domain_capability",
    "domain_sd",
    "family_effect",
    "family_effect_sd",
    "dimension_sd",
    "dimension_strength",
)


def summarize_diagnostics(idata, *, warn: bool = True) -> dict:
    """Summarise convergence of a NUTS fit, and warn past the thresholds.

    Parameters
    ----------
    idata
        InferenceData with a ``posterior`` group (and ``sample_stats`` for NUTS).
    warn
        Emit a `ConvergenceWarning` when max R-hat > `RHAT_MAX`, min ESS < `ESS_MIN` or any
        divergence.

    Returns
    -------
    dict
        ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, ``divergences``, ``n_draws``,
        ``ok`` and ``per_variable`` (a list of per-variable rows); for approximate methods
        (one chain of independent draws) R-hat is ``None``.
    """
    posterior = idata.posterior
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    rows = [variable_diagnostics(posterior, name) for name in checked_variables(posterior)]
    table = pd.DataFrame(rows)
    stats = getattr(idata, "sample_stats", None)
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    max_rhat = float(table["max_rhat"].max()) if n_chains > 1 else None
    summary = {
        "max_rhat": max_rhat,
        "min_ess_bulk": float(table["min_ess_bulk"].min()),
        "min_ess_tail": float(table["min_ess_tail"].min()),
        "divergences": divergences,
        "n_chains": int(n_chains),
        "n_draws": int(n_chains * n_draws),
        "per_variable": table.round(4).to_dict(orient="records"),
    }
    problems = []
    if max_rhat is not None and max_rhat > RHAT_MAX:
        problems.append(f"max R-hat {max_rhat:.3f} > {RHAT_MAX}")
    if summary["min_ess_bulk"] < ESS_MIN:
        problems.append(f"min bulk ESS {summary['min_ess_bulk']:.0f} < {ESS_MIN}")
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    summary["ok"] = not problems
    summary["problems"] = problems
    if warn:
        warn_unconverged(summary)
    return summary


def checked_variables(posterior) -> list[str]:
    """The `CHECKED` variables of ``posterior`` that vary (fixed floors have no diagnostics)."""
    return [name for name in CHECKED if name in posterior and _varies(posterior[name])]


def variable_diagnostics(posterior, name: str) -> dict:
    """``variable``, ``max_rhat`` (NaN with one chain), ``min_ess_bulk``, ``min_ess_tail``.

    Over the entries of one posterior variable; anchored (constant) entries are skipped.
    """
    row = {"variable": name}
    row.update((key, variable_diagnostic(posterior, name, key)) for key in DIAGNOSTICS)
    return row


#: The per-variable diagnostics, cheapest first: ArviZ's definitions (`rank_diagnostics`, all
#: entries at once) and how entries combine.
DIAGNOSTICS = {
    "min_ess_bulk": (rank_diagnostics.ess_bulk, "min"),
    "min_ess_tail": (rank_diagnostics.ess_tail, "min"),
    "max_rhat": (rank_diagnostics.rhat, "max"),
}


def variable_diagnostic(posterior, name: str, key: str) -> float:
    """One of `DIAGNOSTICS` over the entries of one variable (NaN if all are constant)."""
    if key == "max_rhat" and posterior.sizes["chain"] < 2:
        return np.nan
    return combined(entry_diagnostics(posterior, name, key), key)


def combined(values: xr.DataArray, key: str) -> float:
    """A variable's figure from its `entry_diagnostics`: lowest ESS or highest R-hat (NaN-free)."""
    return float(getattr(values, DIAGNOSTICS[key][1])(skipna=True))


def entry_diagnostics(posterior, name: str, key: str) -> xr.DataArray:
    """One of `DIAGNOSTICS` for each entry of one variable (NaN where the entry is constant).

    A constant entry (an anchored difficulty) has no diagnostics: ArviZ's convention, an ESS of
    every draw, would stand for the lowest ESS of a variable whose other entries mix better.
    The figures of draws seen lately (by the stopping rule's last check) are not computed again.
    """
    function = DIAGNOSTICS[key][0]
    values = posterior[name]
    draws = values.to_numpy()
    memo = (function, values.dims, draws.shape, draws.dtype.str, _digest(draws))
    with _RECENT_LOCK:
        result = _RECENT.get(memo)
    if result is None:
        moved = values.transpose(..., "chain", "draw").to_numpy()
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            result = np.asarray(function(moved))
        with _RECENT_LOCK:
            _RECENT[memo] = result
            while len(_RECENT) > _RECENT_SIZE:
                _RECENT.popitem(last=False)
    entries = values.isel(chain=0, draw=0, drop=True).copy(data=result)
    return entries.where(values.max(("chain", "draw")) > values.min(("chain", "draw")))


#: `entry_diagnostics` of the last few draws seen, by function and the draws' bytes: the
#: stopping rule's last check and the fit's summary after it look at the very same draws.
_RECENT: OrderedDict[tuple, np.ndarray] = OrderedDict()
_RECENT_SIZE = 64
_RECENT_LOCK = threading.Lock()


def _digest(array: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=16).digest()


def weakest_entry(values: xr.DataArray, key: str) -> dict[str, int]:
    """Position (for ``isel``) of the entry of `entry_diagnostics` ``values`` furthest from the bar.

    The highest R-hat or the lowest ESS; constant entries (NaN) are never the weakest.
    """
    if not values.dims:
        return {}
    if key == "max_rhat":
        worst = values.fillna(-np.inf).argmax(...)
    else:
        worst = values.fillna(np.inf).argmin(...)
    return {dim: int(index) for dim, index in worst.items()}


def meets(key: str, value: float, bar: float) -> bool:
    """Whether diagnostic ``key``'s ``value`` meets ``bar`` (NaN, from constant entries, does)."""
    return not value > bar if key == "max_rhat" else not value < bar


def warn_unconverged(summary: dict) -> None:
    """Emit a `ConvergenceWarning` naming the ``problems`` of a `summarize_diagnostics` summary."""
    if summary.get("problems"):
        warnings.warn(
            "the posterior may not be reliable: "
            + "; ".join(summary["problems"])
            + f" ({_advice(summary)})",
            ConvergenceWarning,
            stacklevel=3,
        )


def _advice(summary: dict) -> str:
    """What to try for the problems of a `summarize_diagnostics` summary."""
    steps = []
    if summary.get("divergences"):
        steps.append(
            f"a higher --target-accept (default {DEFAULT_TARGET_ACCEPT}; e.g. 0.95) for the "
            "divergent transitions"
        )
    if len(summary.get("problems", ())) > bool(summary.get("divergences")):
        steps.append("more --tune/--draws for R-hat and ESS")
    return "try " + ", and ".join(steps) + ", or check the data of the worst variables"


def _varies(array) -> bool:
    """Constant variables (fixed floors) have no meaningful diagnostics."""
    values = array.to_numpy()
    return bool(np.ptp(values.reshape(-1, *values.shape[2:]), axis=0).max() > 0)
