"""Shared fixtures: the project's own FMUs, built once per session from fmus/."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGIES = ROOT / "topologies"


@pytest.fixture(scope="session")
def fmus() -> dict:
    """``{(model, fmi_version): path}`` for every model, built (or taken from the cache)."""
    from fmus.build import build
    return build()


@pytest.fixture(scope="session")
def fmu(fmus):
    """``fmu("Decay", 2)`` -> path of the built FMU."""
    def get(model: str, version: int = 2) -> Path:
        return fmus[(model, version)]
    return get


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (tests/browser.py), installed if missing
    and possible; the test is skipped, with the reason, only where it cannot be had."""
    from tests.browser import Browser, find_or_install
    executable, why = find_or_install()
    if executable is None:
        pytest.skip(f"no headless Chromium for the HTML report checks: {why}")
    with Browser(executable) as b:
        yield b
