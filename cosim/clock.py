"""Integer simulation time.

Inside cosim, time is an ``int`` number of *ticks* of :data:`RESOLUTION` seconds
(1 ns), as in libcosim. Communication points are computed as ``start + n * step``
from an integer step counter, so they never drift, and events at exact times are
hit exactly. Float seconds appear only at the FMU boundary and for people.

An int64 of nanoseconds spans about 292 years.
"""

from __future__ import annotations

import math

RESOLUTION = 1e-9
"""Seconds per tick."""

TICKS_PER_SECOND = 1_000_000_000


def to_ticks(seconds: float, *, what: str = "time") -> int:
    """Convert seconds to ticks, rounding to the nearest nanosecond.

    Raises ``ValueError`` for NaN or infinite values, naming ``what``.
    """
    if not math.isfinite(seconds):
        raise ValueError(f"{what} must be finite, got {seconds!r}")
    return round(seconds * TICKS_PER_SECOND)


def ceil_ticks(seconds: float) -> int:
    """The first tick at or after ``seconds`` (so a step to it contains that time)."""
    ticks = to_ticks(seconds)
    return ticks + 1 if to_seconds(ticks) < seconds else ticks


def to_seconds(ticks: int) -> float:
    """Convert ticks to seconds (the nearest float to ``ticks`` ns)."""
    return ticks / TICKS_PER_SECOND


def format_ticks(ticks: int) -> str:
    """Human-readable seconds, e.g. ``12.5 s``."""
    return f"{to_seconds(ticks):g} s"
