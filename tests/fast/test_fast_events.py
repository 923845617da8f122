"""The event loop's stretches between instants run in the kernel, bit-identical to the
Python event loop: scheduled sets and ramps, monitors located by rollback (the kernel
stops at the crossing step, goes back to its start and the Python loop locates it), stop
actions, FMI 3 time events and state events with early return, termination requests,
the flagship with a cooler outage; and most steps are taken natively."""

from __future__ import annotations

import contextlib

import pytest
from fast_helpers import assert_same_frames, compiled_loops, h5_contents

import cosim
from cosim.protocol import NotNative
from tests.conftest import TOPOLOGIES as TOPOLOGY_DIR

ALGORITHMS = ("gauss-seidel", "jacobi")


@contextlib.contextmanager
def python_steps(sim):
    """Count the macro steps the Python master takes (the rest ran in the kernel)."""
    count = [0]
    original = sim.algorithm.step

    def counted(*args):
        count[0] += 1
        return original(*args)

    sim.algorithm.step = counted
    try:
        yield count
    finally:
        sim.algorithm.step = original


def run_both(topo, tmp_path, *, python=(), expect_python=None, **settings):
    """(python result, fast result, Python macro steps of the fast run). ``python``:
    nodes made to decline the kernel; ``expect_python``: the nodes then run in Python
    (default: those)."""
    expect_python = set(python) if expect_python is None else set(expect_python)
    results, steps = [], []
    for fast in (False, True):
        out = tmp_path / f"{'fast' if fast else 'python'}.h5"
        with cosim.Simulation(topo, fast=fast, **settings) as sim, python_steps(sim) as n, \
                compiled_loops() as seen:
            for name in python:  # decline the kernel: the node runs its Python adapter
                sub = sim.system.subsystems[sim.system.index[name]]
                sub.native_form = _decline(name)
            results.append(sim.run(output=out))
            steps.append(n[0])
            if fast:
                assert seen and seen[0] is not None
                assert {seen[0].system.names[i] for i in seen[0].python_nodes} == expect_python
        results[-1].h5 = h5_contents(out)
    python, fast = results
    assert_same_frames(python.df, fast.df)
    assert list(python.df.attrs["row_kind"]) == list(fast.df.attrs["row_kind"])
    assert python.h5 == fast.h5
    assert [(e.time, e.kind, e.name, e.description) for e in python.events] == \
        [(e.time, e.kind, e.name, e.description) for e in fast.events]
    assert python.status == fast.status and python.termination == fast.termination
    return python, fast, steps[1]


def _decline(name):
    def decline():
        raise NotNative(f"node {name}: declined by the test")
    return decline


def _chain(fmu, version: int = 2) -> cosim.Topology:
    topo = cosim.Topology("events", stop=4.0, step=0.01)
    topo.add_block("src", "ramp", parameters={"duration": 3.0, "height": 2.0})
    topo.add_fmu("d1", fmu("Decay", version), parameters={"k": 1.5, "x0": 1.0})
    topo.add_block("pid", "pid", parameters={"kp": 2.0, "ki": 1.0, "u_min": -3.0,
                                             "u_max": 3.0},
                   start={"setpoint": 0.8})
    topo.add_fmu("d2", fmu("Decay", 2), parameters={"k": 0.7, "x0": 0.0})
    topo.connect("src.y", "d1.u")
    topo.connect("d1.x", "pid.measurement")
    topo.connect("pid.u", "d2.u")
    topo.add_fmu("g", fmu("Gain", version), parameters={"k": -1.0, "b": 0.0})  # u: events
    return topo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_scheduled_sets_and_ramps(algorithm, fmu, tmp_path):
    topo = _chain(fmu)
    topo.add_event(0.5, "pid.setpoint", 1.4, name="raise")
    topo.add_event(1.2345, "g.u", 2.0, name="off-grid")
    topo.add_event(2.0, "pid.setpoint", 0.2, until=2.5, name="ramp down")
    _, fast, steps = run_both(topo, tmp_path, algorithm=algorithm)
    assert [e.name for e in fast.events] == ["raise", "off-grid", "ramp down"]
    assert steps < 70  # of 401: the ramp's 50 steps, one per stretch's end


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("version", [2, 3])
def test_monitors_located_by_rollback(version, algorithm, fmu, tmp_path):
    topo = _chain(fmu, version)
    topo.add_monitor("d1.x > 1.2", action="set", set="pid.setpoint", value=0.1,
                     name="high")
    topo.add_monitor("d2.x < -0.5", name="low")
    topo.add_event(3.0, "g.u", 0.5)
    _, fast, steps = run_both(topo, tmp_path, algorithm=algorithm)
    assert {e.name for e in fast.events} >= {"high", "low"}
    assert steps < 150  # bisection steps: ~40 per located crossing, of 401


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_monitor_stop_action(algorithm, fmu, tmp_path):
    topo = _chain(fmu)
    topo.add_monitor("d1.x > 1.2", action="stop", name="stop")
    _, fast, _ = run_both(topo, tmp_path, algorithm=algorithm)
    assert fast.df.index[-1] < 4.0 and fast.events[-1].name == "stop"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("python", [(), ("counter",)])
