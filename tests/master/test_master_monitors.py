"""Monitor actions (stop, set) against the closed form, and the chattering guard.

Decay FMU with k = 1, x0 = 1, u = 0: x = exp(-t) crosses 0.5 at t = ln 2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import cosim

T_CROSS = math.log(2.0)


def decay(fmu, version: int, **run) -> cosim.Topology:
    topo = cosim.Topology("decay_monitor", stop=2.0, step=0.1, **run)
    topo.add_fmu("d", fmu("Decay", version), parameters={"k": 1.0, "x0": 1.0})
    return topo


@pytest.mark.parametrize("tolerance", [1e-9, 1e-6])
@pytest.mark.parametrize("version", [2, 3])
def test_master_monitor_stop_ends_the_run_at_the_crossing(fmu, version, tolerance):
    topo = decay(fmu, version, event_tolerance=tolerance)
    topo.add_monitor("d.x < 0.5", action="stop", name="half")
    result = cosim.run(topo)
    assert result.status == "completed"
    df, kinds = result.df, result.df.attrs["row_kind"]
    t_last = df.index[-1]
    # located at the right end of a bracket of width <= tolerance around the crossing
    assert 0.0 <= t_last - T_CROSS <= tolerance + 1e-12, t_last - T_CROSS
    assert kinds[-2:].tolist() == [1, 2] and df.index[-2] == t_last
    assert np.all(df.index[:-2] < T_CROSS)
    assert df["d.x"].iloc[-1] == pytest.approx(0.5, abs=tolerance)
    assert len(result.events) == 1
    event = result.events[0]
    assert (event.kind, event.name, event.time) == ("monitor", "half", t_last)
    assert "stopped" in event.description


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
@pytest.mark.parametrize("version", [2, 3])
def test_master_monitor_set_changes_the_input(fmu, version, algorithm):
    """At x = 0.5 set u = 1: afterwards x = 1 - 0.5 exp(-(t - ln 2))."""
    topo = decay(fmu, version, algorithm=algorithm)
    topo.add_monitor("d.x < 0.5", action="set", set="d.u", value=1.0, name="half")
    result = cosim.run(topo)
    assert [(e.kind, e.name) for e in result.events] == [("monitor", "half")]
    t_event = result.events[0].time
    assert 0.0 <= t_event - T_CROSS <= 1e-9
    df = result.df
    t = df.index.to_numpy()
    exact = np.where(t <= T_CROSS, np.exp(-t), 1.0 - 0.5 * np.exp(-(t - T_CROSS)))
    np.testing.assert_allclose(df["d.x"], exact, rtol=0, atol=1e-8)
    assert df["d.x"].iloc[-1] > 0.8  # really driven up, not decaying to 0
    assert df.index[-1] == 2.0  # and the run went on to the end


def test_master_chattering_monitors_raise(fmu):
    """Two monitors that undo each other: y > 0.5 sets u = 0, y < 0.5 sets u = 1, on a
    Gain (y = u). Each action re-triggers the other condition at the same instant."""
    topo = cosim.Topology("chatter", stop=1.0, step=0.1, max_event_iterations=10)
    topo.add_fmu("g", fmu("Gain", 2))
    topo.add_event(0.25, "g.u", 1.0, name="kick")
    topo.add_monitor("g.y > 0.5", action="set", set="g.u", value=0.0, name="hi")
    topo.add_monitor("g.y < 0.5", action="set", set="g.u", value=1.0, name="lo")
    with pytest.raises(cosim.SimulationError) as info:
        cosim.run(topo)
    err = info.value
    assert "chattering" in str(err), str(err)
    assert err.time == pytest.approx(0.25, abs=1e-6)
    events = err.result.events
    # the guard stops it after max_event_iterations events near one instant
    assert 10 <= len(events) <= 12, events
    assert all(abs(e.time - 0.25) < 1e-6 for e in events)
    assert err.result.status == "failed"
