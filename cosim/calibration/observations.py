"""The measured data a calibration fits: telemetry aligned onto the run's time grid.

The grid is the run's communication points ``start + k * step`` (and ``stop``). For
each fitted signal: the measured values in the model's unit (NaN where the telemetry
has none: outside it, in gaps longer than ``max_gap``), the points fitted (after the
warm-up, inside ``window``, measured), the held-out points (inside ``holdout``), and
the noise: a standard deviation given by the telemetry or the calibration file
(absolute, or relative: a fraction of each value — of the measured value at first, of
the model's value once fitted, see :mod:`cosim.calibration.noise`), or None
(estimated from the residuals).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..clock import to_seconds, to_ticks
from ..errors import ConfigError, Problem
from ..telemetry import Telemetry
from .spec import SignalNoise


@dataclass
class Observations:
    """Measured signals on the run's grid: arrays are ``[signal, time]``."""

    time: np.ndarray
    signals: list[str]
    units: list[str | None]
    measured: np.ndarray
    fit: np.ndarray         # bool: fitted points
    holdout: np.ndarray     # bool: held-out points (all False without a holdout window)
    sigma: np.ndarray       # [signal, time]: given noise sd, NaN where to be estimated
    estimated: list[bool]   # per signal: sigma estimated from the residuals
    relative: list[float | None] = field(default_factory=list)  # relative_sigma
    columns: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def with_measured(self, measured: np.ndarray) -> Observations:
        """The same observations with other measured values (e.g. another draw of the
        noise), the fitted points unchanged; relative noise follows the new values."""
        measured = np.asarray(measured, dtype=np.float64)
        if measured.shape != self.measured.shape:
            raise ValueError(f"measured values must be {self.measured.shape}, got "
                             f"{measured.shape}")
        sigma = self.sigma.copy()
        for i, rel in enumerate(self.relative):
            if rel is not None:
                sigma[i] = rel * np.abs(measured[i])
        return replace(self, measured=measured, sigma=sigma)

    @property
    def n_fit(self) -> int:
        return int(self.fit.sum())

    @property
    def has_holdout(self) -> bool:
        return bool(self.holdout.any())


def run_grid(run) -> np.ndarray:
    """The communication points [s] of a topology's run settings."""
    t0, t1, h = (to_ticks(run.start, what="start"), to_ticks(run.stop, what="stop"),
                 to_ticks(run.step, what="step"))
    ticks = list(range(t0, t1 + 1, h))
    if ticks[-1] != t1:
        ticks.append(t1)
    return np.array([to_seconds(k) for k in ticks])


def chosen_signals(patterns: dict[str, SignalNoise] | None, telemetry: Telemetry,
                   outputs: dict[str, str | None], where: Callable[..., str],
                   problems: list[Problem]) -> dict[str, SignalNoise]:
    """The fitted signals (mapped by the telemetry and outputs of the topology)."""
    mapped = list(telemetry.signals)
    if patterns is None:
        patterns = {s: SignalNoise() for s in mapped}
    chosen: dict[str, SignalNoise] = {}
    for pattern, noise in patterns.items():
        hits = [s for s in mapped if fnmatch.fnmatchcase(s, pattern)]
        if not hits:
            problems.append(Problem(f"signals: {pattern!r} matches no signal the telemetry "
                                    f"maps ({', '.join(mapped) or 'none'})",
                                    where("signals", pattern)))
        for s in hits:
            chosen[s] = noise
    for s in chosen:
        if s not in outputs:
            problems.append(Problem(f"signals: {s} is not an output of the topology (the "
                                    "telemetry maps it to column "
                                    f"{telemetry.signals[s].column!r})",
                                    where("signals") if patterns else where("telemetry")))
    return chosen


def observe(telemetry: Telemetry, grid: np.ndarray, chosen: dict[str, SignalNoise],
            outputs: dict[str, str | None]) -> Observations:
    """Align the chosen signals onto ``grid``; ConfigError for a signal with nothing to
    fit (all NaN in the fitted window)."""
    names = list(chosen)
    aligned = telemetry.align(grid, {s: outputs[s] for s in names}, names)
    measured = np.vstack([aligned.values[s] for s in names])
    finite = np.isfinite(measured)
    fit = finite & aligned.mask("window")[None, :]
    holdout = np.zeros_like(fit)
    if aligned.windows.get("holdout") is not None:
        holdout = finite & aligned.mask("holdout")[None, :]
    for i, s in enumerate(names):
        if not fit[i].any():
            why = "is all NaN" if not finite[i].any() else \
                "has no value after the warm-up inside the fitted window"
            raise ConfigError(f"signal {s} (column {aligned.columns[s]!r} of "
                              f"{telemetry.label}) {why}: nothing to fit; drop it from "
                              "'signals' or check the telemetry")
    sigma = np.full(measured.shape, np.nan)
    estimated = []
    relative = [chosen[s].relative_sigma for s in names]
    for i, s in enumerate(names):
        noise, given = chosen[s], aligned.sigma.get(s)
        if noise.sigma is not None:
            sigma[i] = noise.sigma
        elif noise.relative_sigma is not None:
            sigma[i] = noise.relative_sigma * np.abs(measured[i])
            if np.any(sigma[i][fit[i]] <= 0):
                raise ConfigError(f"signal {s}: relative_sigma needs non-zero measured "
                                  "values; give sigma instead")
        elif given is not None:
            sigma[i] = given
        estimated.append(bool(np.isnan(sigma[i][fit[i]]).all()))
    units = [aligned.units.get(s) for s in names]
    return Observations(grid, names, units, measured, fit, holdout, sigma, estimated,
                        relative, dict(aligned.columns), list(aligned.notes))
