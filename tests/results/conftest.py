"""Fixtures for the results tests (helpers live in results_helpers.py)."""

from __future__ import annotations

import pytest
from results_helpers import record


@pytest.fixture
def result_file(tmp_path):
    path = tmp_path / "run.h5"
    record(path, chunk_rows=1000)
    return path
