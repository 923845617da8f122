"""Streaming comparison of a result with a reference, signal by signal, block by block.

The time axis is cut into blocks of at most ``block_rows`` result rows; each block
reads the reference rows its windows need (``[t_first - X, t_last + X]`` and one
neighbour on each side), so memory stays at about one block per signal, whatever the
run length. Every signal of a block is checked in turn:

1. a cheap sufficient test: |y - r(t)| <= Y implies L(t) <= y <= U(t), because r(t)
   lies between the window's extremes. Where result and reference share their time
   grid, r(t) is a slice of the reference — no interpolation at all;
2. only the samples failing it get the full closed-form tube (``kernels.envelope``).

Y depends on the whole reference (its range and minimum), which is only known at the
end of the pass. Each block is checked with a lower bound of the final Y computed from
the reference seen so far (:meth:`SignalJob.y_lower`), so a passing block stays
passing; blocks with outliers are settled at the end (:func:`_settle`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import ResultsError
from . import kernels as _tube
from .report import FAIL, PASS, SignalReport
from .sources import Source
from .tolerances import Resolved

BLOCK_ROWS = 1 << 17


@dataclass
class Outcome:
    """Per-block (then per-signal) tallies."""

    samples: int = 0
    outliers: int = 0
    max_error: float = 0.0
    max_error_time: float | None = None
    first_failure: float | None = None
    max_dev: float = 0.0
    max_dev_time: float | None = None
    min_error: float = math.inf  # the smallest error of an outlier

    def merge(self, o: Outcome) -> None:
        self.samples += o.samples
        self.outliers += o.outliers
        self.min_error = min(self.min_error, o.min_error)
        if o.max_error_time is not None and (self.max_error_time is None
                                             or o.max_error > self.max_error):
            self.max_error, self.max_error_time = o.max_error, o.max_error_time
        if o.first_failure is not None and (self.first_failure is None
                                            or o.first_failure < self.first_failure):
            self.first_failure = o.first_failure
        if o.max_dev_time is not None and (self.max_dev_time is None
                                           or not o.max_dev <= self.max_dev):
            self.max_dev, self.max_dev_time = o.max_dev, o.max_dev_time


@dataclass
class SignalJob:
    """One signal to compare: its rule, X, and the running state of the pass."""

    name: str
    discrete: bool
    rule: Resolved
    x: float
    nominal: float | None = None
    unit: str | None = None
    y_min: float = math.inf
    y_max: float = -math.inf
    total: Outcome = field(default_factory=Outcome)
    pending: list[tuple[int, float, Outcome]] = field(default_factory=list)

    @property
    def needs_stats(self) -> bool:
        return not self.discrete and not self.rule.y_fixed

    def y(self) -> float:
        """Y from the reference seen so far: final once the whole reference was seen."""
        return 0.0 if self.discrete else self.rule.y(self.y_min, self.y_max, self.nominal)

    def y_lower(self) -> float:
        """A lower bound of the final Y, from the part of the reference seen so far.

        The range can only grow, and so can |min| while min <= 0. For a positive signal
        |min| shrinks if its minimum drops towards 0 later, but max(range, |min|) stays
        >= min(max / 2, min) whatever comes.
        """
        if self.discrete or self.rule.y_fixed or not self.y_min > 0:
            return self.y()
        lo, hi = self.y_min, self.y_max
        return self.rule.y(0.0, max(hi - lo, min(hi / 2, lo)), self.nominal)

    def add_stats(self, yr: np.ndarray) -> bool:
        """Fold the reference values into min/max; False if some are not finite."""
        if len(yr) == 0:
            return True
        mn, mx = float(yr.min()), float(yr.max())
        finite = math.isfinite(mn) and math.isfinite(mx)
        if not finite:
            keep = yr[np.isfinite(yr)]
            if len(keep) == 0:
                return False
            mn, mx = float(keep.min()), float(keep.max())
        self.y_min, self.y_max = min(self.y_min, mn), max(self.y_max, mx)
        return finite


@dataclass
class Block:
    """Result rows ``[i0, i1)`` with times ``t``; reference rows ``[j0, j1)``, ``tr``."""

    no: int
    i0: int
    i1: int
    j0: int
    j1: int
    t: np.ndarray
    tr: np.ndarray
    gaps: list[tuple[int, int]] = field(default_factory=list)
    _aligned: int | None = None
    _interp: tuple[np.ndarray, np.ndarray, bool] | None = None
    _zoh: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, m = len(self.t), len(self.tr)
        s = int(np.searchsorted(self.tr, self.t[0], side="left"))
        if s + n <= m and np.array_equal(self.tr[s:s + n], self.t):
            self._aligned = s  # same time grid: r(t) is a slice of the reference

    def ref_linear(self, yr: np.ndarray) -> np.ndarray:
        """r(t) at the block's result times (right limit at events, or row-matched)."""
        if self._aligned is not None:
            return yr[self._aligned:self._aligned + len(self.t)]
        if self._interp is None:
            self._interp = _interp_index(self.tr, self.t)
        k, w, wzero = self._interp
        if wzero:
            return yr[k]
        y0 = yr[k].astype(np.float64)
        kp = np.minimum(k + 1, len(yr) - 1)
        return y0 + w * (yr[kp] - y0)

    def ref_zoh(self, yr: np.ndarray) -> np.ndarray:
        if self._aligned is not None:
            return yr[self._aligned:self._aligned + len(self.t)]
        if self._zoh is None:
            self._zoh = np.clip(np.searchsorted(self.tr, self.t, side="right") - 1, 0,
                                len(self.tr) - 1)
        return yr[self._zoh]


