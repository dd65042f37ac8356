"""Where independent fits run: local processes, or a Dask cluster given its scheduler.

`run_limited` is the watchdog of long sweeps: it runs one task in a fresh Python process that is
killed when it outlives its time limit (a hang inside a sampler cannot be interrupted from the
process it hangs in), and runs it again with other arguments.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from rosetta.errors import RosettaError

log = logging.getLogger("rosetta")


class TimedOut(RosettaError):
    """Every attempt of a task outlived its time limit."""


def executor(scheduler: str | None, workers: int | None = None):
    """A `concurrent.futures`-style executor, used as a context manager.

    Local ``spawn`` processes (``workers``, default one per core) when ``scheduler`` is
    ``None``; else the Dask cluster at that address (``tcp://host:8786``).
    """
    if scheduler is None:
        return ProcessPoolExecutor(
            workers or os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
        )
    try:
        from distributed import Client
    except ImportError:
        raise RosettaError(
            "--scheduler runs the work on a Dask cluster, and Dask is not installed: "
            "pip install 'rosetta[dask]'"
        ) from None
    return _DaskExecutor(Client(scheduler))


class _DaskExecutor:
    """A `concurrent.futures`-style executor on a Dask cluster (closes its client on exit)."""

    def __init__(self, client):
        self.client = client
        self.executor = client.get_executor(pure=False)

    def submit(self, fn, *args):
        return self.executor.submit(fn, *args)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.executor.shutdown(wait=False)
        self.client.close()


def run_limited(
    target: str,
    kwargs: dict,
    *,
    limit: float | None,
    retries: int = 1,
    retry: Callable[[dict, int], dict] | None = None,
) -> dict:
    """``target(**kwargs)`` in a fresh Python process, stopped after ``limit`` seconds.

    ``target`` is ``"module:function"``; its arguments and its result travel as JSON. A process
    (and any it started) still running at the limit is killed and logged, and the task runs
    again, up to ``retries`` more times, with the arguments ``retry(kwargs, attempt)`` (say,
    another sampler seed: a hang is often the seed's). It works the same in a local worker and
    in a Dask task.

    Returns
    -------
    dict
        The function's result, with ``attempts`` (1 when the first run finished).

    Raises
    ------
    TimedOut
        When every attempt ran out of time.
    RuntimeError
        When the task failed (with the end of its error output); a failure is not retried.
    """
    for attempt in range(retries + 1):
        if attempt and retry is not None:
            kwargs = retry(kwargs, attempt)
        with subprocess.Popen(
            [sys.executable, "-m", "rosetta.executors", target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: killed with its children
        ) as child:
            try:
                out, err = child.communicate(json.dumps(kwargs), timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.communicate()
                log.warning(
                    "%s %s: no result after %.0f s, stopped (attempt %d of %d)",
                    target, kwargs, limit, attempt + 1, retries + 1,
                )  # fmt: skip
                continue
        if child.returncode:
            raise RuntimeError(f"{target} failed: {err.strip()[-2000:]}")
        return {**json.loads(out.strip().splitlines()[-1]), "attempts": attempt + 1}
    runs = f"{retries + 1} attempt{'s' if retries else ''}"
    raise TimedOut(f"{target} {kwargs}: no result within {limit:.0f} s ({runs})")


def _child() -> None:
    """Entry of `run_limited`'s process: call the target on stdin's JSON, print its result."""
    module, name = sys.argv[1].split(":")
    result = getattr(importlib.import_module(module), name)(**json.loads(sys.stdin.read()))
    print(json.dumps(result))


if __name__ == "__main__":
    _child()
