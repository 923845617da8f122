"""Point metrics of a model signal against measured values, on arrays.

Conventions (``y`` measured, ``ŷ`` model, both in the same unit, NaN where masked; a
sample counts when both are finite; ``n`` such samples):

==============  ============================================================  =========
``n``           samples compared
``bias``        mean error ``mean(ŷ - y)``: > 0 when the model over-predicts   signal
``mae``         ``mean |ŷ - y|``                                               signal
``rmse``        ``sqrt(mean (ŷ - y)²)``                                        signal
``nrmse_range`` ``rmse / (max y - min y)``                                     1
``nrmse_mean``  ``rmse / |mean y|``                                            1
``mape``        ``100 mean(|ŷ - y| / |y|)``; NaN (flagged) when some           %
                ``|y| < mape_floor · max|y|``
``smape``       ``100 mean(|ŷ - y| / ((|y| + |ŷ|) / 2))`` (0 where both are 0)  %
``nmbe``        ASHRAE Guideline 14: ``100 Σ(y - ŷ) / ((n - p) ȳ)``             %
                (> 0 when the model under-predicts)
``cv_rmse``     ASHRAE Guideline 14: ``100 sqrt(Σ(y - ŷ)² / (n - p)) / ȳ``      %
``r2``          ``1 - Σ(y - ŷ)² / Σ(y - ȳ)²``; NaN (flagged) if y is constant   1
``max_abs_error`` ``max |ŷ - y|``, at ``max_abs_error_time``                   signal
==============  ============================================================  =========

``p`` is the number of parameters calibrated on these data (Guideline 14's ``n - p``);
0 for a model not fitted to them. Everything is computed in float64 with one pass per
quantity; ``R²`` and ``ȳ`` by two passes (no cancellation), so values agree with
scikit-learn and a hand computation to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Every point metric, in report order.
POINT_METRICS = ("n", "bias", "mae", "rmse", "nrmse_range", "nrmse_mean", "mape", "smape",
                 "nmbe", "cv_rmse", "r2", "max_abs_error")
#: Metrics in percent.
PERCENT = ("mape", "smape", "nmbe", "cv_rmse")
#: Metrics in the signal's unit.
SIGNAL_UNIT = ("bias", "mae", "rmse", "max_abs_error")
#: Default: MAPE is refused when a measured value is below 1 % of the largest magnitude.
MAPE_FLOOR = 0.01


@dataclass
class PointMetrics:
    """The point metrics of one signal; ``notes`` say why a value is NaN."""

    values: dict[str, float]
    max_abs_error_time: float | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values[name]


class Workspace:
    """Scratch arrays reused from one signal to the next (no fresh pages per signal).

    ``r`` holds ``|ŷ - y|`` after :func:`point_metrics`; ``a``/``b`` are scratch."""

    def __init__(self, n: int = 0):
        self.n = -1
        self.ensure(n)

    def ensure(self, n: int) -> Workspace:
        if n != self.n:
            self.n = n
            self.r, self.a, self.b = (np.empty(n) for _ in range(3))
        return self


def valid_mask(model: np.ndarray, obs: np.ndarray) -> np.ndarray | None:
    """Samples where both are finite; None when all are (the common, fast case)."""
    s = float(np.sum(model)) + float(np.sum(obs))
    if math.isfinite(s):
        return None
    return np.isfinite(model) & np.isfinite(obs)


def point_metrics(model: np.ndarray, obs: np.ndarray, time: np.ndarray | None = None, *,
                  p: int = 0, mape_floor: float = MAPE_FLOOR,
                  work: Workspace | None = None) -> PointMetrics:
    """Every point metric of ``model`` against ``obs`` (1-D arrays of one length).

    ``time`` [s] gives ``max_abs_error_time``. Samples where either is NaN are left out.
    ``work``: scratch arrays to reuse (many signals of one length).
    """
    model = np.asarray(model, dtype=np.float64)
    obs = np.asarray(obs, dtype=np.float64)
    if model.shape != obs.shape or model.ndim != 1:
        raise ValueError(f"model and measured values must be 1-D arrays of one length, got "
                         f"{model.shape} and {obs.shape}")
    mask = valid_mask(model, obs)
    index = None
    if mask is not None:
        index = np.flatnonzero(mask)
        model, obs = model[index], obs[index]
    n = obs.size
    out = PointMetrics({k: math.nan for k in POINT_METRICS})
    out.values["n"] = float(n)
    if n == 0:
        out.notes["n"] = "no sample to compare"
        return out
    w = (work or Workspace()).ensure(n)
    k = _fill(out, model, obs, p, mape_floor, w)
    if time is not None:
        t = np.asarray(time, dtype=np.float64)
        out.max_abs_error_time = float(t[index[k] if index is not None else k])
    return out


def _fill(out: PointMetrics, model: np.ndarray, obs: np.ndarray, p: int,
          mape_floor: float, w: Workspace) -> int:
    """Fill ``out``; return the index of the largest absolute error. Leaves
    ``|ŷ - y|`` in ``w.r``."""
    v, notes = out.values, out.notes
    n = obs.size
    r = np.subtract(model, obs, out=w.r)
    sum_r = float(np.sum(r))
    sse = float(np.dot(r, r))
    a = np.abs(r, out=r)
    k = int(np.argmax(a))
    v["bias"] = sum_r / n
    v["mae"] = float(np.sum(a)) / n
    v["rmse"] = math.sqrt(sse / n)
    v["max_abs_error"] = float(a[k])
    lo, hi = float(np.min(obs)), float(np.max(obs))
    mean_y = float(np.sum(obs)) / n
    yc = np.subtract(obs, mean_y, out=w.a)
    shift = float(np.sum(yc)) / n
    mean_y += shift                       # second pass: exact to rounding
    sst = float(np.dot(yc, yc)) - n * shift * shift
    if hi > lo:
        v["nrmse_range"] = v["rmse"] / (hi - lo)
    else:
        notes["nrmse_range"] = "measured values are constant (range 0)"
    if mean_y != 0:
        v["nrmse_mean"] = v["rmse"] / abs(mean_y)
    else:
        notes["nrmse_mean"] = "mean of the measured values is 0"
    _percentages(v, notes, model, obs, a, w, mape_floor, max(abs(lo), abs(hi)))
    _guideline14(v, notes, n, p, -sum_r, sse, mean_y)
    if sst > 0 and hi > lo:
        v["r2"] = 1.0 - sse / sst
    else:
        notes["r2"] = (f"measured values are constant ({float(obs[0]):.6g}): R² is "
                       "undefined")
    return k


def _percentages(v: dict, notes: dict, model: np.ndarray, obs: np.ndarray, a: np.ndarray,
                 w: Workspace, mape_floor: float, top: float) -> None:
    """MAPE and sMAPE from ``a = |ŷ - y|``."""
    n = obs.size
    abs_y = np.abs(obs, out=w.a)
    floor = mape_floor * top
    if floor > 0 and float(np.min(abs_y)) >= floor:
        v["mape"] = 100.0 * float(np.sum(np.divide(a, abs_y, out=w.b))) / n
    else:
        small = int(np.count_nonzero(abs_y < floor)) if floor > 0 else n
        notes["mape"] = (f"{small} of {n} measured values are near zero (|y| < "
                         f"{mape_floor:g} x max|y| = {floor:.4g}): MAPE is not meaningful")
    denom = np.abs(model, out=w.b)
    denom += abs_y
    denom *= 0.5
    if float(np.min(denom)) > 0:
        terms = np.divide(a, denom, out=w.b)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(denom > 0, a / denom, 0.0)
    v["smape"] = 100.0 * float(np.sum(terms)) / n


def _guideline14(v: dict, notes: dict, n: int, p: int, sum_y_minus_model: float,
                 sse: float, mean_y: float) -> None:
    dof = n - p
    if dof <= 0:
        why = f"n - p = {n} - {p} <= 0"
        notes["nmbe"] = notes["cv_rmse"] = why
        return
    if mean_y == 0:
        notes["nmbe"] = notes["cv_rmse"] = "mean of the measured values is 0"
        return
    v["nmbe"] = 100.0 * sum_y_minus_model / (dof * mean_y)
    v["cv_rmse"] = 100.0 * math.sqrt(sse / dof) / mean_y
