"""Compare fits of the same scores: by PSIS-LOO, and an approximation against NUTS.

PSIS-LOO (ArviZ) ranks models of the same scores (e.g. the bifactor against one number);
`approximation_accuracy` says how far a MAP + Laplace or ADVI fit is from a NUTS fit.

The fit keeps its likelihood as one summed potential, so the pointwise log-likelihood ArviZ needs
is recomputed here from the saved posterior with the very functions the model used
(`rosetta.likelihoods`), draw by draw.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import gammaln

from rosetta.errors import DataValidationError, IncompatibleFitError
from rosetta.fitted import as_fit
from rosetta.intervals import interval
from rosetta.io import scores_of_fit
from rosetta.likelihoods import beta_family_logp, likelihood_branch, normal_logp
from rosetta.prediction import item_benchmarks, score_parts
from rosetta.results import Result

#: Pareto k above which a score's PSIS-LOO term is unreliable (Vehtari et al. 2017).
PARETO_K_MAX = 0.7


#: Draws x scores evaluated at once by `pointwise_loglik` (its temporaries are some 14 arrays of
#: that size: about 0.2 GB, rather than 1.9 GB for 2,000 draws of 8,000 scores at once).
LOGLIK_BLOCK_VALUES = 2_000_000


def pointwise_loglik(idata) -> xr.DataArray:
    """Log-likelihood of every observed score in every draw, dims ``(chain, draw, obs)``.

    Evaluated a block of draws at a time (`LOGLIK_BLOCK_VALUES`), so that memory stays near
    the size of the result. A fit with benchmarks fitted from item-level responses raises
    `rosetta.errors.DataValidationError`: its likelihood there is of their items' responses,
    not of the scores (which have no benchmark-level noise).
    """
    fit = as_fit(idata)
    sets = item_benchmarks(fit)
    if sets:
        raise DataValidationError(
            [
                f"benchmark(s) {sets} were fitted from item-level responses: the fit's "
                "likelihood there is of their items' responses, not of scores, so its pointwise "
                "log-likelihood of scores (and PSIS-LOO) is not computed"
            ]
        )
    posterior = fit.posterior
    scores = scores_of_fit(fit.idata)
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    step = max(1, LOGLIK_BLOCK_VALUES // (n_chains * len(scores)))
    values = np.concatenate(
        [
            _loglik(posterior.isel(draw=slice(start, start + step)), scores, fit.info.likelihood)
            for start in range(0, n_draws, step)
        ],
        axis=1,
    )
    return xr.DataArray(
        values,
        dims=("chain", "draw", "obs"),
        coords={"chain": posterior["chain"], "draw": posterior["draw"]},
        name="score",
    )


def _loglik(posterior: xr.Dataset, scores: pd.DataFrame, likelihood: str) -> np.ndarray:
    """`pointwise_loglik`'s values for the draws of ``posterior`` (chain, draw, score)."""
    p, q = (a.to_numpy() for a in score_parts(posterior, scores["model"], scores["benchmark"]))
    y = scores["score"].to_numpy(dtype=float)
    if likelihood == "normal":
        return normal_logp(y, p, posterior["sigma"].to_numpy()[..., None])
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
    return values


def with_log_likelihood(idata) -> az.InferenceData:
    """A copy of the fit with a ``log_likelihood`` group (for `arviz.loo`)."""
    out = idata.copy()
    out.add_groups(log_likelihood=xr.Dataset({"score": pointwise_loglik(idata)}))
    return out


def psis_loo(fit) -> az.ELPDData:
    """`arviz.loo` of a fit, pointwise (its ``pareto_k`` says which terms are reliable)."""
    with warnings.catch_warnings():  # the high-k scores are counted by the callers instead
        warnings.filterwarnings("ignore", "Estimated shape parameter of Pareto", UserWarning)
        return az.loo(with_log_likelihood(as_fit(fit).idata), pointwise=True)


def compare_loos(loos: Mapping[str, az.ELPDData]) -> pd.DataFrame:
    """`arviz.compare`'s table of PSIS-LOO results, plus ``n_high_pareto_k`` per fit."""
    with warnings.catch_warnings():
        # ArviZ sorts in place, which pandas >= 3.1 deprecates; nothing for us to change
        warnings.filterwarnings("ignore", ".*inplace", DeprecationWarning)
        # the stacking weights' optimiser meets log(0) and 0/0 when one fit takes all the weight
        warnings.simplefilter("ignore", RuntimeWarning)
        table = az.compare(dict(loos), ic="loo")
    high = {name: int((loo.pareto_k > PARETO_K_MAX).sum()) for name, loo in loos.items()}
    table["n_high_pareto_k"] = [high[name] for name in table.index]
    return table


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
    fits = {name: as_fit(fit) for name, fit in fits.items()}
    hashes = {name: fit.info.data_sha256 for name, fit in fits.items()}
    if len(set(hashes.values())) != 1:
        raise IncompatibleFitError(
            f"LOO compares fits of the same scores; these were fitted on different data: {hashes}"
        )
    return compare_loos({name: psis_loo(fit) for name, fit in fits.items()})


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


