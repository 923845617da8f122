"""Fixtures for the calibration tests (helpers: calibration_support.py)."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_support import decay_truth, write, write_csv


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
