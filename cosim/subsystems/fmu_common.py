"""What the FMI 2 and FMI 3 adapters share: loading, logging, value conversion, life cycle.

The hot path (set inputs, step, get outputs) calls the FMU's C functions directly
through ctypes with pointers into the coupled system's float64 buffers: real-valued
ports are exchanged without a copy, integer and boolean ports are converted.

Loading tolerates FMUs that do not export optional functions their capability flags do
not claim (state get/set and serialization, directional derivatives, ...): fmpy binds
every function eagerly; here a missing one becomes a stub that raises a clear error if
it is ever called, and only the functions a co-simulation run needs are required.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from fmpy.fmi1 import FMICallException

from ..clock import to_seconds
from ..errors import FMICallError, FMUError, SubsystemError
from ..fmu import cache
from ..fmu.description import FMUInfo
from ..protocol import Capabilities, NativeForm, NotNative
from ..variables import BINARY, BOOLEAN, INTEGER, REAL
from .base import Subsystem

STATUS_NAMES = ("ok", "warning", "discard", "error", "fatal", "pending")


class FMULog:
    """The last FMU log messages, kept to explain failures."""

    def __init__(self, keep: int = 20):
        self.messages: deque[str] = deque(maxlen=keep)

    def add(self, status: int, category: bytes | None, message: bytes | None) -> None:
        text = (message or b"").decode("utf-8", "replace").strip()
        if text:
            label = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else status
            self.messages.append(f"[{label}] {text}")

    def last(self, n: int = 3) -> str:
        return "; ".join(list(self.messages)[-n:])


# -- tolerant loading --------------------------------------------------------------------


class MissingFunction:
    """Stands in for a C function the shared library does not export."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args: Any) -> Any:
        raise FMICallException(function=self.__name__, status=3)


class _TolerantLibrary:
    """A view of a loaded library that hands out :class:`MissingFunction` stubs."""

    def __init__(self, dll: Any):
        self._dll = dll
        self.missing: list[str] = []

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._dll, name)
        except AttributeError:
            self.missing.append(name)
            return MissingFunction(name)


class TolerantLoading:
    """Mixin for fmpy's FMU classes: missing functions are recorded in ``missing``.

    (fmpy picks the function prefix from the class name: a subclass must be named
    ``FMU2...`` or ``FMU3...``.)"""

    missing: list[str]

    def _loadFunctions(self) -> None:  # noqa: N802 - fmpy's name
        real = self.dll
        self.dll = _TolerantLibrary(real)
        try:
            super()._loadFunctions()
        finally:
            self.missing = self.dll.missing
            self.dll = real


# -- port groups ----------------------------------------------------------------------------


class PortGroup:
    """Ports of one C type and one direction: value references and a buffer view.

    ``key`` is the C type name (``Real``/``Float64``, ``Integer``, ``Int32``, ...). Float64
    ports that sit contiguously in the buffer are passed by pointer, without a copy;
    others go through a scratch C array (``push`` before a set, ``pull`` after a get).
    """

    def __init__(self, key: str, vrs: list[int], positions: list[int], buffer: np.ndarray,
                 ctype: Any, vr_type: Any):
        self.key = key
        self.n_vr = len(vrs)
        self.n = len(positions)  # values: arrays have one per element
        self.vr = (vr_type * max(1, self.n_vr))(*vrs)
        self.positions = np.asarray(positions, dtype=np.intp)
        self.buffer = buffer
        self.integral = ctype not in (ctypes.c_double, ctypes.c_float)
        contiguous = bool(self.positions.size) and np.array_equal(
            self.positions, np.arange(self.positions[0], self.positions[0] + self.n))
        if ctype is ctypes.c_double and contiguous:
            view = buffer[self.positions[0]:self.positions[0] + self.n]
            self.ptr = view.ctypes.data_as(ctypes.POINTER(ctype))
            self.scratch = None
        else:
            self.scratch = (ctype * max(1, self.n))()
            self.ptr = self.scratch

    def push(self) -> None:
        if self.scratch is not None:
            values = self.buffer[self.positions].tolist()
            if self.integral:
                values = [int(round(v)) for v in values]
            self.scratch[:self.n] = values

    def pull(self) -> None:
        if self.scratch is not None:
            self.buffer[self.positions] = [float(v) for v in self.scratch[:self.n]]


