"""A run streamed to HDF5: read back with h5py, xarray and pandas; a run killed with
SIGKILL leaves a readable file up to its last flush."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import cosim
from tests.conftest import ROOT, TOPOLOGIES


def test_hdf5_layout_read_by_h5py_xarray_pandas(tmp_path, fmu):
    out = tmp_path / "chain.h5"
    result = cosim.run(TOPOLOGIES / "decay_chain.yaml", output=out)
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "completed" and f.attrs["cosim_layout_version"] == 1
        assert f["time"].attrs["units"] == "s"
        assert f["d1.x"].attrs["units"] == "1" and f["source.y"].attrs["units"] == "1/s"
        np.testing.assert_array_equal(f["time"][:], result.df.index.to_numpy())
        np.testing.assert_array_equal(f["d3.x"][:], result.df["d3.x"].to_numpy())
        assert float(f["parameters/d2.k"][()]) == 2.0
        meta = json.loads(f["meta/topology"][()])
        assert set(meta["nodes"]) == {"source", "d1", "d2", "d3"}
        subs = json.loads(f["meta/subsystems"][()])
        assert len(subs["d1"]["sha256"]) == 64 and subs["d3"]["fmi_version"].startswith("3")
        versions = json.loads(f["meta/versions"][()])
        assert {"cosim", "fmpy", "numpy", "h5py"} <= set(versions)
    xr = pytest.importorskip("xarray")
    ds = xr.open_dataset(out, engine="h5netcdf", phony_dims="access")
    np.testing.assert_array_equal(ds["d2.x"].values, result.df["d2.x"].to_numpy())
    df = ds.to_dataframe()
    assert list(df.index.names) == ["time"] and "d1.x" in df.columns
    ds.close()
    data = cosim.read(out)
    assert data.units["d1.x"] == "1" and data.status == "completed"


LONG = """
run: {{stop: 1.0e6, step: 0.001, algorithm: jacobi}}
nodes:
  src: {{block: ramp, parameters: {{start_time: 0, duration: 1.0e6, height: 1.0e6}}}}
  g: {{fmu: {gain}, parameters: {{k: 2.0, b: 1.0}}}}
connections:
  - src.y -> g.u
"""


def test_sigkill_leaves_a_readable_partial_file(tmp_path, fmu):
    topo = tmp_path / "long.yaml"
    topo.write_text(LONG.format(gain=fmu("Gain")))
    out = tmp_path / "killed.h5"
    cosim_cli = [sys.executable, "-m", "cosim", "run", str(topo), "-o", str(out),
                 "--no-progress"]
    proc = subprocess.Popen(cosim_cli, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        rows = 0
        while time.monotonic() < deadline and rows < 5000:
            time.sleep(0.3)
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                with h5py.File(out, "r", swmr=True) as f:
                    rows = f["time"].shape[0]
            except (OSError, KeyError):
                rows = 0
        assert rows >= 5000, "the writer never flushed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = cosim.read(out)
    assert data.status == "running"  # the writer never got to say how it ended
    t = data.df.index.to_numpy()
    assert len(t) >= rows
    np.testing.assert_allclose(np.diff(t), 0.001, rtol=1e-9)
    # Jacobi: g sees the ramp one step late; the ramp is y = t (height/duration = 1)
    g = data.df["g.y"].to_numpy()
    np.testing.assert_allclose(g[1:], 2.0 * t[:-1] + 1.0, rtol=1e-12, atol=1e-12)


def test_events_table_in_hdf5(tmp_path, fmus):
    out = tmp_path / "outage.h5"
    result = cosim.run(TOPOLOGIES / "datacenter_outage.yaml", output=out)
    data = cosim.read(out)
    assert list(data.events["kind"]) == [e.kind for e in result.events]
    np.testing.assert_array_equal(data.events["time"].to_numpy(),
                                  [e.time for e in result.events])
    assert data.events["time"].iloc[0] == 21600.0
    # each event has its left and right rows, with that time
    for t in data.events["time"]:
        kinds = data.row_kind[data.df.index.to_numpy() == t]
        assert list(kinds) == [1, 2]
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(out, engine="h5netcdf", group="events", phony_dims="access") as ds:
        assert ds.sizes == {"phony_dim_0": len(result.events)}
