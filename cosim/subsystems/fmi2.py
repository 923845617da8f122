"""FMI 2.0 co-simulation adapter (through fmpy's ``FMU2Slave`` for set-up).

FMI names (camelCase) stay inside this module. In the step loop the C functions are
called directly (``fmi2SetReal``, ``fmi2DoStep``, ``fmi2GetReal``) with precomputed
value-reference arrays and pointers into the coupled system's buffers.
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
)

from ..errors import SubsystemError
from ..variables import BOOLEAN, INTEGER, REAL, STRING
from .base import STEP_OK, StepOutcome, StepStatus
from .fmu_common import FMULog, FMUSubsystem, convert

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


class FMI2Subsystem(FMUSubsystem):
    """An FMI 2.0 co-simulation FMU as a subsystem."""

    STATE_CALLS = {"get": ("fmi2GetFMUstate", "getFMUstate"), "set": ("fmi2SetFMUstate", "setFMUstate"),
                   "free": ("fmi2FreeFMUstate", "freeFMUstate"),
                   "terminate": ("fmi2Terminate", "terminate")}

    def setup(self, start: float, stop: float | None) -> None:
        folder = self.extract()
        md = self.info.description
        self.fmu = self.load_binary(
            FMU2Slave, guid=md.guid, unzipDirectory=str(folder),
            modelIdentifier=md.coSimulation.modelIdentifier,
            instanceName=_register_log(self.name, self.log))
        try:
            self.fmu.instantiate(callbacks=_shared_callbacks(), loggingOn=False)
        except Exception as err:  # noqa: BLE001 - fmpy raises a bare Exception
            raise SubsystemError(f"fmi2Instantiate failed: {err} {self.log.last()}".strip(),
                                 node=self.name) from None
        self.instantiated = True
        self.time = start
        self.guarded("fmi2SetupExperiment", self.fmu.setupExperiment, None, start, stop,
                     time=start)
        for name, value in self.initial_values():
            self.set_value(name, value)
        self.guarded("fmi2EnterInitializationMode", self.fmu.enterInitializationMode,
                     time=start)
        self._bind_calls()

    def _bind_calls(self) -> None:
        dll, self._c = self.fmu.dll, self.fmu.component
        self._in = [(g, getattr(dll, _SETTERS[g.key]))
                    for g in self.groups(self.inputs, self.u, _kind, _CTYPES, ctypes.c_uint)]
        self._out = [(g, getattr(dll, _GETTERS[g.key]))
                     for g in self.groups(self.outputs, self.y, _kind, _CTYPES, ctypes.c_uint)]
        self._do_step = dll.fmi2DoStep
        self.no_rollback = True

    # -- the hot path ----------------------------------------------------------------

    def set_inputs(self) -> None:
        c = self._c
        for g, f in self._in:
            g.push()
            status = f(c, g.vr, g.n, g.ptr)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)

    def get_outputs(self) -> None:
        c = self._c
        for g, f in self._out:
            status = f(c, g.vr, g.n, g.ptr)
            if status > WARNING:
                raise self.fail(f.__name__, status, self.time)
            g.pull()

    def do_step(self, t: float, dt: float) -> StepOutcome:
        status = self._do_step(self._c, t, dt, self.no_rollback)
        if status == 0 or status == WARNING:
            self.time = t + dt
            return STEP_OK
        if status == DISCARD:
            return StepOutcome(StepStatus.DISCARD, reached=t)
        raise self.fail("fmi2DoStep", status, t)

    # -- the rest --------------------------------------------------------------------

    def exit_initialization(self) -> None:
        self.guarded("fmi2ExitInitializationMode", self.fmu.exitInitializationMode,
                     time=self.time)

    def set_value(self, name: str, value: Any) -> None:
        var = self.interface[name]
        setter = {REAL: self.fmu.setReal, INTEGER: self.fmu.setInteger,
                  BOOLEAN: self.fmu.setBoolean, STRING: self.fmu.setString}[var.kind]
        try:
            self.guarded(f"fmi2Set{var.fmi_type}", setter, [var.value_reference],
                         [convert(var.kind, value)], time=self.time)
        except SubsystemError as err:
            err.variable = name
            err.locate()
            raise
