"""Putting measured samples onto a run's time grid, without inventing data.

For each grid time ``g`` (seconds) and a signal's finite samples ``(t_k, y_k)``:

``linear``    ``y`` interpolated between the samples around ``g``; masked (NaN) when
              those two are more than ``max_gap`` apart (a sample exactly at ``g`` is
              always used) or ``g`` lies outside the samples' span.
``previous``  the last sample at or before ``g`` (sample-and-hold loggers); masked when
              it is older than ``max_gap``.
``mean``      the mean of the samples in the cell around ``g`` (from halfway to the
              previous grid time to halfway to the next), for telemetry faster than
              the grid; masked when the cell holds none.

NaN samples are dropped first, so a run of NaNs is a gap like any other. Signals
without NaN share one interpolation plan (one search for all of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("linear", "previous", "mean")


@dataclass
class Plan:
    """How grid values are taken from samples at times ``t``, for any ``y`` on ``t``."""

    method: str
    index: np.ndarray        # linear/previous: left sample; mean: cell start in samples
    other: np.ndarray        # linear: fraction; mean: cell end
    valid: np.ndarray        # bool per grid time

    def apply(self, y: np.ndarray) -> np.ndarray:
        out = np.full(self.valid.shape, np.nan)
        v = self.valid
        if self.method == "linear":
            i = self.index[v]
            j = np.minimum(i + 1, y.size - 1)
            out[v] = y[i] + self.other[v] * (y[j] - y[i])
        elif self.method == "previous":
            out[v] = y[self.index[v]]
        else:
            cs = np.concatenate(([0.0], np.cumsum(y)))
            a, b = self.index[v], self.other[v]
            out[v] = (cs[b] - cs[a]) / (b - a)
        return out


def plan(t: np.ndarray, grid: np.ndarray, method: str, max_gap: float) -> Plan:
    """The plan for samples at the increasing times ``t`` onto ``grid``."""
    if method == "mean":
        return _mean_plan(t, grid)
    i = np.searchsorted(t, grid, side="right") - 1
    inside = i >= 0
    ic = np.clip(i, 0, max(t.size - 1, 0))
    exact = inside & (t[ic] == grid)
    if method == "previous":
        valid = inside & (grid - t[ic] <= max_gap)
        return Plan(method, ic, np.zeros(grid.shape), valid)
    nxt = np.minimum(ic + 1, t.size - 1)
    span = t[nxt] - t[ic]
    between = inside & (ic + 1 < t.size) & (span <= max_gap)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(between & (span > 0), (grid - t[ic]) / span, 0.0)
    frac[exact] = 0.0
    return Plan(method, ic, frac, exact | between)


def _mean_plan(t: np.ndarray, grid: np.ndarray) -> Plan:
    if grid.size == 1:
        edges = np.array([-np.inf, np.inf])
    else:
        mid = 0.5 * (grid[1:] + grid[:-1])
        edges = np.concatenate(([grid[0] - (mid[0] - grid[0])], mid,
                                [grid[-1] + (grid[-1] - mid[-1])]))
    a = np.searchsorted(t, edges[:-1], side="left")
    b = np.searchsorted(t, edges[1:], side="left")
    if grid.size:  # the last cell includes its right edge
        b[-1] = np.searchsorted(t, edges[-1], side="right")
    return Plan("mean", a, b, b > a)


def default_max_gap(t: np.ndarray) -> float:
    """Three times the median sampling interval (inf for fewer than two samples)."""
    if t.size < 2:
        return float("inf")
    return 3.0 * float(np.median(np.diff(t)))


def align(t: np.ndarray, columns: dict[str, np.ndarray], grid: np.ndarray, method: str,
          max_gap: float) -> dict[str, np.ndarray]:
    """Every column onto ``grid`` (NaN where masked); see the module docstring."""
    shared: Plan | None = None
    out: dict[str, np.ndarray] = {}
    for name, y in columns.items():
        finite = np.isfinite(y)
        if finite.all():
            if shared is None:
                shared = plan(t, grid, method, max_gap)
            out[name] = shared.apply(y)
        elif finite.any():
            out[name] = plan(t[finite], grid, method, max_gap).apply(y[finite])
        else:
            out[name] = np.full(grid.shape, np.nan)
    return out
