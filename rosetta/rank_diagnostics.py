"""Rank-normalised split R-hat and bulk and tail ESS, computed for every entry at once.

The definitions are Vehtari et al. (2021), exactly as ArviZ computes them (``az.rhat``,
``az.ess(method="bulk" | "tail")``, to rounding); the tests check them against ArviZ. ArviZ
loops over a variable's entries in Python, which costs about 1.7 s for the ~530 checked entries
of the bundled fit, paid at every stopping check that passes and again in the summary; here each
step (ranks, normal scores, autocovariances by FFT, Geyer's initial monotone sequence) works on
all entries together. Arrays are ``(..., chain, draw)``. As in ArviZ, a constant entry has
R-hat NaN and an ESS equal to its number of draws.
"""

from __future__ import annotations

import numpy as np
from scipy import fft, special

#: Fewer draws per chain than this give NaN, as in ArviZ.
MIN_DRAWS = 4
#: Blom's offset in the normal scores of ranks.
_BLOM = 3 / 8


def rhat(values: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) one.

    NaN for a constant entry, one with a NaN, or fewer than two chains or `MIN_DRAWS` draws.
    """
    values = _draws(values)
    if values.shape[-2] < 2 or values.shape[-1] < MIN_DRAWS:
        return np.full(values.shape[:-2], np.nan)
    split = _split_chains(values)
    bulk = _potential_scale_reduction(_normal_scores(split))
    folded = np.abs(split - np.median(split, axis=(-2, -1), keepdims=True))
    tail = _potential_scale_reduction(_normal_scores(folded))
    return _where_valid(values, np.where(tail > bulk, tail, bulk))


def ess_bulk(values: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: of the normal scores of the ranks of the split chains."""
    values = _draws(values)
    if values.shape[-1] < MIN_DRAWS:
        return np.full(values.shape[:-2], np.nan)
    return _where_valid(values, _ess(_normal_scores(_split_chains(values))))


def ess_tail(values: np.ndarray) -> np.ndarray:
    """Tail effective sample size: the smaller of the ESS of the 5% and 95% quantiles."""
    values = _draws(values)
    if values.shape[-1] < MIN_DRAWS:
        return np.full(values.shape[:-2], np.nan)
    flat = values.reshape(*values.shape[:-2], -1)
    quantiles = np.quantile(flat, [0.05, 0.95], axis=-1)[..., None, None]  # R's type 7
    low, high = (_ess(_split_chains((values <= q).astype(float))) for q in quantiles)
    return _where_valid(values, np.minimum(low, high))


def _draws(values) -> np.ndarray:
    """``values`` as an array of draws ``(..., chain, draw)``, or a clear error."""
    values = np.asarray(values)
    if values.ndim < 2 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(
            "draws must be a numeric array with chain and draw as its last two axes, got "
            f"shape {values.shape} of {values.dtype}"
        )
    return values


def _where_valid(values: np.ndarray, result: np.ndarray) -> np.ndarray:
    """``result``, NaN for the entries with a NaN among their draws."""
    return np.where(np.isnan(values).any(axis=(-2, -1)), np.nan, result)


def _split_chains(values: np.ndarray) -> np.ndarray:
    """Each chain's first and last halves as two chains (an odd count's middle draw dropped)."""
    half = values.shape[-1] // 2
    return np.concatenate([values[..., :half], values[..., -half:]], axis=-2)


def _normal_scores(values: np.ndarray) -> np.ndarray:
    """Normal quantiles of each entry's ranks over all its chains and draws (ties averaged)."""
    flat = values.reshape(-1, values.shape[-2] * values.shape[-1])
    size = flat.shape[-1]
    ranks = _average_ranks(flat)
    return special.ndtri((ranks - _BLOM) / (size - 2 * _BLOM + 1)).reshape(values.shape)


def _average_ranks(rows: np.ndarray) -> np.ndarray:
    """Ranks (1 ..) of each row's values, tied values sharing their average rank.

    SciPy's ``rankdata`` with ``method="average"``, but by one unstable sort of all rows (tied
    values get the same rank whatever their order).
    """
    order = np.argsort(rows, axis=-1)
    ordered = np.take_along_axis(rows, order, axis=-1)
    starts = np.ones(ordered.shape, dtype=bool)  # where a run of equal values begins
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.flatnonzero(starts)
    length = np.diff(first, append=starts.size)
    position = first % rows.shape[-1]  # of each run's first value in its row
    average = position + (length + 1) / 2.0
    ranks = np.empty(rows.shape)
    np.put_along_axis(ranks, order, average[np.cumsum(starts) - 1].reshape(rows.shape), axis=-1)
    return ranks


def _potential_scale_reduction(values: np.ndarray) -> np.ndarray:
    """Gelman-Rubin's R-hat of chains ``(..., chain, draw)`` (NaN for a constant entry)."""
    draws = values.shape[-1]
    between = draws * np.var(values.mean(axis=-1), axis=-1, ddof=1)
    within = np.var(values, axis=-1, ddof=1).mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((between / within + draws - 1) / draws)


def _ess(values: np.ndarray) -> np.ndarray:
    """ESS of chains ``(..., chain, draw)`` by Geyer's initial monotone sequence.

    Autocorrelations combine the chains' autocovariances with the variance between chains;
    their pairs (lags 2k, 2k + 1) are summed up to the first pair that is not positive (or
    the last lag ArviZ reaches), each pair capped by the one before it.
    """
    chains, draws = values.shape[-2:]
    size = chains * draws
    centred = values - values.mean(axis=-1, keepdims=True)
    padded = fft.next_fast_len(2 * draws, real=True)
    spectrum = fft.rfft(centred, n=padded, axis=-1)
    autocov = fft.irfft(spectrum * spectrum.conj(), n=padded, axis=-1)[..., :draws]
    autocov = autocov.mean(axis=-2) / draws
    within = autocov[..., :1] * draws / (draws - 1.0)
    between = np.var(values.mean(axis=-1), axis=-1, ddof=1)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = 1.0 - (within - autocov) / (within * (draws - 1.0) / draws + between)
    rho[..., 0] = 1.0
    n_pairs = max((draws - 1) // 2, 1)  # pairs k = 1 .. n_pairs - 1 are reachable
    pairs = rho[..., : 2 * n_pairs].reshape(*rho.shape[:-1], n_pairs, 2).sum(axis=-1)
    # the last pair summed: the first (k >= 1) not positive, else the last reachable
    not_positive = np.concatenate([pairs[..., 1:] <= 0.0, np.ones_like(pairs[..., :1], bool)], -1)
    last = np.minimum(not_positive.argmax(axis=-1) + 1, n_pairs - 1)
    last = np.where(pairs[..., 0] > 0.0, last, 0)
    capped = np.minimum.accumulate(pairs, axis=-1)
    kept = np.arange(n_pairs) < last[..., None]
    # ... plus the last pair's even lag, where it is positive or the pair's sum is not negative
    even = np.take_along_axis(rho, 2 * last[..., None], axis=-1)[..., 0]
    last_pair = np.take_along_axis(pairs, last[..., None], axis=-1)[..., 0]
    even = np.where((last_pair >= 0.0) | (even > 0.0), even, 0.0)
    tau = -1.0 + 2.0 * np.where(kept, capped, 0.0).sum(axis=-1) + even
    ess = size / np.maximum(tau, 1.0 / np.log10(size))
    constant = np.ptp(values, axis=(-2, -1)) < np.finfo(float).resolution
    return np.where(constant, float(size), ess)
