"""Model-exchange FMUs (FMI 2.0 and 3.0) as members of a cluster.

A member is driven by its :class:`~cosim.subsystems.me_cluster.ClusterSubsystem`, never
by the master. It reuses the co-simulation adapters' set-up (loading, logging, values,
initialization, FMU state, reset) and adds the model-exchange calls (FMI names stay
here). Life cycle, as the cluster drives it (FMI 2.0 ch. 3.2, FMI 3.0 ch. 3.2)::

    instantiate()                         fmi2Instantiate(fmi2ModelExchange) /
                                          fmi3InstantiateModelExchange
    initialize(start, stop)               values, Initialization Mode
    exit_initialization()                 -> Event Mode
    enter_event_mode(), update_discrete() ...  the event iteration (also the initial one)
    enter_continuous_time_mode()
    per right-hand-side evaluation (the closures of hot_calls()):
        place(t) (time and states), <outputs and inputs of the cluster's connections>,
        derivatives() [, indicators()]
    completed_integrator_step()           where the FMU needs it
    save_state() / restore_state(s)       FMU state get/set (canGetAndSetFMUState)

State, derivative and indicator vectors live in the cluster's arrays: ``bind_vectors``
gives the member pointers to its slices, so the C functions write there directly.
``fmi2Discard`` / ``fmi3Discard`` from a derivative or indicator evaluation asks the
integrator for a smaller step (:class:`~cosim.integrators.base.RecoverableRhs`).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from ctypes import POINTER, byref, c_double
from typing import Any

import numpy as np
from fmpy.fmi2 import FMU2Model
from fmpy.fmi3 import FMU3Model

from ..errors import FMUError, SubsystemError
from ..fmu import cache
from ..integrators.base import RecoverableRhs
from ..protocol import Capabilities
from .fmi2 import _CTYPES as _CTYPES2
from .fmi2 import _GETTERS, _SETTERS, FMI2Subsystem, _kind
from .fmi3 import _CTYPES as _CTYPES3
from .fmi3 import FMI3Subsystem, _c_type_name
from .fmu_common import TolerantLoading

WARNING, DISCARD = 1, 2


class FMU2ModelTolerant(TolerantLoading, FMU2Model):
    """fmpy's FMU2Model, tolerant of optional functions the library does not export."""


class FMU3ModelTolerant(TolerantLoading, FMU3Model):
    """fmpy's FMU3Model, tolerant of optional functions the library does not export."""


def _pointer(array: np.ndarray, offset: int):
    return ctypes.cast(array.ctypes.data + 8 * offset, POINTER(c_double))


