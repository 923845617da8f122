"""Stopper: an FMU that asks to end the simulation, and rejects steps longer than max_step.

FMI 2.0 (4.2.3): fmi2DoStep returns fmi2Discard when the slave computed only part of the
step; fmi2GetBooleanStatus(fmi2Terminated) tells "wants to terminate" apart from "retry with
a smaller step", fmi2GetRealStatus(fmi2LastSuccessfulTime) where it stopped; a status the
slave cannot provide is answered with fmi2Discard.  FMI 3.0: fmi3DoStep returns
terminateSimulation with lastSuccessfulTime (earlyReturn only if allowed), or the termination
comes from fmi3UpdateDiscreteStates at a time event announced by nextEventTime.
"""

from __future__ import annotations

import pytest
from fmpy.fmi1 import FMICallException
from fmpy.fmi2 import fmi2DoStepStatus, fmi2LastSuccessfulTime, fmi2PendingStatus, fmi2Terminated
from fmutest_helpers import logged, raw_do_step3

T_STOP = 0.55  # the default


def test_fmi2_discard_then_terminated_status(instance):
    stopper = instance("Stopper", 2).init()
    for i in range(5):  # x = t on every row before the stop
        stopper.step(i * 0.1, 0.1)
        assert stopper.get("x") == pytest.approx((i + 1) * 0.1, abs=1e-15)
        assert stopper.fmu.getBooleanStatus(fmi2Terminated) is False
    with pytest.raises(FMICallException) as err:
        stopper.step(0.5, 0.1)  # crosses t_stop
    assert err.value.status == 2  # fmi2Discard
    assert stopper.fmu.getBooleanStatus(fmi2Terminated) is True
    assert stopper.fmu.getRealStatus(fmi2LastSuccessfulTime) == T_STOP
    assert stopper.get("x") == T_STOP  # the state at the stop, not at 0.6
    assert logged(stopper, 2, "asks to end the simulation at t=0.55")
    with pytest.raises(FMICallException) as err:  # going on regardless is an error
        stopper.step(T_STOP, 0.1)
    assert err.value.status == 3 and logged(stopper, 3, "call fmi2Terminate")
    stopper.fmu.terminate()


def test_fmi2_step_ending_on_t_stop_succeeds_and_the_next_is_discarded(instance):
    stopper = instance("Stopper", 2).init(t_stop=0.5)
    stopper.step(0.0, 0.25)
    stopper.step(0.25, 0.25)  # the whole step was computed: fmi2OK
    assert stopper.get("x") == 0.5
    assert stopper.fmu.getBooleanStatus(fmi2Terminated) is True
    with pytest.raises(FMICallException) as err:
        stopper.step(0.5, 0.25)
    assert err.value.status == 2
    assert stopper.fmu.getRealStatus(fmi2LastSuccessfulTime) == 0.5


def test_fmi2_max_step_discard_is_not_termination(instance):
    stopper = instance("Stopper", 2).init(max_step=0.2)
    stopper.step(0.0, 0.2)
    with pytest.raises(FMICallException) as err:
        stopper.step(0.2, 0.3)
    assert err.value.status == 2
    assert stopper.fmu.getBooleanStatus(fmi2Terminated) is False
    assert stopper.fmu.getRealStatus(fmi2LastSuccessfulTime) == 0.2  # nothing computed
    assert logged(stopper, 2, "longer than the parameter max_step")
    stopper.step(0.2, 0.15)  # retried with a smaller step
    stopper.step(0.35, 0.15)
    assert stopper.get("x") == pytest.approx(0.5, abs=1e-15)
    with pytest.raises(FMICallException):  # and it still stops at t_stop
        stopper.step(0.5, 0.1)
    assert stopper.fmu.getBooleanStatus(fmi2Terminated) is True


