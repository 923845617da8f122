"""Hybrid execution: nodes without a compiled form run their own Python code, called from
the kernel when their turn comes, and the run stays bit-identical to the Python loop —
rows, HDF5 file, errors (at the same step, after the same rows), termination requests
and the subsystems' state afterwards."""

from __future__ import annotations

import pytest
from fast_helpers import compiled_loops, h5_contents, python_nodes, run_both

import cosim
from cosim import Block, Param, Port
from cosim.errors import FMICallError, SubsystemError
from cosim.protocol import NotNative

ALGORITHMS = ("gauss-seidel", "jacobi")


class Heater(Block):
    """First-order heater with state: tau * dT/dt = P / G - (T - T_amb) (explicit Euler)."""

    inputs = {"P": Port(unit="W")}
    outputs = {"T": Port(unit="K", start=293.15), "dT": Port(unit="K")}
    parameters = {"tau": Param(0.7, unit="s"), "G": Param(3.0, unit="W/K"),
                  "T_amb": Param(293.15, unit="K"), "fail_at": Param(1e300, unit="s")}
    feedthrough = {"T": [], "dT": []}

    def reset(self, t0):
        self.T = self.T_amb

    def step(self, t, dt, inputs):
        if t + dt > self.fail_at:
            raise ValueError(f"heater broke at t={t + dt:g}")
        self.T += dt / self.tau * (inputs["P"] / self.G - (self.T - self.T_amb))
        return {"T": self.T, "dT": self.T - self.T_amb}


class Interrupting(Block):
    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        if t > 0.25:
            raise KeyboardInterrupt
        return {"y": t}


def _chain(fmu, **heater) -> cosim.Topology:
    topo = cosim.Topology("hybrid", stop=1.0, step=0.01)
    topo.add_block("power", "ramp", parameters={"duration": 0.6, "height": 40.0,
                                                "unit": "W"})
    topo.add_fmu("g1", fmu("Gain", 2), parameters={"k": 1.5, "b": 0.5})
    topo.add_block("heater", Heater, parameters=heater)
    topo.add_fmu("g2", fmu("Gain", 3), parameters={"k": -2.0, "b": 1.0})
    topo.add_fmu("d", fmu("Decay", 2), parameters={"k": 3.0, "x0": 0.0})
    topo.connect("power.y", "g1.u", check_units=False)
    topo.connect("g1.y", "heater.P", check_units=False)
    topo.connect("heater.T", "g2.u", gain=0.01, offset=-2.9315, check_units=False)
    topo.connect("g2.y", "d.u")
    return topo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_python_block_among_native_nodes(algorithm, fmu, tmp_path):
    _, fast = run_both(_chain(fmu), tmp_path, algorithm=algorithm, python={"heater"})
    # the heater's own law: dT = T - T_amb grows while the power does
    assert fast.df["heater.dT"].iloc[-1] > fast.df["heater.dT"].iloc[10] > 0


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_python_block_raising(algorithm, fmu, tmp_path):
    found = []
    for fast in (False, True):
        out = tmp_path / f"{fast}.h5"
        with pytest.raises(SubsystemError) as caught:
            cosim.run(_chain(fmu, fail_at=0.405), fast=fast, output=out, algorithm=algorithm)
        found.append((caught.value, h5_contents(out)))
    (py_err, py_file), (fast_err, fast_file) = found
    assert str(py_err) == str(fast_err) and "heater broke at t=0.41" in str(fast_err)
    assert (py_err.node, py_err.time) == (fast_err.node, fast_err.time) == ("heater", 0.4)
    assert py_file == fast_file and fast_file["n_rows"] == 41


def test_keyboard_interrupt_in_a_python_node_stops_the_run(fmu):
    topo = cosim.Topology("ctrl-c", stop=1.0, step=0.01)
    topo.add_block("b", Interrupting)
    topo.add_fmu("g", fmu("Gain", 2))
    topo.connect("b.y", "g.u")
    with compiled_loops() as seen, pytest.raises(KeyboardInterrupt):
        cosim.run(topo)
    assert python_nodes(seen[0]) == {"b"}


def _python_fmu(sim, name: str) -> None:
    """Decline the kernel for one FMU: it then runs its Python adapter, called back."""
    sub = sim.system.subsystems[sim.system.index[name]]

    def decline():
        raise NotNative(f"node {name}: declined by the test")
    sub.native_form = decline


def _run(topo, fast: bool, tmp_path, python=(), **settings):
    out = tmp_path / f"{fast}.h5"
    with cosim.Simulation(topo, fast=fast, **settings) as sim:
        for name in python:
            _python_fmu(sim, name)
        with compiled_loops() as seen:
            try:
                result = sim.run(output=out)
            except cosim.CosimError as err:
                result = err
        if fast:
            assert python_nodes(seen[0]) == set(python)
        times = {sub.name: sub.time for sub in sim.system.subsystems}
    return result, h5_contents(out), times


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("version", [2, 3])
def test_termination_request_from_a_python_node(version, algorithm, fmu, tmp_path):
    topo = cosim.Topology("stop", stop=1.0, step=0.1)
    topo.add_fmu("clock", fmu("Stopper", version), parameters={"t_stop": 0.55})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 2.0, "b": 0.0})
    topo.connect("clock.x", "g.u")
    python = _run(topo, False, tmp_path, algorithm=algorithm)
    hybrid = _run(topo, True, tmp_path, python=["clock"], algorithm=algorithm)
    assert hybrid[1:] == python[1:]
    assert hybrid[0].status == python[0].status == "terminated"
    assert hybrid[0].termination == python[0].termination
    assert (hybrid[0].df.index.to_numpy() == python[0].df.index.to_numpy()).all()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fmu_error_in_a_python_node(algorithm, fmu, tmp_path):
    topo = cosim.Topology("faulty", stop=1.0, step=0.1)
    topo.add_fmu("src", fmu("Decay", 2), parameters={"k": 1.0, "x0": 1.0})
    topo.add_fmu("bad", fmu("Faulty", 2), parameters={"fail_at": 0.45})
    topo.add_fmu("after", fmu("Gain", 2), parameters={"k": 2.0, "b": 0.0})
    topo.connect("src.x", "bad.u")
    topo.connect("bad.y", "after.u")
    python = _run(topo, False, tmp_path, algorithm=algorithm)
    hybrid = _run(topo, True, tmp_path, python=["bad"], algorithm=algorithm)
    assert isinstance(hybrid[0], FMICallError) and str(hybrid[0]) == str(python[0])
    assert hybrid[1:] == python[1:]
