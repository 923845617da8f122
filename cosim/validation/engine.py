"""Metrics of many signals on one time grid, with block-bootstrap intervals.

Input: :class:`Series` — one signal's model values and measured values on the compared
grid (NaN where not compared), optionally quantile bands and ensemble members. Output:
:class:`SignalValidation` per signal. The bootstrap draws are made once per grid and
shared by all signals (see :mod:`cosim.validation.bootstrap`).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from .bootstrap import (
    LEVEL,
    REPLICATES,
    Buffers,
    MovingBlockBootstrap,
    auto_block_length,
    percentile_interval,
)
from .metrics import MAPE_FLOOR, Workspace, point_metrics, valid_mask
from .probabilistic import coverage, crps_ensemble, pit_ensemble, pit_histogram, pit_quantiles


class ValidationInputError(ConfigError):
    """The run and the telemetry cannot be validated together (exit code 2)."""


@dataclass
class Options:
    """How to validate: ``p`` (Guideline 14's calibrated parameters), bootstrap
    ``replicates`` (0: none), ``block`` length in samples or ``"auto"``, confidence
    ``level``, ``seed``, MAPE's near-zero floor, PIT histogram bins, threads."""

    p: int = 0
    replicates: int = REPLICATES
    block: int | str = "auto"
    level: float = LEVEL
    seed: int = 0
    mape_floor: float = MAPE_FLOOR
    pit_bins: int = 10
    workers: int | None = None  # threads over signals (default: the cores)


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


def _quantities(s: Series, v: SignalValidation, work: Workspace) -> tuple[
        list[str], object, float, float]:
    """Names of the per-sample quantities whose sums give the metrics, a generator of
    them (masked samples are zeros; each array is scratch, valid until the next), the
    measured mean and range. ``work.r`` must hold ``|ŷ - y|`` (no mask) from
    :func:`point_metrics`."""
    mask = valid_mask(s.model, s.obs)
    obs = s.obs if mask is None else np.where(mask, s.obs, 0.0)
    model = s.model if mask is None else np.where(mask, s.model, 0.0)
    n = int(v.metrics["n"])
    mean_y = float(np.sum(obs)) / max(1, n)
    valid = mask
    if mask is not None:
        work.ensure(obs.size)
        np.abs(np.subtract(model, obs, out=work.r), out=work.r)
    a = work.r
    lo = float(np.min(s.obs[mask] if mask is not None else obs))
    hi = float(np.max(s.obs[mask] if mask is not None else obs))
    # without a mask, every replicate has exactly n samples: no "n" column
    names = (["n"] if mask is not None else []) + ["r", "a", "r2", "yc", "yc2", "smape"]
    if "mape" not in v.notes:
        names.append("mape")
    bands = s.band.intervals() if s.band is not None else []
    for label, _, _ in bands:
        names += [f"coverage_{label}", f"width_{label}"]
    if s.members is not None and "crps" in v.metrics:
        names.append("crps")

    def columns():
        b = work.b
        if valid is not None:
            yield valid.astype(np.float64)
        yield np.subtract(model, obs, out=b)
        yield a
        yield np.multiply(a, a, out=b)
        yc = np.subtract(obs, mean_y, out=work.a)
        if valid is not None:
            yc[~valid] = 0.0
        yield yc
        yield np.multiply(yc, yc, out=b)
        abs_y = np.abs(obs, out=work.a)
        denom = np.abs(model, out=b)
        denom += abs_y
        denom *= 0.5
        with np.errstate(divide="ignore", invalid="ignore"):
            yield np.where(denom > 0, a / denom, 0.0) if valid is not None or \
                float(np.min(denom)) <= 0 else np.divide(a, denom, out=b)
        if "mape" in names:
            with np.errstate(divide="ignore", invalid="ignore"):
                yield np.divide(a, abs_y, out=b) if valid is None else \
                    np.where(valid, a / abs_y, 0.0)
        for _, i, j in bands:
            q0, q1 = s.band.quantiles[i], s.band.quantiles[j]
            ok = np.isfinite(q0) & np.isfinite(q1) & np.isfinite(s.obs) & \
                np.isfinite(s.model)
            yield np.where(ok & (s.obs >= q0) & (s.obs <= q1), 1.0, 0.0)
            yield np.where(ok, q1 - q0, 0.0)
        if "crps" in names:
            c = crps_ensemble(s.members, np.where(np.isfinite(s.model), s.obs, np.nan))
            yield np.where(np.isfinite(c), c, 0.0)

    return names, columns(), mean_y, hi - lo


def _from_sums(S: np.ndarray, names: list[str], p: int, mean_y: float, span: float,
               n_all: int) -> dict[str, np.ndarray]:
    col = {name: S[:, k] for k, name in enumerate(names)}
    with np.errstate(divide="ignore", invalid="ignore"):
        n = col["n"] if "n" in col else np.full(S.shape[0], float(n_all))
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
    if s.band is None and s.members is None:
        return None
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

    Signals are spread over ``workers`` threads (numpy and scipy release the GIL in
    their loops). Returns the validations and a description of the bootstrap
    (``block``, ``replicates``, ``level``; empty when none)."""
    opts = options or Options()
    if not series:
        return [], {}
    workers = min(len(series), opts.workers or _cores())
    mbb = None
    info: dict = {}
    if opts.replicates > 0:
        block = _block(series, opts, workers)
        mbb = MovingBlockBootstrap(series[0].time.size, block, opts.replicates, opts.seed) \
            if series[0].time.size >= block else None
        info = {"block": block, "replicates": opts.replicates, "level": opts.level,
                "seed": opts.seed}
    local = threading.local()

    def one(s: Series) -> SignalValidation:
        if not hasattr(local, "work"):
            local.work, local.buffers = Workspace(), Buffers()
        return _signal(s, opts, mbb, local.work, local.buffers, info.get("block"))

    return _map(one, series, workers), info


def _map(func, items: list, workers: int) -> list:
    if workers <= 1:
        return [func(x) for x in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, items))


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _signal(s: Series, opts: Options, mbb: MovingBlockBootstrap | None, work: Workspace,
            buffers: Buffers, block: int | None) -> SignalValidation:
    pm = point_metrics(s.model, s.obs, s.time, p=opts.p, mape_floor=opts.mape_floor,
                       work=work)
    v = SignalValidation(s.name, s.unit, dict(pm.values), notes=dict(pm.notes),
                         max_abs_error_time=pm.max_abs_error_time, series=s)
    v.pit_histogram = _probabilistic(s, v.metrics, v.notes, opts.pit_bins)
    if block is not None and v.n < block:
        raise ValidationInputError(
            f"{v.name}: {v.n} compared samples are fewer than the bootstrap block "
            f"({block} samples): use a shorter --block, a longer window, or --bootstrap 0")
    if mbb is not None and v.n:
        names, columns, mean_y, span = _quantities(s, v, work)
        reps = _from_sums(mbb.sums_of(columns, len(names), buffers), names, opts.p, mean_y,
                          span, s.time.size)
        v.ci = {k: percentile_interval(vals, opts.level) for k, vals in reps.items()}
    return v


def _block(series: list[Series], opts: Options, workers: int) -> int:
    """The block length: given, or the largest automatic choice over the signals."""
    if opts.block != "auto":
        return int(opts.block)
    lengths = _map(lambda s: auto_block_length(s.model - s.obs), series, workers)
    return max(lengths) if lengths else 1
