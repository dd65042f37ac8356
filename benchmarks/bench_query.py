"""Time `rosetta.placement`: in process, and as a cold ``rosetta query`` command.

Usage::

    .venv/bin/python benchmarks/bench_query.py [--posterior FILE] [--repeats 20] [--reference REV]

Without --posterior it fits the bundled data once with 2 chains x 2,000 draws (a 4,000-draw
posterior) and keeps it as ``results/posterior_4000.nc``. It then times, with medians over the
repeats:

1. ``rosetta.query(fit, scores)`` for one new model with 4 scores, in this process (the fit
   already loaded by ``rosetta.load``: what an analysis session or a web service does): the
   capability posterior, rank, percentile and the probabilities against the top models; the
   same from the posterior Dataset alone (its draws flattened on every query, where a fit keeps
   them); and the same plus the predicted-score table on every benchmark and ``to_dict()``;
2. the whole ``rosetta query FILE --score ... --json`` command in a fresh process (imports,
   reading the file, the query and the output);
3. for scale, the Python interpreter starting and exiting (``python -c pass``);
4. the query's main cost alone, the log-likelihood of every draw on a 17-point grid, by the
   compiled loop (`rosetta.grid_loglik`) and, side by side as the reference, by the NumPy
   expression of the same likelihood (`rosetta.placement.score_loglik`, what the query used
   before), alternating, with their ratio.

With ``--reference REV`` it also times the query of ``rosetta/placement.py`` as it was at git
revision REV with its compiled loops (loaded beside today's, its other imports served by today's
modules), alternating
with today's in the same process: on a shared machine whose speed drifts, the ratio is the
figure to trust.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SCORES = {"GPQA diamond": 0.71, "MMLU": "88%", "MATH level 5": 0.75, "SWE-Bench verified": 0.45}


def posterior_path(given: Path | None) -> Path:
    if given is not None:
        return given
    path = Path("results/posterior_4000.nc")
    if not path.is_file():
        from rosetta.data import load_epoch
        from rosetta.io import save_fit
        from rosetta.model import fit

        table = load_epoch(min_benchmarks=4, since="2022-11-01")
        save_fit(fit(table, chains=2, draws=2000, progress=False), path)
    return path


def reference_query(revision: str):
    """`rosetta.placement.query` of git revision ``revision``, loaded as a module of its own.

    Its compiled loops (``rosetta/grid_loglik.py``) are that revision's too, where it has them;
    every other import is served by today's modules. Both files are written to a temporary
    folder, so that numba can cache the reference's compiled loops like today's.
    """
    folder = Path(tempfile.mkdtemp(prefix="rosetta-reference-"))
    placement = git_show(revision, "rosetta/placement.py")
    loops = git_show(revision, "rosetta/grid_loglik.py", missing_ok=True)
    if loops is not None:
        (folder / "reference_grid_loglik.py").write_text(loops)
        placement = placement.replace("rosetta.grid_loglik", "reference_grid_loglik")
    (folder / "reference_placement.py").write_text(placement)
    sys.path.insert(0, str(folder))
    try:
        if loops is not None:  # imported by the query itself only when it runs
            importlib.import_module("reference_grid_loglik")
        module = importlib.import_module("reference_placement")
    finally:
        sys.path.remove(str(folder))
    return module.query


def git_show(revision: str, path: str, missing_ok: bool = False) -> str | None:
    """The text of ``path`` at git revision ``revision`` (None if absent and ``missing_ok``)."""
    shown = subprocess.run(
        ["git", "show", f"{revision}:{path}"],
        check=not missing_ok,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return shown.stdout if shown.returncode == 0 else None


def timed(call, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def numpy_grid_loglik(loglik, grid: np.ndarray) -> np.ndarray:
    """The reference: every draw's log-likelihood on ``grid`` as NumPy expressions.

    In single precision, as the query had it (half the cost of double).
    """
    from scipy.special import gammaln

    from rosetta.likelihoods import expected_score, likelihood_branch
    from rosetta.placement import score_loglik

    _, y, n_items, stderr = loglik.scores
    single = [v.astype(np.float32) for v in loglik.par]
    slope, difficulty, floor, precision, _, sigma, k0, k1 = single
    order = np.argsort(likelihood_branch(y, n_items), kind="stable")
    theta = (loglik.draws.mu[:, None] + loglik.draws.sd[:, None] * grid).astype(np.float32)
    x = slope[:, None, order] * (theta[:, :, None] - difficulty[:, None, order])
    p, q = expected_score(x, floor[:, None, order])
    if loglik.draws.precision is None:
        extra = {"sigma": sigma[:, None, None]}
    else:
        extra = {
            "precision": precision[:, None, order],
            "gammaln_precision": gammaln(precision[:, None, order]),
            "zero_cutpoint": None if np.isnan(k0).all() else k0[:, None, None],
            "one_cutpoint": None if np.isnan(k1).all() else k1[:, None, None],
        }
    y = y.astype(np.float32)
    values = score_loglik(y[order], n_items[order], stderr[order], p, q, **extra)
    return values.sum(axis=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--reference", help="git revision to time side by side")
    args = parser.parse_args()
    path = posterior_path(args.posterior)

    import rosetta
    from rosetta.placement import query

    fit = rosetta.load(path)
    posterior = fit.posterior
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    query(fit, SCORES)  # warm caches once (the fit keeps its flattened draws)
    in_process = timed(lambda: query(fit, SCORES), args.repeats)
    from_dataset = timed(lambda: query(posterior, SCORES), args.repeats)
    with_predictions = timed(lambda: query(fit, SCORES).to_dict(), args.repeats)

    rosetta = Path(sys.executable).with_name("rosetta")
    command = [str(rosetta), "query", str(path), "--json"]
    for bench, score in SCORES.items():
        command += ["--score", f"{bench}={score}"]
    cold_runs = max(5, args.repeats // 4)
    cold = timed(lambda: subprocess.run(command, check=True, capture_output=True), cold_runs)
    bare = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), cold_runs)

    print(f"posterior: {path} ({n_draws} draws); query: {len(SCORES)} scores")
    print(
        f"in-process query   median {statistics.median(in_process) * 1e3:7.1f} ms  "
        f"(min {min(in_process) * 1e3:.1f}, max {max(in_process) * 1e3:.1f}; "
        f"{args.repeats} runs)"
    )
    print(
        f"  from a Dataset   median {statistics.median(from_dataset) * 1e3:7.1f} ms  "
        f"(the draws flattened on every query)"
    )
    print(
        f"  + predictions    median {statistics.median(with_predictions) * 1e3:7.1f} ms  "
        f"(min {min(with_predictions) * 1e3:.1f}, max {max(with_predictions) * 1e3:.1f})"
    )
    print(
        f"cold rosetta query median {statistics.median(cold):7.2f} s   "
        f"(min {min(cold):.2f}, max {max(cold):.2f}; {cold_runs} runs)"
    )
    print(f"python -c pass     median {statistics.median(bare):7.2f} s")
    if args.reference:
        compare(posterior, query, reference_query(args.reference), args)

    from rosetta.placement import _as_score_frame, _Draws, _LogLik

    draws = _Draws.from_posterior(posterior)
    loglik = _LogLik(draws, _as_score_frame(SCORES, "new model"), [])
    grid = np.random.default_rng(0).normal(size=(draws.n_draws, 17))
    everyone = np.arange(draws.n_draws)
    compiled, reference = [], []
    for _ in range(args.repeats):
        compiled += timed(lambda: loglik(everyone, grid), 1)
        reference += timed(lambda: numpy_grid_loglik(loglik, grid), 1)
    prior = 0.5 * grid**2 + 0.5 * np.log(2 * np.pi)
    gap = np.abs(loglik(everyone, grid) + prior - numpy_grid_loglik(loglik, grid)).max()
    fast, slow = statistics.median(compiled), statistics.median(reference)
    print(
        f"grid log-likelihood ({n_draws} draws x 17 points): compiled {fast * 1e3:.1f} ms, "
        f"NumPy {slow * 1e3:.1f} ms (medians of {args.repeats}, alternating): {slow / fast:.2f}x; "
        f"largest difference {gap:.1e}"
    )


def compare(posterior, query, reference, args) -> None:
    """Today's query and the reference revision's, alternating; their medians and ratio."""
    reference(posterior, SCORES)  # warm its caches once
    today, before = [], []
    for _ in range(args.repeats):
        today += timed(lambda: query(posterior, SCORES), 1)
        before += timed(lambda: reference(posterior, SCORES), 1)
    new, old = statistics.median(today), statistics.median(before)
    a, b = query(posterior, SCORES), reference(posterior, SCORES)
    print(
        f"against {args.reference}: {new * 1e3:.1f} ms vs {old * 1e3:.1f} ms (medians of "
        f"{args.repeats}, alternating): {new / old:.2f}x; capability mean {a.mean:.4f} vs "
        f"{b.mean:.4f}, sd {a.sd:.4f} vs {b.sd:.4f}"
    )


if __name__ == "__main__":
    main()
