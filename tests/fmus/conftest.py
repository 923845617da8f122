"""Shared fixtures for the tests of the project's own FMUs (fmus/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fmutest_helpers import TEMPDIRS, Instance

from fmus.build import build


@pytest.fixture(scope="session")
def fmus() -> dict[tuple[str, int], Path]:
    """Every FMU, built (or taken from the cache) once per session."""
    paths = build()
    yield paths
    for d in TEMPDIRS:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def instance(fmus):
    """Factory: instance(model, version, kind="CS", **options) -> Instance (freed after)."""
    created: list[Instance] = []

    def make(model: str, version: int, kind: str = "CS", **options) -> Instance:
        inst = Instance(fmus, model, version, kind, **options)
        created.append(inst)
        return inst

    yield make
    for inst in created:
        inst.fmu.freeInstance()
