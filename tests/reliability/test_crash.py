"""Faults inside FMU code under ``cosim run``: the supervisor marks the file and says where.

The Hostile FMU segfaults, aborts or calls ``_exit(3)`` in the first doStep that ends
after ``t_fault``. The simulation process dies; the supervisor (its parent) marks the
result file ``crashed`` with the signal, the node and the end of the last completed step,
prints one message and exits 3. The file opens plainly (no SWMR flag left) in h5py,
xarray and cosim.read, and keeps whole rows: y = t on the step grid.
"""

from __future__ import annotations

import numpy as np
import pytest
from reliability_helpers import PYTHON_LOOP, Batch, committed, hostile_topology

import cosim as api

CASES = [  # fault, FMI version, Python loop (else compiled), t_fault, signal text
    pytest.param(1, 2, False, 60.0, "was killed by SIGSEGV (segmentation fault)", id="segv-fmi2-fast"),
    pytest.param(2, 3, True, 3.0, "was killed by SIGABRT (aborted)", id="abort-fmi3-python"),
    pytest.param(3, 3, False, 60.0, "exited with status 3 (exit() called inside the model)",
                 id="exit-fmi3-fast"),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, fmus):
    """Every case started at once; each test collects its own."""
    batch = Batch()
    folder = tmp_path_factory.mktemp("crash")
    for case in CASES:
        fault, version, python, t_fault, _ = case.values
        topo = hostile_topology(folder, fmus, case.id, fault, t_fault, version=version,
                                python=python)
        batch.start(case.id, "run", topo, "-o", folder / f"{case.id}.h5", "--no-progress",
                    **(PYTHON_LOOP if python else {}))
    yield folder, batch
    batch.close()


@pytest.mark.parametrize(("fault", "version", "python", "t_fault", "how"), CASES)
def test_fault_in_fmu_is_contained(runs, request, fault, version, python, t_fault, how):
    folder, batch = runs
    case = request.node.callspec.id
    out = folder / f"{case}.h5"
    done = batch.result(case)
    assert done.code == 3, done.err
    first, second = done.lines  # one message: what happened, where the rows are
    assert first == (f"cosim run: error: the simulation process {how} while node h was "
                     f"stepping from t={t_fault:g} s; the fault is in that node's model code")
    attrs, series = committed(out)  # a plain open: the file is no longer flagged as open
    n = len(series["time"])
    assert second == f"partial results (status crashed, {n} rows) are in {out}"
    assert attrs["status"] == "crashed" and attrs["error"] == first.split("error: ", 1)[1]
    assert attrs["n_rows"] == n and attrs["finished"]
    assert n >= 4096, "at least one chunk was written before the crash"
    t = series["time"]
    assert np.array_equal(t, np.arange(n) * 1e-4) or np.allclose(t, np.arange(n) * 1e-4,
                                                                 rtol=0, atol=1e-9)
    assert t[-1] <= t_fault  # nothing of the failing step
    assert np.array_equal(series["h.y"], t)  # y = t, row by row
    assert all(len(v) == n for v in series.values())
    run = api.read(out)
    assert run.status == "crashed" and len(run.df) == n
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(out, engine="h5netcdf", phony_dims="access") as ds:
        assert ds.attrs["status"] == "crashed" and ds.sizes["time"] == n
