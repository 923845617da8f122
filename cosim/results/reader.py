"""Read cosim result files (HDF5 layout version 1) into pandas / numpy / xarray.

:func:`read` accepts files from finished runs, failed runs and runs whose writer was
killed (``status == "running"``). Files still marked as open by a writer (live or killed)
are opened in SWMR read mode, the others plainly. The row count is ``len(/time)`` (the
commit marker; more exactly, the shortest series), so a partial flush is never seen.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..errors import ResultsError
from ..units import Display
from ..variables import element_names
from .layout import (
    EVENTS,
    META,
    PARAMETERS,
    ROW_KIND,
    SERIES_NOT_SIGNALS,
    TIME,
    attrs_of,
    check_layout,
    open_result,
    py,
    read_group,
    series_names,
)


@dataclass
class RunData:
    """A run's results: signals as a DataFrame (index "time", seconds) plus metadata.

    ``df.attrs["units"]`` repeats ``units`` for code that only passes the DataFrame on.

    ``status`` is "completed", "failed" (see ``error``) or "running" — the writer stopped
    without finishing (killed, crashed): the rows up to its last flush are all here.
    """

    df: pd.DataFrame
    units: dict[str, str | None] = field(default_factory=dict)
    status: str = "completed"
    error: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_units: dict[str, str | None] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    row_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    signal_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["time", "kind", "name", "description"]))

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame, units: Mapping[str, str | None] | None = None, *,
                       name: str = "", status: str = "completed") -> RunData:
        """Wrap in-memory results: ``df`` indexed by time in seconds, one column per signal."""
        df = df.copy()
        df.index = pd.Index(np.asarray(df.index, dtype=np.float64), name="time")
        df.columns = [str(c) for c in df.columns]
        units = dict(units if units is not None else df.attrs.get("units", {}))
        unknown = sorted(set(units) - set(df.columns))
        if unknown:
            raise ResultsError(f"units given for signals not in the data: {unknown}")
        units = {c: units.get(c) or None for c in df.columns}
        df.attrs["units"] = dict(units)
        return cls(df=df, units=units, status=status,
                   attrs={"name": name, "status": status, "error": ""},
                   row_kind=np.zeros(len(df), dtype=np.int8))

    @property
    def name(self) -> str:
        return str(self.attrs.get("name", ""))

    @property
    def display_units(self) -> dict[str, Display]:
        """Signals with a display unit (``run.display_units``, FMI ``displayUnit``):
        ``{name: Display(unit, scale, offset)}``, from ``/meta/display_units``. Values
        in ``df`` stay in ``units``; ``display.apply(values)`` converts for people."""
        raw = self.meta.get("display_units") or {}
        return {name: Display.from_dict(d) for name, d in raw.items()
                if name in self.df.columns}

    @property
    def signals(self) -> list[str]:
        return list(self.df.columns)

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return (f"<RunData {self.name!r} {self.status}: {len(self.df)} rows x "
                f"{len(self.df.columns)} signals{where}>")

    def _repr_html_(self) -> str:
        from ..reprs import fields, page, signals_table
        t = self.time
        return page(fields(f"RunData {self.name!r}", [
            ("status", self.status), ("error", self.error), ("file", self.path),
            ("time [s]", f"{t[0]:g} .. {t[-1]:g}" if len(t) else None),
            ("rows x signals", f"{len(self.df)} x {len(self.df.columns)}"),
            ("parameters", len(self.parameters) or None),
            ("events", len(self.events) or None)]),
            signals_table(self.df, self.units, self.display_units))

    @property
    def time(self) -> np.ndarray:
        return self.df.index.to_numpy()

    def signal(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(t, y)`` of one signal as numpy arrays."""
        if name not in self.df.columns:
            close = difflib.get_close_matches(name, self.signals, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ResultsError(f"no signal {name!r} in the results{hint}",
                               path=str(self.path) if self.path else None, dataset=name)
        return self.time, self.df[name].to_numpy()

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` on the ``time`` dimension (needs xarray installed).

        Built from the arrays already read, so it works for files still being written or
        left by a killed writer (``xarray.open_dataset`` would see the raw lengths).
        """
        import xarray as xr

        data_vars = {}
        for name in self.df.columns:
            attrs = dict(self.signal_attrs.get(name, {}))
            if self.units.get(name):
                attrs["units"] = self.units[name]
            data_vars[name] = ("time", self.df[name].to_numpy(), attrs)
        data_vars["row_kind"] = ("time", self.row_kind, {})
        coords = {"time": ("time", self.time, {"units": "s"})}
        attrs = {k: v for k, v in self.attrs.items() if isinstance(v, str | int | float)}
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _read_series(f: h5py.File, names: list[str]) -> tuple[int, dict[str, np.ndarray]]:
    """Read every series (time, row_kind, signals) cut to the shortest length; strings
    as str objects."""
    present = [n for n in (*SERIES_NOT_SIGNALS, *names) if n in f]
    n = min(f[name].shape[0] for name in present)
    return n, {name: (f[name].asstr()[:n] if h5py.check_string_dtype(f[name].dtype)
                      else f[name][:n]) for name in present}


def _columns(names: list[str], series: dict[str, np.ndarray], units: dict[str, str | None]
             ) -> tuple[dict[str, np.ndarray], dict[str, str | None]]:
    """DataFrame columns: arrays (time x element datasets) become one column per element."""
    columns, column_units = {}, {}
    for name in names:
        data = series[name]
        if data.ndim == 1:
            columns[name], column_units[name] = data, units[name]
            continue
        flat = data.reshape(len(data), -1)
        for k, element in enumerate(element_names(name, data.shape[1:])):
            columns[element], column_units[element] = flat[:, k], units[name]
    return columns, column_units


def read(path: str | Path) -> RunData:
    """Read a cosim result file (also from a failed or killed run).

    Raises :class:`~cosim.errors.ResultsError` naming the path (and dataset) when the file
    is missing, not HDF5, corrupt, or not a cosim result file.
    """
    p = Path(path)
    f = open_result(p)
    try:
        with f:
            check_layout(f, p)
            return _read_run(f, p)
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ResultsError(f"corrupt or truncated result file: {err}", path=str(p)) from err


def _read_run(f: h5py.File, p: Path) -> RunData:
    names = series_names(f)
    n, series = _read_series(f, names)
    time = series.pop(TIME)
    row_kind = series.pop(ROW_KIND, np.zeros(n, dtype=np.int8))
    signal_attrs = {name: attrs_of(f[name]) for name in names}
    units = {name: (a.pop("units", "") or None) for name, a in signal_attrs.items()}
    columns, units = _columns(names, series, units)
    df = pd.DataFrame(columns, index=pd.Index(time, name="time"), columns=list(columns))
    df.attrs["units"] = dict(units)
    parameters, parameter_units = read_group(f, PARAMETERS)
    meta, _ = read_group(f, META)
    attrs = attrs_of(f)
    data = RunData(df=df, units=units, status=str(attrs.get("status", "running")),
                   error=str(attrs.get("error", "")), attrs=attrs, parameters=parameters,
                   parameter_units=parameter_units, meta=meta, row_kind=row_kind,
                   signal_attrs=signal_attrs, path=p)
    if isinstance(f.get(EVENTS), h5py.Group):
        g = f[EVENTS]
        data.events = pd.DataFrame({"time": g["at"][()]} | {
            key: [py(v) for v in g[key][()]] for key in ("kind", "name", "description")})
    return data