class MEMember:
    """What the FMI 2 and FMI 3 members share (a mixin before the CS adapter class)."""

    info: Any
    fmu: Any

    def __init__(self, name: str, info):
        super().__init__(name, info)  # the adapter's fields (FMUSubsystem)
        md, me = info.description, info.model_exchange
        self.nx = int(md.numberOfContinuousStates or 0)
        self.nz = int(md.numberOfEventIndicators or 0)
        self.needs_completed_step = bool(getattr(me, "needsCompletedIntegratorStep", False))
        self.events_used = False  # the CS adapters' event mode flag: not for members

    @staticmethod
    def _capabilities(info) -> Capabilities:
        can = bool(getattr(info.model_exchange, "canGetAndSetFMUstate", False))
        return Capabilities(can_roll_back=can, has_event_mode=True)

    def load(self, make_fmu) -> None:
        private = bool(getattr(self.info.model_exchange, "canBeInstantiatedOnlyOncePerProcess",
                               False))
        self.folder = cache.extract(self.info.path, self.info.sha256, private=private)
        try:
            self.fmu = make_fmu(str(self.folder))
        except Exception as err:  # noqa: BLE001 - fmpy raises bare Exceptions and OSError
            raise FMUError(f"{self.info.path}: cannot load the FMU's binary: {err}",
                           file=str(self.info.path)) from None
        missing = [f for f in getattr(self.fmu, "missing", []) if f in self.REQUIRED]
        if missing:
            raise FMUError(f"{self.info.path}: the FMU's binary does not export "
                           f"{', '.join(missing)}, which model exchange needs",
                           file=str(self.info.path))

    # -- vectors ---------------------------------------------------------------------

    def bind_vectors(self, x: np.ndarray, dx: np.ndarray, z: np.ndarray, x_at: int,
                     z_at: int) -> None:
        """Point the state, derivative and indicator calls at the cluster's arrays
        (this member's slices start at ``x_at`` and ``z_at``)."""
        self._px, self._pdx = _pointer(x, x_at), _pointer(dx, x_at)
        self._pz = _pointer(z, z_at)
        self._nominals = np.ones(max(self.nx, 1))

    def _checked(self, fn, *args) -> None:
        status = fn(self._c, *args)
        if status > WARNING:
            self._status(fn, status)

    def _status(self, fn, status: int) -> None:
        """Raise for a failed call (Discard: the integrator may retry smaller)."""
        if status == DISCARD:
            raise RecoverableRhs(fn.__name__)
        raise self.fail(fn.__name__, status, self.time)

    def hot_calls(self) -> tuple[Callable[[float], None], Callable[[], None],
                                 Callable[[], None]]:
        """``(place(t), derivatives(), indicators())``: set time and states, get the
        derivatives, get the indicators -- each a closure over the C functions and the
        bound vectors, for the right-hand side (no attribute look-ups per call)."""
        c, nx, nz, status = self._c, self.nx, self.nz, self._status
        set_time, set_x, get_dx, get_z = self._set_time, self._set_x, self._get_dx, self._get_z
        px, pdx, pz = self._px, self._pdx, self._pz

        def place(t: float) -> None:
            self.time = t
            s = set_time(c, t)
            if s > WARNING:
                status(set_time, s)
            if nx:
                s = set_x(c, px, nx)
                if s > WARNING:
                    status(set_x, s)

        def derivatives() -> None:
            s = get_dx(c, pdx, nx)
            if s > WARNING:
                status(get_dx, s)

        def indicators() -> None:
            s = get_z(c, pz, nz)
            if s > WARNING:
                status(get_z, s)

        return place, derivatives, indicators

    def get_states(self) -> None:
        if self.nx:
            self._checked(self._get_x, self._px, self.nx)

    def nominals(self) -> np.ndarray:
        if self.nx:
            ptr = self._nominals.ctypes.data_as(POINTER(c_double))
            self.guarded(self.FN["nominals"], self.fmu_nominals, ptr, self.nx,
                         time=self.time)
        return self._nominals[:self.nx]

    # -- ports ------------------------------------------------------------------------

    def getter(self, names: list[str], buffer: np.ndarray) -> Callable[[], None]:
        """A function reading the outputs ``names`` into ``buffer`` (aligned)."""
        calls = self._calls(names, buffer, self.GETTERS)
        status = self._status

        def get() -> None:
            for fn, args, g in calls:
                s = fn(*args)
                if s > WARNING:
                    status(fn, s)
                if g is not None:
                    g.pull()
        return get

    def setter(self, names: list[str], buffer: np.ndarray) -> Callable[[], None]:
        """A function writing the inputs ``names`` from ``buffer`` (aligned)."""
        calls = self._calls(names, buffer, self.SETTERS)
        status = self._status

        def put() -> None:
            for fn, args, g in calls:
                if g is not None:
                    g.push()
                s = fn(*args)
                if s > WARNING:
                    status(fn, s)
        return put

    def _calls(self, names: list[str], buffer: np.ndarray, functions: dict) -> list:
        """(C function, its arguments, the group when values need converting) per group."""
        return [(fn, (self._c, *self._args(g)), g if g.scratch is not None else None)
                for g, fn in self._groups(names, self.slots(names), buffer, functions)]

    # -- events -------------------------------------------------------------------------

    def enter_event_mode(self) -> None:
        self.guarded(self.FN["event"], self.fmu.enterEventMode, time=self.time)

    def enter_continuous_time_mode(self) -> None:
        self.guarded(self.FN["continuous"], self.fmu.enterContinuousTimeMode, time=self.time)

    def completed_integrator_step(self) -> tuple[bool, bool]:
        """(enter Event Mode, terminate) after a completed integrator step."""
        self._checked(self._completed, True, byref(self._flag_event), byref(self._flag_stop))
        return bool(self._flag_event.value), bool(self._flag_stop.value)

    def step(self, now: int, limit: int):
        raise SubsystemError("a model-exchange FMU is stepped by its cluster",
                             node=self.name)

    def native_form(self):
        from ..protocol import NotNative
        raise NotNative(f"node {self.name}: model exchange (integrated by its cluster)")


