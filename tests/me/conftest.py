"""Fixtures for the model-exchange tests: a test-only model with time events (built
from ``tests/me/models``) and model-description variants of the project's FMUs."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parent / "models"


@pytest.fixture(scope="session")
def test_models(tmp_path_factory):
    """The test-only models: Sawtooth (time events), Fire (state events that depend on
    an input)."""
    from fmus.build import build
    return build(["Sawtooth", "Fire"], source_root=MODELS,
                 out_dir=tmp_path_factory.mktemp("me"))


@pytest.fixture(scope="session")
def sawtooth(test_models):
    """``sawtooth(version)`` -> the Sawtooth test FMU (model exchange, time events)."""
    return lambda version=2: test_models[("Sawtooth", version)]


@pytest.fixture(scope="session")
def fire(test_models):
    """``fire(version)`` -> the Fire test FMU (integrate and fire: der(x) = u)."""
    return lambda version=2: test_models[("Fire", version)]


def rewrite_description(source: Path, target: Path, edit) -> Path:
    """A copy of the FMU ``source`` whose modelDescription.xml is ``edit(xml)``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "modelDescription.xml":
                data = edit(data.decode()).encode()
            zout.writestr(item, data)
    return target


@pytest.fixture
def me_only(fmu, tmp_path):
    """``me_only(model, version)`` -> a copy of the FMU without its co-simulation
    interface (the binary is the same: it implements both)."""
    def make(model: str, version: int = 2) -> Path:
        def drop(xml: str) -> str:
            return re.sub(r"<CoSimulation[^>]*/>", "", xml)
        return rewrite_description(fmu(model, version), tmp_path / f"{model}ME{version}.fmu",
                                   drop)
    return make
