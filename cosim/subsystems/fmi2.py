"""FMI 2.0 co-simulation adapter (through fmpy's ``FMU2Slave`` for set-up).

FMI names (camelCase) stay inside this module. In the step loop the C functions are
called directly (``fmi2SetReal``, ``fmi2DoStep``, ``fmi2GetReal``) with precomputed
value-reference arrays and pointers into the coupled system's buffers.

``fmi2DoStep`` returning ``fmi2Discard`` means one of two things (FMI 2.0.4, 4.2.2):
the step was rejected (a smaller one may succeed) or — when ``fmi2GetBooleanStatus(
fmi2Terminated)`` is true — the FMU asks to end the simulation at
``fmi2GetRealStatus(fmi2LastSuccessfulTime)``. The adapter tells them apart and reports
a DISCARD or a TERMINATE outcome; neither is an error.
"""

from __future__ import annotations

import ctypes
import weakref
from ctypes import byref
from typing import Any

from fmpy import calloc, free
from fmpy.fmi2 import (
    FMU2Slave,
    fmi2CallbackAllocateMemoryTYPE,
    fmi2CallbackFreeMemoryTYPE,
    fmi2CallbackFunctions,
    fmi2CallbackLoggerTYPE,
    fmi2LastSuccessfulTime,
    fmi2Terminated,
)

from ..errors import SubsystemError
from ..variables import BOOLEAN, INTEGER, REAL, STRING
from .base import STEP_OK, StepOutcome, StepStatus
from .fmu_common import FMULog, FMUSubsystem, TolerantLoading, convert

_CTYPES = {REAL: ctypes.c_double, INTEGER: ctypes.c_int, BOOLEAN: ctypes.c_int}
_SETTERS = {REAL: "fmi2SetReal", INTEGER: "fmi2SetInteger", BOOLEAN: "fmi2SetBoolean"}
_GETTERS = {REAL: "fmi2GetReal", INTEGER: "fmi2GetInteger", BOOLEAN: "fmi2GetBoolean"}
WARNING, DISCARD = 1, 2


def _kind(var) -> str:
    return var.kind


# fmpy's native logger proxy formats the FMU's variadic messages but keeps ONE logger
# for the whole process. So cosim registers one callbacks structure, once, that routes
# each message to the log of the instance that sent it (by instance name, made unique).
_LOGS: weakref.WeakValueDictionary[str, FMULog] = weakref.WeakValueDictionary()
_CALLBACKS: list[fmi2CallbackFunctions] = []


def _route(component, instance, status, category, message) -> None:
    log = _LOGS.get((instance or b"").decode("utf-8", "replace"))
    if log is not None:
        log.add(status, category, message)


def _shared_callbacks() -> fmi2CallbackFunctions:
    if not _CALLBACKS:
        from fmpy.logging import addLoggerProxy
        cb = fmi2CallbackFunctions()
        cb.logger = fmi2CallbackLoggerTYPE(_route)
        cb.allocateMemory = fmi2CallbackAllocateMemoryTYPE(calloc)
        cb.freeMemory = fmi2CallbackFreeMemoryTYPE(free)
        addLoggerProxy(byref(cb))
        _CALLBACKS.append(cb)  # lives as long as the process: never dangles
    return _CALLBACKS[0]


def _register_log(name: str, log: FMULog) -> str:
    """A process-unique instance name for ``name``, whose messages go to ``log``."""
    unique, k = name, 1
    while unique in _LOGS:
        k += 1
        unique = f"{name}~{k}"
    _LOGS[unique] = log
    return unique


class FMU2SlaveTolerant(TolerantLoading, FMU2Slave):
    """fmpy's FMU2Slave, tolerant of optional functions the library does not export."""


