"""Metrics of many signals on one time grid, with block-bootstrap intervals.

Input: :class:`Series` — one signal's model values and measured values on the compared
grid (NaN where not compared), optionally quantile bands and ensemble members. Output:
:class:`SignalValidation` per signal. The bootstrap draws are made once per grid and
shared by all signals (see :mod:`cosim.validation.bootstrap`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from .bootstrap import LEVEL, REPLICATES, MovingBlockBootstrap, auto_block_length, \
    percentile_interval
from .metrics import MAPE_FLOOR, point_metrics
from .probabilistic import coverage, crps_ensemble, pit_ensemble, pit_histogram, pit_quantiles


class ValidationInputError(ConfigError):
    """The run and the telemetry cannot be validated together (exit code 2)."""


@dataclass
class Options:
    """How to validate: ``p`` (Guideline 14's calibrated parameters), bootstrap
    ``replicates`` (0: none), ``block`` length in samples or ``"auto"``, confidence
    ``level``, ``seed``, MAPE's near-zero floor, PIT histogram bins."""

    p: int = 0
    replicates: int = REPLICATES
    block: int | str = "auto"
    level: float = LEVEL
    seed: int = 0
    mape_floor: float = MAPE_FLOOR
    pit_bins: int = 10


@dataclass
class Band:
    """Quantile bands: ``quantiles[k]`` at probability ``levels[k]`` (increasing)."""

    levels: np.ndarray
    quantiles: np.ndarray

    def intervals(self) -> list[tuple[str, int, int]]:
        """Central intervals ``(percent label, low index, high index)``, widest first."""
        from ..studies.bands import central_intervals
        return central_intervals(self.levels)


@dataclass
class Series:
    """One signal on the compared grid (NaN: not compared there)."""

    name: str
    unit: str | None
    time: np.ndarray
    model: np.ndarray
    obs: np.ndarray
    band: Band | None = None
    members: np.ndarray | None = None  # (m, n)


@dataclass
class SignalValidation:
    """What validation found for one signal (see :mod:`cosim.validation.metrics`)."""

    name: str
    unit: str | None
    metrics: dict[str, float]
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    max_abs_error_time: float | None = None
    pit_histogram: np.ndarray | None = None
    series: Series | None = None

    @property
    def n(self) -> int:
        return int(self.metrics["n"])


def _quantities(s: Series, m: dict[str, float], notes: dict[str, str]) -> tuple[
        np.ndarray, list[str], float, float]:
    """Per-sample quantities whose sums give the metrics; masked samples are zeros."""
    valid = np.isfinite(s.model) & np.isfinite(s.obs)
    y = np.where(valid, s.obs, 0.0)
    yhat = np.where(valid, s.model, 0.0)
    r = yhat - y
    a = np.abs(r)
    mean_y = float(np.sum(y)) / max(1, int(valid.sum()))
    yc = np.where(valid, y - mean_y, 0.0)
    denom = 0.5 * (np.abs(y) + np.abs(yhat))
    with np.errstate(divide="ignore", invalid="ignore"):
        smape = np.where(denom > 0, a / denom, 0.0)
    cols = [valid.astype(np.float64), r, a, r * r, yc, yc * yc, smape]
    names = ["n", "r", "a", "r2", "yc", "yc2", "smape"]
    if "mape" not in notes:
        with np.errstate(divide="ignore", invalid="ignore"):
            cols.append(np.where(valid, a / np.abs(y), 0.0))
        names.append("mape")
    if s.band is not None:
        for label, i, j in s.band.intervals():
            lo, hi = s.band.quantiles[i], s.band.quantiles[j]
            ok = valid & np.isfinite(lo) & np.isfinite(hi)
            cols.append(np.where(ok & (s.obs >= lo) & (s.obs <= hi), 1.0, 0.0))
            cols.append(np.where(ok, hi - lo, 0.0))
            names += [f"coverage_{label}", f"width_{label}"]
    if s.members is not None and "crps" in m:
        c = crps_ensemble(s.members, np.where(valid, s.obs, np.nan))
        cols.append(np.where(np.isfinite(c), c, 0.0))
        names.append("crps")
    span = float(np.max(s.obs[valid]) - np.min(s.obs[valid])) if valid.any() else math.nan
    return np.column_stack(cols), names, mean_y, span


def _from_sums(S: np.ndarray, names: list[str], p: int, mean_y: float, span: float
               ) -> dict[str, np.ndarray]:
    col = {name: S[:, k] for k, name in enumerate(names)}
    with np.errstate(divide="ignore", invalid="ignore"):
        n = col["n"]
        out = {"bias": col["r"] / n, "mae": col["a"] / n}
        out["rmse"] = np.sqrt(col["r2"] / n)
        ybar = mean_y + col["yc"] / n
        sst = col["yc2"] - col["yc"] ** 2 / n
        out["r2"] = np.where(sst > 0, 1.0 - col["r2"] / sst, np.nan)
        out["nrmse_range"] = out["rmse"] / span if span > 0 else np.full(n.shape, np.nan)
        out["nrmse_mean"] = out["rmse"] / np.abs(ybar)
        out["smape"] = 100.0 * col["smape"] / n
        if "mape" in col:
            out["mape"] = 100.0 * col["mape"] / n
        dof = n - p
        out["nmbe"] = np.where(dof > 0, -100.0 * col["r"] / (dof * ybar), np.nan)
        out["cv_rmse"] = np.where(dof > 0, 100.0 * np.sqrt(col["r2"] / dof) / ybar, np.nan)
        for name in names:
            if name.startswith(("coverage_", "width_")) or name == "crps":
                out[name] = col[name] / n
    return out


def _probabilistic(s: Series, m: dict[str, float], notes: dict[str, str],
                   bins: int) -> np.ndarray | None:
    valid = np.isfinite(s.model) & np.isfinite(s.obs)
    obs = np.where(valid, s.obs, np.nan)
    if s.band is not None:
        for label, i, j in s.band.intervals():
            m[f"coverage_{label}"], m[f"width_{label}"] = coverage(
                s.band.quantiles[i], s.band.quantiles[j], obs)
    pit = None
    if s.members is not None:
        c = crps_ensemble(s.members, obs)
        m["crps"] = float(np.nanmean(c)) if np.isfinite(c).any() else math.nan
        pit = pit_ensemble(s.members, obs)
    elif s.band is not None:
        pit = pit_quantiles(s.band.levels, s.band.quantiles, obs)
        notes["pit"] = (f"PIT from {len(s.band.levels)} stored quantiles (linear "
                        "interpolation), not from ensemble members")
    return None if pit is None else pit_histogram(pit, bins)


def validate_series(series: list[Series], options: Options | None = None
                    ) -> tuple[list[SignalValidation], dict]:
    """Metrics (and bootstrap intervals) of every series; all on one grid.

    Returns the validations and a description of the bootstrap (``block``,
    ``replicates``, ``level``; empty when none)."""
    opts = options or Options()
    out: list[SignalValidation] = []
    for s in series:
        pm = point_metrics(s.model, s.obs, s.time, p=opts.p, mape_floor=opts.mape_floor)
        v = SignalValidation(s.name, s.unit, dict(pm.values), notes=dict(pm.notes),
                             max_abs_error_time=pm.max_abs_error_time, series=s)
        v.pit_histogram = _probabilistic(s, v.metrics, v.notes, opts.pit_bins)
        out.append(v)
    info: dict = {}
    if opts.replicates > 0 and series:
        info = _bootstrap(series, out, opts)
    return out, info


def _block(series: list[Series], opts: Options) -> int:
    if opts.block != "auto":
        return int(opts.block)
    lengths = [auto_block_length(s.model - s.obs) for s in series]
    return max(lengths) if lengths else 1


def _bootstrap(series: list[Series], out: list[SignalValidation], opts: Options) -> dict:
    n = series[0].time.size
    block = _block(series, opts)
    small = [v for v in out if v.n < block]
    if small:
        v = small[0]
        raise ValidationInputError(f"{v.name}: {v.n} compared samples are fewer than the bootstrap "
                         f"block ({block} samples): use a shorter --block, a longer window, "
                         "or --bootstrap 0")
    mbb = MovingBlockBootstrap(n, block, opts.replicates, opts.seed)
    for s, v in zip(series, out, strict=True):
        if v.n == 0:
            continue
        x, names, mean_y, span = _quantities(s, v.metrics, v.notes)
        reps = _from_sums(mbb.sums(x), names, opts.p, mean_y, span)
        v.ci = {k: percentile_interval(vals, opts.level) for k, vals in reps.items()}
    return {"block": block, "replicates": opts.replicates, "level": opts.level,
            "seed": opts.seed}
