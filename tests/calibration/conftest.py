"""Fixtures for the calibration tests: cheap models with known truth, telemetry files.

The Decay FMU gives ``x(t) = x0 exp(-k t)`` (u = 0): a closed form to draw synthetic
telemetry from, independent of the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


@pytest.fixture
def decay_case(tmp_path, fmu):
    """A Decay topology over 5 s (step 0.01 s: 501 points) and noisy telemetry of
    ``x`` (σ = 0.02, seed 0); returns ``(folder, spec)`` of a calibration of k (log
    scale) and x0 from 1.0 each."""
    write(tmp_path / "decay.yaml", {
        "name": "decay", "run": {"stop": 5.0, "step": 0.01},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}}}})
    t = np.round(np.arange(0, 5.0 + 1e-9, 0.01), 10)
    y = decay_truth(t) + 0.02 * np.random.default_rng(0).standard_normal(t.size)
    write_csv(tmp_path / "telemetry.csv", t, {"x": y})
    spec = {"name": "decay_fit", "topology": "decay.yaml",
            "telemetry": {"file": "telemetry.csv", "signals": {"d.x": {"column": "x"}}},
            "parameters": {"k": {"targets": "d.k", "initial": 1.0, "bounds": [0.01, 10],
                                 "scale": "log"},
                           "x0": {"targets": "d.x0", "initial": 1.0, "bounds": [0.1, 10]}},
            "budget": 200}
    return tmp_path, spec