class FMI2Subsystem(FMUSubsystem):
    """An FMI 2.0 co-simulation FMU as a subsystem."""

    STATE_CALLS = {"get": ("fmi2GetFMUstate", "getFMUstate"),
                   "set": ("fmi2SetFMUstate", "setFMUstate"),
                   "free": ("fmi2FreeFMUstate", "freeFMUstate"),
                   "terminate": ("fmi2Terminate", "terminate"),
                   "reset": ("fmi2Reset", "reset")}
    REQUIRED = ("fmi2Instantiate", "fmi2FreeInstance", "fmi2SetupExperiment",
                "fmi2EnterInitializationMode", "fmi2ExitInitializationMode", "fmi2DoStep",
                "fmi2GetReal", "fmi2SetReal")
    FLOAT_KEY, NATIVE_KIND = REAL, "fmi2"

    def instantiate(self) -> None:
        self._instantiate(FMU2SlaveTolerant, self.info.description.coSimulation,
                          "fmi2Instantiate")
        self._status = ctypes.c_int()
        self._last_time = ctypes.c_double()
        self._bind_calls()

    def _instantiate(self, cls, interface, call: str) -> None:
        """Load the library with fmpy's ``cls`` for ``interface`` (the model
        description's co-simulation or model-exchange element) and instantiate;
        ``call`` names the instantiation in messages."""
        md = self.info.description
        self.load(lambda folder: cls(
            guid=md.guid, unzipDirectory=folder, modelIdentifier=interface.modelIdentifier,
            instanceName=_register_log(self.name, self.log)))
        try:
            self.fmu.instantiate(callbacks=_shared_callbacks(), loggingOn=False)
        except Exception as err:  # noqa: BLE001 - fmpy raises a bare Exception
            raise SubsystemError(f"{call} failed: {err} {self.log.last()}".strip(),
                                 node=self.name) from None
        self.instantiated = True

    def initialize(self, start: float, stop: float | None) -> None:
        self.time = start
        self.guarded("fmi2SetupExperiment", self.fmu.setupExperiment, None, start, stop,
                     time=start)
        for name, value in self.initial_values():
            self.set_value(name, value)
        self.guarded("fmi2EnterInitializationMode", self.fmu.enterInitializationMode,
                     time=start)

    def _bind_calls(self) -> None:
        dll, self._c = self.fmu.dll, self.fmu.component
        self._in = [(g, getattr(dll, _SETTERS[g.key])) for g in self.groups(
            self.inputs, self.input_slots, self.u, _kind, _CTYPES, ctypes.c_uint)]
        self._out = [(g, getattr(dll, _GETTERS[g.key])) for g in self.groups(
            self.outputs, self.output_slots, self.y, _kind, _CTYPES, ctypes.c_uint)]
        self._do_step = dll.fmi2DoStep
        self._object_calls(lambda var: self.fmu.getString, lambda var: self.fmu.setString)
        self._has_objects = bool(self._obj_get or self._obj_set)

    # -- the hot path ----------------------------------------------------------------

    def set_inputs(self) -> None:
        c = self._c
        for g, f in self._in:
            g.push()
            status = f(c, g.vr, g.n, g.ptr)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)
        if self._has_objects:
            self.set_objects()

    def get_outputs(self) -> None:
        c = self._c
        for g, f in self._out:
            status = f(c, g.vr, g.n, g.ptr)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)
            g.pull()
        if self._has_objects:
            self.get_objects()

    def step(self, now: int, limit: int) -> StepOutcome:
        t, dt = self.times(now, limit)
        return self.step_result(self._do_step(self._c, t, dt, True), t, dt)

    def step_result(self, status: int, t: float, dt: float) -> StepOutcome:
        """The outcome of an ``fmi2DoStep`` from ``t`` over ``dt`` [s] that returned
        ``status`` (also for calls the compiled loop made)."""
        if status == 0 or status == WARNING:
            self.time = t + dt
            return STEP_OK
        if status == DISCARD:
            return self._discarded(t)
        raise self.fail("fmi2DoStep", status, t)

    def _discarded(self, t: float) -> StepOutcome:
        """Discard: a termination request when the FMU says it terminated, else a
        rejected step. Either status query may be unsupported (fmi2Discard/Error)."""
        dll, c, flag = self.fmu.dll, self._c, self._status
        try:
            terminated = dll.fmi2GetBooleanStatus(c, fmi2Terminated, byref(flag)) <= WARNING \
                and bool(flag.value)
        except AttributeError:  # not exported
            terminated = False
        if not terminated:
            return StepOutcome(StepStatus.DISCARD, reached=t)
        reached = t
        try:
            if dll.fmi2GetRealStatus(c, fmi2LastSuccessfulTime,
                                     byref(self._last_time)) <= WARNING:
                reached = self._last_time.value
        except AttributeError:
            pass
        self.time = reached
        return StepOutcome(StepStatus.TERMINATE, reached=reached)

    # -- the rest --------------------------------------------------------------------

    def exit_initialization(self):
        self.guarded("fmi2ExitInitializationMode", self.fmu.exitInitializationMode,
                     time=self.time)
        return super().exit_initialization()

    def set_value(self, name: str, value: Any) -> None:
        var = self.interface[name]
        setter = {REAL: self.fmu.setReal, INTEGER: self.fmu.setInteger,
                  BOOLEAN: self.fmu.setBoolean, STRING: self.fmu.setString}[var.kind]
        try:
            self.guarded(f"fmi2Set{var.fmi_type}", setter, [var.value_reference],
                         [convert(var.kind, value, var.fmi_type)], time=self.time)
        except SubsystemError as err:
            err.variable = name
            err.locate()
            raise
