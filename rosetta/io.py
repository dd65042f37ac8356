"""Files in and out: atomic writes, and (with the fit) saving and loading posteriors.

Every file rosetta writes goes to a temporary file in the same folder first and is then moved into
place with `os.replace`, so an interrupted run leaves the previous output intact.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from rosetta.errors import IncompatibleFitError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only on success.

    Parameters
    ----------
    path
        Final destination. Its folder is created if missing.

    Yields
    ------
    Path
        Where the caller writes the content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; finished files get the usual
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """Write a DataFrame to CSV atomically (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, **kwargs))


#: Version of the saved-posterior layout; bumped when a saved fit can no longer be read.
FIT_FORMAT = 1


def save_fit(idata, path: str | Path) -> Path:
    """Write a fit (InferenceData) to netCDF atomically.

    Parameters
    ----------
    idata
        The InferenceData returned by `rosetta.fit`.
    path
        Destination ``.nc`` file; an existing file is replaced only once the new one is complete.

    Returns
    -------
    Path
    """
    if "rosetta_version" not in idata.posterior.attrs:
        raise ValueError("not a rosetta fit: its posterior lacks the rosetta attrs")
    return write_atomic(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))


def load_fit(path: str | Path):
    """Read a saved fit eagerly (the file is closed afterwards) and check it is a rosetta fit.

    Parameters
    ----------
    path
        A ``.nc`` file written by `save_fit` or ``rosetta fit --out``.

    Returns
    -------
    arviz.InferenceData
    """
    import arviz as az

    path = _existing(path)
    with _readable(path), az.rc_context({"data.load": "eager"}):
        idata = az.from_netcdf(str(path), engine="h5netcdf")
    _check_attrs(idata.posterior.attrs if "posterior" in idata.groups() else {}, path)
    return idata


def scores_of_fit(idata) -> pd.DataFrame:
    """The long score table a fit was made from, rebuilt from its saved groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``benchmark``, ``score``, ``floor``, ``n_items``, ``stderr``,
        ``date``, ``compute``, ``distilled``: what `rosetta.load_scores` reads back.
    """
    const = idata.constant_data
    models = const["model"].to_numpy().astype(str)
    benchmarks = const["benchmark"].to_numpy().astype(str)
    m = const["model_idx"].to_numpy()
    b = const["benchmark_idx"].to_numpy()
    distilled = const["distilled"].to_numpy()[m]
    return pd.DataFrame(
        {
            "model": models[m],
            "benchmark": benchmarks[b],
            "score": idata.observed_data["score"].to_numpy(),
            "floor": const["nominal_floor"].to_numpy()[b],
            "n_items": const["n_items"].to_numpy(),
            "stderr": const["stderr"].to_numpy(),
            "date": const["release_date"].to_numpy()[m],
            "compute": const["compute"].to_numpy()[m],
            "distilled": pd.array(
                np.where(np.isnan(distilled), None, distilled == 1), dtype="boolean"
            ),
        }
    )


def load_posterior(path: str | Path) -> xr.Dataset:
    """Read only the posterior group of a saved fit, with xarray alone (no ArviZ, no PyMC).

    The quick path of `rosetta.query`: it skips the posterior predictive draws, which make up most
    of the file. The same checks as `load_fit`.

    Parameters
    ----------
    path
        A ``.nc`` file written by `save_fit` or ``rosetta fit --out``.

    Returns
    -------
    xarray.Dataset
        The anchored posterior draws with their attrs, loaded into memory.
    """
    path = _existing(path)
    with _readable(path):
        with h5py.File(path, "r") as handle:
            has_posterior = "posterior" in handle
        if not has_posterior:
            _check_attrs({}, path)
        with xr.open_dataset(path, group="posterior", engine="h5netcdf") as dataset:
            posterior = dataset.load()
    _check_attrs(posterior.attrs, path)
    return posterior


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"posterior file not found: {path}")
    return path


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn the many errors of damaged or foreign files into one `IncompatibleFitError`."""
    try:
        yield
    except IncompatibleFitError:
        raise
    except Exception as err:  # h5py/netCDF raise many types for damaged files
        raise IncompatibleFitError(
            f"cannot read {path} as a posterior (truncated or not netCDF): {err}"
        ) from err


def _check_attrs(attrs: dict, path: Path) -> None:
    if "rosetta_version" not in attrs:
        raise IncompatibleFitError(f"{path} is not a rosetta posterior (no rosetta attrs)")
    if int(attrs.get("fit_format", -1)) != FIT_FORMAT:
        raise IncompatibleFitError(
            f"{path} was written by rosetta {attrs['rosetta_version']} in fit format "
            f"{attrs.get('fit_format')}; this rosetta reads format {FIT_FORMAT}: refit it"
        )
