"""Learned dimensions of a multidimensional fit: one orientation for every draw.

The loadings and scores of ``MeasurementSpec(dimensions=K)`` enter the predictions only as
their product ``score . loading``: any invertible K x K change of the dimensions taken by both
together predicts the same. The model's prior (unit-variance scores) settles the scale only
loosely, and a rotation (or sign flip) not at all, so the sampler is left free to wander along
them. Each draw is therefore put in one form before loadings are shown: its scores are whitened
(their covariance over the fitted models made the identity, the loadings taking the inverse
transform), so a loading is the benchmark's response to one standard deviation of the
dimension among the fitted models, the usual convention of factor analysis; then it is rotated
onto a common reference by orthogonal Procrustes (the rotation that brings the draw's loadings
closest to the reference's), the reference being the mean of the rotated draws, found by a few
rounds of the same, and put on its principal axes.

Without the whitening, the share of a product carried by the loadings varied from draw to draw
and from the truth's: on a simulated table with three dimensions the 90% intervals of the
loadings held 0.78 of the true ones (0.85 against the truth whitened the same way), those of
their lengths 0.64 (0.83); with it 0.87 and 0.93 (`benchmarks/dimension_recovery.py`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rosetta.constants import BENCHMARK, DIMENSION, MODEL

#: Rounds of rotating the draws and taking their mean as the new reference.
_ALIGN_ROUNDS = 5


def align_dimensions(posterior: xr.Dataset) -> xr.Dataset:
    """``posterior`` with ``dimension_loading`` and ``dimension_score`` whitened and rotated.

    Also adds ``dimension_strength`` (dim benchmark), the length of each benchmark's whitened
    loadings, which no rotation changes: how far it measures something besides the general
    capability, per standard deviation of the dimensions among the fitted models.

    Each draw's scores ``S`` (models x K) and loadings ``L`` (benchmarks x K) become ``S W^-1``
    and ``L W`` with ``W`` the symmetric square root of the scores' covariance ``S^T S / n``
    (they sum to zero over models), then ``L W R`` and ``S W^-1 R`` with the orthogonal ``R``
    that minimises ``|L W R - reference|``; the product ``S L^T`` is unchanged, so nothing a
    score depends on changes. All draws are then turned together onto the `principal_axes` of
    the reference: dimensions ordered by strength, each signed so that its largest mean loading
    is positive. Posteriors without learned dimensions are returned as they are.
    """
    if "dimension_loading" not in posterior:
        return posterior
    loading = posterior["dimension_loading"].transpose("chain", "draw", BENCHMARK, DIMENSION)
    score = posterior["dimension_score"].transpose("chain", "draw", MODEL, DIMENSION)
    n_chain, n_draw, n_bench, k = loading.shape
    scores = score.to_numpy().astype(float).reshape(n_chain * n_draw, -1, k)
    root, inverse = _covariance_roots(scores)
    flat = loading.to_numpy().astype(float).reshape(n_chain * n_draw, n_bench, k) @ root
    scores = scores @ inverse
    rotation = np.broadcast_to(np.eye(k), (len(flat), k, k))
    reference = flat[-1]
    for _ in range(_ALIGN_ROUNDS):
        rotation = _procrustes(flat, reference)
        reference = np.einsum("dbk,dkj->bj", flat, rotation) / len(flat)
    rotation = rotation @ principal_axes(reference)
    out = posterior.copy()
    for name, values, whitened in (
        ("dimension_loading", loading, flat),
        ("dimension_score", score, scores),
    ):
        turned = (whitened @ rotation).reshape(values.shape).astype(values.dtype)
        out[name] = values.copy(data=turned).transpose(*posterior[name].dims)
    out["dimension_strength"] = np.sqrt((out["dimension_loading"] ** 2).sum(DIMENSION))
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


def _covariance_roots(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per draw, the symmetric square root of ``S^T S / n`` and its inverse (draws x K x K)."""
    covariance = np.einsum("dmk,dmj->dkj", scores, scores) / scores.shape[1]
    values, vectors = np.linalg.eigh(covariance)
    values = np.sqrt(values)[:, None, :]
    transposed = np.swapaxes(vectors, 1, 2)
    return (vectors * values) @ transposed, (vectors / values) @ transposed


def _procrustes(draws: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per draw, the orthogonal ``R`` minimising ``|draw R - reference|`` (draws x K x K)."""
    u, _, vt = np.linalg.svd(np.einsum("dbk,bj->dkj", draws, reference))
    return u @ vt