def address(obj: Any) -> int:
    """The address a ctypes function or pointer holds (NotNative when null)."""
    if isinstance(obj, int):
        return obj
    value = ctypes.cast(obj, ctypes.c_void_p).value
    if not value:
        raise NotNative("a null pointer")
    return value


# -- the adapter base --------------------------------------------------------------------------


class FMUSubsystem(Subsystem):
    """Base of the FMI adapters: owns the FMU object and the instance's lifetime."""

    kind = "fmu"
    #: what -> (FMI function name for messages, fmpy method), set by each adapter
    STATE_CALLS: dict[str, tuple[str, str]] = {}
    #: functions a co-simulation run cannot do without (beyond the setters it uses)
    REQUIRED: tuple[str, ...] = ()
    #: the C type name of float64 ports, and the native form kind
    FLOAT_KEY, NATIVE_KIND = "", ""

    def __init__(self, name: str, info: FMUInfo, interface=None):
        """``interface``: the node's (array shapes set by its structural parameters);
        default the model description's."""
        super().__init__(name, interface if interface is not None else info.interface)
        self.info = info
        self.log = FMULog()
        self.folder: Path | None = None
        self.fmu = None
        self.instantiated = False
        self._in: list = []
        self._out: list = []
        self._obj_get: list = []
        self._obj_set: list = []
        self._has_objects = False
        self.capabilities = self._capabilities(info)

    @staticmethod
    def _capabilities(info: FMUInfo) -> Capabilities:
        """What the master may ask of the FMU, from its co-simulation flags."""
        cs = info.co_simulation
        can_roll_back = bool(getattr(cs, "canGetAndSetFMUstate", False)
                             or getattr(cs, "canGetAndSetFMUState", False))
        return Capabilities(
            can_roll_back=can_roll_back,
            can_vary_step=bool(cs.canHandleVariableCommunicationStepSize),
            has_event_mode=bool(getattr(cs, "hasEventMode", False)),
            may_return_early=bool(getattr(cs, "mightReturnEarlyFromDoStep", False)),
            fixed_step=float(cs.fixedInternalStepSize)
            if getattr(cs, "fixedInternalStepSize", None) else None,
            feedthrough_in_step_mode=info.fmi_major == 2)

    # -- loading -----------------------------------------------------------------------

    def load(self, make_fmu) -> None:
        """Extract (shared, or private when the FMU allows one instance per process) and
        load the library with ``make_fmu(folder)``."""
        cs = self.info.co_simulation
        private = bool(getattr(cs, "canBeInstantiatedOnlyOncePerProcess", False))
        self.folder = cache.extract(self.info.path, self.info.sha256, private=private)
        binary = self.info.binary_name()
        try:
            self.fmu = make_fmu(str(self.folder))
        except FMUError:
            raise
        except Exception as err:  # noqa: BLE001 - fmpy raises bare Exceptions (dlopen)
            reason = str(err).rpartition(": ")[2] if ": " in str(err) else str(err)
            raise FMUError(f"node {self.name}: cannot load the FMU's library {binary}: "
                           f"{reason}", file=str(self.info.path)) from None
        missing = [f for f in getattr(self.fmu, "missing", []) if f in self.REQUIRED]
        if missing:
            raise FMUError(f"node {self.name}: the FMU's library {binary} does not export "
                           f"{', '.join(missing)}, which FMI requires for co-simulation (not "
                           f"an FMI {self.info.fmi_major} co-simulation library, or built for "
                           "another FMI version)", file=str(self.info.path))

    # -- helpers for subclasses ------------------------------------------------------

    def fail(self, function: str, status: int, time: float | None = None) -> FMICallError:
        return FMICallError(function, status, node=self.name, time=time, log=self.log.last())

    def guarded(self, function: str, call, *args, time: float | None = None):
        """Call an fmpy wrapper, turning its exceptions into FMICallError."""
        try:
            return call(*args)
        except FMICallException as err:
            raise self.fail(function, err.status, time) from None
        except OSError as err:  # a crash inside the FMU that ctypes caught
            raise SubsystemError(f"{function} crashed: {err}", node=self.name,
                                 time=time) from None

    def groups(self, names: list[str], slots: dict[str, range], buffer: np.ndarray, key_of,
               ctypes_of: dict[str, Any], vr_type: Any) -> list[PortGroup]:
        """Split numeric ports into PortGroups by C type (``key_of(variable)``), Float64
        first; an array's elements take consecutive positions (row-major)."""
        by_key: dict[str, tuple[list[int], list[int]]] = {}
        for name in names:
            var = self.interface[name]
            key = key_of(var)
            if key not in ctypes_of:
                raise SubsystemError(f"variables of type {var.fmi_type} cannot be exchanged",
                                     node=self.name, variable=name)
            vrs, positions = by_key.setdefault(key, ([], []))
            vrs.append(var.value_reference)
            positions.extend(slots[name])
        return [PortGroup(key, vrs, positions, buffer, ctypes_of[key], vr_type)
                for key, (vrs, positions) in sorted(
                    by_key.items(), key=lambda kv: ctypes_of[kv[0]] is not ctypes.c_double)]

    def _state_call(self, what: str, *args):
        function, method = self.STATE_CALLS[what]
        return self.guarded(function, getattr(self.fmu, method), *args, time=self.time)

    @staticmethod
    def times(now: int, limit: int) -> tuple[float, float]:
        """(t, dt) [s] of a step from ``now`` to ``limit`` [ticks], as the model sees it."""
        t = to_seconds(now)
        return t, to_seconds(limit) - t

    # -- state -------------------------------------------------------------------------

    def save_state(self) -> Any:
        return self._state_call("get")

    def restore_state(self, state: Any) -> None:
        self._state_call("set", state)

    def free_state(self, state: Any) -> None:
        self._state_call("free", state)

    # -- life cycle --------------------------------------------------------------------

    def initial_values(self) -> list[tuple[str, Any]]:
        """Parameters, then start values: what initialization applies first (structural
        parameters are applied before, see the FMI 3 adapter)."""
        return [(k, v) for k, v in [*self.parameters.items(), *self.start_values.items()]
                if self.interface[k].causality != "structuralParameter"]

    # -- object ports (strings, binaries, 64-bit integers) ---------------------------------

    def _object_calls(self, getter_of, setter_of) -> None:
        """Bind the object ports' get and set calls (fmpy's wrappers: rare, not hot)."""
        self._obj_get = [(name, self.interface[name], getter_of(self.interface[name]))
                         for name in self.obj_out]
        self._obj_set = [(name, self.interface[name], setter_of(self.interface[name]))
                         for name in self.obj_in]

    def get_objects(self) -> None:
        for name, var, get in self._obj_get:
            args = ([var.value_reference], var.size) if var.shape else ([var.value_reference],)
            values = [v.decode("utf-8", "replace") if isinstance(v, bytes) and var.kind ==
                      "string" else v for v in self.guarded(f"get {var.fmi_type}", get, *args,
                                                            time=self.time)]
            self.obj_out[name] = values if var.shape else values[0]

    def set_objects(self) -> None:
        for name, var, put in self._obj_set:
            value = self.obj_in.get(name)
            if value is None:
                continue
            values = list(value) if var.shape else [value]
            self.guarded(f"set {var.fmi_type}", put, [var.value_reference],
                         [convert(var.kind, v, var.fmi_type) for v in values], time=self.time)

    def terminate(self) -> None:
        if self.instantiated:
            self._state_call("terminate")

    def reset(self) -> None:
        """Back to the instantiated state (FMI reset); re-instantiate if that fails."""
        if not self.instantiated:
            return
        try:
            self._state_call("reset")
        except SubsystemError:
            self._free()
            self.instantiate()

    def _free(self) -> None:
        if self.fmu is not None and self.instantiated:
            self.instantiated = False
            with contextlib.suppress(Exception):  # never mask the error that ended a run
                self.fmu.freeInstance()
        elif self.fmu is not None:
            with contextlib.suppress(Exception):
                self.fmu.freeLibrary()
        self.fmu = None

    def close(self) -> None:
        try:
            self._free()
        finally:
            if self.folder is not None:
                cache.release(self.folder)
                self.folder = None

    # -- the compiled loop --------------------------------------------------------------

    def native_key(self) -> object | None:
        """The form depends only on the instance (the same across resets)."""
        return (id(self.fmu), address(self._c)) if self.instantiated else None

    def native_form(self) -> NativeForm:
        """The FMU's call table for the kernel: every exchanged port a float64 scalar
        passed by pointer, so the kernel calls the FMU with exactly the adapter's
        arguments."""
        if not self.instantiated:
            raise NotNative(f"node {self.name}: not instantiated")
        if self.obj_in or self.obj_out:
            raise NotNative(f"node {self.name}: string, binary or 64-bit integer ports")
        if any(g.n != g.n_vr for g, _ in self._in + self._out):
            raise NotNative(f"node {self.name}: array ports")
        n_in, vr_in, set_fn, set_name = self._float_group(self._in, self.u, "inputs")
        n_out, vr_out, get_fn, get_name = self._float_group(self._out, self.y, "outputs")
        if n_in != len(self.inputs) or n_out != len(self.outputs):
            raise NotNative(f"node {self.name}: ports and call tables differ")
        return NativeForm(self.NATIVE_KIND, comp=address(self._c), set=set_fn, get=get_fn,
                          step=address(self._do_step), vr_in=vr_in, vr_out=vr_out,
                          names={"set": set_name, "get": get_name})

    def _float_group(self, groups, buffer: np.ndarray, what: str):
        """(n, value references, function address, function name) of the float group."""
        if not groups:
            return 0, None, 0, ""
        if len(groups) > 1 or groups[0][0].key != self.FLOAT_KEY:
            types = ", ".join(g.key for g, _ in groups)
            raise NotNative(f"node {self.name}: {what} of type {types} (the compiled loop "
                            f"exchanges float64 ports only)")
        group, fn = groups[0]
        if group.scratch is not None or address(group.ptr) != buffer.ctypes.data:
            raise NotNative(f"node {self.name}: {what} are not passed by pointer")
        return group.n, group.vr, address(fn), fn.__name__

    def provenance(self) -> dict[str, Any]:
        md = self.info.description
        return {"kind": "fmu", "file": str(self.info.path), "sha256": self.info.sha256,
                "guid": self.info.guid, "fmi_version": md.fmiVersion,
                "model_name": md.modelName, "generation_tool": md.generationTool or ""}


def convert(kind: str, value: Any, fmi_type: str | None = None) -> Any:
    """A Python value for an FMU setter of the given kind (arrays: lists of values,
    flattened row-major)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [convert(kind, v, fmi_type) for v in np.asarray(value, dtype=object).ravel()]
    if kind == REAL:
        return float(value)
    if kind == INTEGER:
        return int(value)
    if kind == BOOLEAN:
        return bool(value)
    if kind == BINARY:
        return value if isinstance(value, bytes) else bytes.fromhex(str(value))
    return str(value)
