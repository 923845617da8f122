"""Reading measured data: CSV, HDF5 and Parquet files into one :class:`Table`.

Units of columns, in order of precedence: the telemetry spec (``signals.<s>.unit``,
then ``units:``), the file itself, and a sidecar file.

* CSV: a header ``name [unit]`` (e.g. ``T_cpu_1 [degC]``) gives the column ``name`` in
  ``unit``; a sidecar ``<stem>.units.yaml`` (a mapping ``column: unit``) beside the file
  gives units of the others. Lines starting with ``#`` are comments.
* HDF5: every 1-D dataset of ``group`` is a column; its ``units`` (or ``unit``)
  attribute is its unit. A cosim result file is a telemetry file too.
* Parquet (pyarrow): a column's field metadata ``unit`` (or ``units``), or the
  sidecar. Timestamp columns are read as datetimes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError

_HEADER_UNIT = re.compile(r"^\s*(?P<name>.*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
FORMATS = {".csv": "csv", ".txt": "csv", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5",
           ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class Table:
    """Columns of one or more files, as read: ``columns[name]`` arrays of one length,
    ``units[name]`` (None: the file does not say), and where they came from."""

    columns: dict[str, np.ndarray]
    units: dict[str, str | None] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def file_format(path: Path, given: str | None) -> str:
    if given:
        return given
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"cannot tell the format of {path.name} from its extension: set "
                          "'format' (csv, hdf5 or parquet)", file=str(path))
    return fmt


def read_table(path: Path, fmt: str | None = None, group: str = "/") -> Table:
    """One telemetry file as a :class:`Table` (raises ConfigError naming the file)."""
    if not path.is_file():
        raise ConfigError("telemetry file not found", file=str(path))
    kind = file_format(path, fmt)
    try:
        if kind == "csv":
            table = _read_csv(path)
        elif kind == "hdf5":
            table = _read_hdf5(path, group)
        else:
            table = _read_parquet(path)
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError,
            pd.errors.ParserError) as err:
        raise ConfigError(f"cannot read telemetry ({kind}): {err}", file=str(path)) from None
    sidecar = _sidecar_units(path)
    for name, unit in sidecar.items():
        if name in table.columns and not table.units.get(name):
            table.units[name] = unit
    table.sources = [str(path)]
    if not table.columns:
        raise ConfigError(f"no columns in this {kind} file", file=str(path))
    return table


def _read_csv(path: Path) -> Table:
    df = pd.read_csv(path, comment="#", skipinitialspace=True)
    columns: dict[str, np.ndarray] = {}
    units: dict[str, str | None] = {}
    for raw in df.columns:
        m = _HEADER_UNIT.match(str(raw))
        name, unit = (m["name"], m["unit"].strip() or None) if m else (str(raw).strip(), None)
        if name in columns:
            raise ConfigError(f"column {name!r} appears twice in the header", file=str(path))
        series = df[raw]
        columns[name] = series.to_numpy(dtype=np.float64) if series.dtype.kind in "iuf" \
            else series.to_numpy(dtype=object)
        units[name] = unit
    return Table(columns, units)


def _read_hdf5(path: Path, group: str) -> Table:
    import h5py
    with h5py.File(path, "r") as f:
        g = f.get(group)
        if not isinstance(g, h5py.Group):
            raise ConfigError(f"no HDF5 group {group!r} (set 'group')", file=str(path))
        columns: dict[str, np.ndarray] = {}
        units: dict[str, str | None] = {}
        for name, ds in g.items():
            if not isinstance(ds, h5py.Dataset) or ds.ndim != 1:
                continue
            data = ds[()]
            if data.dtype.kind in "SO":
                data = np.array([v.decode() if isinstance(v, bytes) else v for v in data],
                                dtype=object)
            else:
                data = data.astype(np.float64)
            columns[name] = data
            unit = ds.attrs.get("units", ds.attrs.get("unit", ""))
            unit = unit.decode() if isinstance(unit, bytes) else str(unit)
            units[name] = unit or None
    n = min((len(v) for v in columns.values()), default=0)  # a live writer: shortest
    return Table({k: v[:n] for k, v in columns.items()}, units)


def _read_parquet(path: Path) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("reading Parquet needs pyarrow: pip install cosim[parquet]",
                          file=str(path)) from None
    table = pq.read_table(path)
    columns: dict[str, np.ndarray] = {}
    units: dict[str, str | None] = {}
    for fld, col in zip(table.schema, table.columns, strict=True):
        meta = {k.decode(): v.decode() for k, v in (fld.metadata or {}).items()}
        series = col.to_pandas()
        if series.dtype.kind == "M":
            columns[fld.name] = series.to_numpy()
        elif series.dtype.kind in "iufb":
            columns[fld.name] = series.to_numpy(dtype=np.float64)
        else:
            columns[fld.name] = series.to_numpy(dtype=object)
        units[fld.name] = meta.get("unit") or meta.get("units") or None
    return Table(columns, units)


def _sidecar_units(path: Path) -> dict[str, str]:
    side = path.with_name(f"{path.stem}.units.yaml")
    if not side.is_file():
        return {}
    from ..topology import yamlio
    data, _, where, _ = yamlio.read_mapping(side, "units file", "column: unit entries")
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise ConfigError(f"the unit of {bad[0]!r} must be a string", file=where(bad[0]))
    return {str(k): v for k, v in data.items()}


def merge(tables: list[Table], time_column: str) -> Table:
    """Several files as one table: rows stacked (columns a file lacks are NaN)."""
    if len(tables) == 1:
        return tables[0]
    names: list[str] = []
    for t in tables:
        names += [c for c in t.columns if c not in names]
    columns: dict[str, np.ndarray] = {}
    for name in names:
        parts = []
        for t in tables:
            if name in t.columns:
                parts.append(t.columns[name])
            elif name == time_column:
                raise ConfigError(f"{t.sources[0]} has no time column {time_column!r}",
                                  file=t.sources[0])
            else:
                parts.append(np.full(len(t), np.nan))
        kinds = {p.dtype.kind for p in parts}
        columns[name] = np.concatenate(parts if kinds <= set("f") else
                                       [p.astype(object) for p in parts])
    units: dict[str, str | None] = {}
    for t in tables:
        for name, unit in t.units.items():
            if unit and units.get(name) and units[name] != unit:
                raise ConfigError(f"column {name!r} is in {units[name]!r} in one telemetry "
                                  f"file and in {unit!r} in {t.sources[0]}",
                                  file=t.sources[0])
            units[name] = units.get(name) or unit
    return Table(columns, units, [s for t in tables for s in t.sources])
