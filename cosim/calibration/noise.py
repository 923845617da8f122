"""Residuals under a noise model: weights per signal, and AR(1) whitening.

For signal ``s`` at its fitted points, with model values ``ŷ`` and measurements ``y``:

* scaled residuals ``u = (ŷ - y) / σ`` where ``σ`` is the stated noise (per point; 1
  when the noise is to be estimated);
* ``iid``: ``e = u / c_s``;
* ``ar1``: the Prais-Winsten transform ``e_t = (u_t - ρ_s u_{t-1}) / c_s`` and, at the
  first point of each run of consecutive fitted points, ``e = sqrt(1 - ρ_s²) u / c_s``
  — a gap (masked telemetry) starts a new run, never bridged.

A relative noise (``relative_sigma``) is a fraction of the measured values at first;
each update takes it from the model's values instead (weights computed from noisy
measurements would bias the fit: a low reading would weigh more), so at the optimum
``σ_t = relative_sigma · |ŷ_t|``.

``c_s`` is the scale of the whitened residuals of signal ``s``: 1 (iid, σ stated),
``sqrt(1 - ρ_s²)`` (ar1, σ stated: σ is the marginal noise, the innovations are
smaller), or estimated as the root mean square of the whitened residuals when σ is
not stated. ``c`` is held fixed while ``z`` and ``ρ`` are optimized, then updated
(:meth:`NoiseModel.update`) and the fit repeated until it settles — so ``ρ`` is
estimated jointly with the parameters by least squares of the whitened residuals,
the conditional (Prais-Winsten) estimate of an AR(1) error model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .observations import Observations

RHO_LIMIT = 0.99


@dataclass
class _Signal:
    index: np.ndarray      # grid indices of the fitted points
    start: np.ndarray      # bool: first point of a run of consecutive fitted points
    y: np.ndarray          # measured
    sigma: np.ndarray      # stated noise (1 where estimated)
    estimated: bool
    relative: float | None = None


class NoiseModel:
    """Whitened, weighted residuals of predictions against the observations."""

    def __init__(self, obs: Observations, kind: str = "iid"):
        self.obs, self.kind = obs, kind
        self.signals: list[_Signal] = []
        for i in range(len(obs.signals)):
            idx = np.flatnonzero(obs.fit[i])
            start = np.ones(idx.size, dtype=bool)
            start[1:] = np.diff(idx) != 1
            est = obs.estimated[i]
            sigma = np.ones(idx.size) if est else obs.sigma[i][idx]
            rel = obs.relative[i] if obs.relative else None
            self.signals.append(_Signal(idx, start, obs.measured[i][idx], sigma, est, rel))
        self.rho = np.zeros(len(self.signals))
        self.scale = np.ones(len(self.signals))
        self.sizes = [s.index.size for s in self.signals]
        self.n = int(sum(self.sizes))

    @property
    def n_rho(self) -> int:
        return len(self.signals) if self.kind == "ar1" else 0

    # -- residuals ---------------------------------------------------------------------------

    def scaled(self, predictions: np.ndarray) -> list[np.ndarray]:
        """``u`` per signal from predictions ``[signal, time]`` on the grid."""
        return [(predictions[i][s.index] - s.y) / s.sigma for i, s in enumerate(self.signals)]

    def whiten(self, u: np.ndarray, i: int, rho: float | None = None) -> np.ndarray:
        s = self.signals[i]
        r = self.rho[i] if rho is None else rho
        if self.kind != "ar1" or r == 0.0:
            return u / self.scale[i]
        e = np.empty_like(u)
        e[1:] = u[1:] - r * u[:-1]
        e[0] = 0.0
        start = s.start
        e[start] = math.sqrt(1.0 - r * r) * u[start]
        return e / self.scale[i]

    def residuals(self, predictions: np.ndarray, rho: np.ndarray | None = None) -> np.ndarray:
        """Every whitened residual, signal after signal."""
        rho = self.rho if rho is None else rho
        u = self.scaled(predictions)
        return np.concatenate([self.whiten(u[i], i, float(rho[i])) for i in range(len(u))])

    def jacobian(self, columns: list[np.ndarray], predictions: np.ndarray,
                 rho: np.ndarray | None = None) -> np.ndarray:
        """d residuals / d (z, ρ): ``columns[j]`` is d predictions / d z_j ``[signal,
        time]``; the ρ columns (ar1) are exact."""
        rho = self.rho if rho is None else rho
        blocks = []
        for col in columns:
            d = [col[i][s.index] / s.sigma for i, s in enumerate(self.signals)]
            blocks.append(np.concatenate([self.whiten(d[i], i, float(rho[i]))
                                          for i in range(len(d))]))
        J = np.column_stack(blocks) if blocks else np.empty((self.n, 0))
        if self.kind != "ar1":
            return J
        u = self.scaled(predictions)
        R = np.zeros((self.n, len(self.signals)))
        offset = 0
        for i, s in enumerate(self.signals):
            r = float(rho[i])
            d = np.empty_like(u[i])
            d[1:] = -u[i][:-1]
            d[0] = 0.0
            d[s.start] = -r / math.sqrt(1.0 - r * r) * u[i][s.start]
            R[offset:offset + d.size, i] = d / self.scale[i]
            offset += d.size
        return np.hstack([J, R])

    # -- the noise level ---------------------------------------------------------------------

    def update(self, predictions: np.ndarray, rho: np.ndarray | None = None) -> float:
        """Set ``ρ`` (ar1), take relative noise from the predictions and re-estimate the
        scales ``c`` there; return the largest relative change of a weight."""
        if rho is not None:
            self.rho = np.clip(np.asarray(rho, dtype=float), -RHO_LIMIT, RHO_LIMIT)
        moved = 0.0
        for i, s in enumerate(self.signals):
            if s.relative is not None:
                new = s.relative * np.maximum(np.abs(predictions[i][s.index]), 1e-300)
                moved = max(moved, float(np.max(np.abs(new - s.sigma) / s.sigma)))
                s.sigma = new
        u = self.scaled(predictions)
        old = self.scale.copy()
        for i, s in enumerate(self.signals):
            r = float(self.rho[i]) if self.kind == "ar1" else 0.0
            if s.estimated:
                self.scale[i] = 1.0
                e = self.whiten(u[i], i, r)
                self.scale[i] = max(float(np.sqrt(np.mean(e * e))), 1e-300)
            else:
                self.scale[i] = math.sqrt(1.0 - r * r)
        return max(moved, float(np.max(np.abs(self.scale - old) / old)))

    def sigma(self) -> np.ndarray:
        """The marginal noise standard deviation per signal (model unit; for stated
        noise its median), as the model now sees it."""
        out = np.empty(len(self.signals))
        for i, s in enumerate(self.signals):
            r = float(self.rho[i]) if self.kind == "ar1" else 0.0
            base = float(np.median(s.sigma))
            out[i] = base * self.scale[i] / math.sqrt(1.0 - r * r) if s.estimated else base
        return out

    def state(self) -> dict:
        return {"rho": self.rho.tolist(), "scale": self.scale.tolist()}

    def set_state(self, state: dict) -> None:
        self.rho = np.array(state["rho"], dtype=float)
        self.scale = np.array(state["scale"], dtype=float)
