"""Where NUTS stops: `first_stop` checks its checkpoints in order, on the draws up to each."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rosetta.model.sampling import RawPosterior, first_stop


def _draws(n: int, diverging: bool = False) -> RawPosterior:
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.full((2, n), diverging))})
    return RawPosterior(xr.Dataset(), stats, "nuts", "nutpie")


def _run(enough_from: int, converged=None, diverging=False, draws=1000, limit=2000):
    """The stop and the checkpoints looked at, with the draws enough from ``enough_from``."""
    looked: list[int] = []

    def draws_at(n: int) -> RawPosterior:
        looked.append(n)
        return _draws(n, diverging)

    def enough(raw: RawPosterior) -> bool:
        return raw.sample_stats.sizes["draw"] >= enough_from

    return first_stop(draws, limit, draws_at, enough, converged), looked


def test_it_stops_at_the_first_checkpoint_with_enough_draws():
    assert _run(enough_from=500) == (600, [200, 400, 600])


def test_a_divergence_ends_a_run_at_its_planned_draws():
    assert _run(enough_from=10**6, diverging=True) == (1000, [200, 400, 600, 800, 1000])


def test_an_unconverged_run_is_checked_past_its_draws_until_it_converges():
    def converged(raw: RawPosterior) -> bool:
        return raw.sample_stats.sizes["draw"] >= 1400

    stop, looked = _run(enough_from=10**6, converged=converged)
    assert stop == 1400 and looked == [200, 400, 600, 800, 1000, 1200, 1400]
    assert _run(enough_from=10**6, converged=lambda raw: False)[0] is None  # to the limit
    assert _run(enough_from=10**6, limit=1000)[0] is None  # no sampling on: the last is kept


def test_a_bar_is_met_at_its_value_and_by_constant_entries():
    from rosetta.diagnostics import meets

    assert meets("max_rhat", 1.01, 1.01) and not meets("max_rhat", 1.0101, 1.01)
    assert meets("min_ess_bulk", 400, 400) and not meets("min_ess_tail", 399.9, 400)
    assert meets("min_ess_bulk", float("nan"), 400) and meets("max_rhat", float("nan"), 1.01)


def test_the_weakest_entry_is_the_lowest_ess_or_highest_rhat_and_never_a_constant_one():
    from rosetta.diagnostics import weakest_entry

    ess = xr.DataArray([[900.0, np.nan], [350.0, 500.0]], dims=("model", "dimension"))
    assert weakest_entry(ess, "min_ess_bulk") == {"model": 1, "dimension": 0}
    rhat = xr.DataArray([1.002, np.nan, 1.03], dims="benchmark")
    assert weakest_entry(rhat, "max_rhat") == {"benchmark": 2}
    assert weakest_entry(xr.DataArray(1.02), "max_rhat") == {}  # a scalar is its own entry


def test_a_look_at_a_running_sampler_holds_what_nutpies_own_conversion_does():
    """`arrow_draws` against nutpie's ArviZ conversion of the same arrow trace, chains uneven."""
    import nutpie
    import pandas as pd
    import pymc as pm
    from nutpie.sample import _arrow_to_arviz  # the oracle: what ``inspect()`` returns

    from rosetta.model.numba_cache import compile_nutpie
    from rosetta.model.sampling import arrow_draws

    with pm.Model(coords={"item": ["a", "b", "c"]}) as model:
        x = pm.Normal("x", dims="item")
        pm.Deterministic("doubled", 2 * x, dims="item")
        pm.HalfNormal("scale")
    compiled = compile_nutpie(model)
    sampler = nutpie.sample(
        compiled, draws=40, tune=30, chains=2, cores=1, seed=3, progress_bar=False, blocking=False
    )
    sampler._sampler.wait(None)  # private to nutpie, as the look is
    draw_batches, stat_batches = sampler._sampler.inspect().get_arrow_trace()
    # the first chain behind the second by 7 draws, as in a look at a running sampler
    uneven = [
        [b.slice(0, b.num_rows - 7) if chain == 0 else b for chain, b in enumerate(batches)]
        for batches in (draw_batches, stat_batches)
    ]
    names = ["x", "doubled", "scale"]
    looked, complete = arrow_draws(uneven, names, compiled.coords)

    vectors = [
        n
        for n in stat_batches[0].column_names
        if b"shape" in stat_batches[0].column(n).field.metadata
    ]
    coords = {name: pd.Index(values) for name, values in compiled.coords.items()}
    expected = _arrow_to_arviz(*uneven, skip_vars=vectors, coords=coords)
    assert complete == 40 - 7
    xr.testing.assert_identical(looked.posterior, expected.posterior[names].drop_attrs())
    xr.testing.assert_identical(looked.sample_stats, expected.sample_stats.drop_attrs())
    assert np.isnan(looked.posterior["x"].sel(chain=0).isel(draw=-1)).all()


def test_a_nutpie_without_an_arrow_trace_is_looked_at_through_its_public_inspect():
    from types import SimpleNamespace

    from rosetta.model.sampling import _Looks

    posterior = xr.Dataset({"x": (("chain", "draw"), [[1.0, 2.0, 3.0], [1.0, 2.0, np.nan]])})
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((2, 3), bool))})

    class Running:  # a sampler whose looks come only as ArviZ data, not yet finished
        is_finished = False

        def inspect(self):
            return SimpleNamespace(posterior=posterior, sample_stats=stats)

    looks = _Looks(Running(), ["x"], {})
    assert looks.trace_with(2).posterior.identical(posterior)
    assert looks.seen[-1][1] == 2  # the draws every chain has
