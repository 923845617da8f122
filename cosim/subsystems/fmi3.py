"""FMI 3.0 co-simulation adapter (through fmpy's ``FMU3Slave`` for set-up).

An FMU that declares ``hasEventMode`` is instantiated with ``eventModeUsed`` (and with
``earlyReturnAllowed`` where it may return early and the run can roll the other nodes
back): the importer then handles its events (FMI 3.0, 4.2.4–4.2.6):

* after ``fmi3ExitInitializationMode`` the FMU is in Event Mode: the event iteration
  runs and reports the first time event (``nextEventTime``);
* ``fmi3DoStep`` reports ``eventHandlingNeeded`` (an event at the reached time),
  ``earlyReturn`` with ``lastSuccessfulTime`` and ``terminateSimulation``;
* :meth:`FMI3Subsystem.handle_event` runs ``fmi3EnterEventMode``,
  ``fmi3UpdateDiscreteStates`` until no further update is needed, reads the right-limit
  outputs and returns to Step Mode, reporting the next time event and any termination
  request. The master must not step over an announced time event: it shortens the step
  to land on it, then calls ``handle_event``.

Without event mode the FMU handles its own events inside ``fmi3DoStep``. In Step Mode,
reading outputs after setting inputs without a ``doStep`` in between is forbidden by
the standard; the masters only read outputs after a step, in initialization or in
Event Mode.
"""

from __future__ import annotations

import ctypes
from ctypes import byref
from typing import Any

from fmpy.fmi3 import FMU3Slave

from ..errors import SubsystemError
from ..protocol import NativeForm
from .base import STEP_OK, EventOutcome, StepOutcome, StepStatus
from .fmu_common import FMUSubsystem, TolerantLoading, convert

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


class FMU3SlaveTolerant(TolerantLoading, FMU3Slave):
    """fmpy's FMU3Slave, tolerant of optional functions the library does not export."""


