"""The ``table`` block: replay of measured time series (telemetry) from CSV or HDF5.

The file is read once, on first use (``interface()`` or ``reset()``), validated, and
kept on the instance as a float64 array of shape ``(rows, columns)``. Each step is a
binary search (:func:`numpy.searchsorted`) and one row operation for all columns.

Supported files
---------------
CSV
    A header row with column names, one row per sample; the time column is
    ``time_column``. Only the columns used must be numeric.
HDF5 (detected by content, any suffix)
    * without ``dataset``: the file's root group holds a 1-D ``time_column`` dataset and
      one 1-D dataset per signal, of the same length. Signals in sub-groups are named by
      their path, e.g. ``rack1/T_out``. A cosim result file (root attribute
      ``cosim_layout_version``) replays directly: signals are named ``node.variable``,
      ``/row_kind`` is skipped, and signals are cut to the length of ``/time`` (the
      commit marker of a run that stopped early).
    * ``dataset`` naming a group: the same layout inside that group.
    * ``dataset`` naming a dataset: a table, either with a compound dtype (field names
      are the column names) or 2-D ``(rows, columns)`` with a ``columns`` attribute
      listing the names.
    A dataset's ``units`` (or ``unit``) attribute, if present and not empty, is used as
    the port unit unless the ``units`` parameter says otherwise.

Times are converted to seconds (``time_scale``) and rounded to the master's 1 ns clock
grid, like the query times, so a sample at 0.8 s is hit at the communication point
0.8 s exactly. Time must be non-decreasing; a repeated time marks a jump, and at the
jump time the later row applies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..clock import TICKS_PER_SECOND, to_ticks
from ..errors import ConfigError, SubsystemError
from .base import Block, NativeBlock, Param, Port
from .constant import finite_float

INTERPOLATIONS = ("linear", "previous", "nearest")
EXTRAPOLATIONS = ("hold", "error")
RESULT_NON_SIGNALS = ("row_kind",)  # datasets of a cosim result file that are not signals


@dataclass
class _Raw:
    """Columns as read from a file, before validation."""

    time: np.ndarray
    columns: dict[str, np.ndarray]
    available: list[str]
    units: dict[str, str] = field(default_factory=dict)
    row_label: Any = None  # callable: int -> str


@dataclass(frozen=True)
class Table:
    """A validated table: ``times`` [s] (n,), ``data`` (n, k), ``names`` (k)."""

    times: np.ndarray
    data: np.ndarray
    names: tuple[str, ...]
    units: dict[str, str | None]


class TimeTable(Block):
    """Replays columns of a CSV or HDF5 file as outputs, interpolated in time.

    Parameters
    ----------
    file : str
        CSV or HDF5 file, relative to the topology's folder. Required.
    columns : list of str or None
        Columns to output (default: every column but the time column).
    time_column : str
        Name of the time column (default ``"time"``).
    interpolation : ``"linear"`` | ``"previous"`` | ``"nearest"``
        Between samples: straight line; the last sample at or before t (zero-order
        hold); the closest sample (ties go to the later one).
    scale : float
        Multiplier applied to every output value (default 1), e.g. 1000 for kW -> W.
    time_scale : float
        Seconds per file time unit (default 1; 60 for minutes, 3600 for hours). > 0.
    extrapolation : ``"hold"`` | ``"error"``
        Outside the table's time range: hold the first/last row, or fail the run.
    units : dict or None
        Column -> unit of the output port (after ``scale``).
    dataset : str or None
        HDF5 only: a group or table dataset inside the file (see the module docstring).

    Outputs: one per column, named like the column. No inputs. The output at t
    depends on t only, so the block has no state to save.
    """

    parameters = {
        "file": Param(None, required=True, description="CSV or HDF5 file"),
        "columns": Param(None, description="columns to output (default all but time)"),
        "time_column": Param("time", description="name of the time column"),
        "interpolation": Param("linear", description="linear | previous | nearest"),
        "scale": Param(1.0, description="multiplier for every output value"),
        "time_scale": Param(1.0, unit="s", description="seconds per file time unit"),
        "extrapolation": Param("hold", description="hold | error outside the time range"),
        "units": Param(None, description="column -> unit"),
        "dataset": Param(None, description="HDF5: group or table dataset in the file"),
    }
    feedthrough = {}

    def __init__(self, **params):
        super().__init__(**params)
        self._table: Table | None = None
        self._native_par: np.ndarray | None = None
        self._check_parameters()

    # -- parameters ----------------------------------------------------------------

    def _bad(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"TimeTable: parameter {name!r} {message}", field=name)

    def _check_parameters(self) -> None:
        if not isinstance(self.file, str | Path) or not str(self.file):
            raise self._bad("file", f"must be a file name, got {self.file!r}")
        if isinstance(self.columns, str):
            self.columns = [self.columns]
        if self.columns is not None:
            if not isinstance(self.columns, list | tuple) or not self.columns or not all(
                    isinstance(c, str) and c for c in self.columns):
                raise self._bad("columns", f"must be a non-empty list of column names, "
                                           f"got {self.columns!r}")
            dupes = sorted({c for c in self.columns if list(self.columns).count(c) > 1})
            if dupes:
                raise self._bad("columns", f"lists {', '.join(dupes)} more than once")
            self.columns = list(self.columns)
        if not isinstance(self.time_column, str) or not self.time_column:
            raise self._bad("time_column", f"must be a column name, got {self.time_column!r}")
        self._check_choice("interpolation", INTERPOLATIONS)
        self._check_choice("extrapolation", EXTRAPOLATIONS)
        self.scale = finite_float(self, "scale", self.scale)
        self.time_scale = finite_float(self, "time_scale", self.time_scale)
        if self.time_scale <= 0:
            raise self._bad("time_scale", f"must be > 0 (seconds per file time unit), "
                                          f"got {self.time_scale!r}")
        if self.units is not None and not (isinstance(self.units, Mapping) and all(
                isinstance(k, str) and (v is None or isinstance(v, str))
                for k, v in self.units.items())):
            raise self._bad("units", f"must map column names to unit strings, got {self.units!r}")
        if self.dataset is not None and not isinstance(self.dataset, str):
            raise self._bad("dataset", f"must be a path inside the HDF5 file, got {self.dataset!r}")

    def _check_choice(self, name: str, choices: Sequence[str]) -> None:
        value = getattr(self, name)
        if value not in choices:
            raise self._bad(name, f"must be one of {', '.join(choices)}; got {value!r}")

    # -- loading -------------------------------------------------------------------

    @property
    def table(self) -> Table:
        """The validated table, read from the file on first access."""
        if self._table is None:
            self._table = self._load()
        return self._table

    def _load(self) -> Table:
        path = self.resolve_path(self.file)
        if not path.is_file():
            raise ConfigError(f"TimeTable: file not found (parameter 'file' = {str(self.file)!r}"
                              f", relative to {self.base_dir})", file=str(path), field="file")
        import h5py

        if h5py.is_hdf5(path):
            raw = _read_hdf5(path, self.dataset, self.time_column, self.columns)
        else:
            if self.dataset is not None:
                raise ConfigError("TimeTable: parameter 'dataset' applies to HDF5 files only, "
                                  "and this file is not HDF5", file=str(path), field="dataset")
            raw = _read_csv(path, self.time_column, self.columns)
        return self._validate(path, raw)

    def _validate(self, path: Path, raw: _Raw) -> Table:
        names = list(self.columns) if self.columns is not None else list(raw.available)
        _check_columns(path, names, raw.available, self.time_column, set(self.parameters))
        if not names:
            raise ConfigError(f"TimeTable: no data columns besides {self.time_column!r}",
                              file=str(path), field="columns")
        if raw.time.size == 0:
            raise ConfigError("TimeTable: the table has no rows", file=str(path))
        _check_finite(path, self.time_column, raw.time, raw.row_label)
        for name in names:
            _check_finite(path, name, raw.columns[name], raw.row_label)
        decreasing = np.flatnonzero(np.diff(raw.time) < 0)
        if decreasing.size:
            i = int(decreasing[0]) + 1
            raise ConfigError(
                f"TimeTable: time column {self.time_column!r} is not monotonic: at "
                f"{raw.row_label(i)} time {raw.time[i]:g} is before {raw.time[i - 1]:g} of "
                f"the row above; sort the file by time", file=str(path), field="file")
        units = dict(self.units or {})
        unknown = sorted(set(units) - set(names))
        if unknown:
            raise ConfigError(f"TimeTable: parameter 'units' names {', '.join(unknown)}, which "
                              f"is not an output column (outputs: {', '.join(names)})",
                              file=str(path), field="units")
        seconds = raw.time.astype(np.float64) * self.time_scale
        times = np.round(seconds * TICKS_PER_SECOND) / TICKS_PER_SECOND
        data = np.ascontiguousarray(
            np.column_stack([raw.columns[n].astype(np.float64) for n in names]) * self.scale)
        unit_of = {n: units.get(n, raw.units.get(n)) for n in names}
        times.setflags(write=False)
        data.setflags(write=False)
        return Table(times, data, tuple(names), unit_of)

    # -- block contract --------------------------------------------------------------

    def port_declarations(self):
        table = self.table
        outputs = {name: Port(unit=table.units[name], start=float(table.data[0, j]),
                              description=f"column {name!r} of {self.file}")
                   for j, name in enumerate(table.names)}
        return {}, outputs

    def time_range(self) -> tuple[float, float] | None:
        """With ``extrapolation: error``, the table's first and last time [s]."""
        if self.extrapolation != "error":
            return None
        return float(self.table.times[0]), float(self.table.times[-1])

    def reset(self, t0: float) -> None:
        self.table  # noqa: B018 - read and validate the file now, not in the first step

    def values_at(self, t: float) -> np.ndarray:
        """Every output column at time ``t`` [s], as a read-only array."""
        table = self.table
        times, data = table.times, table.data
        tq = to_ticks(t) / TICKS_PER_SECOND
        if tq < times[0] or tq > times[-1]:
            if self.extrapolation == "error":
                raise SubsystemError(
                    f"TimeTable: t = {t:g} s is outside the table {self.file} "
                    f"({times[0]:g} s to {times[-1]:g} s) and extrapolation is 'error'",
                    time=t)
            return data[0] if tq < times[0] else data[-1]
        i = int(np.searchsorted(times, tq, side="right")) - 1  # times[i] <= tq
        if i >= len(times) - 1:
            return data[-1]
        if self.interpolation == "previous":
            return data[i]
        t_lo, t_hi = times[i], times[i + 1]  # t_lo <= tq < t_hi
        if self.interpolation == "nearest":
            return data[i + 1] if tq - t_lo >= t_hi - tq else data[i]
        w = (tq - t_lo) / (t_hi - t_lo)
        return data[i] + w * (data[i + 1] - data[i])

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> dict[str, float]:
        return dict(zip(self.table.names, self.values_at(t + dt).tolist(), strict=True))

    # -- the compiled loop -----------------------------------------------------------------

    NATIVE_METHODS = ("step", "initialize", "values_at")

    def native(self) -> NativeBlock:
        """``par`` = times (n) then data (n x k, row-major); ``ipar`` = n, k,
        interpolation (index in INTERPOLATIONS), extrapolation is "error"; ``state`` = a
        row hint (the kernel's search starts there)."""
        self.require_native(TimeTable)
        table = self.table
        if self._native_par is None:  # built once: tables can be large
            self._native_par = np.concatenate([table.times, table.data.ravel()])
        n, k = table.data.shape
        ipar = [n, k, INTERPOLATIONS.index(self.interpolation),
                int(self.extrapolation == "error")]
        return NativeBlock("table", self._native_par, [], list(table.names), ipar=ipar)

    def save_state(self) -> None:
        """Nothing to save: the outputs depend on time only (the table is cached)."""
        return None

    def restore_state(self, state: object) -> None:
        pass


