"""Fixtures of the reliability corpus; the helpers are in reliability_helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import hostile_topology


@pytest.fixture
def hostile(tmp_path, fmus):
    """``hostile(fault, t_fault, version=2, python=False, ...)`` -> a topology file."""
    def make(fault: int = 0, t_fault: float = 1.0, name: str = "hostile", **kwargs) -> Path:
        return hostile_topology(tmp_path, fmus, name, fault, t_fault, **kwargs)
    return make
