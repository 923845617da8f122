"""A writer killed with SIGKILL leaves a readable file: status "running", every flushed row."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from results_helpers import expected_rows, record

from cosim.errors import ResultsError
from cosim.results import read

ROOT = Path(__file__).resolve().parents[2]
CHUNK = 128

WRITER = textwrap.dedent(f"""
    import math, sys, time
    sys.path.insert(0, {str(ROOT)!r})
    import numpy as np
    from cosim.observers.base import RowKind, RunInfo, Signal
    from cosim.observers.hdf5 import HDF5Recorder
    from cosim.variables import Variable

    signals = [Signal("a", Variable("x", "output", unit="K")),
               Signal("a", Variable("n", "output", kind="integer")),
               Signal("b", Variable("flag", "output", kind="boolean"))]
    rec = HDF5Recorder(sys.argv[1], chunk_rows={CHUNK}, flush_seconds=0.02)
    rec.started(RunInfo("killed", signals, 0.0, 1e9, 0.5, "jacobi"))
    values = np.empty(3)
    i = 0
    while True:  # until SIGKILL; values are a function of the row index only
        values[:] = (math.sin(i * 0.01), i % 7, (i // 3) % 2)
        rec.stepped(i * 0.5, values, RowKind.COMMUNICATION_POINT)
        i += 1
        if i % 64 == 0:
            time.sleep(0.002)
""")


def expected(n: int) -> dict[str, np.ndarray]:
    i = np.arange(n)
    return {"time": i * 0.5, "a.x": np.array([math.sin(k * 0.01) for k in range(n)]),
            "a.n": i % 7, "b.flag": (i // 3) % 2}


def wait_for_rows(path: Path, proc: subprocess.Popen, rows: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            n = len(read(path).df)  # SWMR read while the writer runs
        except ResultsError:  # not created yet, or not yet in SWMR mode
            n = 0
        if n >= rows:
            return n
        time.sleep(0.02)
    raise AssertionError(f"writer produced fewer than {rows} rows in {timeout} s")


def test_sigkill_leaves_readable_file(tmp_path):
    path = tmp_path / "killed.h5"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen = wait_for_rows(path, proc, 2 * CHUNK)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    run = read(path)
    n = len(run.df)
    assert run.status == "running" and run.error == ""
    assert n >= seen >= 2 * CHUNK
    exp = expected(n)
    assert np.array_equal(run.time, exp["time"])
    for name in ("a.x", "a.n", "b.flag"):
        t, y = run.signal(name)
        assert len(y) == len(t) == n
        assert np.array_equal(y, exp[name].astype(y.dtype)), name
    assert run.units["a.x"] == "K" and len(run.row_kind) == n

    ds = run.to_xarray()
    assert ds.sizes["time"] == n and np.array_equal(ds["a.n"].values, exp["a.n"])

    xr = pytest.importorskip("xarray")
    # The writer never closed the file: plain h5py/xarray opens refuse it, SWMR works.
    with xr.open_dataset(path, engine="h5netcdf", phony_dims="access",
                         driver_kwds={"swmr": True}) as raw:
        committed = np.isfinite(raw["time"].values)  # uncommitted padding reads as NaN
        assert committed.sum() == n
        assert np.array_equal(raw["a.x"].values[committed], exp["a.x"])


def test_uncommitted_rows_are_ignored(tmp_path):
    """A kill between the signal writes and the /time write: readers stop at len(time)."""
    path = tmp_path / "torn.h5"
    record(path, n=700, chunk_rows=256)
    with h5py.File(path, "r+") as f:
        f.attrs["status"] = "running"
        for name in ("rack2.T_cpu", "ctrl.on"):  # signals written, time not yet
            f[name].resize((956,))
    run = read(path)
    _, values, _ = expected_rows(700)
    assert len(run.df) == 700 and len(run.row_kind) == 700
    assert np.array_equal(run.df["rack2.T_cpu"].to_numpy(), values[:, 0])
    assert run.to_xarray().sizes["time"] == 700
