"""Where NUTS stops: `first_stop` checks in order and skips checkpoints that cannot stop."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from rosetta.model.sampling import RawPosterior, first_stop


def _draws(n: int, diverging: bool = False) -> RawPosterior:
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.full((2, n), diverging))})
    return RawPosterior(xr.Dataset(), stats, "nuts", "nutpie")


def _run(reach_at, draws=3000, limit=6000, converged=None, diverging=False):
    """The stop and the checkpoints looked at, with ``reach_at(n)`` the early check's reach."""
    looked: list[int] = []

    def draws_at(n: int) -> RawPosterior:
        looked.append(n)
        return _draws(n, diverging)

    def enough(raw: RawPosterior) -> float:
        return reach_at(raw.sample_stats.sizes["draw"])

    return first_stop(draws, limit, draws_at, enough, converged), looked


def test_checkpoints_the_last_reach_projects_short_of_the_bars_go_unchecked():
    stop, looked = _run(lambda n: n / 2000)  # effective draws in proportion: enough at 2,000
    assert stop == 2000
    assert looked == [200, 1600, 1800, 2000]  # 0.1 at 200 projects 0.75 first at 1,500


def test_a_short_r_hat_says_nothing_of_the_next_checkpoint():
    stop, looked = _run(lambda n: math.nan if n < 800 else 1.0)
    assert stop == 800 and looked == [200, 400, 600, 800]


def test_after_a_divergence_only_the_planned_end_is_looked_at_again():
    stop, looked = _run(lambda n: 0.0, diverging=True)
    assert stop == 3000 and looked == [200, 3000]


def test_an_unconverged_run_is_checked_past_its_draws_until_it_converges():
    def converged(raw: RawPosterior) -> float:
        return 1.0 if raw.sample_stats.sizes["draw"] >= 3400 else 0.9

    stop, looked = _run(lambda n: 0.01, converged=converged)
    assert stop == 3400 and looked == [200, 3000, 3200, 3400]
    assert _run(lambda n: 0.01, converged=lambda raw: 0.5)[0] is None  # sampled to the limit
