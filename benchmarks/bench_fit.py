"""Time a full fit of the bundled data and compare with a hand-written NumPyro NUTS version.

Usage::

    .venv/bin/python benchmarks/bench_fit.py [--repeats 3] [--skip-numpyro]

For each repeat (fresh seeds) it runs, in this process:

1. rosetta: load the bundled data (--min-benchmarks 4 --since 2022-11-01), build the model, sample
   with the default settings, anchor and save the posterior, exactly as ``rosetta fit`` does;
2. the same measurement model written by hand in NumPyro (no PyMC), sampled with NumPyro's NUTS
   (diagonal mass matrix, chains in parallel on the CPU cores), with the same chains, tune and
   draws.

It prints wall time (compilation included), min bulk ESS over capabilities and difficulties,
max R-hat, divergences and ESS per second, per run and as medians, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import arviz as az
import numpy as np

from rosetta.constants import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TARGET_ACCEPT, DEFAULT_TUNE
from rosetta.data import load_epoch
from rosetta.families import family_cells
from rosetta.io import save_fit
from rosetta.model import fit


def convergence(posterior) -> dict:
    sub = posterior[["capability", "difficulty"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = az.ess(sub)
        rhat = az.rhat(sub)
    return {
        "min_ess": float(min(ess[v].min(skipna=True) for v in ess.data_vars)),
        "max_rhat": float(max(rhat[v].max(skipna=True) for v in rhat.data_vars)),
    }


def run_rosetta(seed: int, out: Path) -> dict:
    start = time.perf_counter()
    table = load_epoch(min_benchmarks=4, since="2022-11-01")
    idata = fit(table, random_seed=seed, progress=False, warn=False)
    save_fit(idata, out)
    wall = time.perf_counter() - start
    stats = convergence(idata.posterior)
    divergences = int(idata.sample_stats["diverging"].sum())
    return {"wall": wall, **stats, "divergences": divergences}


def run_numpyro(seed: int) -> dict:
    """The same model by hand: standardised capabilities, centred pooled benchmark parameters,
    non-centred family effects."""
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from jax.scipy.special import gammaln
    from numpyro.infer import MCMC, NUTS

    start = time.perf_counter()
    table = load_epoch(min_benchmarks=4, since="2022-11-01")
    scores = table.scores
    mi = jnp.asarray(table.models.get_indexer(scores["model"]))
    bi = jnp.asarray(table.benchmarks.get_indexer(scores["benchmark"]))
    y = scores["score"].to_numpy()
    inside = (y > 0) & (y < 1)
    y_safe = np.where(inside, y, 0.5)
    log_y, log1m_y = jnp.asarray(np.log(y_safe)), jnp.asarray(np.log1p(-y_safe))
    zero = jnp.asarray(y <= 0)
    floor = jnp.asarray(table.benchmark_info()["floor"].to_numpy())
    cell, cells = family_cells(scores["model"], scores["benchmark"])
    cell = jnp.asarray(np.where(cell < 0, len(cells), cell))
    n_models, n_bench = len(table.models), len(table.benchmarks)

    def pooled(name, mu_mean, mu_sd, sigma_sd):
        mu = numpyro.sample(f"{name}_mu", dist.Normal(mu_mean, mu_sd))
        sigma = numpyro.sample(f"{name}_sigma", dist.HalfNormal(sigma_sd))
        return numpyro.sample(name, dist.Normal(mu, sigma).expand([n_bench]))

    def model():
        raw = numpyro.sample("raw", dist.Normal(0, 1).expand([n_models]))
        centred = raw - raw.mean()
        numpyro.deterministic("capability", centred / jnp.sqrt(jnp.mean(centred**2)))
        theta = centred / jnp.sqrt(jnp.mean(centred**2))
        difficulty = pooled("difficulty", 0.0, 1.5, 1.5)
        slope = jnp.exp(pooled("log_slope", 0.5, 0.75, 0.5))
        precision = jnp.exp(pooled("log_precision", 4.0, 1.5, 1.0))
        k0 = numpyro.sample("zero_cutpoint", dist.Normal(-4.0, 2.0))
        effect_sd = numpyro.sample("family_effect_sd", dist.HalfNormal(0.5))
        offset = numpyro.sample("family_effect_offset", dist.Normal(0, 1).expand([len(cells)]))
        effect = jnp.concatenate([effect_sd * offset, jnp.zeros(1)])
        x = slope[bi] * (theta[mi] + effect[cell] - difficulty[bi])
        p = floor[bi] + (1 - floor[bi]) * jax.nn.sigmoid(x)
        q = (1 - floor[bi]) * jax.nn.sigmoid(-x)
        phi = precision[bi]
        a, b = p * phi, q * phi
        beta = (a - 1) * log_y + (b - 1) * log1m_y + gammaln(phi) - gammaln(a) - gammaln(b)
        logit_p = jnp.log(p) - jnp.log(q)
        interior = beta - jax.nn.softplus(k0 - logit_p)
        numpyro.factor("loglik", jnp.where(zero, -jax.nn.softplus(logit_p - k0), interior).sum())

    chains = DEFAULT_CHAINS
    method = "parallel" if jax.local_device_count() >= chains else "vectorized"
    mcmc = MCMC(
        NUTS(model, target_accept_prob=DEFAULT_TARGET_ACCEPT),
        num_warmup=DEFAULT_TUNE,
        num_samples=DEFAULT_DRAWS,
        num_chains=chains,
        chain_method=method,
        progress_bar=False,
    )
    mcmc.run(jax.random.PRNGKey(seed))
    samples = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(samples)
    wall = time.perf_counter() - start
    idata = az.from_numpyro(mcmc)
    divergences = int(idata.sample_stats["diverging"].sum())
    return {"wall": wall, **convergence(idata.posterior), "divergences": divergences}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-numpyro", action="store_true")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"rosetta": [], "numpyro_by_hand": []}
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.repeats):
            seed = 1000 + i
            runs = [("rosetta", lambda s=seed: run_rosetta(s, Path(folder) / "post.nc"))]
            if not args.skip_numpyro:
                runs.append(("numpyro_by_hand", lambda s=seed: run_numpyro(s)))
            for name, run in runs:
                result = run()
                result["ess_per_s"] = result["min_ess"] / result["wall"]
                results[name].append(result)
                print(
                    f"{name:16s} repeat {i}: wall {result['wall']:6.1f} s  min ESS "
                    f"{result['min_ess']:6.0f}  max R-hat {result['max_rhat']:.4f}  "
                    f"divergences {result['divergences']}  ESS/s {result['ess_per_s']:.1f}",
                    flush=True,
                )
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in results.items()
        if runs
    }
    print(
        json.dumps(
            {
                "settings": {
                    "chains": DEFAULT_CHAINS,
                    "tune": DEFAULT_TUNE,
                    "draws": DEFAULT_DRAWS,
                },
                "medians": medians,
            },
            indent=2,
        )
    )
    if len(medians) == 2:
        ratio = medians["rosetta"]["ess_per_s"] / medians["numpyro_by_hand"]["ess_per_s"]
        print(f"ESS/s ratio rosetta / hand-written NumPyro (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