@dataclass
class ComparisonResult(Result):
    """PSIS-LOO ranking of fits of the same scores (see `compare`).

    ``table`` is `compare_fits`'s; ``spearman`` each fit's capability rank correlation with the
    first fit's (`capability_spearman`).
    """

    table: pd.DataFrame
    spearman: dict[str, float]

    def to_dict(self) -> dict:
        """``ic``, per fit its LOO figures and Spearman correlation, and the ``best`` fit."""
        columns = ["elpd_loo", "se", "elpd_diff", "dse", "p_loo", "weight", "n_high_pareto_k"]
        return {
            "ic": "loo",
            "fits": {
                str(name): {
                    **{c: (int if c == "n_high_pareto_k" else float)(row[c]) for c in columns},
                    "capability_spearman": self.spearman[name],
                }
                for name, row in self.table.iterrows()
            },
            "best": str(self.table.index[0]),
        }

    def summary(self) -> str:
        """The ranking table and how to read its Pareto-k column."""
        frame = pd.DataFrame.from_dict(self.to_dict()["fits"], orient="index")
        return (
            "PSIS-LOO comparison (elpd: higher is better; elpd_diff and dse against the best)\n"
            + frame.round(3).to_string()
            + f"\nn_high_pareto_k counts scores with Pareto k > {PARETO_K_MAX}, whose LOO term "
            "is unreliable: models seen on few benchmarks make each of their scores influential."
        )

    def plot_data(self) -> pd.DataFrame:
        """The ranking table, one row per fit (column ``fit``)."""
        return self.table.rename_axis("fit").reset_index()

    def plot(self, *, path: str | Path | None = None):
        """ArviZ's comparison plot (elpd with standard errors)."""
        with warnings.catch_warnings():  # ArviZ sorts in place, which pandas deprecates
            warnings.filterwarnings("ignore", ".*inplace")
            axes = az.plot_compare(self.table, show=False)
        fig = axes.figure
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def compare(fits: Mapping[str, object]) -> ComparisonResult:
    """Rank fits of the same scores by PSIS-LOO and check they keep the capability ranking.

    Parameters
    ----------
    fits
        Name -> `rosetta.Fit` (or InferenceData, or saved path); the first is the reference of
        the rank correlations.
    """
    fits = {name: as_fit(fit) for name, fit in fits.items()}
    return ComparisonResult(compare_fits(fits), capability_spearman(fits))


#: What `approximation_accuracy` compares: per model, and per benchmark (anchored entries, whose
#: posterior sd is 0, are left out).
APPROXIMATED = ("capability", "difficulty", "slope")


def approximation_accuracy(approximate, reference, names=APPROXIMATED) -> pd.DataFrame:
    """How far an approximate fit's marginals are from a reference fit's (NUTS), per quantity.

    Both must be fits of the same scores on the same scale. For each of ``names``, over its
    entries (models or benchmarks): ``mean_corr``, the correlation of the posterior means;
    ``mean_shift_sd``, the median and ``max_mean_shift_sd`` the largest distance between the two
    means in reference posterior sds; ``sd_ratio`` (median), ``min_sd_ratio`` and
    ``max_sd_ratio`` of the approximate posterior sds to the reference's; and ``interval_overlap``,
    the mean share of the reference's 90% interval that the approximate one covers.
    """
    approximate, reference = as_fit(approximate), as_fit(reference)
    if approximate.info.data_sha256 != reference.info.data_sha256:
        raise IncompatibleFitError("an approximation is compared with a fit of the same scores")
    missing = [n for n in names if n not in approximate.posterior or n not in reference.posterior]
    if missing:
        raise ValueError(f"not in both posteriors: {missing} (compare e.g. {list(APPROXIMATED)})")
    rows = {}
    for name in names:
        a, r = (_draws(fit.posterior[name]) for fit in (approximate, reference))
        if not a.columns.equals(r.columns):
            raise IncompatibleFitError(f"the two fits' {name} are not of the same entries")
        varies = r.std().to_numpy() > 0
        a, r = a.loc[:, varies], r.loc[:, varies]
        shift = ((a.mean() - r.mean()).abs() / r.std()).to_numpy()
        ratio = (a.std() / r.std()).to_numpy()
        (a_lo, a_hi), (r_lo, r_hi) = interval(a.to_numpy()), interval(r.to_numpy())
        overlap = (np.minimum(a_hi, r_hi) - np.maximum(a_lo, r_lo)).clip(0) / (r_hi - r_lo)
        rows[name] = {
            "entries": int(varies.sum()),
            "mean_corr": float(np.corrcoef(a.mean(), r.mean())[0, 1]),
            "mean_shift_sd": float(np.median(shift)),
            "max_mean_shift_sd": float(shift.max()),
            "sd_ratio": float(np.median(ratio)),
            "min_sd_ratio": float(ratio.min()),
            "max_sd_ratio": float(ratio.max()),
            "interval_overlap": float(overlap.mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _draws(values: xr.DataArray) -> pd.DataFrame:
    """Draws (rows) by entries (columns) of a one-dimensional posterior quantity."""
    stacked = values.stack(sample=("chain", "draw")).transpose("sample", ...)
    (dim,) = (d for d in stacked.dims if d != "sample")
    return pd.DataFrame(stacked.to_numpy(), columns=stacked[dim].to_numpy())
