"""The compiled loop gives bit-identical results (DataFrame and HDF5 file) to the Python
loop: benchmark topologies, the shipped topologies, delayed connections, FMI 3, gains
and offsets, built-in blocks, runs longer than one chunk; and stands aside (the Python
loop runs, results unchanged) where it has no compiled form."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from fast_helpers import run_both
from numpy.polynomial import Polynomial

import cosim
from bench.overhead import TOPOLOGIES, to_cosim
from cosim.fast import explain, node_plan
from cosim.fast.loop import MAX_CHUNK_ROWS
from tests.conftest import TOPOLOGIES as TOPOLOGY_DIR

ALGORITHMS = ("gauss-seidel", "jacobi")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("name", list(TOPOLOGIES))
def test_benchmark_topologies(name, algorithm, tmp_path, fmus):
    topo = to_cosim(TOPOLOGIES[name](6), 400, tmp_path)
    run_both(topo, tmp_path, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("file", ["decay_chain.yaml", "two_mass.yaml"])
def test_shipped_topologies(file, algorithm, tmp_path, fmus):
    python, fast = run_both(TOPOLOGY_DIR / file, tmp_path, algorithm=algorithm)
    assert len(fast.df) > 100 and np.isfinite(fast.df.to_numpy()).all()


def _delayed_ring(fmu, version: int) -> cosim.Topology:
    topo = cosim.Topology("ring", stop=0.5, step=0.01)
    topo.add_fmu("a", fmu("Gain", version), parameters={"k": 0.9, "b": 0.1})
    topo.add_fmu("b", fmu("Decay", version), parameters={"k": 2.0, "x0": 1.0})
    topo.add_fmu("c", fmu("Gain", 2), parameters={"k": -1.5, "b": 0.0})
    topo.connect("a.y", "b.u", gain=2.0, offset=-0.25, check_units=False)
    topo.connect("b.x", "c.u")
    topo.connect("c.y", "a.u", delayed=True, gain=0.5, offset=1e-3)
    return topo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("version", [2, 3])
def test_delayed_loop_with_gains_offsets_fmi2_and_fmi3(version, algorithm, fmu, tmp_path):
    run_both(_delayed_ring(fmu, version), tmp_path, algorithm=algorithm)


def _blocks(fmu, tmp_path, direction: str) -> cosim.Topology:
    x = np.linspace(-3.0, 3.0, 40)
    model = tmp_path / "poly.pkl"
    model.write_bytes(pickle.dumps(Polynomial.fit(x, 0.2 + 0.7 * x - 0.04 * x**3, deg=3)))
    topo = cosim.Topology("blocks", stop=2.0, step=0.01)
    topo.add_block("set", "step", parameters={"time": 0.5, "before": 0.2, "after": 1.3})
    topo.add_block("ramp", "ramp", parameters={"start_time": 0.3, "duration": 0.77,
                                               "height": -2.0, "offset": 0.5})
    topo.add_block("bias", "constant", parameters={"value": -0.125})
    topo.add_fmu("plant", fmu("Decay", 3), parameters={"k": 0.8, "x0": 0.1})
    topo.add_block("pid", "pid", parameters={
        "kp": 3.0, "ki": 8.0, "kd": 0.05, "derivative_filter": 0.02, "u_min": -0.6,
        "u_max": 0.9, "direction": direction})
    topo.add_block("model", "surrogate", parameters={"model": str(model), "inputs": ["q"],
                                                     "outputs": ["r"]})
    topo.add_fmu("out", fmu("Gain", 2), parameters={"k": 1.0, "b": 0.0})
    topo.connect("set.y", "pid.setpoint")
    topo.connect("plant.x", "pid.measurement", check_units=False)
    topo.connect("pid.u", "plant.u", check_units=False)
    topo.connect("ramp.y", "model.q", gain=1.5, offset=0.25)
    topo.connect("model.r", "out.u")
    topo.add_fmu("shift", fmu("Gain", 3), parameters={"k": 3.0, "b": 0.0})
    topo.connect("bias.y", "shift.u", gain=2.0)
    return topo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("direction", ["direct", "reverse"])
def test_builtin_blocks(direction, algorithm, fmu, tmp_path):
    _, fast = run_both(_blocks(fmu, tmp_path, direction), tmp_path, algorithm=algorithm)
    u = fast.df["pid.u"].to_numpy()
    assert u.min() == -0.6 or u.max() == 0.9  # the limits (and anti-windup) took part


def test_longer_than_one_chunk(fmu):
    topo = cosim.Topology("long", stop=(MAX_CHUNK_ROWS + 4321) * 1e-3, step=1e-3)
    topo.add_block("ramp", "ramp", parameters={"duration": 50.0, "height": 5.0})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 1.0, "b": 0.5})
    topo.connect("ramp.y", "g.u")
    python, fast = run_both(topo)
    assert len(fast.df) == MAX_CHUNK_ROWS + 4322


def test_last_step_shortened_to_stop(fmu, tmp_path):
    topo = cosim.Topology("short", stop=0.1234567, step=0.01)
    topo.add_fmu("g", fmu("Decay", 2), parameters={"k": 1.0, "x0": 2.0})
    python, fast = run_both(topo, tmp_path, algorithm="jacobi")
    assert fast.df.index[-1] == 0.1234567


def test_integer_ports_run_in_python_within_the_compiled_loop(fmu, tmp_path):
    topo = cosim.Topology("ball", stop=1.0, step=0.01)
    topo.add_fmu("ball", fmu("Ball", 2))
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 2.0, "b": 0.0})
    topo.connect("ball.h", "g.u")
    run_both(topo, tmp_path, python={"ball"})
    with cosim.Simulation(topo) as sim:
        assert explain(sim) is None
        plan = {p.name: p for p in node_plan(sim)}
        assert plan["g"].native and not plan["ball"].native
        assert "integer" in plan["ball"].reason
