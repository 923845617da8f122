"""The one HDF5 layout of cosim's files: names, attributes, row kinds, value encodings.

Used by the run recorder (:mod:`cosim.observers.hdf5`), the reader
(:mod:`cosim.results.reader`), the comparator (:mod:`cosim.comparison.sources`) and the
study store (:mod:`cosim.studies.store`), so a name or an encoding is defined once.

Result files (layout version 1; ``docs/results-format.md``)::

    /                       attrs: cosim_layout_version, name, start, stop, step,
                                   algorithm, created, status, error (+ finished, n_rows)
    /time                   float64 [n], dimension scale "time", units "s"
    /<node>.<variable>      one dataset per signal, attached to /time
    /row_kind               int8 [n] (RowKind), attached to /time
    /parameters/<node>.<p>  scalar, attr units
    /meta/<key>             scalar (dicts and lists as JSON strings, attr encoding="json")
    /events/{at,kind,name,description}

Files are written with :data:`LIBVER` so that HDF5 1.10 tools read them, with gzip and
shuffle filters only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ResultsError

LAYOUT_VERSION = 1
SUPPORTED_LAYOUTS = (1,)
LIBVER = ("v110", "v110")

VERSION_ATTR = "cosim_layout_version"
TIME, ROW_KIND, PARAMETERS, META, EVENTS = "time", "row_kind", "parameters", "meta", "events"
#: root names that are not signals
RESERVED = frozenset({TIME, ROW_KIND, PARAMETERS, META, EVENTS})
SERIES_NOT_SIGNALS = (TIME, ROW_KIND)
#: attributes HDF5 dimension scales add; not user metadata
DIMENSION_ATTRS = ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid")

#: run status values in the root attribute ``status``
RUNNING, COMPLETED, FAILED, TERMINATED = "running", "completed", "failed", "terminated"


class RowKind(IntEnum):
    """Why a row was recorded (stored as int8 in ``/row_kind``)."""

    COMMUNICATION_POINT = 0
    EVENT_BEFORE = 1
    EVENT_AFTER = 2
    EARLY_RETURN = 3


class RowKinds(np.ndarray):
    """The row kinds of a DataFrame's rows (``df.attrs["row_kind"]``): an int8 array that
    compares element-wise with numbers, and as a whole with another RowKinds (so pandas
    can compare the ``attrs`` of frames it concatenates)."""

    def __new__(cls, values: Any) -> RowKinds:
        return np.asarray(values, dtype=np.int8).view(cls)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        if isinstance(other, RowKinds):
            return bool(np.array_equal(self.view(np.ndarray), other.view(np.ndarray)))
        return self.view(np.ndarray) == other

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        if isinstance(other, RowKinds):
            return not self == other
        return self.view(np.ndarray) != other

    __hash__ = None  # type: ignore[assignment]


#: HDF5 dtype of a recorded signal, by variable kind
DTYPES: dict[str, Any] = {"real": np.float64, "integer": np.int64, "boolean": np.int8}


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC with milliseconds (``...Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_name(name: str, what: str, path: Path | str) -> None:
    """Raise ResultsError if ``name`` cannot be an HDF5 dataset name."""
    if not name or "/" in name or name in (".", ".."):
        raise ResultsError(f"{what} name {name!r} cannot be stored in HDF5 "
                           f"(empty, '.', '..' or containing '/')", path=str(path))


# -- scalar values (parameters, meta) ----------------------------------------------------


def _jsonable(obj: Any) -> Any:
    return obj.tolist() if isinstance(obj, np.ndarray | np.generic) else str(obj)


def write_scalar(group: h5py.Group, name: str, value: Any) -> h5py.Dataset:
    """Store one value as a scalar dataset: strings and numbers as such, booleans as int8
    with ``encoding="boolean"``, anything else as JSON with ``encoding="json"``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        ds = group.create_dataset(name, data=np.int8(value))
        ds.attrs["encoding"] = "boolean"
    elif isinstance(value, str):
        ds = group.create_dataset(name, data=value, dtype=h5py.string_dtype())
    elif isinstance(value, float) or (isinstance(value, int) and -2**63 <= value < 2**63):
        ds = group.create_dataset(name, data=value)
    else:
        ds = group.create_dataset(name, data=json.dumps(value, default=_jsonable),
                                  dtype=h5py.string_dtype())
        ds.attrs["encoding"] = "json"
    return ds


