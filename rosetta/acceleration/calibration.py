"""Calibrate the acceleration rule on simulated worlds: false alarms, delay and power.

Each world (`rosetta.simulate.simulate_world`, the ``tracking`` design by default) goes through
the whole pipeline: its score table is fitted by the measurement model (NUTS, short chains), put
on its anchor scale, and the hinge is refitted every month of the watch (2026-2029 by default)
on the models released by then, by each detector of `DETECTORS` (the frontier draw by draw, all
models draw by draw, all models with the measurement error separate from the scatter). Nothing
of the truth enters the detector. The same detectors are also fed the world's true capabilities:
the oracle, which tells how much of what is missed is the measurement's and how much the
detector's. Per world, detector and checkpoint the sweep stores P(ratio > r) for every r of
`RATIOS` (-1 where the population has too few models for a hinge yet), so any rule "P(ratio > r)
>= threshold" can be scored afterwards: a false alarm is a firing in a world with no
acceleration, the delay is the time from the onset to the first firing at or after it. Each
record also keeps the posterior mean and sd of every model's capability (``models`` names them; a
record without it: the models of `fit_world`'s table, in its order), so new detectors can be
tried without refitting.

Known limit: the measurement model of a world is fitted once on all its scores (to the end of
the watch), so at a checkpoint the capabilities of earlier models are measured with benchmarks
that came later. A detector running in real time would refit as it goes.

Worlds run in parallel on local processes, or on a Dask cluster given its scheduler address;
each finished world is appended to a JSON-lines file at once, and a rerun skips the worlds the
file already holds. A world whose pipeline raises is logged to ``failed.jsonl`` and retried on
the next run; the summary counts the ones still failing. Each world runs in its own process under
a watchdog (`rosetta.executors.run_limited`): a world with no result after ``time_limit`` seconds
(a sampler that hangs) is killed, logged and run again with another sampler seed, so a long sweep
never stalls; the record says how many attempts it took.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from rosetta.acceleration import (
    DETECTORS,
    ORIGIN,
    RATIOS,
    Rule,
    describe_rule,
    detector_key,
    evenly_spaced,
    sequential,
)
from rosetta.constants import CI_PROB
from rosetta.errors import RosettaError
from rosetta.executors import executor, run_limited
from rosetta.intervals import label
from rosetta.results import Result
from rosetta.trends import draw_matrix, years_since

log = logging.getLogger("rosetta")

#: Records of finished worlds, one JSON object per line.
WORLDS_FILE = "worlds.jsonl"
#: Worlds whose pipeline raised (retried on a rerun), with the error.
FAILED_FILE = "failed.jsonl"
#: A world with no result after this many seconds is stopped and run again, this many times
#: more, with another sampler seed (a world takes 1-3 minutes on one core).
WORLD_TIME_LIMIT = 1800.0
WORLD_RETRIES = 1
#: Sampler seed of a world's retry ``a``: its seed plus ``a`` times this.
RETRY_SEED_STEP = 100_003


@dataclass(frozen=True)
class SweepSettings:
    """What every world of a sweep shares (the seed and factor vary).

    The worlds' score noise is Gaussian, so they are fitted with the ``normal`` likelihood
    (non-centred: their benchmarks are seen by few models each). With the Beta likelihood the
    fit of a 4x world stitches the scale badly (capability correlation with the truth 0.61
    against 0.99 on one test world), which would measure the likelihood's misfit, not the rule.
    ``design`` is the benchmark release rule of `rosetta.simulate.simulate_world`;
    ``hinge_draws`` the capability draws the pooled detectors use (the separate one uses all).
    """

    watch_start: str = "2026-01-01"
    watch_end: str = "2030-01-01"
    onset: str = "2027-01-01"
    tune: int = 400
    draws: int = 400
    chains: int = 1
    hinge_draws: int = 40
    likelihood: str = "normal"
    centred: bool = False
    models_per_year: float = 30.0
    benchmarks_per_year: float = 10.0
    design: str = "tracking"


def simulate(factor: float, seed: int, settings: SweepSettings):
    """The world of ``(factor, seed)``: its score table (with ``reported``) and truth."""
    from rosetta.simulate import simulate_world

    return simulate_world(
        benchmarks=settings.design,
        factor=factor,
        onset=settings.onset,
        end=settings.watch_end,
        models_per_year=settings.models_per_year,
        benchmarks_per_year=settings.benchmarks_per_year,
        random_seed=seed,
    )


def fit_world(table: pd.DataFrame, settings: SweepSettings, seed: int):
    """Fit a world; return capability draws ``(draw, model)``, models, diagnostics."""
    from rosetta.data import load_scores
    from rosetta.model import MeasurementSpec, fit

    scores = load_scores(table.drop(columns="reported"), keep_largest_component=True)
    idata = fit(
        scores,
        MeasurementSpec(likelihood=settings.likelihood, centred=settings.centred),
        tune=settings.tune,
        draws=settings.draws,
        chains=settings.chains,
        random_seed=seed,
        progress=False,
        warn=False,
    )
    capability = idata.posterior["capability"]
    models = capability["model"].to_numpy().astype(str)
    return draw_matrix(capability), models, idata.diagnostics


def run_world(
    factor: float,
    seed: int,
    settings: SweepSettings = SweepSettings(),
    sampler_seed: int | None = None,
) -> dict:
    """Simulate one world, fit it, watch it month by month; return its record.

    ``seed`` draws the world; the fit's sampler uses ``sampler_seed`` (default: ``seed``).
    """
    start = time.perf_counter()
    table, truth = simulate(factor, seed, settings)
    sampler_seed = seed if sampler_seed is None else sampler_seed
    draws, models, diagnostics = fit_world(table, settings, sampler_seed)
    dates = pd.DatetimeIndex(truth.models.loc[models, "date"])
    true_capability = truth.scores.capability[models].to_numpy()[None, :]
    checkpoints = pd.date_range(
        settings.watch_start, settings.watch_end, freq="MS", inclusive="left"
    )
    thinned = evenly_spaced(draws, settings.hinge_draws)

    def watch_all(capability: np.ndarray, thin: np.ndarray) -> tuple[list[str], dict]:
        watches = {
            detector_key(population, noise): sequential(
                capability if noise == "separate" else thin,
                dates,
                checkpoints,
                population=population,
                noise=noise,
                seed=seed,
            )
            for population, noise in DETECTORS
        }
        checked = [d.date().isoformat() for d in watches["all"]["date"]]
        return checked, {
            key: {f"{r:g}": w[f"p_above_{r:g}"].round(4).fillna(-1.0).tolist() for r in RATIOS}
            for key, w in watches.items()
        }

    checked, measured = watch_all(draws, thinned)
    before = np.asarray(dates < pd.Timestamp(settings.onset))
    pace = np.polyfit(years_since(dates[before], ORIGIN), draws.mean(axis=0)[before], 1)[0]

    return {
        "factor": float(factor),
        "seed": int(seed),
        "sampler_seed": int(sampler_seed),
        "design": settings.design,
        "onset": settings.onset,
        "dates": checked,
        "p_above": measured,
        "oracle": watch_all(true_capability, true_capability)[1],
        "growth": truth.growth,
        "models": models.tolist(),
        "capability_mean": draws.mean(axis=0).round(4).tolist(),
        "capability_sd": draws.std(axis=0, ddof=1).round(4).tolist(),
        "measurement_sd_years": float(np.median(draws.std(axis=0, ddof=1)) / pace),
        "n_scores": len(table),
        "n_models": len(models),
        "diagnostics": diagnostics,
        "seconds": round(time.perf_counter() - start, 2),
    }


def world_task(factor: float, seed: int, settings: dict, sampler_seed: int) -> dict:
    """`run_world` with plain arguments, for the watchdog's process."""
    return run_world(factor, seed, SweepSettings(**settings), sampler_seed)


