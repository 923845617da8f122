"""Events in model-exchange clusters: state events located by the integrator's root
finding (the bouncing ball against its analytic bounce times), time events at
nextEventTime (a test model's sawtooth), step events (completedIntegratorStep), the
left and right limits recorded, and events handled inside the step when the master
cannot roll back."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import cosim
from cosim import Block, Port
from cosim.topology.schema import AdaptiveSpec
from cosim.variables import INTEGER
from tests.me.conftest import rewrite_description

G, E, H0, V_MIN = 9.81, 0.7, 1.0, 0.1
SOLVERS = ["cvode-bdf", "cvode-adams", "rk45", "dop853"]


def bounce_times() -> list[float]:
    """Every impact up to the one that leaves the ball at rest (11 with these values)."""
    t1 = math.sqrt(2 * H0 / G)
    v1 = G * t1
    times, n = [t1], 1
    while E ** n * v1 >= V_MIN:
        times.append(times[-1] + 2 * E ** n * v1 / G)
        n += 1
    return times


def ball_height(t: np.ndarray) -> np.ndarray:
    times = bounce_times()
    v1 = G * times[0]
    out = []
    for ti in t:
        if ti < times[0]:
            out.append(H0 - 0.5 * G * ti * ti)
            continue
        k = int(np.searchsorted(times, ti, side="right")) - 1  # last impact before ti
        v = E ** (k + 1) * v1
        s = ti - times[k]
        out.append(0.0 if v < V_MIN else v * s - 0.5 * G * s * s)
    return np.array(out)


def ball(fmu, version: int, solver: str = "cvode-bdf", **run) -> cosim.Topology:
    topo = cosim.Topology("ball", stop=3.0, step=0.01, **run)
    topo.add_fmu("ball", fmu("Ball", version), interface="model-exchange", solver=solver,
                 rtol=1e-10, atol=1e-12)
    return topo


def reported(result) -> list[float]:
    """Times the cluster reported for its FMU events (the located roots)."""
    out = []
    for e in result.events:
        if e.kind == "fmu":
            out.append(float(re.search(r"t=(\S+) s \(reported", e.description).group(1)))
    return out


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("solver", SOLVERS)
def test_ball_bounces_at_the_analytic_times_with_both_limits(fmu, version, solver):
    result = cosim.run(ball(fmu, version, solver))
    exact = bounce_times()
    located = reported(result)
    assert len(located) == len(exact) == 11
    np.testing.assert_allclose(located, exact, rtol=0, atol=1e-8)
    # the rows are at the event times (to the ns tick), left then right limit
    recorded = [e.time for e in result.events if e.kind == "fmu"]
    np.testing.assert_allclose(recorded, exact, rtol=0, atol=1e-8)
    df, kinds = result.df, result.df.attrs["row_kind"]
    for t in recorded:
        pos = np.flatnonzero(df.index.to_numpy() == t)
        assert kinds[pos].tolist() == [1, 2], (t, kinds[pos])
        v_left, v_right = df["ball.v"].iloc[pos].tolist()
        assert v_left < 0 <= v_right  # the bounce reverses the velocity
        assert v_right == pytest.approx(-E * v_left if -E * v_left >= V_MIN else 0.0,
                                        rel=1e-9, abs=1e-12)
    assert df["ball.bounces"].iloc[-1] == 11 and df["ball.v"].iloc[-1] == 0.0
    between = kinds == 0
    np.testing.assert_allclose(df["ball.h"].to_numpy()[between],
                               ball_height(df.index.to_numpy()[between]), atol=1e-8)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_masters_redo_arrives_exactly_where_the_step_stopped(fmu, solver):
    """With loose default tolerances a restarted integrator would locate each root a
    little differently; the redo of a step that returned early replays the located
    event, so every event is recorded at the tick of the time the FMU reports."""
    topo = cosim.Topology("ball", stop=3.0, step=0.01)
    topo.add_fmu("ball", fmu("Ball", 3), interface="model-exchange", solver=solver)
    result = cosim.run(topo)
    located = reported(result)
    recorded = [e.time for e in result.events if e.kind == "fmu"]
    assert len(located) == 11
    assert all(cosim.clock.ceil_ticks(a) == cosim.clock.to_ticks(b)
               for a, b in zip(located, recorded, strict=True))
    np.testing.assert_allclose(located, bounce_times(), rtol=0, atol=1e-4)


@pytest.mark.parametrize("master", ["minimal", "adaptive"])
def test_events_inside_the_step_when_the_master_cannot_roll_back(fmu, master):
    """With a node that cannot roll back (Minimal), or adaptive steps, the cluster
    handles its events inside its step: the trajectory is still exact, without rows of
    its own for the events."""
    if master == "adaptive":
        topo = ball(fmu, 2, adaptive=AdaptiveSpec(rtol=1e-4, atol=1e-6))
    else:
        topo = ball(fmu, 2)
        topo.add_fmu("m", fmu("Minimal", 3))
    with cosim.Simulation(topo) as sim:
        result = sim.run()
        cluster = sim.system.subsystems[sim.system.index["ball"]]
        assert cluster.early_return is False
        assert cluster.stats["events"] >= 12  # the initial one and every bounce
    df = result.df
    assert not [e for e in result.events if e.kind == "fmu"]
    assert set(df.attrs["row_kind"].tolist()) == {0}
    np.testing.assert_allclose(df["ball.h"].to_numpy(), ball_height(df.index.to_numpy()),
                               atol=1e-8)
    assert df["ball.bounces"].iloc[-1] == 11


@pytest.mark.parametrize("version", [2, 3])
def test_time_events_land_exactly_with_both_limits(sawtooth, version):
    """Sawtooth: der(x) = rate, x := 0 at t = k * 0.3 (off the 0.25 s grid)."""
    topo = cosim.Topology("saw", stop=2.0, step=0.25)
    topo.add_fmu("saw", sawtooth(version), interface="model-exchange",
                 parameters={"rate": 2.0, "period": 0.3})
    result = cosim.run(topo)
    df, kinds = result.df, result.df.attrs["row_kind"]
    events = [e.time for e in result.events if e.kind == "fmu"]
    np.testing.assert_allclose(events, [0.3 * k for k in range(1, 7)], rtol=0, atol=1e-9)
    for k, t in enumerate(events, start=1):
        pos = np.flatnonzero(df.index.to_numpy() == t)
        assert kinds[pos].tolist() == [1, 2]
        assert df["saw.x"].iloc[pos[0]] == pytest.approx(0.6, abs=1e-9)  # left limit
        assert df["saw.x"].iloc[pos[1]] == 0.0 and df["saw.count"].iloc[pos[1]] == k
    t = df.index.to_numpy()[kinds == 0]
    expected = 2.0 * (t - 0.3 * np.floor(t / 0.3 + 1e-9))
    np.testing.assert_allclose(df["saw.x"].to_numpy()[kinds == 0], expected, atol=1e-9)


@pytest.mark.parametrize("version", [2, 3])
def test_a_termination_request_from_the_event_iteration_ends_the_run(sawtooth, version):
    topo = cosim.Topology("saw", stop=2.0, step=0.25)
    topo.add_fmu("saw", sawtooth(version), interface="model-exchange",
                 parameters={"rate": 2.0, "period": 0.3, "stop_after": 3})
    result = cosim.run(topo)
    assert result.status == "terminated"
    assert result.termination.node == "saw"
    assert result.termination.time == pytest.approx(0.9, abs=1e-9)
    assert result.df.index[-1] == pytest.approx(0.9, abs=1e-9)
    assert result.df["saw.count"].iloc[-1] == 3


@pytest.mark.parametrize("version", [2, 3])
def test_completed_integrator_step_is_called_after_every_step(fmu, tmp_path, version):
    """An FMU that needs completedIntegratorStep (its description says so) is told
    after every integrator step; the result stays exact."""
    def needs(xml: str) -> str:
        if version == 2:
            return xml.replace('completedIntegratorStepNotNeeded="true"',
                               'completedIntegratorStepNotNeeded="false"')
        return xml.replace('needsCompletedIntegratorStep="false"',
                           'needsCompletedIntegratorStep="true"')

    path = rewrite_description(fmu("Oscillator", version), tmp_path / "Osc.fmu", needs)
    topo = cosim.Topology("osc", stop=2.0, step=0.1)
    topo.add_fmu("osc", path, interface="model-exchange", rtol=1e-9)
    with cosim.Simulation(topo) as sim:
        df = sim.run().df
        cluster = sim.system.subsystems[0]
        assert cluster.needs_steps
        assert cluster.stats["completed"] == cluster.stats["steps"] > 20
    np.testing.assert_allclose(df["osc.x"], np.cos(df.index.to_numpy()), atol=1e-6)


class Push(Block):
    """F = 0.5 N per bounce counted (an integer input: discrete)."""

    inputs = {"n": Port(kind=INTEGER)}
    outputs = {"F": Port(unit="N")}

    def step(self, t, dt, inputs):
        return {"F": 0.5 * inputs["n"]}


def test_a_discrete_input_changes_through_an_event_iteration(fmu):
    """The ball's bounce count (an integer) drives a block inside another cluster; it
    changes at each bounce, which that cluster applies in Event Mode at the bounce
    time: x'' = -x + 0.5 n(t) gives x = sum over bounces t_i of 0.5 (1 - cos(t - t_i))."""
    topo = cosim.Topology("kick", stop=3.0, step=0.01)
    topo.add_fmu("ball", fmu("Ball", 3), interface="model-exchange", rtol=1e-10)
    topo.add_fmu("osc", fmu("Oscillator", 2), parameters={"x0": 0.0, "k": 1.0})
    topo.add_block("push", Push)
    topo.add_cluster("drive", ["osc", "push"], rtol=1e-10)
    topo.connect("ball.bounces", "push.n")
    topo.connect("push.F", "osc.F")
    result = cosim.run(topo)
    assert result.stats["clusters"]["drive"]["events"] == 1 + 11
    df = result.df.loc[~result.df.index.duplicated(keep="last")]
    t = df.index.to_numpy()
    expected = sum(0.5 * np.where(t > ti, 1 - np.cos(t - ti), 0.0) for ti in bounce_times())
    np.testing.assert_allclose(df["osc.x"], expected, atol=1e-7)


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_events_that_depend_on_inputs_keep_their_rows_under_both_masters(fire, algorithm):
    """Integrate and fire, der(x) = u with u = 4 - t from a ramp block before the
    cluster: firings at t_k = 4 - sqrt(16 - 2k). Under Gauss-Seidel the master's redo
    to a firing gets the ramp's value at the firing instead of at the step's end; the
    cluster replays the firing it located, so every firing has its two rows; the times
    are within the coupling error of the held input."""
    topo = cosim.Topology("fire", stop=3.0, step=0.02)
    topo.add_block("rate", "ramp", parameters={"offset": 4.0, "height": -3.0,
                                               "duration": 3.0})
    topo.add_fmu("f", fire(3), interface="model-exchange", rtol=1e-9)
    topo.connect("rate.y", "f.u")
    result = cosim.run(topo, algorithm=algorithm)
    times = [e.time for e in result.events if e.kind == "fmu"]
    exact = [4 - math.sqrt(16 - 2 * k) for k in range(1, 8)]
    np.testing.assert_allclose(times, exact, rtol=0, atol=0.03)
    kinds = result.df.attrs["row_kind"]
    assert np.count_nonzero(kinds == 1) == np.count_nonzero(kinds == 2) == 7
    assert result.df["f.count"].iloc[-1] == 7
