"""FMI API behaviour of the project's FMUs: FMU state, independent instances, invalid calls."""

from __future__ import annotations

from ctypes import POINTER, c_double, c_uint

import numpy as np
import pytest
from fmpy.fmi1 import FMICallException
from fmpy.fmi2 import FMU2Slave
from fmpy.fmi3 import FMU3Slave
from fmutest_helpers import MODELS, VERSIONS, Instance, unzipped

# a few outputs to compare per model, and inputs/parameters that make the run non-trivial
WATCH = {
    "Ball": ("h", "v", "bounces"), "Cooler": ("T_supply", "P_el"), "Decay": ("x",),
    "Faulty": ("y",), "Gain": ("y",), "Oscillator": ("x", "v"), "Rack": ("T_out", "T_cpu"),
    "Spring": ("F",),
}
START = {"Cooler": {"T0": 300.0}, "Decay": {"u": 0.3}, "Faulty": {"u": 1.0},
         "Gain": {"u": 2.0}, "Oscillator": {"c": 0.1}, "Spring": {"x2": 1.0}}
DT = {"Rack": 10.0, "Cooler": 10.0}


def trajectory(inst, model, t0, n):
    dt = DT.get(model, 0.05)
    rows = []
    for i in range(n):
        inst.step(t0 + i * dt, dt)
        rows.append(tuple(inst.get(name) for name in WATCH[model]))
    return rows, t0 + n * dt


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("version", VERSIONS)
def test_fmu_state_round_trip(instance, model, version):
    """step, save, step, restore, step again -> identical; also via serialization."""
    inst = instance(model, version).init(**START.get(model, {}))
    _, t1 = trajectory(inst, model, 0.0, 9)  # the Ball bounces in 0.45 s
    fmu = inst.fmu
    state = fmu.getFMUstate() if version == 2 else fmu.getFMUState()
    first, _ = trajectory(inst, model, t1, 20)
    if version == 2:
        fmu.setFMUstate(state)
    else:
        fmu.setFMUState(state)
    again, _ = trajectory(inst, model, t1, 20)
    assert again == first
    assert first[0] != first[-1] or model in ("Gain", "Faulty", "Spring")

    # serialized state into a second, fresh instance of the same FMU
    if version == 2:
        blob = fmu.serializeFMUstate(state)
        fmu.freeFMUstate(state)
    else:
        blob = fmu.serializeFMUState(state)
        fmu.freeFMUState(state)
    other = instance(model, version, name="other").init()
    if version == 2:
        restored = other.fmu.deSerializeFMUstate(blob)
        other.fmu.setFMUstate(restored)
        other.fmu.freeFMUstate(restored)
    else:
        restored = other.fmu.deserializeFMUState(blob)
        other.fmu.setFMUState(restored)
        other.fmu.freeFMUState(restored)
    copied, _ = trajectory(other, model, t1, 20)
    assert copied == first


@pytest.mark.parametrize("version", VERSIONS)
def test_instances_are_independent(instance, version):
    """Three Racks stepped interleaved give exactly what each gives alone."""
    powers = (5000.0, 10000.0, 20000.0)
    alone = []
    for p in powers:
        rack = instance("Rack", version, name=f"alone{p}").init(P_it=p)
        alone.append(rack.run(600.0, 10.0, ("T_out", "T_cpu")))
    racks = [instance("Rack", version, name=f"rack{i}").init(P_it=p)
             for i, p in enumerate(powers)]
    together = [[] for _ in racks]
    for i in range(60):
        for rack, rows in zip(racks, together, strict=True):
            rack.step(i * 10.0, 10.0)
            rows.append(((i + 1) * 10.0, rack.get("T_out"), rack.get("T_cpu")))
    assert together == alone
    assert len({rows[-1] for rows in alone}) == 3


def error_logged(inst, text: str) -> bool:
    return any(status == 3 and text in msg for status, msg in inst.log)


@pytest.mark.parametrize("version", VERSIONS)
def test_invalid_calls_return_error_with_message(instance, version):
    osc = instance("Oscillator", version)
    getter = osc.fmu.getReal if version == 2 else osc.fmu.getFloat64
    setter = osc.fmu.setReal if version == 2 else osc.fmu.setFloat64

    with pytest.raises(FMICallException):  # doStep before initialization
        osc.step(0.0, 0.1)
    assert error_logged(osc, "not allowed in Instantiated")

    osc.init()
    with pytest.raises(FMICallException) as err:
        getter([999])
    assert err.value.status == 3 and error_logged(osc, "unknown value reference 999")
    with pytest.raises(FMICallException):
        setter([999], [1.0])
    with pytest.raises(FMICallException):  # fixed parameter after initialization
        osc.set(k=2.0)
    assert error_logged(osc, "'k'") and error_logged(osc, "cannot be set in Step Mode")
    with pytest.raises(FMICallException):  # outputs are calculated
        osc.set(x=2.0)
    assert error_logged(osc, "calculated by the FMU")
    with pytest.raises(FMICallException):  # wrong type
        (osc.fmu.getInteger if version == 2 else osc.fmu.getInt32)([osc.vr("x")])
    assert error_logged(osc, "is of type Real, not Integer" if version == 2
                        else "is of type Float64, not Int32")
    if version == 3:
        with pytest.raises(FMICallException):
            osc.fmu.getFloat32([osc.vr("x")])
    with pytest.raises(FMICallException):  # negative step
        osc.step(0.0, -0.1)
    with pytest.raises(FMICallException):  # time does not match the FMU's
        osc.step(5.0, 0.1)
    assert error_logged(osc, "does not match the FMU time")

    # none of this broke the instance
    osc.set(F=1.0)
    osc.step(0.0, 0.1)
    assert getter([osc.vr("x")])[0] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("version", VERSIONS)
