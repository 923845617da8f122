"""Outputs of interest: one scalar per run from a recorded signal.

Statistics over the recorded rows ``(t_i, y_i)`` (the signal is taken as piecewise
linear between communication points):

``final``        the last value
``min``/``max``  the extreme values
``mean``         time average, ``integral / (t_end - t_start)``
``integral``     trapezoidal time integral [signal unit × s]
``time_above``   total time with ``y > threshold`` [s] (crossings interpolated)
``time_below``   total time with ``y < threshold`` [s]
``first_above``  first time ``y`` exceeds ``threshold`` [s], NaN if never
``first_below``  first time ``y`` falls below ``threshold`` [s], NaN if never

A signal pattern matching several signals is reduced point by point with ``combine``
(max, min, mean or sum) first. ``window: [t0, t1]`` [s] restricts the statistic to the
rows with ``t0 <= t <= t1`` (time-resolved outputs, e.g. an hourly mean). ``unit``
converts from the statistic's natural unit (``J``/``W*s`` -> ``kWh``, ``s`` -> ``h``,
``K`` -> ``degC``, ...; any pair :mod:`cosim.units` converts); or give ``scale`` (and
``offset``) and ``unit`` is only a label.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import units
from .schema import OutputSpec

LEVEL_STATS = ("final", "min", "max", "mean")
TIME_STATS = ("time_above", "time_below", "first_above", "first_below")

_ALIASES = {"W*s": "J", "W.s": "J", "Ws": "J", "K.s": "K*s"}


def natural_unit(stat: str, unit: str | None) -> str | None:
    """The unit of a statistic of a signal in ``unit``."""
    if stat in TIME_STATS:
        return "s"
    if stat == "integral":
        if not unit:
            return "s"
        joined = f"{unit}*s"
        return _ALIASES.get(joined, joined)
    return unit


@dataclass(frozen=True)
class Output:
    """A resolved output: its signals, statistic and conversion to the reported unit."""

    name: str
    signals: tuple[str, ...]
    stat: str
    threshold: float | None
    combine: str | None
    scale: float
    offset: float
    unit: str | None
    description: str = ""
    signal_pattern: str = ""
    divisor: float = 1.0
    window: tuple[float, float] | None = None

    def compute(self, t: np.ndarray, columns: Sequence[np.ndarray]) -> float:
        """``statistic * scale / divisor + offset``."""
        y = combine(columns, self.combine)
        if self.window is not None:
            keep = (t >= self.window[0]) & (t <= self.window[1])
            t, y = t[keep], y[keep]
        value = float(statistic(self.stat, t, y, self.threshold))
        return value * self.scale / self.divisor + self.offset


def resolve(name: str, spec: OutputSpec, recorded: dict[str, str | None]) -> Output:
    """Match the signal pattern against ``recorded`` (name -> unit); raise ValueError."""
    matched = tuple(s for s in recorded if fnmatch.fnmatchcase(s, spec.signal))
    if not matched:
        some = ", ".join(list(recorded)[:12])
        raise ValueError(f"signal {spec.signal!r} matches no output of the topology "
                         f"(outputs: {some}{', ...' if len(recorded) > 12 else ''})")
    if len(matched) > 1 and spec.combine is None:
        raise ValueError(f"signal {spec.signal!r} matches {len(matched)} signals "
                         f"({', '.join(matched)}); set 'combine' (max, min, mean, sum)")
    found = {recorded[s] for s in matched}
    if len(found) > 1:
        raise ValueError(f"signal {spec.signal!r} matches signals of different units "
                         f"({', '.join(sorted(map(str, found)))})")
    base = natural_unit(spec.stat, found.pop())
    scale, divisor, offset, unit = 1.0, 1.0, 0.0, base
    if spec.scale is not None or spec.offset is not None:
        scale = 1.0 if spec.scale is None else spec.scale
        offset = 0.0 if spec.offset is None else spec.offset
        unit = spec.unit
    elif spec.unit is not None and spec.unit != base:
        try:  # exact: value * numerator / denominator + offset
            ratio, exact_offset = units.exact_conversion(base or "1", spec.unit)
        except units.UnitError as err:
            raise ValueError(f"cannot convert {spec.stat} of {spec.signal} from {base!r} to "
                             f"{spec.unit!r}: {err}; give 'scale' (and 'offset')") from None
        scale, divisor = float(ratio.numerator), float(ratio.denominator)
        offset, unit = float(exact_offset), spec.unit
    return Output(name, matched, spec.stat, spec.threshold, spec.combine, scale, offset, unit,
                  spec.description, spec.signal, divisor,
                  None if spec.window is None else (float(spec.window[0]),
                                                    float(spec.window[1])))


def combine(columns: Sequence[np.ndarray], how: str | None) -> np.ndarray:
    if len(columns) == 1:
        return np.asarray(columns[0], dtype=np.float64)
    stack = np.vstack([np.asarray(c, dtype=np.float64) for c in columns])
    return {"max": np.max, "min": np.min, "mean": np.mean, "sum": np.sum}[how](stack, axis=0)


def statistic(stat: str, t: np.ndarray, y: np.ndarray, threshold: float | None = None) -> float:
    """One statistic of the samples ``y`` at times ``t`` (see the module docstring)."""
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return float("nan")
    if stat == "final":
        return float(y[-1])
    if stat == "min":
        return float(np.min(y))
    if stat == "max":
        return float(np.max(y))
    if stat == "integral":
        return _integral(t, y)
    if stat == "mean":
        span = float(t[-1] - t[0])
        return _integral(t, y) / span if span > 0 else float(y[0])
    assert threshold is not None
    if stat in ("time_above", "time_below"):
        sign = 1.0 if stat == "time_above" else -1.0
        return _time_above(t, sign * y, sign * threshold)
    sign = 1.0 if stat == "first_above" else -1.0
    return _first_above(t, sign * y, sign * threshold)


def _integral(t: np.ndarray, y: np.ndarray) -> float:
    if y.size < 2:
        return 0.0
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(t)))


def _time_above(t: np.ndarray, y: np.ndarray, thr: float) -> float:
    """Time with y > thr, y linear between samples."""
    if y.size < 2:
        return 0.0
    y0, y1, dt = y[:-1], y[1:], np.diff(t)
    a0, a1 = y0 > thr, y1 > thr
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(a0 != a1, (thr - y0) / (y1 - y0), 0.0)  # crossing, fraction of dt
    frac = np.where(a0 & a1, 1.0, np.where(a1 & ~a0, 1.0 - s, np.where(a0 & ~a1, s, 0.0)))
    return float(np.sum(frac * dt))


def _first_above(t: np.ndarray, y: np.ndarray, thr: float) -> float:
    above = np.flatnonzero(y > thr)
    if above.size == 0:
        return float("nan")
    i = int(above[0])
    if i == 0:
        return float(t[0])
    y0, y1 = y[i - 1], y[i]
    return float(t[i - 1] + (thr - y0) / (y1 - y0) * (t[i] - t[i - 1]))
