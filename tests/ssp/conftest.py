"""Fixtures for the SSP tests: the project's FMUs by name, a folder for archives."""

from __future__ import annotations

import pytest


@pytest.fixture
def fmu2(fmu):
    """``fmu2("Gain")`` -> the FMI 2 co-simulation FMU built from fmus/Gain."""
    return lambda model: fmu(model, 2)