def test_wrong_token_and_missing_model_exchange_are_refused(fmus, version):
    slave = FMU2Slave if version == 2 else FMU3Slave
    fmu = slave(guid="{00000000-0000-0000-0000-000000000000}", modelIdentifier="Gain",
                unzipDirectory=unzipped(fmus, "Gain", version), instanceName="wrong")
    with pytest.raises(Exception, match="[Ff]ailed to instantiate"):
        fmu.instantiate(**({} if version == 2 else {"logMessage": lambda *args: None}))
    fmu.freeLibrary()
    with pytest.raises(Exception, match="[Ff]ailed to instantiate"):
        Instance(fmus, "Rack", version, kind="ME")  # Rack is co-simulation only


@pytest.mark.parametrize("version", VERSIONS)
def test_tunable_parameter_settable_while_fixed_is_not(instance, version):
    cooler = instance("Cooler", version).init()
    cooler.step(0.0, 10.0)
    cooler.set(failed=True)
    assert cooler.get("failed") is True or cooler.get("failed") == 1
    with pytest.raises(FMICallException):
        cooler.set(tau=10.0)


def test_event_pending_when_importer_skips_event_mode(instance):
    """An importer that ignores eventHandlingNeeded: the bounce is applied in the next step."""
    ball = instance("Ball", 3, event_mode=True, early_return=True).init()
    ball.fmu.updateDiscreteStates()
    ball.fmu.enterStepMode()
    need, _, early, last = ball.step(0.0, 1.0)
    assert need and early and last == pytest.approx(0.4515236409857309, abs=1e-10)
    ball.step(last, 0.1)  # no event mode in between
    assert ball.get("bounces") == 1 and ball.get("h") > 0 and ball.get("v") > 0


@pytest.mark.parametrize("version", VERSIONS)
def test_model_exchange_interface(instance, version):
    """Drive the Ball ME instance by hand: states, derivatives, indicator, event update."""
    ball = instance("Ball", version, kind="ME")
    fmu = ball.fmu
    if version == 2:
        fmu.setupExperiment(startTime=0)
    fmu.enterInitializationMode()
    fmu.exitInitializationMode()
    update = fmu.newDiscreteStates() if version == 2 else fmu.updateDiscreteStates()
    assert update[0] is False or update[0] == 0
    fmu.enterContinuousTimeMode()
    def vec(n):
        a = np.zeros(n)
        return a, a.ctypes.data_as(POINTER(c_double))

    x, px = vec(2)
    dx, pdx = vec(2)
    z, pz = vec(1)
    fmu.getContinuousStates(px, 2)
    assert list(x) == [1.0, 0.0]
    (fmu.getDerivatives if version == 2 else fmu.getContinuousStateDerivatives)(pdx, 2)
    assert list(dx) == [0.0, -9.81]
    x[:] = [-1e-9, -4.0]  # just below the floor, falling
    fmu.setTime(0.45)
    fmu.setContinuousStates(px, 2)
    fmu.getEventIndicators(pz, 1)
    assert z[0] == -1e-9  # the indicator is h itself
    assert ball.get("h") == -1e-9
    with pytest.raises(FMICallException):
        fmu.setContinuousStates(px, 3)  # wrong length
    fmu.enterEventMode()
    update = fmu.newDiscreteStates() if version == 2 else fmu.updateDiscreteStates()
    changed = update[3]
    assert changed
    fmu.enterContinuousTimeMode()
    fmu.getContinuousStates(px, 2)
    assert list(x) == pytest.approx([0.0, 2.8])
    assert ball.get("bounces") == 1


def test_gain_steps_through_the_raw_c_calls(instance):
    """What the compiled loop does with every FMU: set/doStep/get through the C function
    pointers, 20,000 times, each output the gain times the input set just before (its
    cost is measured by ``python -m bench overhead``, not here)."""
    gain = instance("Gain", 2).init(k=2.0)
    set_real, do_step, get_real = (gain.fmu.fmi2SetReal, gain.fmu.fmi2DoStep,
                                   gain.fmu.fmi2GetReal)
    vr_u, vr_y = (c_uint * 1)(gain.vr("u")), (c_uint * 1)(gain.vr("y"))
    u, y = (c_double * 1)(1.0), (c_double * 1)()
    c = gain.fmu.component
    wrong = []
    for i in range(20000):
        u[0] = i
        assert set_real(c, vr_u, 1, u) == 0 and do_step(c, i * 1e-3, 1e-3, 1) == 0
        get_real(c, vr_y, 1, y)
        if y[0] != 2.0 * i:
            wrong.append((i, y[0]))
    assert wrong == []
