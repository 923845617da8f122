"""Unreadable inputs raise ResultsError naming the path (and what is wrong)."""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
from results_helpers import record

from cosim.errors import ResultsError
from cosim.results import read


def raises_for(path, what: str):
    return pytest.raises(ResultsError, match=re.escape(str(path)) + ".*" + what)


def test_missing_file(tmp_path):
    with raises_for(tmp_path / "nope.h5", "no such file"):
        read(tmp_path / "nope.h5")


def test_not_hdf5(tmp_path):
    path = tmp_path / "run.csv"
    path.write_text("time,x\n0,1\n")
    with raises_for(path, "not an HDF5 file"):
        read(path)


def test_directory(tmp_path):
    with raises_for(tmp_path, "not a file"):
        read(tmp_path)


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.95])
def test_truncated(tmp_path, fraction):
    path = tmp_path / "run.h5"
    record(path, n=3000, chunk_rows=500)
    data = path.read_bytes()
    path.write_bytes(data[: max(8, int(len(data) * fraction))])
    with raises_for(path, "corrupt or truncated"):
        read(path)


def test_corrupt_metadata(tmp_path):
    path = tmp_path / "run.h5"
    record(path, n=3000, chunk_rows=500)
    data = bytearray(path.read_bytes())
    data[48:2048] = b"\xa5" * 2000  # keep the signature, wreck the root group
    path.write_bytes(bytes(data))
    with raises_for(path, ""):
        read(path)


def test_hdf5_without_time(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.attrs["cosim_layout_version"] = 1
        f["x"] = np.arange(3.0)
    with raises_for(path, "no /time dataset: not a cosim result file"):
        read(path)


def test_hdf5_without_layout_version(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["time"] = np.arange(3.0)
    with raises_for(path, "no cosim_layout_version"):
        read(path)


def test_future_layout_version(tmp_path):
    path = tmp_path / "future.h5"
    with h5py.File(path, "w") as f:
        f.attrs["cosim_layout_version"] = 2
        f["time"] = np.arange(3.0)
    with raises_for(path, "layout version 2 not supported"):
        read(path)


def test_results_error_is_a_cosim_error_with_exit_code(tmp_path):
    with pytest.raises(ResultsError) as info:
        read(tmp_path / "nope.h5")
    assert info.value.exit_code == 2 and info.value.path == str(tmp_path / "nope.h5")
