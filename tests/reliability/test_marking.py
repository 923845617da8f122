"""Marking a file whose writer died: superblock flags cleared (checksum recomputed), whole
rows only, status set in place; refused for files it does not understand."""

from __future__ import annotations

import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
from reliability_helpers import ROOT

import cosim as api
from cosim.errors import ResultsError
from cosim.results import superblock
from cosim.results.marking import mark

WRITER = textwrap.dedent(f"""
    import math, sys, time
    sys.path.insert(0, {str(ROOT)!r})
    import numpy as np
    from cosim.observers.base import RunInfo, Signal
    from cosim.observers.hdf5 import HDF5Recorder
    from cosim.variables import Variable

    signals = [Signal("a", Variable("x", "output", unit="K")),
               Signal("a", Variable("n", "output", kind="integer"))]
    rec = HDF5Recorder(sys.argv[1], chunk_rows=128, flush_seconds=0.02)
    rec.started(RunInfo("killed", signals, 0.0, 1e9, 0.5, "jacobi"))
    values = np.empty(2)
    i = 0
    while True:
        values[:] = (math.sin(i * 0.01), i % 7)
        rec.stepped(i * 0.5, values)
        i += 1
        if i % 64 == 0:
            time.sleep(0.002)
""")


@pytest.fixture(scope="module")
def killed_once(tmp_path_factory):
    """A result file whose writer was SIGKILLed mid-run (flagged as open for writing)."""
    path = tmp_path_factory.mktemp("killed") / "killed.h5"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with h5py.File(path, "r", swmr=True) as f:
                    if f["time"].shape[0] >= 512:
                        break
            except (OSError, KeyError):
                pass
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return path


@pytest.fixture
def killed(killed_once, tmp_path):
    copy = tmp_path / "killed.h5"
    copy.write_bytes(killed_once.read_bytes())
    return copy


def test_lookup3_is_hdf5s_checksum(tmp_path):
    """Independent truth: the checksum HDF5 itself stored in superblocks it wrote."""
    for k in range(3):
        path = tmp_path / f"f{k}.h5"
        with h5py.File(path, "w", libver=("v110", "v110")) as f:
            f["x"] = np.arange(10 ** k * 1000)
        head = path.read_bytes()[:48]
        assert superblock.lookup3(head[:44]) == struct.unpack("<I", head[44:48])[0]
    assert superblock.lookup3(b"") == 0xDEADBEEF  # lookup3.c: hashlittle("", 0)


def test_killed_file_marked_and_read_plainly(killed):
    with pytest.raises(OSError, match="already open for write"):
        h5py.File(killed, "r")  # what every tool sees before marking
    size = killed.stat().st_size
    n = mark(killed, "crashed", "killed by SIGKILL while node a was stepping from t=3 s")
    assert killed.stat().st_size <= size  # marked in place: nothing grew
    with h5py.File(killed, "r") as f:  # a plain open now works
        assert f.attrs["status"] == "crashed" and f.attrs["n_rows"] == n >= 512
        assert f.attrs["error"].startswith("killed by SIGKILL") and f.attrs["finished"]
        i = np.arange(n)
        assert np.array_equal(f["time"][()], i * 0.5)
        assert np.array_equal(f["a.x"][()], [math.sin(k * 0.01) for k in range(n)])
        assert np.array_equal(f["a.n"][()], i % 7)
    run = api.read(killed)
    assert run.status == "crashed" and len(run.df) == n
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(killed, engine="h5netcdf", phony_dims="access") as ds:
        assert ds.attrs["status"] == "crashed" and ds.sizes["time"] == n


def test_torn_flush_is_cut_to_whole_rows(killed):
    superblock.clear_open_flags(killed)
    with h5py.File(killed, "r+") as f:  # a kill between the signal writes and /time
        n = f["time"].shape[0]
        f["a.x"].resize((n + 100,))
        f["time"].resize((n + 50,))  # extent written, data not: NaN fill values
    assert mark(killed, "crashed", "x") == n
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(killed, engine="h5netcdf", phony_dims="access") as ds:
        assert ds.sizes["time"] == n and np.isfinite(ds["time"].values).all()


def test_refuses_what_it_does_not_understand(tmp_path, killed):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w", libver=("v110", "v110")) as f:
        f["x"] = 1
    before = plain.read_bytes()
    with pytest.raises(ResultsError, match="not a cosim result file"):
        mark(plain, "crashed")
    assert h5py.File(plain, "r")["x"][()] == 1
    damaged = bytearray(killed.read_bytes())
    damaged[20] ^= 0xFF  # inside the checksummed superblock
    killed.write_bytes(bytes(damaged))
    with pytest.raises(ResultsError, match="checksum does not match"):
        mark(killed, "crashed")
    assert killed.read_bytes() == bytes(damaged)
    old = tmp_path / "old.h5"
    with h5py.File(old, "w", libver="earliest") as f:  # superblock version 0
        f.attrs["cosim_layout_version"] = 1
    with pytest.raises(ResultsError, match="only versions 2 and 3"):
        mark(old, "crashed")
    assert before == plain.read_bytes()
