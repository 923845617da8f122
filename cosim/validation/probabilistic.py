"""Scores of probabilistic predictions (ensembles, prediction intervals) against data.

* ``coverage``: fraction of measured values inside the interval ``[lower, upper]``
  (bounds included); ``width``: mean of ``upper - lower``.
* ``crps`` (continuous ranked probability score, in the signal's unit, lower is better)
  of an ensemble of ``m`` members ``x_1..x_m`` at one time, measured ``y``::

      CRPS = (1/m) Σ_j |x_j - y|  -  (1/(2 m²)) Σ_j Σ_k |x_j - x_k|

  the CRPS of the ensemble's empirical distribution (exact, not an approximation);
  with the members sorted, the double sum is ``2 Σ_j (2j - m - 1) x_(j)``. The score
  reported is the mean over time.
* ``pit``: the probability integral transform ``F(y)`` with ``F`` the ensemble's
  empirical CDF (ties counted half): uniform on [0, 1] for a calibrated ensemble. Its
  histogram (``pit_histogram``) is flat then; U-shaped when the ensemble is too narrow,
  humped when too wide, sloped when biased.
* From quantile bands only (no members): ``pit`` by linear interpolation of the quantile
  function (0 below the lowest, 1 above the highest stored level).
"""

from __future__ import annotations

import numpy as np


def coverage(lower: np.ndarray, upper: np.ndarray, obs: np.ndarray) -> tuple[float, float]:
    """``(coverage, mean width)`` over samples where all three are finite."""
    lower, upper, obs = (np.asarray(a, dtype=np.float64) for a in (lower, upper, obs))
    ok = np.isfinite(lower) & np.isfinite(upper) & np.isfinite(obs)
    if not ok.any():
        return float("nan"), float("nan")
    lo, hi, y = lower[ok], upper[ok], obs[ok]
    inside = (y >= lo) & (y <= hi)
    return float(np.mean(inside)), float(np.mean(hi - lo))


def crps_ensemble(members: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """CRPS at each time: ``members`` is ``(m, n)``, ``obs`` ``(n,)``; NaN where ``obs``
    is NaN. Non-finite members are left out of their time's ensemble."""
    x = np.sort(np.asarray(members, dtype=np.float64), axis=0)
    y = np.asarray(obs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != y.shape[0]:
        raise ValueError(f"members must be (m, n) with n = len(obs), got {x.shape} and "
                         f"{y.shape}")
    if np.isfinite(x).all():
        return _crps_sorted(x, y)
    out = np.full(y.shape, np.nan)
    for i in range(y.size):  # rare: failed members; per time, only the finite ones
        col = x[:, i]
        col = col[np.isfinite(col)]
        if col.size:
            out[i] = _crps_sorted(col[:, None], y[i:i + 1])[0]
    return out


def _crps_sorted(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    m = x.shape[0]
    spread_w = (2.0 * np.arange(1, m + 1) - m - 1.0)[:, None]
    first = np.mean(np.abs(x - y[None, :]), axis=0)
    spread = np.sum(spread_w * x, axis=0) / (m * m)  # = (1/(2 m²)) Σ_j Σ_k |x_j - x_k|
    return first - spread


def pit_ensemble(members: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """``F(y)`` per time from the ensemble's empirical CDF, ties counted half; NaN
    where ``obs`` is NaN."""
    x = np.asarray(members, dtype=np.float64)
    y = np.asarray(obs, dtype=np.float64)
    finite = np.isfinite(x)
    m = finite.sum(axis=0).astype(np.float64)
    below = np.sum(finite & (x < y[None, :]), axis=0)
    ties = np.sum(finite & (x == y[None, :]), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pit = (below + 0.5 * ties) / m
    pit[~np.isfinite(y) | (m == 0)] = np.nan
    return pit


def pit_quantiles(levels: np.ndarray, quantiles: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """``F(y)`` per time by linear interpolation between stored quantiles
    ``quantiles[k, i]`` at probability ``levels[k]`` (increasing)."""
    levels = np.asarray(levels, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    y = np.asarray(obs, dtype=np.float64)
    out = np.full(y.shape, np.nan)
    ok = np.isfinite(y) & np.isfinite(q).all(axis=0)
    q, yy = q[:, ok], y[ok]
    k = np.sum(q <= yy[None, :], axis=0)          # quantiles at or below y: 0..K
    cols = np.arange(yy.size)
    inner = (k > 0) & (k < len(levels))
    lo_k = np.clip(k - 1, 0, len(levels) - 1)
    hi_k = np.clip(k, 0, len(levels) - 1)
    q0, q1 = q[lo_k, cols], q[hi_k, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(q1 > q0, (yy - q0) / (q1 - q0), 0.0)
    value = np.where(inner, levels[lo_k] + frac * (levels[hi_k] - levels[lo_k]),
                     np.where(k == 0, 0.0, 1.0))
    out[ok] = value
    return out


def pit_histogram(pit: np.ndarray, bins: int = 10) -> np.ndarray:
    """Counts of the finite PIT values in ``bins`` equal bins of [0, 1]."""
    values = np.asarray(pit, dtype=np.float64)
    values = values[np.isfinite(values)]
    counts, _ = np.histogram(values, bins=bins, range=(0.0, 1.0))
    return counts