# -- readers ------------------------------------------------------------------------


def _check_columns(path: Path, names: list[str], available: list[str], time_column: str,
                   parameter_names: set[str]) -> None:
    missing = [n for n in names if n not in available]
    if missing:
        listed = ", ".join(available) if available else "none"
        raise ConfigError(f"TimeTable: column {', '.join(map(repr, missing))} not in the file "
                          f"(available columns: {listed})", file=str(path), field="columns")
    if time_column in names:
        raise ConfigError(f"TimeTable: the time column {time_column!r} cannot also be an "
                          f"output column", file=str(path), field="columns")
    clash = sorted(set(names) & parameter_names)
    if clash:
        raise ConfigError(f"TimeTable: column {', '.join(map(repr, clash))} has the name of a "
                          f"TimeTable parameter; rename the column in the file",
                          file=str(path), field="columns")


def _check_finite(path: Path, name: str, values: np.ndarray, row_label) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        what = "missing or NaN" if math.isnan(values[i]) else f"{values[i]}"
        more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
        raise ConfigError(f"TimeTable: column {name!r} is {what} at {row_label(i)}{more}",
                          file=str(path), field="columns")


def _read_csv(path: Path, time_column: str, columns: list[str] | None) -> _Raw:
    import pandas as pd

    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(f"TimeTable: cannot read the file as CSV: {err}",
                          file=str(path)) from err
    frame.columns = [str(c).strip() for c in frame.columns]
    names = [str(c) for c in frame.columns]
    if time_column not in names:
        raise ConfigError(f"TimeTable: no time column {time_column!r} in the file (columns: "
                          f"{', '.join(names)}); set parameter 'time_column'",
                          file=str(path), field="time_column")
    available = [n for n in names if n != time_column]
    wanted = available if columns is None else [c for c in columns if c in available]

    def row_label(i: int) -> str:
        return f"data row {i + 1}"

    def numeric(name: str) -> np.ndarray:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isnan(values) & frame[name].notna().to_numpy())
        if bad.size:
            i = int(bad[0])
            raise ConfigError(f"TimeTable: column {name!r} is not numeric: "
                              f"{frame[name].iloc[i]!r} at {row_label(i)}",
                              file=str(path), field="columns")
        return values

    return _Raw(numeric(time_column), {n: numeric(n) for n in wanted}, available,
                row_label=row_label)


