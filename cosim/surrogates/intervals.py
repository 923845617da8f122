"""Prediction intervals with a stated coverage: conformal, on free-run errors.

The surrogate is used in free run (its own outputs fed back), so its intervals are
calibrated on free-run errors of trajectories the predicting model never saw (cross-
conformal over folds of the training trajectories, :func:`cosim.surrogates.training.
cross_errors`; Vovk 2015, Barber et al. 2021): for each output the half-width is the
``ceil((n + 1) * coverage)``-th smallest absolute error among the ``n`` calibration
points. The interval at every step is ``[y - w, y + w]``.

Its coverage holds on average over points drawn like the calibration points: other
trajectories of the same excitation design, every step of them (cross-conformal
guarantees at least ``1 - 2 alpha`` in theory and gives about ``1 - alpha`` in
practice). Points inside one trajectory are correlated, so the coverage measured on a
finite test set scatters more than a binomial count would; it is measured on held-out
*test* trajectories and reported next to the nominal value. In a closed loop, or under
inputs unlike the excitation design, it is a statement about the design, not a
guarantee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Intervals:
    """Half-widths per output for a nominal ``coverage`` (e.g. 0.9)."""

    coverage: float
    half_width: np.ndarray
    n_calibration: int

    method = ("cross-conformal on free-run absolute errors of the training trajectories, each "
              "predicted by a model fitted without it")

    @classmethod
    def calibrate(cls, errors: np.ndarray, coverage: float) -> Intervals:
        """From free-run errors ``(points, n_out)`` of the calibration trajectories."""
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must be in (0, 1), got {coverage}")
        e = np.abs(np.asarray(errors, dtype=np.float64))
        n = e.shape[0]
        k = math.ceil((n + 1) * coverage)
        if n == 0 or k > n:
            width = np.full(e.shape[1], np.inf)
        else:
            width = np.sort(e, axis=0)[k - 1]
        return cls(float(coverage), width, int(n))

    def covered(self, errors: np.ndarray) -> np.ndarray:
        """Fraction of points inside the interval, per output, for errors ``(points,
        n_out)``."""
        e = np.abs(np.asarray(errors, dtype=np.float64))
        return (e <= self.half_width).mean(axis=0)

    def manifest(self, outputs: list[str]) -> dict:
        return {"coverage": self.coverage, "method": self.method,
                "n_calibration": self.n_calibration,
                "half_width": dict(zip(outputs, self.half_width.tolist(), strict=True))}

    @classmethod
    def restore(cls, manifest: dict, outputs: list[str]) -> Intervals:
        widths = manifest["half_width"]
        return cls(float(manifest["coverage"]),
                   np.array([float(widths[o]) for o in outputs]),
                   int(manifest["n_calibration"]))
