"""Timestamps to seconds on the run's time axis.

Numbers are read in ``time.unit`` and shifted by ``origin`` (default 0): ``t = (x -
origin) * seconds_per_unit``. ISO 8601 datetimes (strings, or datetime columns of
Parquet/HDF5) are read with pandas; naive ones are UTC; ``t`` is the number of seconds
since ``origin`` (an ISO datetime; default the first timestamp).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .spec import TIME_UNITS, TimeSpec


def is_numeric(raw: np.ndarray) -> bool:
    return raw.dtype.kind in "iuf"


def to_seconds(raw: np.ndarray, spec: TimeSpec, where: str) -> tuple[np.ndarray, object]:
    """``(seconds, origin)``: seconds on the run's axis, and the origin used (a float in
    ``spec.unit`` or a ``pandas.Timestamp``)."""
    fmt = spec.format
    if fmt == "auto":
        fmt = "seconds" if is_numeric(raw) else "iso"
    if fmt == "seconds":
        if not is_numeric(raw):
            raise ConfigError(f"time column {spec.column!r} is not numeric (its first value "
                              f"is {raw[0]!r}); set time.format: iso for datetimes",
                              file=where)
        if isinstance(spec.origin, str):
            raise ConfigError(f"time.origin {spec.origin!r} is a datetime but the "
                              "timestamps are numbers: give the origin as a number",
                              file=where)
        origin = float(spec.origin or 0.0)
        return (np.asarray(raw, dtype=np.float64) - origin) * TIME_UNITS[spec.unit], origin
    stamps = _datetimes(raw, spec, where)
    origin = parse_instant(spec.origin, where) if spec.origin is not None else stamps[0]
    if not isinstance(origin, pd.Timestamp):
        raise ConfigError(f"time.origin must be an ISO datetime for datetime timestamps, "
                          f"got {spec.origin!r}", file=where)
    seconds = (stamps - origin).total_seconds().to_numpy(dtype=np.float64)
    return seconds, origin


def _datetimes(raw: np.ndarray, spec: TimeSpec, where: str) -> pd.DatetimeIndex:
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(raw, utc=True, format="ISO8601"))
    except (ValueError, TypeError) as err:
        first = raw[0] if len(raw) else None
        raise ConfigError(f"time column {spec.column!r}: cannot read {first!r} as an ISO "
                          f"8601 datetime ({err})", file=where) from None
    if stamps.isna().any():
        k = int(np.flatnonzero(stamps.isna())[0])
        raise ConfigError(f"time column {spec.column!r}: row {k + 1} has no timestamp",
                          file=where)
    return stamps


def parse_instant(value: object, where: str) -> pd.Timestamp | float:
    """An ISO datetime string as a UTC ``Timestamp``; numbers pass through."""
    if isinstance(value, int | float):
        return float(value)
    try:
        ts = pd.Timestamp(str(value))
    except (ValueError, TypeError) as err:
        raise ConfigError(f"cannot read {value!r} as an ISO 8601 datetime ({err})",
                          file=where) from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def instant_seconds(value: float | str, origin: object, where: str) -> float:
    """A window bound (seconds, or an ISO datetime) in seconds on the run's axis."""
    if isinstance(value, int | float):
        return float(value)
    ts = parse_instant(value, where)
    if not isinstance(origin, pd.Timestamp):
        raise ConfigError(f"the window bound {value!r} is a datetime but the timestamps are "
                          "numbers: give it in seconds", file=where)
    return float((ts - origin).total_seconds())