def test_fmi3_time_events_off_the_grid(python, algorithm, fmu, tmp_path):
    topo = cosim.Topology("counter", stop=5.0, step=0.25)
    topo.add_fmu("counter", fmu("Counter", 3), parameters={"t_first": 0.1, "period": 0.7})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 2.0, "b": 0.0})
    topo.connect("counter.y", "g.u")
    topo.run.record = ["counter.y", "g.y"]
    # recording the Integer output would make the Counter a Python node anyway
    _, fast, steps = run_both(topo, tmp_path, algorithm=algorithm, python=python)
    assert [e.time for e in fast.events if e.kind == "fmu"] == pytest.approx(
        [0.1 + 0.7 * k for k in range(8)])  # the last at 5.0 s, the stop
    assert steps == 0


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("python", [(), ("clock",)])
def test_termination_requests(python, version, fmu, tmp_path):
    topo = cosim.Topology("stop", stop=1.0, step=0.1)
    topo.add_fmu("clock", fmu("Stopper", version), parameters={"t_stop": 0.55})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 2.0, "b": 0.0})
    topo.connect("clock.x", "g.u")
    topo.add_monitor("g.y > 100", name="never")  # the event loop, with rollback
    _, fast, _ = run_both(topo, tmp_path, python=python)
    assert fast.status == "terminated" and fast.termination.node == "clock"


def test_fmi3_state_events_with_early_return(fmu, tmp_path):
    _, fast, steps = run_both(TOPOLOGY_DIR / "bouncing_ball.yaml", tmp_path,
                              expect_python={"ball"})  # records its Integer output
    assert sum(e.kind == "fmu" for e in fast.events) >= 5


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fmi3_early_return_of_a_native_fmu(algorithm, fmu, tmp_path):
    """The ball natively (its real outputs only): each bounce stops the kernel at the
    step it returns early in; the step is taken again from the checkpoint by Python."""
    topo = cosim.load(TOPOLOGY_DIR / "bouncing_ball.yaml")
    topo.run.record = ["ball.h", "ball.v"]
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": -1.0, "b": 0.0})
    topo.connect("ball.h", "g.u")
    _, fast, steps = run_both(topo, tmp_path, algorithm=algorithm)
    bounces = sum(e.kind == "fmu" for e in fast.events)
    # per bounce: the step returning early, then the step to the event again; the
    # other steps of the 60 (0.05 s over 3 s) in the kernel
    assert bounces >= 5 and steps == 2 * bounces


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_flagship_with_a_cooler_outage(algorithm, fmus, tmp_path):
    _, fast, steps = run_both(TOPOLOGY_DIR / "datacenter_outage.yaml", tmp_path,
                              algorithm=algorithm)
    assert [e.kind for e in fast.events][:1] == ["scheduled"]
    assert len(fast.events) >= 3 and steps < 300  # of 480


def test_no_compiled_stretches_with_fast_false(fmu):
    topo = _chain(fmu)
    topo.add_event(0.5, "pid.setpoint", 1.4)
    with compiled_loops() as seen:
        cosim.run(topo, fast=False)
    assert seen == []
