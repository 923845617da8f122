"""The tube, in closed form with numpy (CONVENTIONS §1).

The reference r(s) joins its samples ``(tr, yr)`` by straight lines; at a repeated time
(an event) both the left and the right value belong to r. ``tr`` must be
non-decreasing and ``yr`` finite. For a result sample at time t::

    a, b = clip(t - X, tr[0], tr[-1]), clip(t + X, tr[0], tr[-1])
    U(t) = max(r(a), r(b), max{yr[i] : a <= tr[i] <= b}) + Y
    L(t) = min(r(a), r(b), min{yr[i] : a <= tr[i] <= b}) - Y
    e(t) = max(0, y - U(t)) + max(0, L(t) - y)

(the extremes of a piecewise-linear function on [a, b] lie at its ends or at samples
inside). For a discrete signal r is held constant between samples (zero-order hold),
Y = 0, and a sample passes iff y equals some value r takes on [a, b].

No function here writes to its arguments.
"""

from __future__ import annotations

import numpy as np

__all__ = ["discrete_contains", "envelope", "tube", "value_at", "zoh_at"]

_REDUCEAT_BUDGET = 8  # use reduceat while the summed window length <= 8 * samples


def value_at(tr: np.ndarray, yr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """r(x) of the linearly joined reference (the right limit at an event time).

    Outside ``[tr[0], tr[-1]]`` the end value is held.
    """
    x = np.asarray(x, dtype=np.float64)
    return _value_k(tr, yr, x, np.searchsorted(tr, x, side="right") - 1)


def _value_k(tr: np.ndarray, yr: np.ndarray, x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """r(x) on the segment starting at sample k (any k with tr[k] <= x <= tr[k + 1]
    after clipping gives a value r takes at x)."""
    m = len(tr)
    if m == 1:
        return np.full(x.shape, float(yr[0]))
    k = np.clip(k, 0, m - 2)
    t0, t1 = tr[k], tr[k + 1]
    y0, y1 = yr[k].astype(np.float64), yr[k + 1].astype(np.float64)
    den = t1 - t0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(den > 0, (x - t0) / np.where(den > 0, den, 1.0), 1.0)
    np.clip(w, 0.0, 1.0, out=w)
    return y0 + w * (y1 - y0)


def zoh_at(tr: np.ndarray, yr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The zero-order-hold reference at x: the last sample at or before x."""
    k = np.searchsorted(tr, x, side="right") - 1
    return yr[np.clip(k, 0, len(tr) - 1)]


def range_extrema(arr: np.ndarray, lo: np.ndarray, hi: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(min, max)`` of ``arr[lo[i]:hi[i]]`` for every i; an empty range gives (+inf, -inf).

    ``lo`` and ``hi`` need not be sorted. Small total work: ``ufunc.reduceat``; large:
    a sparse table over the touched part, with only the levels the longest range needs.
    """
    n = len(lo)
    mins = np.full(n, np.inf)
    maxs = np.full(n, -np.inf)
    ok = hi > lo
    if not ok.any():
        return mins, maxs
    lo_, hi_ = lo[ok], hi[ok]
    base = int(lo_.min())
    top = int(hi_.max())
    sub = np.asarray(arr[base:top], dtype=np.float64)
    lo_, hi_ = lo_ - base, hi_ - base
    if int((hi_ - lo_).sum()) <= _REDUCEAT_BUDGET * len(sub) + 1024 and \
            np.all(np.diff(lo_) >= 0):
        ext = np.append(sub, 0.0)
        idx = np.empty(2 * len(lo_), dtype=np.intp)
        idx[0::2], idx[1::2] = lo_, hi_
        # reduceat needs every index < len: hi may equal len(sub) -> the sentinel
        mins[ok] = np.minimum.reduceat(ext, idx)[0::2]
        maxs[ok] = np.maximum.reduceat(ext, idx)[0::2]
        return mins, maxs
    length = hi_ - lo_
    levels = int(np.log2(int(length.max()))) + 1
    tmin, tmax = [sub], [sub]
    for j in range(1, levels):
        half = 1 << (j - 1)
        tmin.append(np.minimum(tmin[-1][:-half], tmin[-1][half:]))
        tmax.append(np.maximum(tmax[-1][:-half], tmax[-1][half:]))
    lev = np.floor(np.log2(length)).astype(np.intp)
    rmin, rmax = np.empty(len(lo_)), np.empty(len(lo_))
    for j in np.unique(lev):
        sel = lev == j
        a, b = lo_[sel], hi_[sel] - (1 << int(j))
        rmin[sel] = np.minimum(tmin[j][a], tmin[j][b])
        rmax[sel] = np.maximum(tmax[j][a], tmax[j][b])
    mins[ok], maxs[ok] = rmin, rmax
    return mins, maxs


def _window(tr: np.ndarray, t: np.ndarray, x: float, span: tuple[float, float]
            ) -> tuple[np.ndarray, np.ndarray]:
    r0, r1 = span
    a = np.clip(t - x, r0, r1)
    b = np.clip(t + x, r0, r1)
    return a, b


def envelope(tr: np.ndarray, yr: np.ndarray, t: np.ndarray, x: float,
             span: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(min, max)`` of the linearly joined reference over ``[t - x, t + x]`` (clipped)."""
    t = np.asarray(t, dtype=np.float64)
    span = span or (float(tr[0]), float(tr[-1]))
    a, b = _window(tr, t, x, span)
    lo = np.searchsorted(tr, a, side="left")
    hi = np.searchsorted(tr, b, side="right")
    ra, rb = _value_k(tr, yr, a, lo - 1), _value_k(tr, yr, b, hi - 1)
    inner_min, inner_max = range_extrema(yr, lo, hi)
    return (np.minimum(np.minimum(ra, rb), inner_min),
            np.maximum(np.maximum(ra, rb), inner_max))


def _zoh_window(tr: np.ndarray, t: np.ndarray, x: float, span: tuple[float, float]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Sample index range ``[j0, j1]`` (inclusive) of the values r takes on the window."""
    a, b = _window(tr, t, x, span)
    left = np.searchsorted(tr, a, side="left")
    at_a = (left < len(tr)) & (tr[np.minimum(left, len(tr) - 1)] == a)
    j0 = np.where(at_a, left, left - 1)
    j1 = np.searchsorted(tr, b, side="right") - 1
    last = len(tr) - 1
    return np.clip(j0, 0, last), np.clip(j1, 0, last)


def discrete_contains(tr: np.ndarray, yr: np.ndarray, t: np.ndarray, y: np.ndarray,
                      x: float, span: tuple[float, float] | None = None) -> np.ndarray:
    """For each (t, y): does the zero-order-hold reference take the value y on [t-x, t+x]?"""
    t = np.asarray(t, dtype=np.float64)
    span = span or (float(tr[0]), float(tr[-1]))
    j0, j1 = _zoh_window(tr, t, x, span)
    # runs of equal values; a window covers runs run[j0]..run[j1]
    starts = np.concatenate(([0], np.flatnonzero(yr[1:] != yr[:-1]) + 1))
    nruns = len(starts)
    run_of = np.searchsorted(starts, np.arange(len(yr)), side="right") - 1
    values, code = np.unique(yr[starts], return_inverse=True)
    keys = np.sort(code.astype(np.int64) * nruns + np.arange(nruns, dtype=np.int64))
    pos = np.clip(np.searchsorted(values, y), 0, len(values) - 1)
    present = values[pos] == y
    qlo = pos.astype(np.int64) * nruns + run_of[j0]
    qhi = pos.astype(np.int64) * nruns + run_of[j1]
    p = np.searchsorted(keys, qlo, side="left")
    found = keys[np.minimum(p, len(keys) - 1)]
    return present & (p < len(keys)) & (found <= qhi)


def tube(t_ref: np.ndarray, y_ref: np.ndarray, t: np.ndarray, x: float, y: float,
         discrete: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper tube bounds ``(L(t), U(t))`` at the times ``t``.

    For a discrete signal the band is the range of values held in the window (a sample
    passes only if it *equals* one of them). Non-finite reference samples are ignored.
    """
    tr = np.asarray(t_ref, dtype=np.float64)
    yr = np.asarray(y_ref, dtype=np.float64)
    keep = np.isfinite(yr)
    span = (float(tr[0]), float(tr[-1])) if len(tr) else (0.0, 0.0)
    tr, yr = tr[keep], yr[keep]
    t = np.asarray(t, dtype=np.float64)
    if len(tr) == 0:
        return np.full(t.shape, np.nan), np.full(t.shape, np.nan)
    if discrete:
        j0, j1 = _zoh_window(tr, t, x, span)
        lo, hi = range_extrema(yr, j0, j1 + 1)
        return lo, hi
    lo, hi = envelope(tr, yr, t, x, span)
    return lo - y, hi + y