def _interp_index(tr: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(k, w, all w == 0)`` with r(t) = yr[k] + w (yr[k+1] - yr[k])."""
    m = len(tr)
    if m == 1:
        return np.zeros(len(t), dtype=np.intp), np.zeros(len(t)), True
    k = np.clip(np.searchsorted(tr, t, side="right") - 1, 0, m - 2)
    t0, t1 = tr[k], tr[k + 1]
    den = t1 - t0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(den > 0, (t - t0) / np.where(den > 0, den, 1.0), 1.0)
    np.clip(w, 0.0, 1.0, out=w)
    at_next = w == 1.0
    if at_next.any():
        k = k + at_next
        w[at_next] = 0.0
    return k, w, not w.any()


class Planner:
    """Cuts the result's time axis into blocks and finds the reference rows each needs."""

    def __init__(self, res: Source, ref: Source, xmax: float, block_rows: int = BLOCK_ROWS):
        self.res, self.ref, self.xmax, self.rows = res, ref, xmax, max(16, int(block_rows))
        self.ranges: list[tuple[int, int, int, int]] = []
        self.tail: tuple[int, int] | None = None
        self._ref_checked = 0  # reference rows [0, _ref_checked) checked non-decreasing
        self._ref_last = -math.inf

    def blocks(self) -> Iterator[Block]:
        res, ref, rows, xmax = self.res, self.ref, self.rows, self.xmax
        n, m = res.n, ref.n
        i0, covered, last = 0, 0, -math.inf
        while i0 < n:
            t = res.time(i0, i0 + rows)
            _check_time(res, t, i0, last)
            j0 = max(0, ref.searchsorted(float(t[0]) - xmax, "left") - 1)
            if m > j0 + rows:  # a denser reference: fewer result rows per block
                cap = float(ref.time(j0 + rows, j0 + rows + 1)[0])
                t = t[:max(1, int(np.searchsorted(t, cap, side="right")))]
            i1 = i0 + len(t)
            j1 = min(m, ref.searchsorted(float(t[-1]) + xmax, "right") + 1)
            gaps = [(covered, j0)] if j0 > covered else []
            for a, b in gaps:
                self._check_ref_rows(a, b)
            tr = ref.time(j0, j1)
            self._check_ref(tr, j0)
            covered = max(covered, j1)
            self.ranges.append((i0, i1, j0, j1))
            yield Block(len(self.ranges) - 1, i0, i1, j0, j1, t, tr, gaps)
            last, i0 = float(t[-1]), i1
        if covered < m:
            self._check_ref_rows(covered, m)
            self.tail = (covered, m)

    def rebuild(self, no: int) -> Block:
        i0, i1, j0, j1 = self.ranges[no]
        return Block(no, i0, i1, j0, j1, self.res.time(i0, i1), self.ref.time(j0, j1))

    def _check_ref_rows(self, a: int, b: int) -> None:
        for c in range(a, b, self.rows):
            self._check_ref(self.ref.time(c, min(b, c + self.rows)), c)

    def _check_ref(self, tr: np.ndarray, j0: int) -> None:
        if j0 + len(tr) <= self._ref_checked:
            return
        prev = self._ref_last if j0 >= self._ref_checked else -math.inf
        _check_time(self.ref, tr, j0, prev)
        self._ref_checked, self._ref_last = j0 + len(tr), float(tr[-1])


def _check_time(src: Source, t: np.ndarray, i0: int, prev: float) -> None:
    if not np.isfinite(t).all():
        i = i0 + int(np.flatnonzero(~np.isfinite(t))[0])
        raise ResultsError(f"time is not finite at row {i} ({t[i - i0]})", path=src.label,
                           dataset="time")
    if len(t) and t[0] < prev:
        raise ResultsError(f"time decreases at row {i0} ({prev:g} -> {t[0]:g} s)",
                           path=src.label, dataset="time")
    bad = np.flatnonzero(t[1:] < t[:-1])
    if len(bad):
        i = int(bad[0])
        raise ResultsError(f"time decreases at row {i0 + i + 1} ({t[i]:g} -> {t[i + 1]:g} s)",
                           path=src.label, dataset="time")


# -- the per-block checks ---------------------------------------------------------------

_SCRATCH: list[np.ndarray] = [np.empty(0)]


def _scratch(n: int) -> np.ndarray:
    """A float64 work array of n elements, reused from block to block (no page faults)."""
    if len(_SCRATCH[0]) < n:
        _SCRATCH[0] = np.empty(n)
    return _SCRATCH[0][:n]


def _outcome(t: np.ndarray, c: np.ndarray, e: np.ndarray, dev: np.ndarray) -> Outcome:
    """Tallies of a block where ``c`` are the samples checked in full (errors ``e``)."""
    out = Outcome(samples=len(t))
    fail = e > 0
    out.outliers = int(np.count_nonzero(fail))
    if out.outliers:
        k = int(np.argmax(e))
        out.max_error, out.max_error_time = float(e[k]), float(t[c[k]])
        out.first_failure = float(t[c[np.argmax(fail)]])
        out.min_error = float(e[fail].min())
    k = int(np.argmax(np.where(np.isnan(dev), np.inf, dev)))
    out.max_dev = float(dev[k]) if not np.isnan(dev[k]) else math.inf
    out.max_dev_time = float(t[k])
    return out


def _nonfinite_match(tr: np.ndarray, yr: np.ndarray, tq: np.ndarray, yq: np.ndarray
                     ) -> np.ndarray:
    """Does the reference hold the same non-finite value (NaN, +inf, -inf) at time tq?"""
    lo = np.searchsorted(tr, tq, side="left")
    hi = np.searchsorted(tr, tq, side="right")
    out = np.zeros(len(tq), dtype=bool)
    for i in range(len(tq)):
        vals = yr[lo[i]:hi[i]]
        out[i] = bool(np.any(np.isnan(vals))) if np.isnan(yq[i]) else bool(np.any(vals == yq[i]))
    return out


def _event_deviation(dev: np.ndarray, c: np.ndarray, tr: np.ndarray, yr: np.ndarray,
                     tc: np.ndarray, yc: np.ndarray) -> None:
    """At an event time the left limit is as good a reference value as the right one."""
    k = np.searchsorted(tr, tc, side="right")
    at = (k >= 2) & (tr[np.maximum(k - 1, 0)] == tc) & (tr[np.maximum(k - 2, 0)] == tc)
    if at.any():
        left = yr[np.searchsorted(tr, tc[at], side="left")]
        dev[c[at]] = np.fmin(dev[c[at]], np.abs(yc[at] - left))


def check_continuous(job: SignalJob, blk: Block, y: np.ndarray, yr: np.ndarray,
                     span: tuple[float, float], Y: float, finite_ref: bool) -> Outcome:
    t = blk.t
    if finite_ref:
        tr, yf = blk.tr, yr
        r = blk.ref_linear(yr)
    else:
        keep = np.isfinite(yr)
        tr, yf = blk.tr[keep], yr[keep]
        r = _tube.value_at(tr, yf, t) if len(tr) else np.full(len(t), np.nan)
    dev = np.subtract(y, r, out=_scratch(len(t)), dtype=np.float64)
    np.abs(dev, out=dev)
    k = int(np.argmax(dev))
    if dev[k] <= Y:  # the cheap test passes everywhere (also false for NaN)
        return Outcome(samples=len(t), max_dev=float(dev[k]), max_dev_time=float(t[k]))
    c = np.flatnonzero(~(dev <= Y))
    tc, yc = t[c], y[c].astype(np.float64)
    e = np.full(len(c), np.inf)
    ok = np.isfinite(yc)
    if len(tr) and ok.any():
        _event_deviation(dev, c, tr, yf, tc, yc)
        lo, hi = _tube.envelope(tr, yf, tc[ok], job.x, span)
        e[ok] = np.maximum(0.0, yc[ok] - (hi + Y)) + np.maximum(0.0, (lo - Y) - yc[ok])
    if not finite_ref and not ok.all():
        nf = np.flatnonzero(~ok)
        e[nf[_nonfinite_match(blk.tr, yr, tc[nf], yc[nf])]] = 0.0
    return _outcome(t, c, e, dev)


def check_discrete(job: SignalJob, blk: Block, y: np.ndarray, yr: np.ndarray,
                   span: tuple[float, float]) -> Outcome:
    t = blk.t
    finite_ref = yr.dtype.kind != "f" or bool(np.isfinite(yr).all())
    if finite_ref:
        tr, yf = blk.tr, yr
        r = blk.ref_zoh(yr)
    else:
        keep = np.isfinite(yr)
        tr, yf = blk.tr[keep], yr[keep]
        r = _tube.zoh_at(tr, yf, t) if len(tr) else np.full(len(t), np.nan)
    eq = y == r
    if eq.all():
        return Outcome(samples=len(t), max_dev=0.0, max_dev_time=float(t[0]))
    c = np.flatnonzero(~eq)
    tc, yc = t[c], y[c]
    inside = _tube.discrete_contains(tr, yf, tc, yc, job.x, span) if len(tr) \
        else np.zeros(len(c), dtype=bool)
    if not finite_ref:
        nf = np.flatnonzero(~np.isfinite(yc.astype(np.float64)))
        inside[nf] = _nonfinite_match(blk.tr, yr, tc[nf], yc[nf].astype(np.float64))
    dev_c = np.abs(yc.astype(np.float64) - r[c].astype(np.float64))
    dev_c[np.isnan(dev_c)] = np.inf
    dev = np.zeros(len(t))
    dev[c] = dev_c
    e = np.where(inside, 0.0, dev_c)
    return _outcome(t, c, e, dev)


# -- the pass ---------------------------------------------------------------------------


def run_jobs(res: Source, ref: Source, jobs: list[SignalJob], span: tuple[float, float],
             block_rows: int = BLOCK_ROWS) -> None:
    """Compare every job's signal; fills ``job.total`` and the reference statistics."""
    if not jobs:
        return
    planner = Planner(res, ref, max(j.x for j in jobs), block_rows)
    stats = [j for j in jobs if j.needs_stats]
    for blk in planner.blocks():
        for a, b in blk.gaps:
            _read_stats(ref, stats, a, b, planner.rows)
        for job in jobs:
            y = res.values(job.name, blk.i0, blk.i1)
            yr = ref.values(job.name, blk.j0, blk.j1)
            if job.discrete:
                job.total.merge(check_discrete(job, blk, y, yr, span))
                continue
            finite = job.add_stats(yr)
            Y = job.y_lower()
            out = check_continuous(job, blk, y, yr, span, Y, finite)
            if out.outliers and job.needs_stats:
                job.pending.append((blk.no, Y, out))
            else:
                job.total.merge(out)
    if planner.tail:
        _read_stats(ref, stats, *planner.tail, planner.rows)
    for job in stats:
        _settle(job, planner, res, ref, span)


def _settle(job: SignalJob, planner: Planner, res: Source, ref: Source,
            span: tuple[float, float]) -> None:
    """Settle, with the final Y, the blocks that had outliers under a smaller one.

    Every error shrinks by the growth of Y: if the smallest outlier error exceeds it,
    the outliers stay outliers (no re-read); otherwise the block is checked again.
    """
    Y = job.y()
    for no, used, out in job.pending:
        grown = Y - used
        if grown > 0 and out.min_error > grown:
            out.max_error -= grown
            out.min_error -= grown
        elif grown > 0:
            blk = planner.rebuild(no)
            y, yr = res.values(job.name, blk.i0, blk.i1), ref.values(job.name, blk.j0, blk.j1)
            out = check_continuous(job, blk, y, yr, span, Y, bool(np.isfinite(yr).all()))
        job.total.merge(out)
    job.pending.clear()


def _read_stats(ref: Source, jobs: list[SignalJob], a: int, b: int, rows: int) -> None:
    for job in jobs:
        for c in range(a, b, rows):
            job.add_stats(ref.values(job.name, c, min(b, c + rows)))


def signal_report(job: SignalJob, res_span: tuple[float, float],
                  ref_span: tuple[float, float]) -> SignalReport:
    o = job.total
    problems = []
    first = o.first_failure
    if o.outliers:
        problems.append(f"{o.outliers} of {o.samples} samples outside the tube")
    for what, mine, theirs in (("starts", res_span[0], ref_span[0]),
                               ("stops", res_span[1], ref_span[1])):
        if abs(mine - theirs) > job.x:
            problems.append(f"{what} at {mine:g} s, the reference at {theirs:g} s "
                            f"(more than X = {job.x:g} s apart)")
            at = min(mine, theirs)
            first = at if first is None else min(first, at)
    return SignalReport(
        name=job.name, status=FAIL if problems else PASS,
        kind="discrete" if job.discrete else "continuous", samples=o.samples,
        outliers=o.outliers, max_error=o.max_error, max_error_time=o.max_error_time,
        first_failure=first, x=job.x, y=job.y(), max_deviation=o.max_dev,
        max_deviation_time=o.max_dev_time, unit=job.unit, problems=problems)