class FMI3Subsystem(FMUSubsystem):
    """An FMI 3.0 co-simulation FMU as a subsystem."""

    STATE_CALLS = {"get": ("fmi3GetFMUState", "getFMUState"),
                   "set": ("fmi3SetFMUState", "setFMUState"),
                   "free": ("fmi3FreeFMUState", "freeFMUState"),
                   "terminate": ("fmi3Terminate", "terminate"),
                   "reset": ("fmi3Reset", "reset")}
    REQUIRED = ("fmi3InstantiateCoSimulation", "fmi3FreeInstance",
                "fmi3EnterInitializationMode", "fmi3ExitInitializationMode", "fmi3DoStep",
                "fmi3GetFloat64", "fmi3SetFloat64")
    FLOAT_KEY, NATIVE_KIND = "Float64", "fmi3"

    #: use event mode (set by the execution before instantiation) and allow early return
    event_mode = False
    early_return = False

    def instantiate(self) -> None:
        self.events_used = self.event_mode and self.capabilities.has_event_mode
        early = self.events_used and self.early_return and self.capabilities.may_return_early
        self._instantiate(FMU3SlaveTolerant, self.info.description.coSimulation,
                          "fmi3InstantiateCoSimulation", eventModeUsed=self.events_used,
                          earlyReturnAllowed=early)
        self._bind_calls()

    def _instantiate(self, cls, interface, call: str, **flags: bool) -> None:
        """Load the library with fmpy's ``cls`` for ``interface`` (the model
        description's co-simulation or model-exchange element) and instantiate with
        ``flags``; ``call`` names the instantiation in messages."""
        md = self.info.description
        self.load(lambda folder: cls(
            guid=md.instantiationToken, unzipDirectory=folder,
            modelIdentifier=interface.modelIdentifier, instanceName=self.name))

        def log_message(env, status, category, message):
            self.log.add(status, category, message)

        self._logger_ref = log_message
        try:
            self.fmu.instantiate(visible=False, loggingOn=False, logMessage=log_message,
                                 **flags)
        except Exception as err:  # noqa: BLE001 - fmpy raises a bare Exception
            raise SubsystemError(f"{call} failed: {err} {self.log.last()}".strip(),
                                 node=self.name) from None
        self.instantiated = True

    def initialize(self, start: float, stop: float | None) -> None:
        self.time = start
        structural = [(k, v) for k, v in self.parameters.items()
                      if self.interface[k].causality == "structuralParameter"]
        if structural:  # FMI 3: structural parameters change in Configuration Mode
            self.guarded("fmi3EnterConfigurationMode", self.fmu.enterConfigurationMode,
                         time=start)
            for name, value in structural:
                self.set_value(name, value)
            self.guarded("fmi3ExitConfigurationMode", self.fmu.exitConfigurationMode,
                         time=start)
        for name, value in self.initial_values():
            self.set_value(name, value)
        self.guarded("fmi3EnterInitializationMode", self.fmu.enterInitializationMode, None,
                     start, stop, time=start)

    def _bind_calls(self) -> None:
        dll, self._c = self.fmu.dll, self.fmu.component
        self._in = [(g, getattr(dll, f"fmi3Set{g.key}")) for g in self.groups(
            self.inputs, self.input_slots, self.u, _c_type_name, _CTYPES, ctypes.c_uint32)]
        self._out = [(g, getattr(dll, f"fmi3Get{g.key}")) for g in self.groups(
            self.outputs, self.output_slots, self.y, _c_type_name, _CTYPES, ctypes.c_uint32)]
        self._do_step = dll.fmi3DoStep
        self._object_calls(lambda var: getattr(self.fmu, f"get{var.fmi_type}"),
                           lambda var: getattr(self.fmu, f"set{var.fmi_type}"))
        self._has_objects = bool(self._obj_get or self._obj_set)
        self._flags = [ctypes.c_bool(), ctypes.c_bool(), ctypes.c_bool()]
        self._last = ctypes.c_double()
        self._refs = [byref(f) for f in self._flags] + [byref(self._last)]

    # -- the hot path ----------------------------------------------------------------

    def set_inputs(self) -> None:
        c = self._c
        for g, f in self._in:
            g.push()
            status = f(c, g.vr, g.n_vr, g.ptr, g.n)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)
        if self._has_objects:
            self.set_objects()

    def get_outputs(self) -> None:
        c = self._c
        for g, f in self._out:
            status = f(c, g.vr, g.n_vr, g.ptr, g.n)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)
            g.pull()
        if self._has_objects:
            self.get_objects()

    def step(self, now: int, limit: int) -> StepOutcome:
        t, dt = self.times(now, limit)
        r = self._refs
        status = self._do_step(self._c, t, dt, True, r[0], r[1], r[2], r[3])
        return self.step_result(status, t, dt)

    def step_result(self, status: int, t: float, dt: float) -> StepOutcome:
        """The outcome of an ``fmi3DoStep`` from ``t`` over ``dt`` [s] that returned
        ``status``, with its flags in this adapter's buffers (also for calls the
        compiled loop made)."""
        if status > WARNING:
            if status == DISCARD:
                return StepOutcome(StepStatus.DISCARD, reached=t)
            raise self.fail("fmi3DoStep", status, t)
        event, terminate, early = (f.value for f in self._flags)
        if not (event or terminate or early):
            self.time = t + dt
            return STEP_OK
        reached = self._last.value if (early or terminate) else t + dt
        self.time = reached
        kind = StepStatus.TERMINATE if terminate else (
            StepStatus.EARLY_RETURN if early else StepStatus.OK)
        return StepOutcome(kind, reached=reached, event=bool(event))

    # -- events ----------------------------------------------------------------------

    def handle_event(self, *, enter: bool = True) -> EventOutcome:
        """Run the event iteration at the current time; report the next time event and
        any termination request. ``enter=False``: already in Event Mode (after
        initialization)."""
        fmu = self.fmu
        if enter:
            self.guarded("fmi3EnterEventMode", fmu.enterEventMode, time=self.time)
        terminate = defined = False
        next_time = 0.0
        for _ in range(MAX_EVENT_ITERATIONS):
            update, stop, _, _, defined, next_time = self.guarded(
                "fmi3UpdateDiscreteStates", fmu.updateDiscreteStates, time=self.time)
            terminate = terminate or bool(stop)
            if not update or terminate:
                break
        else:
            raise SubsystemError(f"event iteration did not settle after "
                                 f"{MAX_EVENT_ITERATIONS} updates", node=self.name,
                                 time=self.time)
        self.get_outputs()  # the right limit, read in Event Mode
        if not terminate:
            self.guarded("fmi3EnterStepMode", fmu.enterStepMode, time=self.time)
        return EventOutcome(next_event=float(next_time) if defined else None,
                            terminate=terminate)

    # -- the rest --------------------------------------------------------------------

    def exit_initialization(self) -> EventOutcome:
        self.guarded("fmi3ExitInitializationMode", self.fmu.exitInitializationMode,
                     time=self.time)
        if self.events_used:
            # With event mode, the FMU is in Event Mode after initialization.
            return self.handle_event(enter=False)
        return super().exit_initialization()

    def native_form(self) -> NativeForm:
        form = super().native_form()
        form.flags = (*(ctypes.addressof(f) for f in self._flags),
                      ctypes.addressof(self._last))
        return form

    def set_value(self, name: str, value: Any) -> None:
        var = self.interface[name]
        setter = getattr(self.fmu, f"set{_c_type_name(var)}")
        values = convert(var.kind, value, var.fmi_type)
        try:
            self.guarded(f"fmi3Set{var.fmi_type}", setter, [var.value_reference],
                         values if isinstance(values, list) else [values], time=self.time)
        except SubsystemError as err:
            err.variable = name
            err.locate()
            raise
