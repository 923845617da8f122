"""FMI 3.0 co-simulation adapter (through fmpy's ``FMU3Slave`` for set-up).

Without event mode (the fixed-step masters), the FMU handles its own events inside
``fmi3DoStep``. ``event_mode=True`` instantiates with event mode and early return where
the FMU declares them; ``do_step`` then reports ``event``/``EARLY_RETURN`` outcomes and
:meth:`FMI3Subsystem.handle_event` runs the event iteration (``fmi3EnterEventMode``,
``fmi3UpdateDiscreteStates`` until no update is needed, ``fmi3EnterStepMode``).

In step mode, reading outputs after setting inputs without a ``doStep`` in between is
forbidden by the standard; the masters only read outputs after a step or in
initialization mode.
"""

from __future__ import annotations

import ctypes
from ctypes import byref
from typing import Any

from fmpy.fmi3 import FMU3Slave

from ..errors import SubsystemError
from .base import STEP_OK, StepOutcome, StepStatus
from .fmu_common import FMUSubsystem, convert

_CTYPES = {
    "Float64": ctypes.c_double, "Float32": ctypes.c_float,
    "Int8": ctypes.c_int8, "UInt8": ctypes.c_uint8, "Int16": ctypes.c_int16,
    "UInt16": ctypes.c_uint16, "Int32": ctypes.c_int32, "UInt32": ctypes.c_uint32,
    "Int64": ctypes.c_int64, "UInt64": ctypes.c_uint64, "Boolean": ctypes.c_bool,
    "Enumeration": ctypes.c_int64,
}
WARNING, DISCARD = 1, 2
MAX_EVENT_ITERATIONS = 100


def _c_type_name(var) -> str:
    return "Int64" if var.fmi_type == "Enumeration" else var.fmi_type


class FMI3Subsystem(FMUSubsystem):
    """An FMI 3.0 co-simulation FMU as a subsystem."""

    STATE_CALLS = {"get": ("fmi3GetFMUState", "getFMUState"), "set": ("fmi3SetFMUState", "setFMUState"),
                   "free": ("fmi3FreeFMUState", "freeFMUState"),
                   "terminate": ("fmi3Terminate", "terminate")}

    event_mode = False

    def setup(self, start: float, stop: float | None) -> None:
        folder = self.extract()
        md = self.info.description
        self.fmu = self.load_binary(
            FMU3Slave, guid=md.instantiationToken, unzipDirectory=str(folder),
            modelIdentifier=md.coSimulation.modelIdentifier, instanceName=self.name)

        def log_message(env, status, category, message):
            self.log.add(status, category, message)

        self._logger_ref = log_message
        use_events = self.event_mode and self.capabilities.has_event_mode
        try:
            self.fmu.instantiate(visible=False, loggingOn=False, eventModeUsed=use_events,
                                 earlyReturnAllowed=use_events and
                                 self.capabilities.may_return_early,
                                 logMessage=log_message)
        except Exception as err:  # noqa: BLE001 - fmpy raises a bare Exception
            raise SubsystemError(f"fmi3InstantiateCoSimulation failed: {err} "
                                 f"{self.log.last()}".strip(), node=self.name) from None
        self.instantiated = True
        self.events_used = use_events
        self.time = start
        for name, value in self.initial_values():
            self.set_value(name, value)
        self.guarded("fmi3EnterInitializationMode", self.fmu.enterInitializationMode, None,
                     start, stop, time=start)
        self._bind_calls()

    def _bind_calls(self) -> None:
        dll, self._c = self.fmu.dll, self.fmu.component
        self._in = [(g, getattr(dll, f"fmi3Set{g.key}")) for g in
                    self.groups(self.inputs, self.u, _c_type_name, _CTYPES, ctypes.c_uint32)]
        self._out = [(g, getattr(dll, f"fmi3Get{g.key}")) for g in
                     self.groups(self.outputs, self.y, _c_type_name, _CTYPES,
                                 ctypes.c_uint32)]
        self._do_step = dll.fmi3DoStep
        self._flags = [ctypes.c_bool(), ctypes.c_bool(), ctypes.c_bool()]
        self._last = ctypes.c_double()
        self._refs = [byref(f) for f in self._flags] + [byref(self._last)]
        self.no_rollback = True

    # -- the hot path ----------------------------------------------------------------

    def set_inputs(self) -> None:
        c = self._c
        for g, f in self._in:
            g.push()
            status = f(c, g.vr, g.n, g.ptr, g.n)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)

    def get_outputs(self) -> None:
        c = self._c
        for g, f in self._out:
            status = f(c, g.vr, g.n, g.ptr, g.n)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)
            g.pull()

    def do_step(self, t: float, dt: float) -> StepOutcome:
        r = self._refs
        status = self._do_step(self._c, t, dt, self.no_rollback, r[0], r[1], r[2], r[3])
        if status > WARNING:
            if status == DISCARD:
                return StepOutcome(StepStatus.DISCARD, reached=t)
            raise self.fail("fmi3DoStep", status, t)
        event, terminate, early = (f.value for f in self._flags)
        if not (event or terminate or early):
            self.time = t + dt
            return STEP_OK
        reached = self._last.value if early else t + dt
        self.time = reached
        status_kind = StepStatus.TERMINATE if terminate else (
            StepStatus.EARLY_RETURN if early else StepStatus.OK)
        return StepOutcome(status_kind, reached=reached, event=bool(event))

    # -- events ----------------------------------------------------------------------

    def handle_event(self, *, enter: bool = True) -> float | None:
        """Run the event iteration; return the next time event, if the FMU defines one.

        ``enter=False`` when the FMU is in event mode already (after initialization).
        """
        fmu = self.fmu
        if enter:
            self.guarded("fmi3EnterEventMode", fmu.enterEventMode, time=self.time)
        for _ in range(MAX_EVENT_ITERATIONS):
            update, terminate, _, _, defined, next_time = self.guarded(
                "fmi3UpdateDiscreteStates", fmu.updateDiscreteStates, time=self.time)
            if not update:
                break
        else:
            raise SubsystemError(f"event iteration did not settle after "
                                 f"{MAX_EVENT_ITERATIONS} updates", node=self.name,
                                 time=self.time)
        self.get_outputs()  # the right limit, read in event mode
        self.guarded("fmi3EnterStepMode", fmu.enterStepMode, time=self.time)
        return next_time if defined else None

    # -- the rest --------------------------------------------------------------------

    def exit_initialization(self) -> None:
        self.guarded("fmi3ExitInitializationMode", self.fmu.exitInitializationMode,
                     time=self.time)
        if self.events_used:
            # With event mode, the FMU is in event mode after initialization.
            self.handle_event(enter=False)

    def set_value(self, name: str, value: Any) -> None:
        var = self.interface[name]
        setter = getattr(self.fmu, f"set{_c_type_name(var)}")
        try:
            self.guarded(f"fmi3Set{var.fmi_type}", setter, [var.value_reference],
                         [convert(var.kind, value)], time=self.time)
        except SubsystemError as err:
            err.variable = name
            err.locate()
            raise
