"""Fixtures for the study tests: small topologies and study files written to tmp_path.

Runs are short (Decay over 1 s in 0.01 s steps) so that the whole folder stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
HAZARD = f"{HERE / 'hazard.py'}:Hazard"


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def decay_topology(tmp_path, fmu) -> Path:
    """One Decay FMU (k = 1, x0 = 1, u = 0) over 1 s."""
    return write(tmp_path / "decay.yaml", {
        "name": "decay", "run": {"stop": 1.0, "step": 0.01},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}}}})


@pytest.fixture
def hazard_topology(tmp_path, fmu) -> Path:
    """Decay -> Faulty (fails or turns NaN on request), and a Hazard block."""
    return write(tmp_path / "hazard.yaml", {
        "name": "hazard", "run": {"stop": 1.0, "step": 0.01},
        "nodes": {
            "d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}},
            "f": {"fmu": str(fmu("Faulty"))},
            "h": {"block": HAZARD},
        },
        "connections": [{"from": "d.x", "to": "f.u", "check_units": False}]})


@pytest.fixture
def table_topology(tmp_path, fmu) -> Path:
    """A table block (telemetry replay) driving a Decay FMU; two telemetry files."""
    (tmp_path / "load_a.csv").write_text("time,u\n0,1.0\n1,1.0\n")
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / "load_b.csv").write_text("time,u\n0,0.0\n0.5,2.0\n1,3.0\n")
    return write(tmp_path / "table.yaml", {
        "name": "table", "run": {"stop": 1.0, "step": 0.01},
        "nodes": {
            "load": {"block": "table", "parameters": {"file": "load_a.csv",
                                                      "units": {"u": "1/s"}}},
            "d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 0.0}},
        },
        "connections": ["load.u -> d.u"]})
