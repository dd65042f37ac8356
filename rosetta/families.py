"""Model families: variants of one model share a name family and benchmark-specific quirks.

Variants (reasoning settings, context budgets, sizes, dated versions of one model) were trained
and evaluated alike, so they deviate from the one-capability prediction on a benchmark together;
the measurement model gives each (family, benchmark) cell seen twice its own effect
(`family_cells`).

**Family rule** (`model_family`): the model id, lower-cased, with release-date stamps, reasoning
settings (``_high``), sizes (``7b``, ``8x7b``, ``17b-128e``), and the suffixes ``instruct``,
``chat``, ``base``, ``it``, ``hf``, ``fp8`` and dotted version tags (``v0.1``) removed:
``Llama-2-7b`` and ``Llama-2-70b`` are both ``llama-2``; ``o3-2025-04-16_high`` is ``o3``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_DATE_STAMP = re.compile(r"[-_ ]?(20\d{2}-?\d{2}-?\d{2}|\d{4})(?=$|[-_])")
_SETTING = re.compile(r"_[a-z0-9]+$")
_SIZE = re.compile(r"(?<![a-z])(\d+x)?\d+(\.\d+)?[bm](-a?\d+(\.\d+)?[be])?(?![a-z])")
_SUFFIX = re.compile(r"[-_ .:]+(instruct|chat|base|it|hf|fp8|preview|exp|v\d+[.:]\d+)$")


def model_family(model: str) -> str:
    """The training-recipe family of a model id (see the module docstring for the rule)."""
    name = model.lower().strip()
    name = _SETTING.sub("", name) if re.search(r"_(high|medium|low|\d+k)$", name) else name
    name = _DATE_STAMP.sub("", name)
    previous = None
    while previous != name:
        previous = name
        name = _SUFFIX.sub("", name)
    name = _SIZE.sub("", name)
    return re.sub(r"[-_ .:]+", "-", name).strip("-") or model


def family_cells(models, benchmarks) -> tuple[np.ndarray, pd.DataFrame]:
    """The (family, benchmark) cells seen by at least two scores, and each score's cell.

    Parameters
    ----------
    models, benchmarks
        The model and the benchmark of each score.

    Returns
    -------
    cell, cells
        Per score, the index of its cell (-1: its family has no other score on that benchmark);
        and the cells as a frame with columns ``family`` and ``benchmark``.
    """
    keys = pd.DataFrame(
        {"family": [model_family(str(m)) for m in models], "benchmark": list(benchmarks)}
    )
    sizes = keys.groupby(["family", "benchmark"])["family"].transform("size").to_numpy()
    shared = keys[sizes >= 2].drop_duplicates().sort_values(["family", "benchmark"])
    cells = shared.reset_index(drop=True)
    lookup = {tuple(row): k for k, row in enumerate(cells.itertuples(index=False))}
    cell = np.array([lookup.get(tuple(row), -1) for row in keys.itertuples(index=False)])
    return cell, cells
