"""Where independent fits run: local processes, or a Dask cluster given its scheduler."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from rosetta.errors import RosettaError


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