def _read_hdf5(path: Path, dataset: str | None, time_column: str,
               columns: list[str] | None) -> _Raw:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            node = f
            if dataset is not None:
                if dataset not in f:
                    raise ConfigError(f"TimeTable: no dataset or group {dataset!r} in the file "
                                      f"(top level: {', '.join(f.keys()) or 'empty'})",
                                      file=str(path), field="dataset")
                node = f[dataset]
            if isinstance(node, h5py.Group):
                return _read_group(path, node, time_column, columns)
            return _read_table_dataset(path, node, time_column, columns)
    except OSError as err:
        raise ConfigError(f"TimeTable: cannot read the HDF5 file: {err}",
                          file=str(path)) from err


def _read_group(path: Path, group, time_column: str, columns: list[str] | None) -> _Raw:
    import h5py

    if time_column not in group or not isinstance(group[time_column], h5py.Dataset):
        raise ConfigError(f"TimeTable: no time dataset {time_column!r} in HDF5 group "
                          f"{group.name!r} (members: {', '.join(group.keys()) or 'none'}); "
                          f"set parameter 'time_column' or 'dataset'",
                          file=str(path), field="time_column")
    time = np.asarray(group[time_column][()], dtype=np.float64)
    if time.ndim != 1:
        raise ConfigError(f"TimeTable: time dataset {group[time_column].name!r} has shape "
                          f"{time.shape}; it must be 1-D", file=str(path), field="time_column")
    n = time.shape[0]
    # A cosim result file (written while the run goes) may have signals longer than
    # /time after a crash, and /time may end in NaN padding: /time is the commit
    # marker, so cut everything to its finite rows.
    is_result = "cosim_layout_version" in group.attrs
    if is_result and n > 0:
        finite = np.flatnonzero(np.isfinite(time))
        n = int(finite[-1]) + 1 if finite.size else 0
        time = time[:n]
    skip = {time_column, *RESULT_NON_SIGNALS} if is_result else {time_column}
    available: list[str] = []

    def visit(name: str, obj) -> None:
        if (isinstance(obj, h5py.Dataset) and name not in skip and obj.ndim == 1
                and obj.dtype.kind in "fiub"
                and (obj.shape[0] >= n if is_result else obj.shape[0] == n)):
            available.append(name)

    group.visititems(visit)
    wanted = available if columns is None else [c for c in columns if c in available]
    data = {name: np.asarray(group[name][:n], dtype=np.float64) for name in wanted}
    units = {}
    for name in wanted:
        unit = group[name].attrs.get("units", group[name].attrs.get("unit"))
        if unit is not None and _attr_str(unit):
            units[name] = _attr_str(unit)
    return _Raw(time, data, available, units,
                row_label=lambda i: f"row {i} (0-based) of {group.name}")


