"""HDF5Recorder → file → h5py / cosim.results.read / xarray / pandas, bit for bit."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from results_helpers import N_ROWS, expected_rows, make_info, record

from cosim.errors import ResultsError
from cosim.observers.base import RowKind, RunInfo, Signal
from cosim.observers.hdf5 import HDF5Recorder
from cosim.results import RunData, read
from cosim.variables import Variable

NAMES = ["rack2.T_cpu", "rack1.T_cpu", "rack1.P", "ctrl.stage", "ctrl.on", "ctrl.u"]


def test_layout_with_h5py(result_file):
    t, values, kinds = expected_rows()
    with h5py.File(result_file, "r") as f:
        a = f.attrs
        assert a["cosim_layout_version"] == 1
        assert (a["name"], a["algorithm"], a["status"], a["error"]) == (
            "roundtrip", "jacobi", "completed", "")
        assert (a["start"], a["stop"], a["step"], a["n_rows"]) == (0.0, 100.0, 0.01, N_ROWS)
        assert a["created"].endswith("Z") and a["finished"] >= a["created"]
        assert list(f.keys()) == ["time", *NAMES, "row_kind", "parameters", "meta", "events"]

        time = f["time"]
        assert time.dtype == np.float64 and time.maxshape == (None,)
        assert time.chunks == (1000,) and time.compression == "gzip" and time.shuffle
        assert time.attrs["units"] == "s" and time.is_scale
        assert np.array_equal(time[:], t)

        for j, name in enumerate(NAMES):
            ds = f[name]
            assert ds.shape == (N_ROWS,) and ds.maxshape == (None,)
            assert ds.compression == "gzip" and ds.shuffle and ds.chunks == (1000,)
            assert ds.dims[0][0] == time  # attached to the time dimension scale
            assert np.array_equal(ds[:], values[:, j].astype(ds.dtype))
        assert f["ctrl.stage"].dtype == np.int64 and f["ctrl.on"].dtype == np.int8
        assert f["rack1.P"].dtype == np.float64

        T = f["rack2.T_cpu"].attrs
        assert (T["units"], T["nominal"], T["kind"], T["fmi_type"], T["causality"]) == (
            "K", 300.0, "real", "Float64", "output")
        assert (T["node"], T["variable"], T["description"]) == (
            "rack2", "T_cpu", "CPU temperature")
        assert f["ctrl.u"].attrs["units"] == "" and "nominal" not in f["ctrl.u"].attrs
        assert f["ctrl.on"].attrs["kind"] == "boolean"

        assert f["row_kind"].dtype == np.int8 and f["row_kind"].dims[0][0] == time
        assert np.array_equal(f["row_kind"][:], kinds)

        p = f["parameters"]
        assert p["rack1.R"][()] == 0.25 and p["rack1.R"].attrs["units"] == "K/W"
        assert p["rack1.n"][()] == 4 and p["rack1.n"].attrs["units"] == ""
        assert p["ctrl.mode"].asstr()[()] == "auto"
        topo = json.loads(f["meta/topology"].asstr()[()])
        assert topo["nodes"][0] == {"id": "rack1"}
        assert f["meta/cosim_version"].asstr()[()] == "0.1.0"


def test_read_is_bit_identical(result_file):
    t, values, kinds = expected_rows()
    run = read(result_file)
    assert run.status == "completed" and run.error == ""
    assert run.df.attrs["units"] == run.units
    assert run.signals == NAMES and list(run.df.columns) == NAMES
    assert run.df.index.name == "time" and np.array_equal(run.df.index.to_numpy(), t)
    for j, name in enumerate(NAMES):
        col = run.df[name].to_numpy()
        assert np.array_equal(col, values[:, j].astype(col.dtype))
    assert run.df["rack1.T_cpu"].to_numpy().tobytes() == values[:, 1].tobytes()
    assert run.df["ctrl.stage"].dtype == np.int64 and run.df["ctrl.on"].dtype == np.int8
    assert run.units == {"rack2.T_cpu": "K", "rack1.T_cpu": "K", "rack1.P": "W",
                         "ctrl.stage": None, "ctrl.on": None, "ctrl.u": None}
    assert run.parameters == {"rack1.R": 0.25, "rack1.n": 4, "ctrl.mode": "auto",
                              "ctrl.enabled": True}
    assert run.parameter_units["rack1.R"] == "K/W" and run.parameter_units["rack1.n"] is None
    assert run.meta == make_info().meta
    assert np.array_equal(run.row_kind, kinds)
    assert run.row_kind[5000] == RowKind.EVENT_BEFORE
    assert run.attrs["n_rows"] == N_ROWS and run.name == "roundtrip"
    assert run.signal_attrs["rack1.T_cpu"]["nominal"] == 300.0
    tt, y = run.signal("rack1.P")
    assert np.array_equal(tt, t) and np.array_equal(y, values[:, 2])


def test_unknown_signal_names_close_matches(result_file):
    run = read(result_file)
    with pytest.raises(ResultsError, match=r"rack1\.T_cpux.*did you mean rack1\.T_cpu"):
        run.signal("rack1.T_cpux")


def test_xarray_and_pandas(result_file):
    xr = pytest.importorskip("xarray")
    t, values, _ = expected_rows()
    with xr.open_dataset(result_file, engine="h5netcdf", phony_dims="access") as ds:
        assert list(ds.sizes) == ["time"] and ds.sizes["time"] == N_ROWS
        assert np.array_equal(ds["time"].values, t)
        assert ds["rack2.T_cpu"].attrs["units"] == "K"
        assert ds.attrs["status"] == "completed"
        df = ds.to_dataframe()
    assert df.index.name == "time" and list(df.columns) == [*NAMES, "row_kind"]
    for j, name in enumerate(NAMES):
        assert np.array_equal(df[name].to_numpy(), values[:, j].astype(df[name].dtype))

    mine = read(result_file).to_xarray()
    assert mine.sizes["time"] == N_ROWS and mine["time"].attrs["units"] == "s"
    assert np.array_equal(mine["rack1.P"].values, values[:, 2])
    assert mine["rack1.P"].attrs["units"] == "W" and mine.attrs["status"] == "completed"


def test_failed_run_keeps_rows(tmp_path):
    path = tmp_path / "failed.h5"
    record(path, n=1234, error=RuntimeError("boom"), chunk_rows=500)
    run = read(path)
    assert run.status == "failed" and run.error == "boom"
    assert len(run.df) == 1234 and run.attrs["n_rows"] == 1234
    t, values, _ = expected_rows(1234)
    assert np.array_equal(run.df["rack2.T_cpu"].to_numpy(), values[:, 0])


def test_finished_twice_and_misuse(tmp_path):
    rec = record(tmp_path / "a.h5", n=10)
    rec.finished(RuntimeError("late"))  # second call: no error, no change
    assert read(tmp_path / "a.h5").status == "completed"
    with pytest.raises(ResultsError, match="outside a run"):
        rec.stepped(1.0, np.zeros(6))
    with pytest.raises(ResultsError, match="already used"):
        rec.started(make_info())
    fresh = HDF5Recorder(tmp_path / "never.h5")
    fresh.finished(None)  # finished without started: nothing to do
    assert not (tmp_path / "never.h5").exists()


def test_wrong_row_length(tmp_path):
    rec = HDF5Recorder(tmp_path / "a.h5")
    rec.started(make_info())
    with pytest.raises(ResultsError, match=r"a\.h5.*expected 6"):
        rec.stepped(0.0, np.zeros(5))
    rec.finished(None)


def test_zero_rows(tmp_path):
    record(tmp_path / "empty.h5", n=0)
    run = read(tmp_path / "empty.h5")
    assert run.status == "completed" and run.df.shape == (0, 6) and run.signals == NAMES


def test_rows_visible_while_running(tmp_path):
    """flush_seconds bounds the delay: rows appear to a SWMR reader before finished()."""
    path = tmp_path / "live.h5"
    t, values, kinds = expected_rows(50)
    rec = HDF5Recorder(path, chunk_rows=4096, flush_seconds=1e-9)
    rec.started(make_info())
    for k in range(50):
        rec.stepped(float(t[k]), values[k])
    live = read(path)
    assert live.status == "running" and len(live.df) == 50
    assert np.array_equal(live.df["rack1.P"].to_numpy(), values[:, 2])
    rec.finished(None)
    assert read(path).status == "completed"


def test_batches_not_per_row(tmp_path):
    """With a long flush interval nothing is written before a chunk is full."""
    path = tmp_path / "batch.h5"
    t, values, _ = expected_rows(300)
    rec = HDF5Recorder(path, chunk_rows=256, flush_seconds=3600)
    rec.started(make_info())
    for k in range(255):
        rec.stepped(float(t[k]), values[k])
    assert len(read(path).df) == 0
    for k in range(255, 300):
        rec.stepped(float(t[k]), values[k])
    assert len(read(path).df) == 256 and rec.n_rows == 256
    rec.finished(None)
    assert len(read(path).df) == 300


@pytest.mark.parametrize(("signal", "match"), [
    (Signal("a", Variable("b", "output", kind="binary")),
     "only real, integer, boolean and string"),
    (Signal("a", Variable("x/y", "output")), "cannot be stored"),
])
def test_unrecordable_signals(tmp_path, signal, match):
    info = RunInfo("bad", [signal], 0.0, 1.0, 0.1, "jacobi")
    with pytest.raises(ResultsError, match=match):
        HDF5Recorder(tmp_path / "bad.h5").started(info)


def test_duplicate_signal(tmp_path):
    sig = Signal("a", Variable("x", "output"))
    with pytest.raises(ResultsError, match="twice"):
        HDF5Recorder(tmp_path / "d.h5").started(RunInfo("d", [sig, sig], 0, 1, 1, "j"))


def test_cannot_create_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ResultsError, match=r"blocker|file/run\.h5"):
        HDF5Recorder(blocker / "run.h5").started(make_info())


def test_cannot_finish_raises_naming_path(tmp_path):
    path = tmp_path / "gone.h5"
    rec = HDF5Recorder(path)
    rec.started(make_info())
    rec.stepped(0.0, np.zeros(6))
    path.unlink()  # the open file still takes writes; reopening it for the status fails
    with pytest.raises(ResultsError, match=r"gone\.h5.*final status"):
        rec.finished(None)
    rec.finished(None)  # never raises twice


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 120), chunk=st.integers(1, 40))
def test_any_chunking_reads_back(n, chunk):
    t, values, kinds = expected_rows(max(n, 1))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "h.h5"
        rec = HDF5Recorder(path, chunk_rows=chunk)
        rec.started(make_info())
        for k in range(n):
            rec.stepped(float(k), values[k], RowKind(int(kinds[k])))
        rec.finished(None)
        run = read(path)
    assert len(run.df) == n and rec.n_rows == n
    assert np.array_equal(run.time, np.arange(n, dtype=float))
    assert np.array_equal(run.df["rack1.P"].to_numpy(), values[:n, 2])


def test_from_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a.x": [1.0, 2.0], "a.n": [1, 2]}, index=[0.0, 0.5])
    run = RunData.from_dataframe(df, units={"a.x": "K"}, name="mem")
    assert run.units == {"a.x": "K", "a.n": None} and run.df.index.name == "time"
    assert run.status == "completed" and run.name == "mem"
    assert run.to_xarray().sizes["time"] == 2
    assert run.df.attrs["units"] == run.units
    again = RunData.from_dataframe(run.df)  # units travel in df.attrs
    assert again.units == run.units
    with pytest.raises(ResultsError, match="not in the data"):
        RunData.from_dataframe(df, units={"b.y": "K"})


def test_meta_and_parameter_encodings(tmp_path):
    info = make_info()
    info.parameters = {"a.v": (np.array([1.0, 2.0]), "m"), "a.big": (2**70, None),
                       "a.np": (np.float32(0.5), "s")}
    info.meta = {"versions": {"fmpy": "0.3.20"}, "arr": np.arange(3), "none": None,
                 "json_looking": "[1, 2]"}
    record(tmp_path / "m.h5", info, n=3)
    run = read(tmp_path / "m.h5")
    assert run.parameters == {"a.v": [1.0, 2.0], "a.big": 2**70, "a.np": 0.5}
    assert run.parameter_units == {"a.v": "m", "a.big": None, "a.np": "s"}
    assert run.meta == {"versions": {"fmpy": "0.3.20"}, "arr": [0, 1, 2], "none": None,
                        "json_looking": "[1, 2]"}  # plain strings are never JSON-decoded
