"""Connected components of the bipartite model-benchmark graph.

Scores put a model and a benchmark on one scale only through chains of shared evaluations, so the
stitched scale exists only within a connected component of this graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def find_components(scores: pd.DataFrame) -> list[tuple[list[str], list[str]]]:
    """Split a long score table into connected components.

    Parameters
    ----------
    scores
        A frame with ``model`` and ``benchmark`` columns, one row per evaluated pair.

    Returns
    -------
    list of (models, benchmarks)
        Sorted name lists of each component, largest (most models + benchmarks) first.
    """
    if scores.empty:
        return []
    model_idx, models = pd.factorize(scores["model"], sort=True)
    bench_idx, benchmarks = pd.factorize(scores["benchmark"], sort=True)
    n_models, n_nodes = len(models), len(models) + len(benchmarks)
    edges = np.ones(len(scores), dtype=np.int8)
    graph = coo_matrix((edges, (model_idx, n_models + bench_idx)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    components = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        component_models = [str(models[i]) for i in members if i < n_models]
        component_benchmarks = [str(benchmarks[i - n_models]) for i in members if i >= n_models]
        components.append((component_models, component_benchmarks))
    components.sort(key=lambda c: (-(len(c[0]) + len(c[1])), c[0][:1], c[1][:1]))
    return components
