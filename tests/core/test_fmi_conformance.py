"""What the FMI standards let FMUs do, honoured by the run core (issue 10's defects),
each on the project's own FMUs that behave that way (fmus/, docs/fmus.md)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest
from scipy.linalg import expm

import cosim
from tests.conftest import ROOT

MASTERS = ("gauss-seidel", "jacobi")


def stopper(fmu, version: int, **params) -> cosim.Topology:
    topo = cosim.Topology("stop", stop=1.0, step=0.1)
    topo.add_fmu("stopper", fmu("Stopper", version), parameters={"t_stop": 0.55, **params})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 2.0})
    topo.connect("stopper.x", "g.u", check_units=False)
    return topo


# -- 1. termination requests -------------------------------------------------------------


@pytest.mark.parametrize("algorithm", MASTERS)
@pytest.mark.parametrize("fast", [True, False])
def test_fmi2_termination_ends_the_run_normally(fmu, tmp_path, algorithm, fast):
    """fmi2Discard + fmi2Terminated at 0.55 s inside the step [0.5, 0.6]: the run ends at
    0.5 s, the last point every node completed, with status terminated."""
    out = tmp_path / "stop.h5"
    result = cosim.run(stopper(fmu, 2), algorithm=algorithm, fast=fast, output=out)
    assert result.status == "terminated" and result.error is None
    term = result.termination
    assert (term.node, term.requested, term.time) == ("stopper", 0.55, 0.5)
    df = result.df
    assert df.index[-1] == 0.5 and len(df) == 6
    np.testing.assert_allclose(df["stopper.x"], df.index, rtol=0, atol=1e-12)  # x = t
    # every row up to there is the run that was asked to stop at 0.5 s
    plain = cosim.run(stopper(fmu, 2), algorithm=algorithm, fast=fast, stop=0.5).df
    assert df.to_numpy().tobytes() == plain.to_numpy().tobytes()
    with h5py.File(out) as f:
        assert f.attrs["status"] == "terminated"
        assert f.attrs["terminated_by"] == "stopper" and f.attrs["terminated_at"] == 0.5
        assert "0.55" in f.attrs["termination"] and len(f["time"]) == 6


def test_cli_exits_0_and_says_terminated(fmu, tmp_path):
    path = tmp_path / "stop.yaml"
    cosim_topology = stopper(fmu, 2)
    cosim_topology.save(path)
    proc = subprocess.run([sys.executable, "-m", "cosim", "run", str(path), "--no-progress",
                           "-o", str(tmp_path / "s.h5")], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "terminated: stopper asked to end the simulation at t=0.55 s" in proc.stdout


@pytest.mark.parametrize("algorithm", MASTERS)
def test_fmi3_termination_from_do_step_lands_on_the_requested_time(fmu, algorithm):
    """Every node can roll back: the FMU returns early at 0.55 s with terminateSimulation,
    the macro step is redone to 0.55 s and the run ends there."""
    result = cosim.run(stopper(fmu, 3), algorithm=algorithm)
    assert result.status == "terminated"
    assert result.termination.time == 0.55 == result.df.index[-1]
    assert result.df["stopper.x"].iloc[-1] == pytest.approx(0.55, abs=1e-12)
    # the Gain sees x at 0.55 (Gauss-Seidel) or at the last point, 0.5 (Jacobi)
    x_seen = 0.55 if algorithm == "gauss-seidel" else 0.5
    assert result.df["g.y"].iloc[-1] == pytest.approx(2 * x_seen, abs=1e-12)


@pytest.mark.parametrize("algorithm", MASTERS)
def test_fmi3_termination_from_an_event_records_both_limits(fmu, algorithm):
    result = cosim.run(stopper(fmu, 3, via_event=True), algorithm=algorithm)
    assert result.status == "terminated" and result.termination.time == 0.55
    df, kinds = result.df, result.df.attrs["row_kind"]
    assert list(df.index[-2:]) == [0.55, 0.55] and list(kinds[-2:]) == [1, 2]
    assert [e.kind for e in result.events] == ["fmu"]


def test_a_discarded_step_is_an_error_not_a_termination(fmu):
    topo = stopper(fmu, 2, max_step=0.05)
    with pytest.raises(cosim.SimulationError, match=r"stopper rejected the step of 0.1 s "
                                                    r"\(fmiDiscard, without a termination"):
        cosim.run(topo)


# -- 2. FMI 3 time events ----------------------------------------------------------------------


def counter(fmu, version: int) -> cosim.Topology:
    topo = cosim.Topology("count", stop=5.0, step=0.25)
    topo.add_fmu("counter", fmu("Counter", version))
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 1.0})
    topo.connect("counter.y", "g.u", check_units=False)
    return topo


@pytest.mark.parametrize("algorithm", MASTERS)
@pytest.mark.parametrize("fast", [True, False])
def test_time_events_land_exactly_off_the_grid(fmu, algorithm, fast):
    """count += 1 at 0.1 + k s, between the points of a 0.25 s grid: the master lands on
    each event time (the FMU would fail a step over one) and records both limits."""
    result = cosim.run(counter(fmu, 3), algorithm=algorithm, fast=fast)
    df, kinds = result.df, result.df.attrs["row_kind"]
    expected = [0.1 + k for k in range(5)]
    assert [e.time for e in result.events] == pytest.approx(expected, abs=0)
    for t in expected:
        rows = np.flatnonzero(df.index.to_numpy() == t)
        assert list(kinds[rows]) == [1, 2]
        before, after = df["counter.count"].iloc[rows]
        assert after == before + 1 == round(t - 0.1) + 1
        # the downstream FMI 2 Gain (y = u) shows the jump in the right limit (defect 6)
        assert df["g.y"].iloc[rows[1]] == pytest.approx(df["counter.y"].iloc[rows[1]])
    # between events the grid is untouched
    assert set(df.index[kinds == 0]) == {0.25 * k for k in range(21)}


# -- 5. multirate: recorded values are what the system saw then --------------------------------


def test_multirate_rows_hold_the_last_completed_output(fmu):
    topo = cosim.Topology("mr", stop=1.0, step=0.01)
    topo.add_fmu("slow", fmu("Decay", 2), parameters={"k": 2.0, "x0": 1.0}, step=0.1)
    topo.add_fmu("fast", fmu("Decay", 2), parameters={"k": 1.0, "x0": 1.0})
    df = cosim.run(topo).df
    alone = cosim.Topology("alone", stop=1.0, step=0.1)
    alone.add_fmu("slow", fmu("Decay", 2), parameters={"k": 2.0, "x0": 1.0})
    ref = cosim.run(alone).df["slow.x"].to_numpy()
    for t, x in df["slow.x"].items():
        held = ref[int(np.floor(round(t / 0.1, 9)))]
        assert x == held, t  # bit for bit: the value of the last completed slow step


# -- 6. right limits after events ----------------------------------------------------------


def test_right_limits_follow_direct_feedthrough(fmu):
    topo = cosim.Topology("rl", stop=1.0, step=0.1)
    topo.add_fmu("g1", fmu("Gain", 2), parameters={"k": 3.0})
    topo.add_fmu("g2", fmu("Gain", 2), parameters={"k": 0.5})
    topo.add_block("scale", "surrogate", parameters={
        "model": np.polynomial.Polynomial([1.0, 2.0]), "inputs": ["x"], "outputs": ["y"]})
    topo.connect("g1.y", "g2.u")
    topo.connect("g2.y", "scale.x", check_units=False)
    topo.add_event(0.25, "g1.u", 2.0)
    df = cosim.run(topo).df
    rows = np.flatnonzero(df.index.to_numpy() == 0.25)
    left, right = df.iloc[rows[0]], df.iloc[rows[1]]
    assert left["g1.y"] == 0.0 and right["g1.y"] == 6.0
    assert right["g2.y"] == 3.0 and right["scale.y"] == 7.0  # through a block too


def test_fmi3_step_mode_limit_is_said_by_check(fmu):
    topo = cosim.Topology("rl3", stop=1.0, step=0.1)
    topo.add_fmu("g1", fmu("Gain", 2), parameters={"k": 3.0})
    topo.add_fmu("g3", fmu("Gain", 3))
    topo.connect("g1.y", "g3.u")
    topo.add_event(0.25, "g1.u", 2.0)
    notes = topo.check().notes
    assert any(n.startswith("g3: FMI 3 forbids reading outputs after setting inputs") and
               "(y)" in n for n in notes), notes


# -- 7. outputs computed when initialization ends -----------------------------------------------


@pytest.mark.parametrize("version", [2, 3])
def test_outputs_are_read_after_initialization(fmu, version):
    topo = cosim.Topology("lazy", stop=600.0, step=60.0)
    topo.add_fmu("room", fmu("Lazy", version), parameters={"T0": 298.0, "T_amb": 288.0,
                                                           "tau": 1800.0})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 2.0})
    topo.connect("room.T", "g.u", check_units=False)
    df = cosim.run(topo).df
    assert df["room.T"].iloc[0] == 298.0  # not 0.0, what the FMU reads in Initialization
    assert df["g.y"].iloc[0] == 596.0     # and what depends on it directly
    t = df.index.to_numpy()
    np.testing.assert_allclose(df["room.T"], 288.0 + 10.0 * np.exp(-t / 1800.0), rtol=1e-7)


# -- 8. record any variable; FMUs without outputs; optional functions left out -----------------


@pytest.mark.parametrize("version", [2, 3])
def test_an_fmu_without_outputs_records_its_locals_and_says_so(fmu, version):
    topo = cosim.load(fmu("Silent", version))
    report = topo.check()
    assert any("has no outputs: recording its local variables x, e" in n for n in report.notes)
    df = cosim.run(topo).df
    t = df.index.to_numpy()
    np.testing.assert_allclose(df["Silent.x"], 2.0 * np.exp(-0.5 * t), rtol=1e-6)  # k, x0
    np.testing.assert_allclose(df["Silent.e"], 0.5 * df["Silent.x"] ** 2, rtol=1e-12)


def test_record_patterns_name_locals_and_parameters(fmu):
    topo = cosim.Topology("rec", stop=0.2, step=0.1, record=["s.*", "s.k"])
    topo.add_fmu("s", fmu("Silent", 2), parameters={"k": 2.0})
    rec = topo.check().recorded
    assert ("s", "x") in rec and ("s", "e") in rec and ("s", "k") in rec
    assert cosim.run(topo).df["s.k"].tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("version", [2, 3])
def test_an_fmu_omitting_optional_functions_loads_and_runs(fmu, version):
    with zipfile.ZipFile(fmu("Minimal", version)) as zf:  # the library really lacks them
        assert not any("GetFMUstate" in n for n in zf.namelist())
    result = cosim.run(fmu("Minimal", version))
    t = result.df.index.to_numpy()
    np.testing.assert_allclose(result.df["Minimal.x"], np.exp(-t), rtol=1e-6)


# -- 3. every FMI type -----------------------------------------------------------------------


TYPES = ("Float32", "Float64", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32",
         "Int64", "UInt64", "Boolean", "String", "Binary", "Enumeration")


def test_every_fmi3_type_is_exchanged_and_recorded_in_its_own_type(fmu, tmp_path):
    topo = cosim.Topology("types", stop=0.2, step=0.1)
    big = 2 ** 60 + 1  # beyond what a float64 holds exactly
    topo.add_fmu("a", fmu("AllTypes", 3), start={"u_Int64": big, "u_UInt64": 2 ** 64 - 1,
                                                "u_String": "abc", "u_Int8": 127})
    topo.add_fmu("b", fmu("AllTypes", 3))
    for t in TYPES:
        topo.connect(f"a.y_{t}", f"b.u_{t}")
    report = topo.check()
    assert any("not recorded" in n and "y_Binary" in n for n in report.notes)
    df = cosim.run(topo, output=tmp_path / "t.h5").df
    last = df.iloc[-1]
    assert last["a.y_Int64"] == big + 1 and last["b.y_Int64"] == big + 2  # exact
    assert last["a.y_UInt64"] == 0 and last["b.y_UInt64"] == 1            # wraps
    assert last["a.y_Int8"] == -128 and last["b.y_Int8"] == -127
    assert last["b.y_String"] == "ABC" and last["b.y_time"] == "t=0.200"
    with h5py.File(tmp_path / "t.h5") as f:
        assert f["b.y_Int64"].dtype == np.int64 and int(f["b.y_Int64"][-1]) == big + 2
        assert f["b.y_UInt64"].dtype == np.uint64
        assert h5py.check_string_dtype(f["b.y_String"].dtype) is not None
    back = cosim.read(tmp_path / "t.h5").df
    assert back["b.y_String"].iloc[-1] == "ABC" and back["b.y_Int64"].iloc[-1] == big + 2


def test_fmi2_strings(fmu):
    topo = cosim.Topology("s2", stop=0.1, step=0.1)
    topo.add_fmu("a", fmu("AllTypes", 2), start={"u_String": "x"})
    topo.add_fmu("b", fmu("AllTypes", 2))
    topo.connect("a.y_String", "b.u_String")
    assert cosim.run(topo).df["b.y_String"].iloc[-1] == "X"


def test_type_mismatches_are_problems(fmu):
    topo = cosim.Topology("bad", stop=0.1, step=0.1)
    topo.add_fmu("a", fmu("AllTypes", 3))
    topo.add_fmu("b", fmu("AllTypes", 3))
    topo.connect("a.y_String", "b.u_Float64")
    topo.connect("a.y_Binary", "b.u_String", gain=2.0)
    text = "\n".join(str(p) for p in topo.check().problems)
    assert "type mismatch: a.y_String is string" in text
    assert "b.u_String: type mismatch" in text


# -- 4. FMI 3 arrays -----------------------------------------------------------------------------


def mass_spring(t: np.ndarray, u: float) -> np.ndarray:
    """y = x of der(x) = A x + B u, x(0) = [1, 0] (the StateSpace FMU's defaults)."""
    a = np.array([[0.0, 1.0], [-4.0, -0.4]])
    b = np.array([0.0, 1.0])
    x0 = np.array([1.0, 0.0])
    forced = np.linalg.solve(a, b) * u
    return np.array([expm(a * tk) @ (x0 + forced) - forced for tk in t])


def test_arrays_through_element_connections_match_the_matrix_exponential(fmu, tmp_path):
    topo = cosim.Topology("ss", stop=2.0, step=0.01)
    topo.add_fmu("ss", fmu("StateSpace", 3))
    topo.add_block("f", "constant", parameters={"value": 1.0})
    topo.connect("f.y", "ss.u[1]")
    result = cosim.run(topo, output=tmp_path / "ss.h5")
    df = result.df
    y = df[["ss.y[1]", "ss.y[2]"]].to_numpy()
    np.testing.assert_allclose(y, mass_spring(df.index.to_numpy(), 1.0), atol=1e-6)
    with h5py.File(tmp_path / "ss.h5") as f:
        assert f["ss.y"].shape == (len(df), 2) and f["ss.x_norms"].shape == (len(df), 3)
    assert list(cosim.read(tmp_path / "ss.h5").df.columns[:2]) == ["ss.y[1]", "ss.y[2]"]


def test_structural_parameters_resize_arrays(fmu):
    topo = cosim.Topology("ss2", stop=1.0, step=0.01)
    topo.add_fmu("ss", fmu("StateSpace", 3), parameters={
        "nu": 2, "B": [[0, 0], [1, 0.5]], "D": [[0, 0], [0, 0]]})
    topo.add_block("f", "constant", parameters={"value": 2.0})
    topo.connect("f.y", "ss.u[2]")  # force 0.5 * 2 = 1 on the mass
    df = cosim.run(topo).df
    y = df[["ss.y[1]", "ss.y[2]"]].to_numpy()
    np.testing.assert_allclose(y, mass_spring(df.index.to_numpy(), 1.0), atol=1e-6)


def test_array_sizes_are_checked(fmu):
    topo = cosim.Topology("bad", stop=0.1, step=0.1)
    topo.add_fmu("ss", fmu("StateSpace", 3), parameters={"A": [1.0, 2.0, 3.0]})
    topo.add_block("f", "constant")
    topo.connect("f.y", "ss.u[2]")
    topo.connect("ss.y", "ss.u")
    text = "\n".join(str(p) for p in topo.check().problems)
    assert "ss.A: value has 3 element(s) but A has shape [2, 2]" in text
    assert "u[2] is outside its shape [1]" in text
    assert "size mismatch: ss.y has 2 element(s) [2] but ss.u has 1" in text


# -- 9. clocks -------------------------------------------------------------------------------------


def test_clocks_are_reported_and_the_fmu_still_runs(fmu):
    topo = cosim.load(fmu("Clocked", 3))
    notes = topo.check().notes
    assert any("clocks are not supported (sample)" in n for n in notes), notes
    df = cosim.run(topo).df
    np.testing.assert_allclose(df["Clocked.y"], np.sin(df.index.to_numpy()), atol=1e-9)
    assert df["Clocked.ticks"].iloc[-1] == 7  # ticks at 0, 0.5, ... 3.0 inside doStep
