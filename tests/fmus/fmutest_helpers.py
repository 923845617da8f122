"""Helpers for the tests of the project's own FMUs (fmus/): an instance driver."""

from __future__ import annotations

import tempfile
from ctypes import byref, c_bool, c_double
from pathlib import Path

from fmpy import extract, read_model_description
from fmpy.fmi2 import (
    FMU2Model,
    FMU2Slave,
    fmi2CallbackAllocateMemoryTYPE,
    fmi2CallbackFreeMemoryTYPE,
    fmi2CallbackFunctions,
    fmi2CallbackLoggerTYPE,
)
from fmpy.fmi3 import FMU3Model, FMU3Slave

# the original models, described in detail by the tables of test_fmus_descriptions.py
MODELS = ("Ball", "Cooler", "Decay", "Faulty", "Gain", "Oscillator", "Rack", "Spring")
ME_MODELS = ("Ball", "Decay", "Oscillator", "Spring")
VERSIONS = (2, 3)
# every model and the FMI versions it is built for (the conformance models have their own
# test files: test_fmus_<model>.py)
ALL_MODELS: dict[str, tuple[int, ...]] = {
    **{m: VERSIONS for m in MODELS},
    "Stopper": VERSIONS,
    "Counter": VERSIONS,
    "Lazy": VERSIONS,
    "Silent": VERSIONS,
    "Hostile": VERSIONS,
    "VanDerPol": VERSIONS,
    "AllTypes": VERSIONS,
    "StateSpace": (3,),
    "Clocked": (3,),
    "Minimal": VERSIONS,
    "RackDetailed": VERSIONS,
    "Labeled": VERSIONS,
}
ALL_BUILDS = [(m, v) for m, versions in ALL_MODELS.items() for v in versions]

_unzipped: dict[tuple[str, int], str] = {}
TEMPDIRS: list[str] = []


def unzipped(paths: dict[tuple[str, int], Path], model: str, version: int) -> str:
    """One extraction per FMU and session: instances of a model share the binary."""
    key = (model, version)
    if key not in _unzipped:
        d = tempfile.mkdtemp(prefix=f"fmu-{model}-{version}-")
        TEMPDIRS.append(d)
        _unzipped[key] = extract(str(paths[key]), unzipdir=d)
    return _unzipped[key]


class Instance:
    """A thin driver for one instance of one of our FMUs, capturing its log messages.

    Variables are addressed by name; ``kind`` is "CS" or "ME"; FMI 3 co-simulation options
    ``event_mode`` / ``early_return`` are passed to fmi3InstantiateCoSimulation.
    """

    def __init__(self, paths, model: str, version: int, kind: str = "CS", *,
                 event_mode: bool = False, early_return: bool = False, name: str = "inst"):
        self.version, self.kind = version, kind
        self.md = read_model_description(str(paths[(model, version)]))
        self.vars = {v.name: v for v in self.md.modelVariables}
        self.log: list[tuple[int, str]] = []
        args = dict(guid=self.md.guid, unzipDirectory=unzipped(paths, model, version),
                    modelIdentifier=model, instanceName=name)
        if version == 2:
            cls = FMU2Slave if kind == "CS" else FMU2Model
            self.fmu = cls(**args)
            self._callbacks = fmi2CallbackFunctions()
            self._callbacks.logger = fmi2CallbackLoggerTYPE(self._log2)
            # canNotUseMemoryManagementFunctions="true": allocation callbacks that always
            # fail prove the FMU does not use them
            self._callbacks.allocateMemory = fmi2CallbackAllocateMemoryTYPE(lambda n, s: None)
            self._callbacks.freeMemory = fmi2CallbackFreeMemoryTYPE(lambda p: None)
            # no fmpy.logging.addLoggerProxy: it keeps ONE process-wide logger, so
            # per-instance loggers would cross (and dangle once an instance is gone)
            self.fmu.instantiate(callbacks=self._callbacks)
        elif kind == "CS":
            self.fmu = FMU3Slave(**args)
            self.fmu.instantiate(eventModeUsed=event_mode, earlyReturnAllowed=early_return,
                                 logMessage=self._log3)
        else:
            self.fmu = FMU3Model(**args)
            self.fmu.instantiate(logMessage=self._log3)

    def _log2(self, env, name, status, category, message):
        self.log.append((status, message.decode()))

    def _log3(self, env, status, category, message):
        self.log.append((status, message.decode()))

    def vr(self, name: str) -> int:
        return self.vars[name].valueReference

    def _method(self, name: str) -> str:
        """The fmpy method suffix for a variable: Real/Integer/... (FMI 2), Float64/... (FMI 3)."""
        t = self.vars[name].type
        if self.version == 2:
            return "Integer" if t == "Enumeration" else t
        return "Int64" if t == "Enumeration" else t

    def count(self, name: str) -> int:
        """Current element count of a variable (arrays: product of its dimensions)."""
        n = 1
        for d in self.vars[name].dimensions:
            if d.valueReference is None:
                n *= int(d.start)
            else:
                n *= self.fmu.getUInt64([d.valueReference])[0]
        return n

    def set(self, **values) -> None:
        """Set variables by name; a list sets all elements of an array."""
        for name, value in values.items():
            setter = getattr(self.fmu, f"set{self._method(name)}")
            setter([self.vr(name)], list(value) if isinstance(value, list | tuple) else [value])

    def get(self, name: str):
        """A scalar's value, or the list of an array's elements (row-major)."""
        getter = getattr(self.fmu, f"get{self._method(name)}")
        if self.version == 2 or not self.vars[name].dimensions:
            value = getter([self.vr(name)])[0]
            return value.decode() if isinstance(value, bytes) and self.version == 2 else value
        return getter([self.vr(name)], nValues=self.count(name))

    def init(self, start_time: float = 0.0, **start) -> Instance:
        self.set(**start)
        if self.version == 2:
            self.fmu.setupExperiment(startTime=start_time)
            self.fmu.enterInitializationMode()
            self.fmu.exitInitializationMode()
        else:
            self.fmu.enterInitializationMode(startTime=start_time)
            self.fmu.exitInitializationMode()
        return self

    def step(self, t: float, dt: float):
        return self.fmu.doStep(t, dt)

    def run(self, t_end: float, dt: float, names: tuple[str, ...]) -> list[tuple[float, ...]]:
        """Step from 0 to t_end with dt, recording (t, *names) after every step."""
        rows, n = [], round(t_end / dt)
        for i in range(n):
            self.step(i * dt, dt)
            rows.append(((i + 1) * dt, *(self.get(name) for name in names)))
        return rows


def raw_do_step3(inst: Instance, t: float, dt: float) -> tuple[int, bool, bool, bool, float]:
    """fmi3DoStep without fmpy's exception for Discard/Error:
    (status, eventHandlingNeeded, terminateSimulation, earlyReturn, lastSuccessfulTime)."""
    event, terminate, early, last = c_bool(), c_bool(), c_bool(), c_double(-1.0)
    status = inst.fmu.dll.fmi3DoStep(inst.fmu.component, t, dt, True, byref(event),
                                     byref(terminate), byref(early), byref(last))
    return status, event.value, terminate.value, early.value, last.value


def logged(inst: Instance, status: int, text: str) -> bool:
    """Did the FMU log a message with this status containing `text`?"""
    return any(s == status and text in msg for s, msg in inst.log)
