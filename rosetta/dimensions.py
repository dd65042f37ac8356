"""Learned dimensions of a multidimensional fit: one orientation for every draw.

The loadings and scores of ``MeasurementSpec(dimensions=K)`` are identified only up to a
rotation (and sign flips) of the K dimensions taken by both together: every predicted score,
and each benchmark's ``dimension_strength``, is the same in any orientation, so the sampler is
left free to wander along it. To show loadings, each draw is rotated onto a common reference by
orthogonal Procrustes (the rotation that brings the draw's loadings closest to the reference's),
the reference being the mean of the rotated draws, found by a few rounds of the same, and
put on its principal axes.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rosetta.constants import BENCHMARK, DIMENSION, MODEL

#: Rounds of rotating the draws and taking their mean as the new reference.
_ALIGN_ROUNDS = 5


def align_dimensions(posterior: xr.Dataset) -> xr.Dataset:
    """``posterior`` with ``dimension_loading`` and ``dimension_score`` rotated draw by draw.

    Also adds ``dimension_strength`` (dim benchmark), the length of each benchmark's loadings,
    which no rotation changes: how far it measures something besides the general capability.

    Each draw's loadings ``L`` (benchmarks x K) and scores ``S`` (models x K) become ``L R`` and
    ``S R`` with the orthogonal ``R`` that minimises ``|L R - reference|``; ``S R (L R)^T =
    S L^T``, so nothing a score depends on changes. All draws are then turned together onto the
    `principal_axes` of the reference: dimensions ordered by strength, each signed so that its
    largest mean loading is positive. Posteriors without learned dimensions are returned as
    they are.
    """
    if "dimension_loading" not in posterior:
        return posterior
    loading = posterior["dimension_loading"].transpose("chain", "draw", BENCHMARK, DIMENSION)
    score = posterior["dimension_score"].transpose("chain", "draw", MODEL, DIMENSION)
    n_chain, n_draw, n_bench, k = loading.shape
    flat = loading.to_numpy().reshape(n_chain * n_draw, n_bench, k)
    rotation = np.broadcast_to(np.eye(k), (len(flat), k, k))
    reference = flat[-1]
    for _ in range(_ALIGN_ROUNDS):
        rotation = _procrustes(flat, reference)
        reference = np.einsum("dbk,dkj->bj", flat, rotation) / len(flat)
    axes = principal_axes(reference)
    rotation = (rotation @ axes).reshape(n_chain, n_draw, k, k)
    out = posterior.copy()
    out["dimension_strength"] = np.sqrt((loading**2).sum(DIMENSION))
    for name, values in (("dimension_loading", loading), ("dimension_score", score)):
        turned = np.einsum("cdxk,cdkj->cdxj", values.to_numpy(), rotation)
        out[name] = values.copy(data=turned.astype(values.dtype)).transpose(*posterior[name].dims)
    return out


def principal_axes(loading: np.ndarray) -> np.ndarray:
    """The rotation putting ``loading`` (benchmarks x K) on its principal axes.

    ``loading @ R`` has orthogonal columns ordered by their length, each signed so that its
    largest entry is positive: one orientation for any rotation of the same loadings.
    """
    _, _, vt = np.linalg.svd(loading, full_matrices=False)
    axes = vt.T
    turned = loading @ axes
    signs = np.sign(turned[np.abs(turned).argmax(axis=0), np.arange(axes.shape[1])])
    return axes * np.where(signs == 0, 1.0, signs)


def _procrustes(draws: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per draw, the orthogonal ``R`` minimising ``|draw R - reference|`` (draws x K x K)."""
    u, _, vt = np.linalg.svd(np.einsum("dbk,bj->dkj", draws, reference))
    return u @ vt
