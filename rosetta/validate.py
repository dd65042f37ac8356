"""K-fold cross-validation of the measurement model over observed scores."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from rosetta.constants import CI_PROB, DEFAULT_SEED
from rosetta.data import ScoreTable, find_components
from rosetta.predict import expected_score, predictive_scores

log = logging.getLogger("rosetta")


def assign_folds(table: ScoreTable, folds: int, random_seed: int = DEFAULT_SEED) -> np.ndarray:
    """Assign each score to a fold so that every held-out score stays predictable.

    A score is held out in fold k only if its model and its benchmark keep at least one other
    score in the training part of fold k, and the training part stays connected; scores that
    cannot be held out get fold ``-1`` (always trained on).

    Parameters
    ----------
    table
        The score table.
    folds
        Number of folds (at least 2).
    random_seed
        The same seed gives the same folds, so two specifications can be compared fairly.

    Returns
    -------
    numpy.ndarray
        Fold index per row of ``table.scores``.
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    scores = table.scores
    rng = np.random.default_rng(random_seed)
    model = scores["model"].to_numpy()
    bench = scores["benchmark"].to_numpy()
    totals_m = pd.Series(model).value_counts().to_dict()
    totals_b = pd.Series(bench).value_counts().to_dict()
    held_m: dict = {}
    held_b: dict = {}
    fold = np.full(len(scores), -1)
    for i in rng.permutation(len(scores)):
        for k in rng.permutation(folds):
            if (
                held_m.get((model[i], k), 0) + 1 < totals_m[model[i]]
                and held_b.get((bench[i], k), 0) + 1 < totals_b[bench[i]]
            ):
                fold[i] = k
                held_m[(model[i], k)] = held_m.get((model[i], k), 0) + 1
                held_b[(bench[i], k)] = held_b.get((bench[i], k), 0) + 1
                break
    for k in range(folds):  # give back held-out scores until the training graph is connected
        for i in rng.permutation(np.flatnonzero(fold == k)):
            if len(find_components(scores[fold != k])) == 1:
                break
            fold[i] = -1
    return fold


def cross_validate(
    table: ScoreTable,
    spec=None,
    *,
    folds: int = 10,
    random_seed: int = DEFAULT_SEED,
    ci_prob: float = CI_PROB,
    **fit_options,
) -> dict:
    """Fit on K-1 folds, predict the held-out scores, and score the predictions.

    Parameters
    ----------
    table
        The score table.
    spec
        `MeasurementSpec` of the model to validate.
    folds, random_seed
        Fold count and seed (fold assignment and fits).
    ci_prob
        Mass of the predictive interval whose coverage is reported.
    **fit_options
        Passed to `rosetta.fit` (draws, tune, chains, method, sampler, ...).

    Returns
    -------
    dict
        ``rmse`` and ``mae`` of the posterior-mean prediction, ``coverage_90`` of the predictive
        interval, ``n_heldout``, ``folds`` and ``per_fold`` rows; plus ``predictions`` (a frame).
    """
    from rosetta.model import MeasurementSpec, fit

    spec = spec or MeasurementSpec()
    fold = assign_folds(table, folds, random_seed)
    lo, hi = (1 - ci_prob) / 2, (1 + ci_prob) / 2
    rows = []
    for k in range(folds):
        test = table.scores[fold == k]
        if test.empty:
            continue
        train = table.subset(fold != k)
        log.info(
            "fold %d/%d: %d training scores, %d held out", k + 1, folds, train.n_scores, len(test)
        )
        idata = fit(train, spec, random_seed=random_seed + k, warn=False, **fit_options)
        models, benchmarks = test["model"].tolist(), test["benchmark"].tolist()
        mean = expected_score(idata.posterior, models, benchmarks).mean(("chain", "draw"))
        draws = predictive_scores(
            idata.posterior,
            models,
            benchmarks,
            likelihood=spec.likelihood,
            n_items=test["n_items"].to_numpy(dtype=float, na_value=np.nan),
            random_seed=random_seed + k,
        )
        stacked = draws.stack(sample=("chain", "draw"))
        rows.append(
            pd.DataFrame(
                {
                    "fold": k,
                    "model": models,
                    "benchmark": benchmarks,
                    "score": test["score"].to_numpy(),
                    "predicted": mean.to_numpy(),
                    "lo": stacked.quantile(lo, "sample").to_numpy(),
                    "hi": stacked.quantile(hi, "sample").to_numpy(),
                }
            )
        )
    predictions = pd.concat(rows, ignore_index=True)
    error = predictions["predicted"] - predictions["score"]
    covered = predictions["score"].between(predictions["lo"], predictions["hi"])
    per_fold = (
        predictions.assign(sq=error**2, covered=covered)
        .groupby("fold")
        .agg(n=("score", "size"), mse=("sq", "mean"), coverage=("covered", "mean"))
        .assign(rmse=lambda f: np.sqrt(f["mse"]))
        .drop(columns="mse")
        .reset_index()
    )
    return {
        "rmse": float(np.sqrt((error**2).mean())),
        "mae": float(error.abs().mean()),
        "coverage_90": float(covered.mean()),
        "n_heldout": len(predictions),
        "folds": folds,
        "per_fold": per_fold.round(4).to_dict(orient="records"),
        "predictions": predictions,
    }
