"""Where compared signals come from: HDF5 result files (streamed), CSV, DataFrames.

Every source offers the same small interface, row ranges in, numpy arrays out:
``n`` rows, ``signals``, ``time(i0, i1)``, ``values(name, i0, i1)``,
``searchsorted(t, side)``, plus per-signal ``kind`` and ``nominal``. HDF5 sources never
hold more than the requested rows (and a few cached 4096-row pages of ``/time`` for
searching), so memory does not grow with the run length. Arrays handed out may be views
of the caller's data: the comparison never writes to them.
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..errors import ResultsError
from ..results.layout import (
    META,
    PARAMETERS,
    ROW_KIND,
    TIME,
    attrs_of,
    check_layout,
    numeric_series_names,
    open_result,
    read_group,
)
from ..results.reader import RunData

_PAGE = 4096
CHUNK_CACHE_BYTES = 128 * 1024  # per dataset
_DISCRETE_KINDS = ("integer", "boolean", "enumeration")


class Source:
    """Base: a time axis and named signals, read by row ranges."""

    label: str = ""
    path: Path | None = None
    n: int = 0
    signals: list[str]
    algorithm: str = ""

    def time(self, i0: int, i1: int) -> np.ndarray:
        raise NotImplementedError

    def values(self, name: str, i0: int, i1: int) -> np.ndarray:
        """Rows ``[i0, i1)`` of a signal; valid until the next ``values`` call."""
        raise NotImplementedError

    def searchsorted(self, t: float, side: str = "left") -> int:
        raise NotImplementedError

    def kind(self, name: str) -> str | None:
        return None

    def nominal(self, name: str) -> float | None:
        return None

    def unit(self, name: str) -> str | None:
        return None

    def parameters(self) -> dict[str, tuple[Any, str | None]] | None:
        """The parameter values the run used, ``{name: (value, unit)}``; None when the
        source does not know them (a CSV, a bare DataFrame)."""
        return None

    def close(self) -> None:
        pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def error(self, message: str, dataset: str | None = None) -> ResultsError:
        return ResultsError(message, path=self.label, dataset=dataset)

    def first_last(self) -> tuple[float, float]:
        return float(self.time(0, 1)[0]), float(self.time(self.n - 1, self.n)[0])


def _numeric(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.bool_:
        return arr.astype(np.int8)
    return arr


class FrameSource(Source):
    """An in-memory DataFrame (index = time [s]) or a :class:`RunData`."""

    def __init__(self, data: pd.DataFrame | RunData, label: str = "<DataFrame>"):
        run = data if isinstance(data, RunData) else None
        df = run.df if run is not None else data
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"expected a DataFrame or RunData, not {type(df).__name__}")
        self.label = str(run.path) if run is not None and run.path else label
        self.path = run.path if run is not None else None
        self._t = np.asarray(df.index, dtype=np.float64)
        self._cols = {str(c): df[c].to_numpy() for c in df.columns}
        bad = [c for c, v in self._cols.items() if v.dtype.kind not in "biuf"]
        if bad:
            raise self.error(f"non-numeric column(s) {bad[:5]}")
        self.signals = list(self._cols)
        self.n = len(self._t)
        self._attrs = dict(run.signal_attrs) if run is not None else {}
        self._parameters = None if run is None else {
            k: (v, run.parameter_units.get(k)) for k, v in run.parameters.items()}
        self._units = dict(run.units) if run is not None else dict(df.attrs.get("units", {}))
        self.algorithm = str(run.attrs.get("algorithm", "")) if run is not None else ""
        self._dtype_kind = {c: v.dtype.kind for c, v in self._cols.items()}

    def time(self, i0: int, i1: int) -> np.ndarray:
        return self._t[i0:i1]

    def values(self, name: str, i0: int, i1: int) -> np.ndarray:
        return _numeric(self._cols[name][i0:i1])

    def searchsorted(self, t: float, side: str = "left") -> int:
        return int(np.searchsorted(self._t, t, side=side))  # type: ignore[call-overload]

    def kind(self, name: str) -> str | None:
        kind = self._attrs.get(name, {}).get("kind")
        if kind:
            return str(kind)
        dk = self._dtype_kind.get(name)
        if dk == "b":
            return "boolean"
        if dk in ("i", "u"):
            return "integer"
        return None

    def nominal(self, name: str) -> float | None:
        value = self._attrs.get(name, {}).get("nominal")
        return float(value) if isinstance(value, int | float) else None

    def unit(self, name: str) -> str | None:
        return self._units.get(name)

    def parameters(self) -> dict[str, tuple[Any, str | None]] | None:
        return self._parameters


class CSVSource(FrameSource):
    """A CSV in the FMI cross-check convention: first column time, one per variable.

    Kinds are not inferred from CSV (``1`` may be a real value): declare discrete
    signals in the tolerance file.
    """

    def __init__(self, path: str | Path):
        p = Path(path)
        if not p.is_file():
            raise ResultsError("no such file" if not p.exists() else "not a file", path=str(p))
        try:
            df = pd.read_csv(p, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                ValueError, OSError) as err:
            raise ResultsError(f"not a CSV result file: {err}", path=str(p)) from None
        if df.shape[1] < 1:
            raise ResultsError("not a CSV result file: no columns", path=str(p))
        first = str(df.columns[0]).strip().strip('"')
        if first.lower() != "time":
            raise ResultsError(f"not a CSV result file: the first column must be 'time', "
                               f"found {first!r}", path=str(p))
        df.columns = [str(c).strip().strip('"') for c in df.columns]
        try:
            frame = df.set_index(df.columns[0]).apply(pd.to_numeric)
            time_index = pd.to_numeric(frame.index)
        except (ValueError, TypeError) as err:
            raise ResultsError(f"not a CSV result file: non-numeric cell ({err})",
                               path=str(p)) from None
        frame.index = time_index
        super().__init__(frame, label=str(p))
        self.path = p
        self._dtype_kind = {}


class HDF5Source(Source):
    """A cosim result file, read row range by row range (never whole)."""

    def __init__(self, path: str | Path):
        p = Path(path)
        self.path, self.label = p, str(p)
        self._file = _open_small_cache(p)
        try:
            self._setup()
        except ResultsError:
            self.close()
            raise
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
            self.close()
            raise ResultsError(f"corrupt or truncated result file: {err}", path=str(p)) from err

    def _setup(self) -> None:
        f = self._file
        check_layout(f, self.path)
        self.signals = numeric_series_names(f)
        present = [TIME, *([ROW_KIND] if ROW_KIND in f else []), *self.signals]
        lengths = {name: f[name].shape[0] for name in present}
        self.n = min(lengths.values())
        if self.n == 0:
            empty = [name for name, k in lengths.items() if k == 0]
            what = "signal " + ", ".join(repr(e) for e in empty[:3]) if empty[0] != TIME \
                else "/time"
            raise ResultsError(f"no samples: {what} is empty", path=self.label)
        self._ds = {name: f[name] for name in self.signals}
        self._time = f[TIME]
        self._sattrs = {name: attrs_of(f[name]) for name in self.signals}
        self.algorithm = _algorithm(attrs_of(f), f)
        self._pages: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bufs: dict[np.dtype, np.ndarray] = {}

    def parameters(self) -> dict[str, tuple[Any, str | None]] | None:
        if self._file is not None:
            values, units = read_group(self._file, PARAMETERS)
        else:  # closed while the signals were compared in other processes
            with _open_small_cache(self.path) as f:
                values, units = read_group(f, PARAMETERS)
        return {k: (v, units.get(k)) for k, v in values.items()}

    def close(self) -> None:
        f = getattr(self, "_file", None)
        if f is not None:
            with contextlib.suppress(OSError, RuntimeError):  # a broken file: nothing to do
                f.close()
            self._file = None

    def time(self, i0: int, i1: int) -> np.ndarray:
        return self._read(self._time, i0, i1, "time")

    def values(self, name: str, i0: int, i1: int) -> np.ndarray:
        """Rows ``[i0, i1)`` of a signal, in a buffer reused by the next call."""
        ds = self._ds[name]
        i1 = min(i1, self.n)
        k = max(0, i1 - i0)
        buf = self._bufs.get(ds.dtype)
        if buf is None or len(buf) < k:
            buf = np.empty(max(k, 1), dtype=ds.dtype)
            self._bufs[ds.dtype] = buf
        try:
            if k:
                ds.read_direct(buf, np.s_[i0:i1], np.s_[0:k])
        except (OSError, RuntimeError, ValueError, TypeError) as err:
            raise ResultsError(f"corrupt data in rows {i0}..{i1}: {err}", path=self.label,
                               dataset=name) from err
        return _numeric(buf[:k])

    def _read(self, ds: h5py.Dataset, i0: int, i1: int, name: str) -> np.ndarray:
        try:
            return ds[i0:min(i1, self.n)]
        except (OSError, RuntimeError, ValueError) as err:
            raise ResultsError(f"corrupt data in rows {i0}..{i1}: {err}", path=self.label,
                               dataset=name) from err

    def _at(self, i: int) -> float:
        page = i // _PAGE
        arr = self._pages.get(page)
        if arr is None:
            arr = self.time(page * _PAGE, (page + 1) * _PAGE)
            self._pages[page] = arr
            if len(self._pages) > 16:
                self._pages.popitem(last=False)
        return float(arr[i - page * _PAGE])

    def searchsorted(self, t: float, side: str = "left") -> int:
        lo, hi = 0, self.n
        if side == "left":
            while lo < hi:
                mid = (lo + hi) // 2
                if self._at(mid) < t:
                    lo = mid + 1
                else:
                    hi = mid
        else:
            while lo < hi:
                mid = (lo + hi) // 2
                if self._at(mid) <= t:
                    lo = mid + 1
                else:
                    hi = mid
        return lo

    def first_last(self) -> tuple[float, float]:
        return self._at(0), self._at(self.n - 1)

    def kind(self, name: str) -> str | None:
        kind = self._sattrs.get(name, {}).get("kind")
        return str(kind) if kind else None

    def nominal(self, name: str) -> float | None:
        value = self._sattrs.get(name, {}).get("nominal")
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
        return None

    def unit(self, name: str) -> str | None:
        return self._sattrs.get(name, {}).get("units") or None


def _open_small_cache(p: Path) -> h5py.File:
    """Open as :func:`cosim.results.read` does (same checks and messages), with a small
    chunk cache: the default one grows by about a chunk per dataset and block read
    (hundreds of MB for 100 long signals), a small one stays put."""
    f = open_result(p)
    swmr = bool(f.swmr_mode)
    f.close()
    try:
        return h5py.File(p, "r", swmr=swmr, rdcc_nbytes=CHUNK_CACHE_BYTES)
    except OSError as err:
        raise ResultsError(f"corrupt or truncated HDF5 file, cannot open it ({err})",
                           path=str(p)) from err


def _algorithm(attrs: dict[str, Any], f: h5py.File) -> str:
    if attrs.get("algorithm"):
        return str(attrs["algorithm"])
    meta, _ = read_group(f, META)
    algo = meta.get("algorithm")
    if isinstance(algo, dict):
        return str(algo.get("name", ""))
    return str(algo or "")


def open_source(data: Any, role: str = "result") -> Source:
    """A :class:`Source` for a path (.h5/.hdf5/.csv or anything HDF5), RunData, DataFrame."""
    if isinstance(data, Source):
        return data
    if isinstance(data, RunData | pd.DataFrame):
        src: Source = FrameSource(data, label=f"<{role} DataFrame>")
    elif isinstance(data, str | Path):
        p = Path(data)
        src = CSVSource(p) if p.suffix.lower() == ".csv" else HDF5Source(p)
    elif hasattr(data, "path") and hasattr(data, "df"):  # a cosim.Result
        src = HDF5Source(data.path) if data.path is not None else \
            FrameSource(data.df, label=f"<{role} Result>")
    else:
        raise TypeError(f"cannot compare a {type(data).__name__}: give a result file path, "
                        "a RunData, a Result or a DataFrame")
    if src.n == 0:
        src.close()
        raise ResultsError("no samples: the result is empty", path=src.label)
    return src


def is_discrete(src: Source, name: str) -> bool:
    return (src.kind(name) or "") in _DISCRETE_KINDS
