"""Loaded telemetry and its alignment onto a run's time grid.

::

    tel = load_telemetry("topologies/calibration/telemetry.yaml")
    aligned = tel.align(grid, {"rack1.T_cpu": "K", ...})   # model units
    y = aligned.values["rack1.T_cpu"]                      # NaN where masked
    fit = aligned.select("window")                         # warm-up and window applied

Values are converted into the model's units (:mod:`cosim.units`) when aligned; a
signal whose unit the telemetry does not state is taken as being in the model's unit
(a note says so).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..errors import ConfigError, Problem
from ..units import UnitError, conversion
from . import align as _align
from .readers import Table, merge, read_table
from .spec import SignalSpec, TelemetrySpec
from .timestamps import instant_seconds, to_seconds

WINDOWS = ("window", "holdout", "all")


class TelemetryError(ConfigError):
    """Telemetry that cannot be used (exit code 2); the message says which file and why."""


@dataclass
class Aligned:
    """Telemetry on a run's time grid, in the model's units.

    ``values[signal]``: NaN where no measurement may stand for the grid time (outside
    the data, in a gap longer than ``max_gap``, NaN samples). Warm-up and windows are
    not applied to ``values``; :meth:`mask` and :meth:`select` apply them.
    ``sigma[signal]``: the stated measurement noise in the model's unit (or None).
    """

    time: np.ndarray
    values: dict[str, np.ndarray]
    units: dict[str, str | None]
    sigma: dict[str, float | None]
    columns: dict[str, str]
    start: float
    warmup: float
    windows: dict[str, tuple[float, float] | None]
    max_gap: float
    method: str
    notes: list[str] = field(default_factory=list)

    @property
    def signals(self) -> list[str]:
        return list(self.values)

    def mask(self, which: str = "window") -> np.ndarray:
        """Grid times used for ``which`` (``window``, ``holdout`` or ``all``): after the
        warm-up and inside the window (``all``: after the warm-up)."""
        if which not in WINDOWS:
            raise ConfigError(f"unknown window {which!r}: {', '.join(WINDOWS)}")
        keep = self.time >= self.start + self.warmup
        if which == "all":
            return keep
        span = self.windows.get(which)
        if span is None:
            if which == "holdout":
                raise ConfigError("the telemetry has no 'holdout' window")
            return keep
        return keep & (self.time >= span[0]) & (self.time <= span[1])

    def select(self, which: str = "window") -> dict[str, np.ndarray]:
        """``values`` with NaN outside the warm-up and window."""
        keep = self.mask(which)
        return {s: np.where(keep, v, np.nan) for s, v in self.values.items()}

    def to_frame(self, which: str = "all") -> pd.DataFrame:
        df = pd.DataFrame(self.select(which), index=pd.Index(self.time, name="time"))
        df.attrs["units"] = dict(self.units)
        return df


class Telemetry:
    """Measured data as read (telemetry units, seconds on the run's axis), with the
    mapping of model signals to columns."""

    def __init__(self, spec: TelemetrySpec, base_dir: str | Path | None = None,
                 where: Callable[..., str] | None = None):
        self.spec = spec
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self._where = where or (lambda *loc: "")
        paths = [self._path(f) for f in spec.file]
        self.files = paths
        tables = [read_table(p, spec.format, spec.group) for p in paths]
        first = tables[0].columns
        self.time_column = spec.time.column or ("time" if "time" in first else next(iter(first)))
        self.table = merge(tables, self.time_column)
        self.label = ", ".join(_shown(p) for p in paths)
        self.time, self.origin, self._order = self._times()
        self.signals = self._mapping()

    # -- loading ---------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else self.base_dir / p

    def where(self, *loc: Any) -> str:
        return self._where(*loc)

    def _times(self) -> tuple[np.ndarray, Any, np.ndarray]:
        spec = self.spec.time.model_copy(update={"column": self.time_column})
        table: Table = self.table
        if spec.column not in table.columns:
            raise TelemetryError(
                f"no time column {spec.column!r} in {self.label} (columns: "
                f"{', '.join(list(table.columns)[:12])}); set time.column",
                file=self.where("time", "column"))
        seconds, origin = to_seconds(table.columns[spec.column], spec, self.label)
        if not np.isfinite(seconds).all():
            k = int(np.flatnonzero(~np.isfinite(seconds))[0])
            raise TelemetryError(f"row {k + 1} has no valid time", file=self.label)
        order = np.argsort(seconds, kind="stable")
        t = seconds[order]
        dup = np.flatnonzero(np.diff(t) == 0)
        if dup.size:
            raise TelemetryError(f"{dup.size} duplicated timestamps (the first at t = "
                                 f"{t[dup[0]]:g} s): remove or average them",
                                 file=self.label)
        return t, origin, order

    def _mapping(self) -> dict[str, SignalSpec]:
        spec = self.spec
        if spec.signals:
            missing = [(s, m.column) for s, m in spec.signals.items()
                       if m.column not in self.table.columns]
            if missing:
                signal, column = missing[0]
                close = difflib.get_close_matches(column, list(self.table.columns), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TelemetryError(f"signals.{signal}: no column {column!r} in "
                                     f"{self.label}{hint}",
                                     file=self.where("signals", signal))
            return dict(spec.signals)
        return {c: SignalSpec(column=c) for c, v in self.table.columns.items()
                if c != self.time_column and v.dtype.kind == "f"}

    # -- access ----------------------------------------------------------------------------

    def unit(self, signal: str) -> str | None:
        m = self.signals[signal]
        return m.unit or self.spec.units.get(m.column) or self.table.units.get(m.column)

    def raw(self, signal: str) -> np.ndarray:
        """A signal's values in the telemetry's unit, in time order."""
        m = self.signals[signal]
        data = self.table.columns[m.column]
        if data.dtype.kind != "f":
            try:
                data = data.astype(np.float64)
            except (TypeError, ValueError):
                raise TelemetryError(f"column {m.column!r} is not numeric",
                                     file=self.label) from None
        return data[self._order]

    def span(self) -> tuple[float, float]:
        return float(self.time[0]), float(self.time[-1])

    def seconds(self, value: float | str, *loc: Any) -> float:
        return instant_seconds(value, self.origin, self.where(*loc))

    # -- alignment -------------------------------------------------------------------------

    def align(self, grid: Sequence[float] | np.ndarray,
              model_units: Mapping[str, str | None] | None = None,
              signals: Sequence[str] | None = None) -> Aligned:
        """The chosen ``signals`` (default: all mapped) on ``grid`` [s], converted to
        ``model_units`` (signal -> unit; a signal absent from it keeps its unit)."""
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size == 0 or np.any(np.diff(grid) <= 0):
            raise ConfigError("the time grid must be a non-empty increasing 1-D array")
        chosen = list(self.signals) if signals is None else list(signals)
        self._check_overlap(grid)
        model_units = dict(model_units or {})
        notes: list[str] = []
        columns, units, sigma = {}, {}, {}
        problems: list[Problem] = []
        for s in chosen:
            if s not in self.signals:
                raise TelemetryError(f"signal {s!r} is not mapped to a telemetry column "
                                     f"(mapped: {', '.join(self.signals) or 'none'})",
                                     file=self.where("signals"))
            try:
                columns[s], units[s], sigma[s] = self._converted(s, model_units, notes)
            except UnitError as err:
                problems.append(Problem(f"{s}: unit mismatch: {err}",
                                        self.where("signals", s)))
        if problems:
            raise TelemetryError("; ".join(str(p) for p in problems))
        max_gap = self.spec.max_gap or _align.default_max_gap(self.time)
        values = _align.align(self.time, columns, grid, self.spec.method, max_gap)
        windows = {name: self._window(name) for name in ("window", "holdout")}
        return Aligned(grid, values, units, sigma,
                       {s: self.signals[s].column for s in chosen}, float(grid[0]),
                       self.spec.warmup, windows, max_gap, self.spec.method, notes)

    def _converted(self, s: str, model_units: Mapping[str, str | None],
                   notes: list[str]) -> tuple[np.ndarray, str | None, float | None]:
        have = self.unit(s)
        want = model_units.get(s, have)
        y = self.raw(s)
        sigma = self.signals[s].sigma
        if have is None or want is None or have == want:
            if have is None and want is not None:
                notes.append(f"{s}: the telemetry states no unit; taken as {want}")
            return y, want if want is not None else have, sigma
        scale, offset = conversion(have, want)
        if sigma is not None:
            sigma = abs(conversion(have, want, relative=True)[0]) * sigma
        return scale * y + offset, want, sigma

    def _check_overlap(self, grid: np.ndarray) -> None:
        t0, t1 = self.span()
        if t1 < grid[0] or t0 > grid[-1]:
            raise TelemetryError(
                f"no overlap in time between the run ({grid[0]:g}..{grid[-1]:g} s) and the "
                f"telemetry ({t0:g}..{t1:g} s after the origin {self.origin}); check "
                "time.origin", file=self.label)

    def _window(self, name: str) -> tuple[float, float] | None:
        span = getattr(self.spec, name)
        if span is None:
            return None
        a, b = (self.seconds(v, name, i) for i, v in enumerate(span))
        if not b > a:
            raise TelemetryError(f"{name}: the end must be after the start ({a:g} .. {b:g} s)",
                                 file=self.where(name))
        return a, b


def _shown(path: Path) -> str:
    """A path as people read it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- loading a spec --------------------------------------------------------------------------


def spec_from(data: Any, where: Callable[..., str] | None = None,
              prefix: tuple = ()) -> TelemetrySpec:
    """Validate a telemetry mapping (e.g. the ``telemetry:`` section of another file);
    errors name ``file:line`` through ``where(*prefix, *loc)``."""
    from ..topology import yamlio
    if isinstance(data, TelemetrySpec):
        return data
    try:
        return TelemetrySpec.model_validate(data)
    except ValidationError as err:
        w = where or (lambda *loc: "")
        problems = [yamlio.validation_problem(
            {**e, "loc": (*prefix, *e["loc"])}, w) for e in err.errors()]
        n = len(problems)
        raise TelemetryError(f"telemetry has {n} problem{'s' if n != 1 else ''}: "
                             + "; ".join(str(p) for p in problems)) from None


def load_telemetry(source: str | Path | TelemetrySpec | Mapping[str, Any], *,
                   base_dir: str | Path | None = None) -> Telemetry:
    """Telemetry from a spec file (``.yaml``), a spec (model or mapping; paths relative
    to ``base_dir``), or a data file (``.csv``, ``.h5``, ``.parquet``: columns named
    like the model's signals, time in a column ``time``)."""
    if isinstance(source, TelemetrySpec | Mapping):
        return Telemetry(spec_from(source), base_dir)
    path = Path(source)
    if path.suffix.lower() in (".yaml", ".yml"):
        from ..topology import yamlio
        data, _, where, _ = yamlio.read_mapping(path, "telemetry file", "'file' and 'signals'")
        return Telemetry(spec_from(data, where), path.resolve().parent, where)
    return Telemetry(TelemetrySpec(file=[str(path)]), base_dir)