def test_fmi2_unavailable_status_kinds_return_discard(instance):
    stopper = instance("Stopper", 2).init()
    stopper.step(0.0, 0.1)
    for call, kind in ((stopper.fmu.getStatus, fmi2DoStepStatus),
                       (stopper.fmu.getStringStatus, fmi2PendingStatus),
                       (stopper.fmu.getIntegerStatus, fmi2LastSuccessfulTime),
                       (stopper.fmu.getRealStatus, fmi2Terminated),
                       (stopper.fmu.getBooleanStatus, fmi2LastSuccessfulTime)):
        with pytest.raises(FMICallException) as err:
            call(kind)
        assert err.value.status == 2, call
    stopper.step(0.1, 0.1)  # the instance is unharmed


@pytest.mark.parametrize("early_return", [True, False])
def test_fmi3_terminate_from_do_step(instance, early_return):
    stopper = instance("Stopper", 3, early_return=early_return).init()
    for i in range(5):
        event, terminate, early, last = stopper.step(i * 0.1, 0.1)
        assert (event, terminate, early) == (False, False, False)
        assert last == pytest.approx((i + 1) * 0.1, abs=1e-15)
    event, terminate, early, last = stopper.step(0.5, 0.1)
    assert terminate and not event
    assert early is early_return  # earlyReturn only where the importer allowed it
    assert last == T_STOP and stopper.get("x") == T_STOP
    status, *_ = raw_do_step3(stopper, T_STOP, 0.1)  # ignoring the request is an error
    assert status == 3 and logged(stopper, 3, "call fmi3Terminate")
    stopper.fmu.terminate()


def test_fmi3_step_ending_on_t_stop_terminates_without_early_return(instance):
    stopper = instance("Stopper", 3, early_return=True).init(t_stop=0.5)
    assert stopper.step(0.0, 0.25) == (False, False, False, 0.25)
    assert stopper.step(0.25, 0.25) == (False, True, False, 0.5)


def test_fmi3_terminate_via_time_event(instance):
    stopper = instance("Stopper", 3, event_mode=True).init(via_event=True)
    # Event Mode after initialization: the first update announces the time event
    need_update, terminate, _, _, defined, next_time = stopper.fmu.updateDiscreteStates()
    assert (need_update, terminate, defined, next_time) == (False, False, True, T_STOP)
    stopper.fmu.enterStepMode()
    for i in range(5):
        assert stopper.step(i * 0.1, 0.1)[:3] == (False, False, False)
    status, *_ = raw_do_step3(stopper, 0.5, 0.1)  # would step over the announced event
    assert status == 3 and logged(stopper, 3, "passes the time event at t=0.55")
    assert stopper.get("x") == pytest.approx(0.5, abs=1e-15)  # unchanged, still usable
    event, terminate, early, last = stopper.step(0.5, T_STOP - 0.5)
    assert (event, terminate, early) == (True, False, False) and last == pytest.approx(T_STOP)
    stopper.fmu.enterEventMode()
    _, terminate, _, _, defined, _ = stopper.fmu.updateDiscreteStates()
    assert terminate and not defined
    assert stopper.get("x") == pytest.approx(T_STOP, abs=1e-15)
    stopper.fmu.terminate()


def test_fmi3_time_event_handled_inside_do_step_without_event_mode(instance):
    stopper = instance("Stopper", 3, early_return=True).init(via_event=True)
    for i in range(5):
        stopper.step(i * 0.1, 0.1)
    assert stopper.step(0.5, 0.1) == (False, True, True, T_STOP)


def test_fmi3_max_step_discard(instance):
    stopper = instance("Stopper", 3, early_return=True).init(max_step=0.2)
    status, event, terminate, early, last = raw_do_step3(stopper, 0.0, 0.3)
    assert (status, event, terminate, early, last) == (2, False, False, False, 0.0)
    assert stopper.step(0.0, 0.2) == (False, False, False, 0.2)


def test_via_event_is_fmi3_only(instance):
    assert "via_event" not in instance("Stopper", 2).vars
    assert "via_event" in instance("Stopper", 3).vars
