"""Files in and out: atomic writes, and (with the fit) saving and loading posteriors.

Every file rosetta writes goes to a temporary file in the same folder first and is then moved into
place with `os.replace`, so an interrupted run leaves the previous output intact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from rosetta.errors import IncompatibleFitError
from rosetta.scale import Scale


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


#: FitInfo fields stored as JSON text (netCDF attrs hold only numbers and strings).
_JSON_FIELDS = ("data_dropped", "diagnostics", "versions", "item_benchmarks", "selection")


@dataclass(frozen=True)
class FitInfo:
    """What a fit was made from and how: the typed record behind a saved posterior's attrs.

    The only reader and writer of those attrs (`from_attrs`, `to_attrs`); everything else asks
    a `FitInfo` or the `rosetta.Fit` that holds one.
    """

    rosetta_version: str
    spec_json: str
    scale: Scale
    scale_description: str
    likelihood: str
    floors: str
    method: str
    sampler: str
    random_seed: int
    draws: int
    tune: int
    chains: int
    wall_seconds: float
    data_source: str
    data_sha256: str
    n_models: int
    n_benchmarks: int
    n_scores: int
    created_utc: str = ""
    data_dropped: Mapping[str, int] = field(default_factory=dict)
    diagnostics: Mapping = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    n_responses: int | None = None
    n_items: int | None = None
    item_benchmarks: tuple[str, ...] = ()
    batch_size: int | None = None
    selection: Mapping = field(default_factory=dict)
    fit_format: int = FIT_FORMAT

    @property
    def approximate(self) -> bool:
        """A MAP/Laplace or ADVI fit: its draws carry no convergence guarantee."""
        return self.method != "nuts"

    @property
    def converged(self) -> bool | None:
        """Whether the NUTS diagnostics pass; ``None`` for approximate fits (no claim made)."""
        return None if self.approximate else bool(self.diagnostics.get("ok"))

    @property
    def domains(self) -> list[str]:
        """The bifactor domains of the specification (empty for a one-number fit)."""
        return sorted({domain for _, domain in json.loads(self.spec_json).get("domains", [])})

    @property
    def family_effects(self) -> bool:
        """Whether the specification has family effects."""
        return bool(json.loads(self.spec_json).get("family_effects", False))

    @property
    def dimensions(self) -> int:
        """Learned dimensions of the specification (0 for the one-number model)."""
        return int(json.loads(self.spec_json).get("dimensions", 0))

    @property
    def item_level(self) -> bool:
        """A fit of item-level responses."""
        return self.n_responses is not None

    def to_attrs(self) -> dict:
        """The attrs of a saved posterior (numbers and strings; absent optionals left out)."""
        out = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if item.name == "spec_json":
                out["spec"] = value
            elif item.name == "scale":
                out["scale"] = value.to_json()
            elif item.name in _JSON_FIELDS:
                out[item.name] = json.dumps(
                    list(value) if isinstance(value, tuple) else dict(value)
                )
            else:
                out[item.name] = value
        return out

    @classmethod
    def from_attrs(cls, attrs: Mapping) -> FitInfo:
        """Read back what `to_attrs` wrote."""
        known = {item.name: item for item in dataclasses.fields(cls)}
        values = {}
        for name, value in attrs.items():
            name = "spec_json" if name == "spec" else name
            if name not in known:
                continue
            if name == "scale":
                value = Scale.from_json(value)
            elif name in _JSON_FIELDS:
                value = json.loads(value)
                value = tuple(value) if name == "item_benchmarks" else value
            elif isinstance(value, np.generic):
                value = value.item()
            values[name] = value
        return cls(**values)


def fit_info(posterior: xr.Dataset) -> FitInfo:
    """The `FitInfo` of a posterior group (as `load_posterior` returns it)."""
    return FitInfo.from_attrs(posterior.attrs)


#: Posterior variables held in single precision in memory too (thousands per draw).
SINGLE_PRECISION = ("item_difficulty", "item_slope")


def save_fit(idata, path: str | Path) -> Path:
    """Write a fit (`rosetta.Fit` or its InferenceData) to netCDF atomically.

    Posterior draws are written in single precision: seven significant digits are far finer
    than any draw's Monte Carlo error, and the file is half the size. `load_fit` reads them
    back in double precision (but `SINGLE_PRECISION`), so analyses compute as on a fresh fit.

    Parameters
    ----------
    idata
        The `rosetta.Fit` returned by `rosetta.fit`, or its ``.idata``.
    path
        Destination ``.nc`` file; an existing file is replaced only once the new one is complete.

    Returns
    -------
    Path
    """
    idata = getattr(idata, "idata", idata)
    if "rosetta_version" not in idata.posterior.attrs:
        raise ValueError("not a rosetta fit: its posterior lacks the rosetta attrs")
    written = _with_posterior(idata, np.float64, np.float32)
    return write_atomic(path, lambda tmp: written.to_netcdf(str(tmp), engine="h5netcdf"))


def _with_posterior(idata, old, new):
    """``idata`` (its groups shared) with posterior variables of dtype ``old`` cast to ``new``.

    `SINGLE_PRECISION` variables, and any with a value beyond the range of ``new``, stay as
    they are.
    """
    import arviz as az

    posterior = idata.posterior
    largest = np.finfo(new).max
    cast = {
        name: var.astype(new)
        for name, var in posterior.data_vars.items()
        if var.dtype == old
        and name not in SINGLE_PRECISION
        and not (np.abs(var.to_numpy()) > largest).any()  # (a wild draw keeps its precision)
    }
    groups = {group: idata[group] for group in idata.groups()}
    return az.InferenceData(**{**groups, "posterior": posterior.assign(cast)})


def load_fit(path: str | Path):
    """Read a saved fit eagerly (the file is closed afterwards) and check it is a rosetta fit.

    Parameters
    ----------
    path
        A ``.nc`` file written by `save_fit` or ``rosetta fit --out``.

    Returns
    -------
    rosetta.Fit
    """
    from rosetta.fitted import Fit

    return Fit(read_idata(path))


def read_idata(path: str | Path):
    """The checked InferenceData of a saved fit (what `load_fit` wraps in a `rosetta.Fit`)."""
    import arviz as az

    path = _existing(path)
    with _readable(path), az.rc_context({"data.load": "eager"}):
        idata = az.from_netcdf(str(path), engine="h5netcdf")
    check_attrs(idata.posterior.attrs if "posterior" in idata.groups() else {}, path)
    return _with_posterior(idata, np.float32, np.float64)


def scores_of_fit(idata) -> pd.DataFrame:
    """The long score table a fit was made from, rebuilt from its saved groups.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``benchmark``, ``score``, ``floor``, ``n_items``, ``stderr``,
        ``date``, ``compute``, ``compute_source``, ``distilled``: what `rosetta.load_scores`
        reads back.
    """
    const = idata.constant_data
    models = const["model"].to_numpy().astype(str)
    benchmarks = const["benchmark"].to_numpy().astype(str)
    m = const["model_idx"].to_numpy()
    b = const["benchmark_idx"].to_numpy()
    distilled = const["distilled"].to_numpy()[m]
    source = const["compute_source"].to_numpy().astype(str)[m]
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
            "compute_source": pd.array(np.where(source == "", None, source), dtype="string"),
            "distilled": pd.array(
                np.where(np.isnan(distilled), None, distilled == 1), dtype="boolean"
            ),
        }
    )


def load_posterior(path: str | Path) -> xr.Dataset:
    """Read only the posterior group of a saved fit, with xarray alone (no ArviZ, no PyMC).

    The quick path of `rosetta.query`: it skips the posterior predictive draws, which make up
    most of the file. The same checks as `load_fit`.

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
            check_attrs({}, path)
        with xr.open_dataset(path, group="posterior", engine="h5netcdf") as dataset:
            posterior = dataset.load()
    check_attrs(posterior.attrs, path)
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


def check_attrs(attrs: Mapping, path: str | Path) -> None:
    """Raise `IncompatibleFitError` unless ``attrs`` are those of a fit this rosetta reads."""
    if "rosetta_version" not in attrs:
        raise IncompatibleFitError(f"{path} is not a rosetta posterior (no rosetta attrs)")
    if int(attrs.get("fit_format", -1)) != FIT_FORMAT:
        raise IncompatibleFitError(
            f"{path} was written by rosetta {attrs['rosetta_version']} in fit format "
            f"{attrs.get('fit_format')}; this rosetta reads format {FIT_FORMAT}: refit it"
        )