class ME2Member(MEMember, FMI2Subsystem):
    """An FMI 2.0 model-exchange FMU in a cluster."""

    REQUIRED = ("fmi2Instantiate", "fmi2FreeInstance", "fmi2SetupExperiment",
                "fmi2EnterInitializationMode", "fmi2ExitInitializationMode",
                "fmi2EnterEventMode", "fmi2NewDiscreteStates", "fmi2EnterContinuousTimeMode",
                "fmi2SetTime", "fmi2SetContinuousStates", "fmi2GetDerivatives",
                "fmi2GetContinuousStates", "fmi2GetReal", "fmi2SetReal")
    FN = {"event": "fmi2EnterEventMode", "continuous": "fmi2EnterContinuousTimeMode",
          "update": "fmi2NewDiscreteStates",
          "nominals": "fmi2GetNominalsOfContinuousStates"}
    GETTERS, SETTERS = _GETTERS, _SETTERS

    def instantiate(self) -> None:
        self._instantiate(FMU2ModelTolerant, self.info.description.modelExchange,
                          "fmi2Instantiate (model exchange)")
        self._bind_calls()

    def _bind_calls(self) -> None:
        dll, self._c = self.fmu.dll, self.fmu.component
        self._in = self._groups(self.inputs, self.input_slots, self.u, _SETTERS)
        self._out = self._groups(self.outputs, self.output_slots, self.y, _GETTERS)
        self._set_time, self._set_x = dll.fmi2SetTime, dll.fmi2SetContinuousStates
        self._get_x, self._get_dx = dll.fmi2GetContinuousStates, dll.fmi2GetDerivatives
        self._get_z = dll.fmi2GetEventIndicators
        self._completed = getattr(dll, "fmi2CompletedIntegratorStep", None)
        self._flag_event, self._flag_stop = ctypes.c_int(), ctypes.c_int()
        self.fmu_nominals = self.fmu.getNominalsOfContinuousStates

    def _groups(self, names, slots, buffer, functions):
        dll = self.fmu.dll
        return [(g, getattr(dll, functions[g.key]))
                for g in self.groups(names, slots, buffer, _kind, _CTYPES2, ctypes.c_uint)]

    @staticmethod
    def _args(g) -> tuple:
        return g.vr, g.n, g.ptr

    def update_discrete(self) -> tuple[bool, bool, bool, float | None]:
        """One ``fmi2NewDiscreteStates``: (needs another, terminate, states changed,
        next time event or None)."""
        needed, stop, _, changed, defined, t_next = self.guarded(
            self.FN["update"], self.fmu.newDiscreteStates, time=self.time)
        return needed, stop, changed, (float(t_next) if defined else None)


class ME3Member(MEMember, FMI3Subsystem):
    """An FMI 3.0 model-exchange FMU in a cluster."""

    REQUIRED = ("fmi3InstantiateModelExchange", "fmi3FreeInstance",
                "fmi3EnterInitializationMode", "fmi3ExitInitializationMode",
                "fmi3EnterEventMode", "fmi3UpdateDiscreteStates",
                "fmi3EnterContinuousTimeMode", "fmi3SetTime", "fmi3SetContinuousStates",
                "fmi3GetContinuousStateDerivatives", "fmi3GetContinuousStates",
                "fmi3GetFloat64", "fmi3SetFloat64")
    FN = {"event": "fmi3EnterEventMode", "continuous": "fmi3EnterContinuousTimeMode",
          "update": "fmi3UpdateDiscreteStates",
          "nominals": "fmi3GetNominalsOfContinuousStates"}
    GETTERS = {k: f"fmi3Get{k}" for k in _CTYPES3}
    SETTERS = {k: f"fmi3Set{k}" for k in _CTYPES3}

    def instantiate(self) -> None:
        self._instantiate(FMU3ModelTolerant, self.info.description.modelExchange,
                          "fmi3InstantiateModelExchange")
        # the FMU's own counts: array states count their elements (the description
        # lists variables)
        self.nx = self.guarded("fmi3GetNumberOfContinuousStates",
                               self.fmu.getNumberOfContinuousStates)
        self.nz = self.guarded("fmi3GetNumberOfEventIndicators",
                               self.fmu.getNumberOfEventIndicators)
        self._bind_calls()

    def _bind_calls(self) -> None:
        dll, self._c = self.fmu.dll, self.fmu.component
        self._in = self._groups(self.inputs, self.input_slots, self.u, self.SETTERS)
        self._out = self._groups(self.outputs, self.output_slots, self.y, self.GETTERS)
        self._set_time, self._set_x = dll.fmi3SetTime, dll.fmi3SetContinuousStates
        self._get_x = dll.fmi3GetContinuousStates
        self._get_dx = dll.fmi3GetContinuousStateDerivatives
        self._get_z = dll.fmi3GetEventIndicators
        self._completed = getattr(dll, "fmi3CompletedIntegratorStep", None)
        self._flag_event, self._flag_stop = ctypes.c_bool(), ctypes.c_bool()
        self.fmu_nominals = self.fmu.getNominalsOfContinuousStates

    def _groups(self, names, slots, buffer, functions):
        dll = self.fmu.dll
        return [(g, getattr(dll, functions[g.key])) for g in self.groups(
            names, slots, buffer, _c_type_name, _CTYPES3, ctypes.c_uint32)]

    @staticmethod
    def _args(g) -> tuple:
        return g.vr, g.n_vr, g.ptr, g.n

    def update_discrete(self) -> tuple[bool, bool, bool, float | None]:
        """One ``fmi3UpdateDiscreteStates``: (needs another, terminate, states changed,
        next time event or None)."""
        needed, stop, _, changed, defined, t_next = self.guarded(
            self.FN["update"], self.fmu.updateDiscreteStates, time=self.time)
        return needed, stop, changed, (float(t_next) if defined else None)
