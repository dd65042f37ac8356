"""A continuous two-slope (hinge) line with an unknown breakpoint, integrated exactly on a grid.

For points (x_i years, y_i capability)::

    y_i = level + before * (x_i - tau) + (after - before) * max(0, x_i - tau) + e_i,
    e_i ~ Normal(0, sigma)

with Gaussian priors on (level, before, change = after - before), a uniform prior on the
breakpoint ``tau`` over a grid between the ``min_side``-th point from each end, and a
log-uniform prior on ``sigma`` over a grid. Given (tau, sigma) the model is a Bayesian linear
regression, so (level, before, change) are integrated in closed form; the grid then gives the
exact posterior of (tau, sigma) and the evidence against the one-slope line (the same model with
``change = 0``). No sampler, so no convergence to check and the same answer for the same seed.

Capability uncertainty enters in one of two ways. Draw by draw: each posterior draw of the
capabilities (and, for the frontier, its own set of frontier models) is one data set, and the
posteriors are averaged over draws (the "cut" posterior: the capabilities inform the line, not
the other way round); ``sigma`` is then the scatter and the measurement error as one noise. Or
separately: one data set of posterior means with each point's measurement variance ``v_i``
known, ``e_i ~ Normal(0, sigma^2 + v_i)``, so ``sigma`` is the model-to-model scatter alone and
a poorly measured model weighs less.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Breakpoint grid points and noise grid points.
N_TAU, N_SIGMA = 64, 16
#: Prior sd of the level, and of the slopes, in units of the data's spread (sd of y, and
#: sd of y per sd of x); wide enough to be weak, finite so the evidence is defined.
LEVEL_PRIOR, SLOPE_PRIOR = 10.0, 3.0


@dataclass(frozen=True)
class HingeDraws:
    """Joint posterior draws of the hinge, pooled over capability draws.

    Attributes
    ----------
    breakpoint
        Breakpoint, in years on the caller's axis.
    before, after
        Slopes (capability per year) before and after the breakpoint.
    level
        Capability at the breakpoint.
    sigma
        Scatter of the points around the line.
    p_hinge
        Posterior probability of the hinge against the one-slope line at prior odds 1, averaged
        over capability draws.
    log_bayes_factor
        Log evidence of the hinge minus the line, per capability draw.
    """

    breakpoint: np.ndarray
    before: np.ndarray
    after: np.ndarray
    level: np.ndarray
    sigma: np.ndarray
    p_hinge: float
    log_bayes_factor: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """Slope after over slope before (``nan`` where the slope before is not positive)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.before > 0, self.after / self.before, np.nan)

    def p_ratio_above(self, r: float) -> float:
        """P(slope after > r * slope before, with the slope before positive)."""
        return float(np.mean((self.before > 0) & (self.after > r * self.before)))

    def line(self, x: np.ndarray) -> np.ndarray:
        """The hinge line at ``x`` for every draw: ``(draw, x)``."""
        gap = np.asarray(x, dtype=float)[None, :] - self.breakpoint[:, None]
        return (
            self.level[:, None]
            + self.before[:, None] * gap
            + (self.after - self.before)[:, None] * np.maximum(gap, 0.0)
        )