def run_world_watched(
    factor: float, seed: int, settings: SweepSettings, limit: float | None, retries: int
) -> dict:
    """`run_world` under the watchdog: stopped at ``limit`` s, retried with other seeds."""
    kwargs = {"factor": factor, "seed": seed, "settings": asdict(settings), "sampler_seed": seed}

    def retry(kwargs: dict, attempt: int) -> dict:
        return {**kwargs, "sampler_seed": seed + RETRY_SEED_STEP * attempt}

    target = f"{__name__}:world_task"
    return run_limited(target, kwargs, limit=limit, retries=retries, retry=retry)


def sweep(
    out_dir: str | Path,
    factors: Iterable[float] = (1.0, 2.0, 4.0, 8.0),
    worlds: int = 100,
    *,
    null_worlds: int | None = None,
    first_seed: int = 0,
    settings: SweepSettings = SweepSettings(),
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    time_limit: float | None = WORLD_TIME_LIMIT,
    retries: int = WORLD_RETRIES,
) -> list[dict]:
    """Run the worlds not yet in ``out_dir/worlds.jsonl`` and return every record there.

    Parameters
    ----------
    factors, worlds
        ``worlds`` worlds per factor (``null_worlds`` for factor 1 when given), seeds
        ``first_seed, first_seed + 1, ...`` (the same seeds for every factor).
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``); local processes when ``None``.
    workers
        Local processes (all cores by default).
    time_limit, retries
        A world with no result after ``time_limit`` seconds (``None``: no limit) is stopped,
        logged and run ``retries`` more times with other sampler seeds before it counts as
        failed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / WORLDS_FILE
    _check_settings(out, settings)
    done = _keys(load_records(path))
    tasks = sorted(
        (
            (float(f), seed)
            for f in factors
            for seed in range(
                first_seed, first_seed + (null_worlds if f == 1 and null_worlds else worlds)
            )
            if (float(f), seed) not in done
        ),
        key=lambda task: (task[1], task[0]),
    )  # seed by seed, so an interrupted sweep has every factor about equally far
    log.info("%d world(s) to run, %d already in %s", len(tasks), len(done), path)
    if tasks:
        with executor(scheduler, workers) as pool:
            futures = {
                pool.submit(run_world_watched, f, s, settings, time_limit, retries): (f, s)
                for f, s in tasks
            }
            started = time.perf_counter()
            for i, future in enumerate(as_completed(futures), 1):
                factor, seed = futures[future]
                try:
                    record = future.result()
                except Exception as error:  # one broken world must not stop the sweep
                    log.error("factor %g seed %d failed: %s", factor, seed, error)
                    with (out / FAILED_FILE).open("a") as handle:
                        handle.write(
                            json.dumps({"factor": factor, "seed": seed, "error": str(error)})
                        )
                        handle.write("\n")
                    continue
                with path.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                if progress:
                    elapsed = time.perf_counter() - started
                    eta = elapsed / i * (len(tasks) - i)
                    log.warning(
                        "[%d/%d] factor %g seed %d done in %.0f s (elapsed %.0f s, eta %.0f s)",
                        i, len(tasks), record["factor"], record["seed"], record["seconds"],
                        elapsed, eta,
                    )  # fmt: skip
    return load_records(path)


def load_records(path: str | Path) -> list[dict]:
    """The records of a sweep file (a torn last line from an interrupted write is skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("skipping an unreadable line in %s", path)
    return records


def choose_rule(
    records: list[dict], false_alarm: float = 0.05, detectors: list[tuple[str, str]] | None = None
) -> Rule:
    """The rule with the most power for a 2x speed-up within 12 months at the false-alarm rate.

    Every ``(population, noise)`` of ``detectors`` (default: those of `DETECTORS` the records
    hold) and every ratio of `RATIOS` is tried, each with its `threshold`; ties (e.g. no power
    at 2x) go to the power at 4x.
    """
    best = None
    for population, noise in detectors or _detectors(records):
        for ratio in RATIOS:
            rule = Rule(population, ratio, 1.0, noise=noise)
            rule = replace(rule, threshold=threshold(records, rule, false_alarm))
            power = (_power(records, rule, 2.0, 12), _power(records, rule, 4.0, 12))
            if best is None or power > best[0]:
                best = (power, rule)
    n_null = sum(r["factor"] == 1 for r in records)
    return replace(best[1], source=f"calibrated on {n_null} null worlds")


def threshold(
    records: list[dict], rule: Rule, false_alarm: float = 0.05, source: str = "p_above"
) -> float:
    """The conformal threshold of ``rule``'s statistic on the null worlds of ``records``.

    It sits just above the (k + 1)-th highest peak (over the watch) of P(ratio > r) in the n
    null worlds, with k the largest such that (k + 1) / (n + 1) <= ``false_alarm``, so a new
    null world fires with probability at most ``false_alarm`` (exchangeable worlds), not just
    the ones the rule was set on. ``source="oracle"`` sets it on the true capabilities.
    """
    null = [r for r in records if r["factor"] == 1]
    if not null:
        raise ValueError("choosing a rule needs worlds with no acceleration (factor 1)")
    peaks = np.sort([max(_p(r, rule, source), default=0.0) for r in null])
    allowed = max(int(np.floor(false_alarm * (len(peaks) + 1))) - 1, 0)
    return min(float(peaks[max(len(peaks) - allowed - 1, 0)]) + 1e-9, 1.0)


def _detectors(records: list[dict]) -> list[tuple[str, str]]:
    """The detectors every record holds (sweeps from before the separate one lack it)."""
    return [
        (population, noise)
        for population, noise in DETECTORS
        if all(detector_key(population, noise) in r["p_above"] for r in records)
    ]


def _p(record: dict, rule: Rule, source: str = "p_above") -> list[float]:
    return record[source][detector_key(rule.population, rule.noise)][f"{rule.ratio:g}"]


#: Months after the onset at which the power curve is read.
CURVE_MONTHS = tuple(range(0, 37, 3))


def summarise(records: list[dict], rule: Rule, ci_prob: float = CI_PROB, source="p_above") -> dict:
    """False-alarm rate, detection delay (months) and power per factor.

    ``false_alarm_rate`` and ``power_12_months`` (factor -> fraction) are plain numbers;
    ``false_alarm`` and ``power_12_months_interval`` add the counts and Clopper-Pearson
    intervals; ``power_curve`` gives per factor the share of worlds detected by each of
    `CURVE_MONTHS` months after the onset. ``source="oracle"`` scores the detector fed the true
    capabilities.
    """
    out: dict = {"rule": asdict(rule), "ci_prob": ci_prob, "n_worlds": {}}
    out["detection_delay_months"] = {}
    out["power_12_months"], out["power_12_months_interval"] = {}, {}
    out["power_curve"] = {"months": list(CURVE_MONTHS)}
    for factor in sorted({r["factor"] for r in records}):
        group = [r for r in records if r["factor"] == factor]
        out["n_worlds"][f"{factor:g}"] = len(group)
        if factor == 1:
            alarms = sum(
                _first_firing(r, rule, after_onset=False, source=source) is not None for r in group
            )
            out["false_alarm"] = _rate(alarms, len(group), ci_prob)
            out["false_alarm_rate"] = out["false_alarm"]["rate"]
            continue
        delays = np.array([_delay_months(r, rule, source) for r in group], dtype=float)
        out["detection_delay_months"][f"{factor:g}"] = _median_interval(delays, ci_prob)
        within = int(np.sum(delays <= 12))
        interval = _rate(within, len(group), ci_prob)
        out["power_12_months_interval"][f"{factor:g}"] = interval
        out["power_12_months"][f"{factor:g}"] = interval["rate"]
        out["power_curve"][f"{factor:g}"] = [float(np.mean(delays <= m)) for m in CURVE_MONTHS]
    return out


def _power(records, rule, factor, months) -> float:
    group = [r for r in records if r["factor"] == factor]
    if not group:
        return 0.0
    return float(np.mean([_delay_months(r, rule) <= months for r in group]))


def _first_firing(
    record: dict, rule: Rule, *, after_onset: bool, source: str = "p_above"
) -> pd.Timestamp | None:
    dates = pd.DatetimeIndex(record["dates"])
    p = np.asarray(_p(record, rule, source))
    fires = p >= rule.threshold
    if after_onset:
        fires &= np.asarray(dates >= pd.Timestamp(record["onset"]))
    hits = np.nonzero(fires)[0]
    return dates[hits[0]] if hits.size else None


def _delay_months(record: dict, rule: Rule, source: str = "p_above") -> float:
    """Months from the onset to the first firing at or after it (inf when it never fires)."""
    first = _first_firing(record, rule, after_onset=True, source=source)
    if first is None:
        return float("inf")
    onset = pd.Timestamp(record["onset"])
    return float((first.year - onset.year) * 12 + first.month - onset.month)


def _rate(k: int, n: int, ci_prob: float) -> dict:
    """A proportion with its Clopper-Pearson interval."""
    alpha = 1 - ci_prob
    lo = stats.beta.ppf(alpha / 2, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - alpha / 2, k + 1, n - k) if k < n else 1.0
    return {"rate": k / n if n else None, "k": k, "n": n, "lo": float(lo), "hi": float(hi)}


def _median_interval(values: np.ndarray, ci_prob: float) -> dict:
    """Median with a distribution-free interval from order statistics (never-fired = inf)."""
    values = np.sort(values)
    n = len(values)
    alpha = 1 - ci_prob
    lo_rank = int(stats.binom.ppf(alpha / 2, n, 0.5))
    hi_rank = min(n - 1, int(stats.binom.ppf(1 - alpha / 2, n, 0.5)))

    def finite(v):
        return float(v) if np.isfinite(v) else None

    return {
        "median": finite(np.median(values)),
        "lo": finite(values[max(lo_rank - 1, 0)]),
        "hi": finite(values[hi_rank]),
        "never_detected": int(np.sum(~np.isfinite(values))),
        "n": n,
    }


def _check_settings(out: Path, settings: SweepSettings) -> None:
    """Refuse to mix worlds run with other settings in one sweep folder."""
    path = out / "settings.json"
    current = asdict(settings)
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != current:
            raise RosettaError(
                f"{out} holds a sweep with other settings ({saved}); use another --out folder"
            )
    else:
        path.write_text(json.dumps(current, indent=1))


@dataclass(frozen=True)
class Calibration(Result):
    """The calibrated rule of a sweep folder and how it performed (see `summarise_folder`).

    ``data`` holds the JSON-ready summary: ``rule``, ``false_alarm``,
    ``detection_delay_months`` and ``power_12_months_interval`` per factor, ``held_out``, ...
    """

    data: dict

    @property
    def rule(self) -> dict:
        """The chosen rule's fields (``Rule(**calibration.rule)``)."""
        return self.data["rule"]

    def to_dict(self) -> dict:
        """The summary (the keys of ``rosetta calibrate --json``)."""
        return self.data

    def summary(self) -> str:
        """The rule, its false-alarm rate and per factor the detection delay and power."""
        d, rule = self.data, Rule(**self.data["rule"])
        far, share = d["false_alarm"], label(d.get("ci_prob", CI_PROB))
        lines = [
            f"rule: {describe_rule(rule)}",
            f"false-alarm rate {far['rate']:.3f} ({far['k']}/{far['n']} null worlds; {share} "
            f"interval {far['lo']:.3f} to {far['hi']:.3f})",
            f"factor  worlds  median delay (months) [{share} interval]  never  power within "
            "12 months",
        ]
        for factor, delay in d["detection_delay_months"].items():
            power = d["power_12_months_interval"][factor]

            def fmt(v):
                return "inf" if v is None else f"{v:g}"

            lines.append(
                f"{factor:>6}  {delay['n']:>6}  {fmt(delay['median']):>6} [{fmt(delay['lo'])}, "
                f"{fmt(delay['hi'])}]{'':>14}{delay['never_detected']:>5}  {power['rate']:.2f} "
                f"[{power['lo']:.2f}, {power['hi']:.2f}]"
            )
        if "oracle" in d:
            oracle = d["oracle"]["power_12_months_interval"]
            lines.append(
                "oracle (the same detector fed the true capabilities), power within 12 months: "
                + ", ".join(
                    f"{f}x {v['rate']:.2f} [{v['lo']:.2f}, {v['hi']:.2f}]"
                    for f, v in oracle.items()
                )
            )
        for row in d.get("detectors", []):
            power = ", ".join(f"{f}x {v:.2f}" for f, v in row["power_12_months"].items())
            oracle = row.get("oracle_power_12_months")
            lines.append(
                f"detector {row['detector']:<13} best ratio {row['ratio']:g}: false alarms "
                f"{row['false_alarm_rate']:.3f}, power within 12 months {power}"
                + ("" if oracle is None else f" (oracle 2x {oracle.get('2', float('nan')):.2f})")
            )
        return "\n".join(lines)

    def plot_data(self) -> pd.DataFrame:
        """Per speed-up factor: worlds, power within 12 months and its interval."""
        rows = [
            {"factor": float(f), "worlds": self.data["n_worlds"].get(f), **power}
            for f, power in self.data["power_12_months_interval"].items()
        ]
        return pd.DataFrame(rows)

    def plot(self, *, path: str | Path | None = None):
        """Power within 12 months against the speed-up factor, with the false-alarm rate."""
        from rosetta.plots import plot_power

        return plot_power(self.data, path=path)


def summarise_folder(folder: str | Path, false_alarm: float = 0.05) -> Calibration:
    """Choose the rule on a third of the worlds (seeds divisible by 3), score it on the rest.

    The threshold is set on null worlds, so scoring it on the same worlds would flatter it:
    two thirds are held out. With too few worlds for a split (under 5 null worlds to choose
    on), the rule is chosen and scored on all of them and ``held_out`` is False.
    """
    records = load_records(Path(folder) / WORLDS_FILE)
    if not records:
        raise RosettaError(f"no finished worlds in {folder}")
    choose = [r for r in records if r["seed"] % 3 == 0]
    score = [r for r in records if r["seed"] % 3 != 0]
    null_in = [r for r in choose if r["factor"] == 1]
    held_out = len(null_in) >= 5 and any(r["factor"] == 1 for r in score)
    if not held_out:
        choose = score = records
    rule = choose_rule(choose, false_alarm)
    out = summarise(score, rule)
    if all("oracle" in r for r in records):
        out["oracle"] = _oracle(choose, score, rule, false_alarm)
        out["oracle_power_12_months"] = out["oracle"]["power_12_months"]
    out["detectors"] = [
        _detector_row(choose, score, population, noise, false_alarm)
        for population, noise in _detectors(records)
    ]
    sd_years = [r["measurement_sd_years"] for r in records if "measurement_sd_years" in r]
    if sd_years:
        out["measurement_sd_years"] = float(np.median(sd_years))
    out["held_out"] = held_out
    out["rule_chosen_on"] = {
        f"{f:g}": sum(r["factor"] == f for r in choose) for f in _factors(choose)
    }
    out["in_sample"] = summarise(choose, rule)
    out["folder"] = str(folder)
    settings = Path(folder) / "settings.json"
    if settings.exists():
        out["design"] = json.loads(settings.read_text()).get("design", "reference")
    failed = load_records(Path(folder) / FAILED_FILE)
    out["failed_worlds"] = len({(r["factor"], r["seed"]) for r in failed} - _keys(records))
    return Calibration(out)


def _oracle(choose: list[dict], score: list[dict], rule: Rule, false_alarm: float) -> dict:
    """The chosen detector fed the true capabilities, its threshold calibrated the same way."""
    oracle = replace(
        rule,
        threshold=threshold(choose, rule, false_alarm, source="oracle"),
        source="the same detector on the true capabilities",
    )
    return summarise(score, oracle, source="oracle")


def _detector_row(choose, score, population, noise, false_alarm) -> dict:
    """One detector's best rule (chosen on ``choose``) and how it does on ``score``."""
    rule = choose_rule(choose, false_alarm, [(population, noise)])
    held = summarise(score, rule)
    row = {
        "detector": detector_key(population, noise),
        "ratio": rule.ratio,
        "threshold": rule.threshold,
        "false_alarm_rate": held.get("false_alarm_rate"),
        "power_12_months": held["power_12_months"],
    }
    if all("oracle" in r for r in choose + score):
        row["oracle_power_12_months"] = _oracle(choose, score, rule, false_alarm)["power_12_months"]
    return row


def _keys(records: list[dict]) -> set:
    return {(r["factor"], r["seed"]) for r in records}


def _factors(records: list[dict]) -> list[float]:
    return sorted({r["factor"] for r in records})
