"""Counter: FMI 3 time events off the communication grid.

count += 1 at t_first + k*period (defaults 0.1 s and 1.0 s), y = count + 0.25*t.  With event
mode the importer must stop at nextEventTime (FMI 3.0: "the importer must compute up to
nextEventTime ... and then enter Event Mode"); without event mode (FMI 2, FMI 3 with
eventModeUsed = false) doStep handles the events itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from fmpy import simulate_fmu
from fmpy.fmi1 import FMICallException
from fmutest_helpers import logged, raw_do_step3


def count_at(t, t_first=0.1, period=1.0):
    """Events with t_first + k*period <= t (the event at t itself has happened)."""
    return 0 if t < t_first else math.floor((t - t_first) / period + 1e-9) + 1


def run_event_mode(inst, t_end: float, h: float):
    """A minimal FMI 3 importer honouring nextEventTime on a grid of h: rows (t, count, y),
    two rows (left and right limit) at every event; and the event times it stopped at."""
    _, _, _, _, defined, t_event = inst.fmu.updateDiscreteStates()
    inst.fmu.enterStepMode()
    rows, events, t, i = [(0.0, inst.get("count"), inst.get("y"))], [], 0.0, 0
    while t < t_end - 1e-12:
        grid = (i + 1) * h
        t_next = min(grid, t_event) if defined else grid
        event, terminate, early, last = inst.step(t, t_next - t)
        assert not terminate and not early and last == t_next
        t = t_next
        i += t == grid
        rows.append((t, inst.get("count"), inst.get("y")))
        if event:
            assert defined and t == t_event  # only at the announced time
            events.append(t)
            inst.fmu.enterEventMode()
            need, terminate, _, changed, defined, t_event = inst.fmu.updateDiscreteStates()
            assert not need and not terminate and not changed
            inst.fmu.enterStepMode()
            rows.append((t, inst.get("count"), inst.get("y")))
    return rows, events


def test_fmi3_event_mode_announces_and_lands_on_every_event(instance):
    counter = instance("Counter", 3, event_mode=True).init()
    rows, events = run_event_mode(counter, 5.0, 0.25)
    assert events == [0.1 + k * 1.0 for k in range(5)]  # exactly the announced doubles
    for t, count, y in rows:
        assert y == count + 0.25 * t
    by_time = {}
    for t, count, _ in rows:
        by_time.setdefault(t, []).append(count)
    for t, counts in by_time.items():
        if t in events:  # left limit before the increment, right limit after
            assert counts == [count_at(t) - 1, count_at(t)], t
        else:
            assert counts == [count_at(t)], t
    assert rows[-1] == (5.0, 5, 5 + 1.25)


def test_fmi3_event_mode_step_over_an_event_fails_loudly(instance):
    counter = instance("Counter", 3, event_mode=True).init()
    assert counter.fmu.updateDiscreteStates()[4:] == (True, 0.1)
    counter.fmu.enterStepMode()
    status, *_ = raw_do_step3(counter, 0.0, 0.25)
    assert status == 3 and logged(counter, 3, "passes the time event at t=0.10000000000000001")
    assert counter.get("count") == 0  # nothing happened
    # a step ending within the time tolerance of the event reaches it
    event, _, early, last = counter.step(0.0, 0.1 + 1e-12)
    assert event and not early and last == 0.1 + 1e-12


def test_fmi3_event_mode_ignoring_event_handling_is_caught(instance):
    counter = instance("Counter", 3, event_mode=True).init()
    counter.fmu.updateDiscreteStates()
    counter.fmu.enterStepMode()
    assert counter.step(0.0, 0.1)[0]  # eventHandlingNeeded
    status, *_ = raw_do_step3(counter, 0.1, 0.15)  # carries on without Event Mode
    assert status == 3 and logged(counter, 3, "handle it in Event Mode")


def test_fmpys_master_ignores_next_event_time_and_is_caught(fmus):
    """fmpy 0.3.32's event-mode loop does not shorten steps to nextEventTime: the FMU refuses."""
    with pytest.raises(FMICallException) as err:
        simulate_fmu(str(fmus[("Counter", 3)]), use_event_mode=True, stop_time=2,
                     output_interval=0.25)
    assert err.value.status == 3


@pytest.mark.parametrize("version", [2, 3])
def test_without_event_mode_do_step_handles_the_events(fmus, version):
    r = simulate_fmu(str(fmus[("Counter", version)]), stop_time=5, output_interval=0.25)
    expected = [count_at(t) for t in r["time"]]
    np.testing.assert_array_equal(r["count"], expected)
    np.testing.assert_array_equal(r["y"], r["count"] + 0.25 * r["time"])


@pytest.mark.parametrize("version", [2, 3])
def test_event_on_a_communication_point_is_applied_in_that_step(instance, version):
    counter = instance("Counter", version).init(t_first=0.25, period=0.5)
    rows = counter.run(2.0, 0.25, ("count",))
    assert [c for _, c in rows] == [1, 1, 2, 2, 3, 3, 4, 4]  # events at 0.25, 0.75, ...


@pytest.mark.parametrize("event_mode", [False, True])
def test_event_at_the_start_time(instance, event_mode):
    counter = instance("Counter", 3, event_mode=event_mode).init(t_first=0.0)
    if event_mode:  # the importer's first update handles it
        assert counter.get("count") == 0
        assert counter.fmu.updateDiscreteStates()[4:] == (True, 1.0)
    assert counter.get("count") == 1


def test_several_events_in_one_step_without_event_mode(instance):
    counter = instance("Counter", 2).init(period=0.01)
    counter.step(0.0, 1.0)  # events at 0.1, 0.11, ..., 1.0 (within the time tolerance)
    assert counter.get("count") == 91


def test_bad_period_is_refused_at_initialization(instance):
    counter = instance("Counter", 2)
    counter.set(period=0.0)
    counter.fmu.setupExperiment(startTime=0)
    counter.fmu.enterInitializationMode()
    with pytest.raises(FMICallException):
        counter.fmu.exitInitializationMode()
    assert logged(counter, 3, "period must be > 0")


def test_flags(fmus):
    from fmpy import read_model_description

    md = read_model_description(str(fmus[("Counter", 3)]))
    assert md.coSimulation.hasEventMode is True
    assert md.coSimulation.mightReturnEarlyFromDoStep is False
    assert {v.name: v.type for v in md.modelVariables}["count"] == "Int32"