def _read_table_dataset(path: Path, ds, time_column: str, columns: list[str] | None) -> _Raw:
    if ds.dtype.names:
        array = ds[()]
        names = [n for n in ds.dtype.names if ds.dtype[n].kind in "fiub"]
        values = {name: np.asarray(array[name], dtype=np.float64).reshape(-1) for name in names}
    elif ds.ndim == 2 and "columns" in ds.attrs:
        names = [_attr_str(c) for c in ds.attrs["columns"]]
        if len(names) != ds.shape[1]:
            raise ConfigError(f"TimeTable: dataset {ds.name!r} has {ds.shape[1]} columns but "
                              f"its 'columns' attribute names {len(names)}", file=str(path),
                              field="dataset")
        array = np.asarray(ds[()], dtype=np.float64)
        values = {name: array[:, j] for j, name in enumerate(names)}
    else:
        raise ConfigError(f"TimeTable: dataset {ds.name!r} (shape {ds.shape}) is not a table: "
                          f"use a compound dtype with named fields, a 2-D dataset with a "
                          f"'columns' attribute, or a group of 1-D datasets",
                          file=str(path), field="dataset")
    if time_column not in values:
        raise ConfigError(f"TimeTable: no time column {time_column!r} in dataset {ds.name!r} "
                          f"(columns: {', '.join(names)}); set parameter 'time_column'",
                          file=str(path), field="time_column")
    available = [n for n in names if n != time_column]
    wanted = available if columns is None else [c for c in columns if c in available]
    return _Raw(values[time_column], {n: values[n] for n in wanted}, available,
                row_label=lambda i: f"row {i} (0-based) of {ds.name}")


def _attr_str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.shape == ():
        return _attr_str(value.item())
    return str(value)
