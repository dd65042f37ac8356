"""Compare fits of the same scores by PSIS-LOO (ArviZ): e.g. the bifactor against one number.

The fit keeps its likelihood as one summed potential, so the pointwise log-likelihood ArviZ needs
is recomputed here from the saved posterior with the very functions the model used
(`rosetta.likelihoods`), draw by draw.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import gammaln

from rosetta.errors import IncompatibleFitError
from rosetta.io import scores_of_fit
from rosetta.likelihoods import beta_family_logp, likelihood_branch, normal_logp
from rosetta.predict import score_parts

#: Pareto k above which a score's PSIS-LOO term is unreliable (Vehtari et al. 2017).
PARETO_K_MAX = 0.7


def pointwise_loglik(idata) -> xr.DataArray:
    """Log-likelihood of every observed score in every draw, dims ``(chain, draw, obs)``."""
    posterior = idata.posterior
    scores = scores_of_fit(idata)
    p, q = (a.to_numpy() for a in score_parts(posterior, scores["model"], scores["benchmark"]))
    y = scores["score"].to_numpy(dtype=float)
    likelihood = json.loads(posterior.attrs.get("spec", "{}")).get("likelihood", "beta")
    if likelihood == "normal":
        values = normal_logp(y, p, posterior["sigma"].to_numpy()[..., None])
    else:
        n_items = scores["n_items"].to_numpy(dtype=float)
        order = np.argsort(likelihood_branch(y, n_items), kind="stable")
        bench = xr.DataArray(scores["benchmark"].to_numpy()[order], dims="pair")
        precision = posterior["precision"].sel(benchmark=bench).to_numpy()
        cut = {
            name: posterior[name].to_numpy()[..., None] if name in posterior else None
            for name in ("zero_cutpoint", "one_cutpoint")
        }
        ordered = beta_family_logp(
            y[order],
            n_items[order],
            p[..., order],
            q[..., order],
            precision,
            gammaln(precision),
            cut["zero_cutpoint"],
            cut["one_cutpoint"],
        )
        values = np.empty_like(ordered)
        values[..., order] = ordered
    return xr.DataArray(
        values,
        dims=("chain", "draw", "obs"),
        coords={"chain": posterior["chain"], "draw": posterior["draw"]},
        name="score",
    )


def with_log_likelihood(idata) -> az.InferenceData:
    """A copy of the fit with a ``log_likelihood`` group (for `arviz.loo`)."""
    out = idata.copy()
    out.add_groups(log_likelihood=xr.Dataset({"score": pointwise_loglik(idata)}))
    return out


def compare_fits(fits: Mapping[str, object]) -> pd.DataFrame:
    """Rank fits of the same scores by expected log predictive density (PSIS-LOO).

    Parameters
    ----------
    fits
        Name -> fitted InferenceData; all must be fits of the same score table.

    Returns
    -------
    pandas.DataFrame
        `arviz.compare`'s table (``elpd_loo``, ``p_loo``, ``elpd_diff``, ``dse``, ``weight``,
        ``warning``) plus ``n_high_pareto_k``: scores whose Pareto k exceeds 0.7.
    """
    hashes = {name: fit.posterior.attrs.get("data_sha256") for name, fit in fits.items()}
    if len(set(hashes.values())) != 1:
        raise IncompatibleFitError(
            f"LOO compares fits of the same scores; these were fitted on different data: {hashes}"
        )
    with warnings.catch_warnings():  # the high-k scores are counted in the table instead
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
        # ArviZ sorts in place, which pandas >= 3.1 deprecates; nothing for us to change
        warnings.filterwarnings("ignore", ".*inplace", DeprecationWarning)
        # the stacking weights' optimiser meets log(0) and 0/0 when one fit takes all the weight
        warnings.simplefilter("ignore", RuntimeWarning)
        loos = {name: az.loo(with_log_likelihood(f), pointwise=True) for name, f in fits.items()}
        table = az.compare(loos, ic="loo")
    high = {name: int((loo.pareto_k > PARETO_K_MAX).sum()) for name, loo in loos.items()}
    table["n_high_pareto_k"] = [high[name] for name in table.index]
    return table


def capability_spearman(fits: Mapping[str, object]) -> dict[str, float]:
    """Spearman correlation of each fit's mean (general) capabilities with the first fit's.

    Does a richer model keep the Rosetta scale's meaning? 1 means the same ranking.
    """
    means = {
        name: fit.posterior["capability"].mean(("chain", "draw")).to_series()
        for name, fit in fits.items()
    }
    first = next(iter(means.values()))
    return {
        name: float(first.corr(mean.reindex(first.index), method="spearman"))
        for name, mean in means.items()
    }
