"""Helpers of the calibration tests: known truth, telemetry files, noise.

The Decay FMU gives ``x(t) = x0 exp(-k t)`` (u = 0): a closed form to draw synthetic
telemetry from, independent of the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
TRUE_K, TRUE_X0 = 0.7, 2.0


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def decay_truth(t: np.ndarray) -> np.ndarray:
    return TRUE_X0 * np.exp(-TRUE_K * t)


def write_csv(path: Path, t: np.ndarray, columns: dict[str, np.ndarray]) -> Path:
    data = np.column_stack([t, *columns.values()])
    np.savetxt(path, data, delimiter=",", header=",".join(["time", *columns]), comments="")
    return path


def ar1_noise(rng: np.random.Generator, n: int, rho: float, sigma: float) -> np.ndarray:
    """A stationary AR(1) series with marginal standard deviation ``sigma``."""
    e = np.empty(n)
    e[0] = rng.standard_normal()
    innovations = rng.standard_normal(n) * np.sqrt(1.0 - rho * rho)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + innovations[i]
    return sigma * e
