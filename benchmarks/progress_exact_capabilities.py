"""How wide would the efficiency gain's interval be if the capabilities were known exactly?

Usage::

    .venv/bin/python benchmarks/progress_exact_capabilities.py [results/posterior.nc]

Runs `rosetta.progress` (Bayesian regression, seed 2025) on the saved fit as it is, then on the
same fit with every model's capability draws replaced by their posterior mean (plus a 1e-3
jitter): the measurement error is gone and only the regression's own uncertainty (k from the
families, g from the dates) is left. It prints the gain, its 90% interval and hi / lo, and k, for
both. If hi / lo stays above a target with exact capabilities, no better measurement model can
bring it there: the compute data are what limit it.
"""

from __future__ import annotations

import sys

import numpy as np

from rosetta import Fit
from rosetta.algorithmic_progress import progress


def line(name: str, result: dict) -> str:
    gain, k = result["efficiency_gain_per_year"], result["k"]
    return (
        f"{name}: gain {gain['median']:.2f}x ({gain['lo']:.2f}-{gain['hi']:.2f}), hi/lo "
        f"{gain['hi'] / gain['lo']:.2f}; k {k['median']:.3f} ({k['lo']:.3f}-{k['hi']:.3f})"
    )


def main() -> None:
    fit = Fit.load(sys.argv[1] if len(sys.argv) > 1 else "results/posterior.nc")
    measured = progress(fit, sensitivity=False, random_seed=2025).to_dict()
    idata = fit.idata.copy()
    capability = idata.posterior["capability"]
    jitter = np.random.default_rng(0).normal(0, 1e-3, capability.shape)
    idata.posterior["capability"] = capability * 0 + capability.mean(("chain", "draw")) + jitter
    exact = progress(Fit(idata), sensitivity=False, random_seed=2025).to_dict()
    print(line("with the capability posterior", measured))
    print(line("capabilities exact", exact))


if __name__ == "__main__":
    main()
