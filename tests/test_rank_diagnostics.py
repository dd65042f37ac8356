"""rosetta.rank_diagnostics gives ArviZ's R-hat and bulk/tail ESS, for all entries at once."""

import logging
import warnings
from collections import OrderedDict

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from rosetta import rank_diagnostics
from rosetta.rank_diagnostics import _average_ranks

ARVIZ = {
    "ess_bulk": lambda data: az.ess(data, method="bulk"),
    "ess_tail": lambda data: az.ess(data, method="tail"),
    "rhat": az.rhat,
}


def _arviz(name: str, values: np.ndarray) -> np.ndarray:
    """ArviZ's diagnostic of entries (entry, chain, draw); its warnings on bad entries silenced."""
    data = xr.Dataset({"x": (("chain", "draw", "entry"), values.transpose(1, 2, 0))})
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        logging.getLogger("arviz").disabled = True
        try:
            return ARVIZ[name](data)["x"].to_numpy()
        finally:
            logging.getLogger("arviz").disabled = False


def _chains(n_chains: int, n_draws: int, seed: int = 0) -> np.ndarray:
    """Entries (entry, chain, draw) that mix well, badly, not at all, or tie."""
    rng = np.random.default_rng(seed)
    rho = np.linspace(-0.5, 0.97, 12)[:, None]
    noise = rng.normal(size=(12, n_chains, n_draws))
    values = np.empty_like(noise)
    values[..., 0] = noise[..., 0]
    for t in range(1, n_draws):  # AR(1) chains, from anticorrelated to sticky
        values[..., t] = rho * values[..., t - 1] + noise[..., t]
    values[1] = 2.5  # constant
    values[2] = np.round(values[2])  # ties
    values[3] = np.sign(values[3])  # two values
    values[4, 0] += 3.0  # one chain elsewhere
    values[5, :, n_draws // 2 :] += 2.0  # a trend
    return values


@pytest.mark.parametrize("name", sorted(ARVIZ))
@pytest.mark.parametrize(("n_chains", "n_draws"), [(1, 50), (2, 4), (2, 11), (3, 200), (4, 801)])
def test_the_diagnostics_equal_arvizs(name, n_chains, n_draws):
    values = _chains(n_chains, n_draws)
    ours = getattr(rank_diagnostics, name)(values)
    np.testing.assert_allclose(ours, _arviz(name, values), rtol=1e-10, equal_nan=True)
    if name == "rhat" and n_chains > 1 and n_draws > 100:
        assert ours[4] > 1.1 and ours[5] > 1.1  # the two that do not mix are caught


def test_single_precision_draws_give_arvizs_values():
    values = _chains(2, 300, seed=1).astype(np.float32)
    for name in ARVIZ:
        ours = getattr(rank_diagnostics, name)(values)
        np.testing.assert_allclose(ours, _arviz(name, values), rtol=1e-10, equal_nan=True)


def test_entries_with_nan_or_too_few_draws_give_nan():
    values = _chains(2, 40)
    values[0, 1, 7] = np.nan
    for name in ARVIZ:
        result = getattr(rank_diagnostics, name)(values)
        assert np.isnan(result[0]) and np.isfinite(result[6])
        assert np.isnan(getattr(rank_diagnostics, name)(values[..., :3])).all()
    assert np.isnan(rank_diagnostics.rhat(values[:, :1])).all()


def test_extra_leading_dimensions_are_entries():
    values = _chains(2, 60).reshape(3, 4, 2, 60)
    flat = rank_diagnostics.ess_bulk(values.reshape(12, 2, 60))
    np.testing.assert_array_equal(rank_diagnostics.ess_bulk(values), flat.reshape(3, 4))


def test_average_ranks_equal_scipys_with_ties():
    rng = np.random.default_rng(3)
    for rows in (rng.normal(size=(5, 100)), rng.integers(0, 4, (6, 30)), np.ones((2, 7))):
        np.testing.assert_array_equal(_average_ranks(rows), stats.rankdata(rows, axis=-1))


def test_a_constant_entry_does_not_stand_for_a_variables_lowest_ess():
    from rosetta.diagnostics import entry_diagnostics, variable_diagnostics

    rng = np.random.default_rng(4)
    draws = rng.normal(size=(2, 500, 3))
    draws[..., 1] = 0.0  # the anchored entry
    draws[:, 1::2, 2] = -draws[:, ::2, 2]  # antithetic: ESS above the number of draws
    posterior = xr.Dataset({"difficulty": (("chain", "draw", "benchmark"), draws)})
    assert np.isnan(entry_diagnostics(posterior, "difficulty", "min_ess_bulk")[1])
    row = variable_diagnostics(posterior, "difficulty")
    assert row["min_ess_bulk"] == pytest.approx(float(rank_diagnostics.ess_bulk(draws[..., 0])))
    assert row["min_ess_bulk"] < 1000 and np.isfinite(row["max_rhat"])


@pytest.mark.parametrize("bad", [np.ones(10), np.array([]), np.array([["a", "b"], ["c", "d"]])])
def test_draws_without_chain_and_draw_axes_are_refused(bad):
    for name in ARVIZ:
        with pytest.raises(ValueError, match="chain and draw as its last two axes"):
            getattr(rank_diagnostics, name)(bad)


def test_the_diagnostics_of_draws_just_checked_are_not_computed_again(monkeypatch):
    from rosetta import diagnostics

    calls = []

    def counted(draws):
        calls.append(draws.shape)
        return rank_diagnostics.ess_bulk(draws)

    monkeypatch.setitem(diagnostics.DIAGNOSTICS, "min_ess_bulk", (counted, "min"))
    monkeypatch.setattr(diagnostics, "_RECENT", OrderedDict())  # none remembered from elsewhere
    draws = np.random.default_rng(5).normal(size=(2, 300, 4))
    posterior = xr.Dataset(
        {"slope": (("chain", "draw", "benchmark"), draws)}, coords={"benchmark": list("abcd")}
    )
    first = diagnostics.entry_diagnostics(posterior, "slope", "min_ess_bulk")
    again = diagnostics.entry_diagnostics(posterior.copy(deep=True), "slope", "min_ess_bulk")
    xr.testing.assert_identical(first, again)
    assert calls == [(4, 2, 300)]  # once, entries first
    np.testing.assert_array_equal(first, rank_diagnostics.ess_bulk(draws.transpose(2, 0, 1)))
    renamed = posterior.assign_coords(benchmark=list("wxyz"))  # its own labels, same figures
    assert list(diagnostics.entry_diagnostics(renamed, "slope", "min_ess_bulk").benchmark) == list(
        "wxyz"
    )
    posterior["slope"].values[1, 7, 2] += 5.0  # one draw differs: computed afresh
    changed = diagnostics.entry_diagnostics(posterior, "slope", "min_ess_bulk")
    assert len(calls) == 2 and not changed.identical(first)