def py(value: Any) -> Any:
    """An HDF5 attribute or scalar as a plain Python value."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [py(v) for v in value.tolist()] if value.dtype.kind in "OS" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_scalar(ds: h5py.Dataset) -> Any:
    """The value :func:`write_scalar` stored."""
    value = py(ds[()])
    encoding = py(ds.attrs.get("encoding", ""))
    if encoding == "json":
        return json.loads(value)
    if encoding == "boolean":
        return bool(value)
    return value


def attrs_of(obj: h5py.HLObject) -> dict[str, Any]:
    """An object's attributes as plain values, without the dimension-scale bookkeeping."""
    return {k: py(v) for k, v in obj.attrs.items() if k not in DIMENSION_ATTRS}


def read_group(f: h5py.File, group: str) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Scalars of ``/group`` and their units (``/parameters``, ``/meta``)."""
    values: dict[str, Any] = {}
    units: dict[str, str | None] = {}
    g = f.get(group)
    if not isinstance(g, h5py.Group):
        return values, units
    for name, ds in g.items():
        if isinstance(ds, h5py.Dataset):
            values[name] = read_scalar(ds)
            units[name] = py(ds.attrs.get("units", "")) or None
    return values, units


# -- signals -------------------------------------------------------------------------------


def signal_attributes(signal: Any) -> dict[str, Any]:
    """The attributes of a signal's dataset (units, kind, FMI type, causality, node,
    variable, description; nominal when known) for a :class:`~cosim.variables.Signal`."""
    var = signal.variable
    attrs = {"units": var.unit or "", "kind": var.kind, "fmi_type": var.fmi_type or "",
             "causality": var.causality, "node": signal.node, "variable": var.name,
             "description": var.description or ""}
    if var.nominal is not None and np.isfinite(float(var.nominal)):
        attrs["nominal"] = float(var.nominal)
    return attrs


def series_names(f: h5py.File) -> list[str]:
    """The recorded signals of a result file, in file order (arrays are datasets of two
    or more dimensions: time x element)."""
    return [name for name, obj in f.items()
            if isinstance(obj, h5py.Dataset) and obj.ndim >= 1 and name not in RESERVED]


def numeric_series_names(f: h5py.File) -> list[str]:
    """The scalar numeric signals (what the regression tube compares)."""
    return [name for name in series_names(f)
            if f[name].ndim == 1 and f[name].dtype.kind in "fiub"]


# -- opening ---------------------------------------------------------------------------------


def open_result(p: Path) -> h5py.File:
    """Open a result file for reading; SWMR mode only for files marked open by a writer
    (live, or killed): SWMR retries on checksum errors and would hang on a corrupt file."""
    if not p.exists():
        raise ResultsError("no such file", path=str(p))
    if not p.is_file():
        raise ResultsError("not a file", path=str(p))
    try:
        is_hdf5 = h5py.is_hdf5(p)
    except OSError as err:
        raise ResultsError(f"cannot read: {err}", path=str(p)) from err
    if not is_hdf5:
        raise ResultsError("not an HDF5 file", path=str(p))
    try:
        return h5py.File(p, "r")
    except OSError as err:
        if "already open" not in str(err):
            raise ResultsError(f"corrupt or truncated HDF5 file, cannot open it ({err})",
                               path=str(p)) from err
    try:
        return h5py.File(p, "r", swmr=True)
    except OSError as err:
        raise ResultsError(f"file is still being created by its writer or is corrupt, "
                           f"cannot open it in SWMR mode ({err})", path=str(p)) from err


def check_layout(f: h5py.File, p: Path) -> None:
    """Raise ResultsError unless ``f`` is a cosim result file of a supported layout."""
    if VERSION_ATTR not in f.attrs:
        raise ResultsError(f"no {VERSION_ATTR} attribute: not a cosim result file",
                           path=str(p))
    version = py(f.attrs[VERSION_ATTR])
    if version not in SUPPORTED_LAYOUTS:
        raise ResultsError(f"layout version {version} not supported (this cosim reads "
                           f"{', '.join(map(str, SUPPORTED_LAYOUTS))}): upgrade cosim",
                           path=str(p))
    if not isinstance(f.get(TIME), h5py.Dataset):
        raise ResultsError(f"no /{TIME} dataset: not a cosim result file", path=str(p))
