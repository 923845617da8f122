"""Errors inside the compiled loop raise what the Python loop raises, at the same step,
after the same rows: an FMU failing in doStep (FMICallError: node, function, status,
time, FMU log), an output turning NaN (NonFiniteError); the HDF5 file then holds the same
rows with status failed. Non-finite values pass through when the run allows them."""

from __future__ import annotations

import numpy as np
import pytest
from fast_helpers import run_both, run_failing

import cosim
from cosim.errors import FMICallError, NonFiniteError

ALGORITHMS = ("gauss-seidel", "jacobi")


def _chain_with_faulty(fmu, version: int = 2, **faulty) -> cosim.Topology:
    topo = cosim.Topology("faulty", stop=1.0, step=0.1)
    topo.add_fmu("src", fmu("Decay", 2), parameters={"k": 1.0, "x0": 1.0})
    topo.add_fmu("bad", fmu("Faulty", version), parameters=faulty)
    topo.add_fmu("after", fmu("Gain", 2), parameters={"k": 2.0, "b": 0.0})
    topo.connect("src.x", "bad.u")
    topo.connect("bad.y", "after.u")
    return topo


def _same_error(found) -> None:
    (py_err, py_file), (fast_err, fast_file) = found
    assert type(py_err) is type(fast_err)
    assert str(py_err) == str(fast_err)
    for attr in ("node", "variable", "time", "function", "status", "detail"):
        assert getattr(py_err, attr, None) == getattr(fast_err, attr, None), attr
    assert py_file == fast_file
    assert py_file["status"] == "failed"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("version", [2, 3])
def test_fmu_error_in_dostep(version, algorithm, fmu, tmp_path):
    found = run_failing(_chain_with_faulty(fmu, version, fail_at=0.45), tmp_path,
                        algorithm=algorithm)
    _same_error(found)
    err, contents = found[1]
    assert isinstance(err, FMICallError) and err.node == "bad"
    assert err.time == pytest.approx(0.4) and "fail_at" in str(err)
    assert err.function == f"fmi{version}DoStep"
    assert contents["n_rows"] == 5  # t = 0 .. 0.4: the failing step is not recorded


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_nonfinite_output(algorithm, fmu, tmp_path):
    found = run_failing(_chain_with_faulty(fmu, nan_at=0.25), tmp_path, algorithm=algorithm)
    _same_error(found)
    err, _ = found[1]
    assert isinstance(err, NonFiniteError) and (err.node, err.variable) == ("bad", "y")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_nonfinite_allowed(algorithm, fmu, tmp_path):
    topo = _chain_with_faulty(fmu, nan_at=0.25)
    topo.run.allow_nonfinite = True
    _, fast = run_both(topo, tmp_path, algorithm=algorithm)
    assert np.isnan(fast.df["after.y"].to_numpy()[-1])


def test_error_on_the_first_step(fmu, tmp_path):
    _same_error(run_failing(_chain_with_faulty(fmu, fail_at=0.05), tmp_path))


def test_terminate_after_failure_is_not_called(fmu, tmp_path):
    """After an error the subsystems' times are as the Python loop leaves them."""
    import cosim.execution as ex

    seen = {}
    original = ex.Execution._finish

    def finish(self, started, error, wall):
        seen[self.sim.fast] = {sub.name: sub.time for sub in self.system.subsystems}
        return original(self, started, error, wall)

    ex.Execution._finish = finish
    try:
        for algorithm in ALGORITHMS:
            run_failing(_chain_with_faulty(fmu, fail_at=0.45), tmp_path, algorithm=algorithm)
            assert seen[False] == seen[True], algorithm
    finally:
        ex.Execution._finish = original