def fit_hinge(
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    variance: np.ndarray | None = None,
    min_side: int = 4,
    draws_per_set: int = 20,
    rng: np.random.Generator | None = None,
) -> HingeDraws:
    """Posterior of the hinge for one or many data sets that share the x values.

    Parameters
    ----------
    x
        ``(n,)`` positions in years.
    y
        ``(n,)`` or ``(sets, n)`` values, e.g. capability draws.
    mask
        Which points each set uses, same shape as ``y`` (e.g. the frontier of each draw);
        all points by default.
    variance
        Known measurement variance of each value, same shape as ``y``: the noise of a point is
        then ``sigma^2 + variance`` and ``sigma`` the scatter alone. None: no known part.
    min_side
        The breakpoint grid spans the points from the ``min_side``-th to the
        ``min_side``-th last (of all points), so each side has data.
    draws_per_set
        Joint draws taken from each set's posterior.
    rng
        Random generator for the draws.
    """
    rng = rng or np.random.default_rng(0)
    x = np.asarray(x, dtype=float)
    y = np.atleast_2d(np.asarray(y, dtype=float))
    mask = np.ones(y.shape, dtype=bool) if mask is None else np.atleast_2d(mask)
    known = np.zeros((1, 1)) if variance is None else np.atleast_2d(variance)
    if y.shape[1] != x.size or mask.shape != y.shape or known.shape not in {(1, 1), y.shape}:
        raise ValueError("x, y, mask and variance must agree in the number of points")
    if x.size < 2 * min_side + 1:
        raise ValueError(f"a hinge needs at least {2 * min_side + 1} points, got {x.size}")
    weight = mask.astype(float)
    taus = _tau_grid(np.sort(x), min_side)
    log_sigmas, prior = _grid_and_prior(x, y, weight)

    hinge = _evidence(x, y, weight, known, taus, log_sigmas, prior, hinge=True)
    line = _evidence(x, y, weight, known, taus[:1], log_sigmas, prior, hinge=False)
    log_bf = _log_sum_exp(hinge.log_evidence, (1, 2)) - _log_sum_exp(line.log_evidence, (1, 2))

    sets = y.shape[0]
    flat = hinge.log_evidence.reshape(sets, -1)
    prob = np.exp(flat - flat.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    cells = np.stack([rng.choice(flat.shape[1], draws_per_set, p=p) for p in prob])
    set_idx = np.repeat(np.arange(sets), draws_per_set)
    t_idx, s_idx = np.unravel_index(cells.ravel(), hinge.log_evidence.shape[1:])
    mean = hinge.mean[set_idx, t_idx, s_idx]
    chol = np.linalg.cholesky(hinge.cov[set_idx, t_idx, s_idx])
    beta = mean + np.einsum("dij,dj->di", chol, rng.standard_normal(mean.shape))
    return HingeDraws(
        breakpoint=taus[t_idx],
        before=beta[:, 1],
        after=beta[:, 1] + beta[:, 2],
        level=beta[:, 0],
        sigma=np.exp(log_sigmas[s_idx]),
        p_hinge=float(np.mean(1.0 / (1.0 + np.exp(-log_bf)))),
        log_bayes_factor=log_bf,
    )


@dataclass(frozen=True)
class _Evidence:
    log_evidence: np.ndarray  # (sets, tau, sigma), log prior of the grid included
    mean: np.ndarray  # (sets, tau, sigma, 3)
    cov: np.ndarray  # (sets, tau, sigma, 3, 3)


def _tau_grid(sorted_x: np.ndarray, min_side: int) -> np.ndarray:
    low, high = sorted_x[min_side - 1], sorted_x[-min_side]
    return np.linspace(low, high, N_TAU) if high > low else np.array([low])


def _grid_and_prior(x, y, weight):
    """Noise grid and prior scales from the pooled spread of the data (weakly informative)."""
    used = weight > 0
    y_sd = max(float(np.std(y[used])), 1e-6)
    x_sd = max(float(np.std(np.broadcast_to(x, y.shape)[used])), 1e-6)
    log_sigmas = np.linspace(np.log(y_sd / 100), np.log(2 * y_sd), N_SIGMA)
    y_mean = float(np.mean(y[used]))
    prior = (
        np.array([y_mean, 0.0, 0.0]),
        np.array([LEVEL_PRIOR * y_sd, SLOPE_PRIOR * y_sd / x_sd, SLOPE_PRIOR * y_sd / x_sd]),
    )
    return log_sigmas, prior


def _evidence(x, y, weight, known, taus, log_sigmas, prior, *, hinge: bool) -> _Evidence:
    """Closed-form evidence and coefficient posterior on the (tau, sigma) grid, per set.

    The noise variance of point ``n`` of set ``s`` at grid sigma ``g`` is ``sigma_g^2 +
    known[s, n]``; with no known part (``known`` all zero, shape (1, 1)) the sums over points
    are taken once and scaled per sigma.
    """
    m0, s0 = prior
    k = 3 if hinge else 2
    m0, s0 = m0[:k], s0[:k]
    gap = x[None, :] - taus[:, None]  # (tau, n)
    design = [np.ones_like(gap), gap] + ([np.maximum(gap, 0.0)] if hinge else [])
    design = np.stack(design, axis=-1)  # (tau, n, k)
    resid = y - m0[0]  # prior means of the slopes are 0
    sigma2 = np.exp(2 * log_sigmas)
    if known.shape == (1, 1) and known[0, 0] == 0:
        xtx = (
            np.einsum("sn,tni,tnj->stij", weight, design, design)[:, :, None]
            / sigma2[:, None, None]
        )
        xtr = np.einsum("sn,tni,sn->sti", weight, design, resid)[:, :, None] / sigma2[:, None]
        rtr = np.einsum("sn,sn->s", weight, resid**2)[:, None] / sigma2
        log_var = weight.sum(axis=1)[:, None] * np.log(2 * np.pi * sigma2)
    else:
        var = sigma2[None, :, None] + known[:, None, :]  # (set, sigma, n)
        w = weight[:, None, :] / var
        xtx = np.einsum("sgn,tni,tnj->stgij", w, design, design)
        xtr = np.einsum("sgn,tni,sn->stgi", w, design, resid)
        rtr = np.einsum("sgn,sn->sg", w, resid**2)
        log_var = np.einsum("sn,sgn->sg", weight, np.log(2 * np.pi * var))
    precision = xtx + np.diag(1 / s0**2)  # (set, tau, sigma, k, k)
    chol = np.linalg.cholesky(precision)
    cov = np.linalg.inv(precision)
    quad = np.einsum("...i,...ij,...j->...", xtr, cov, xtr)
    log_det_post = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
    log_evidence = (
        -0.5 * log_var[:, None, :]
        - np.log(s0).sum()
        - 0.5 * log_det_post
        - 0.5 * (rtr[:, None, :] - quad)
    )
    log_evidence = log_evidence - np.log(len(taus) * len(log_sigmas))
    mean = np.einsum("...ij,...j->...i", cov, xtr) + m0
    return _Evidence(log_evidence, mean, cov)


def _log_sum_exp(values: np.ndarray, axis) -> np.ndarray:
    """Log of the sum over the grid (the grid prior is already in ``values``)."""
    top = values.max(axis=axis, keepdims=True)
    return np.log(np.exp(values - top).sum(axis=axis)) + np.squeeze(top, axis=axis)
