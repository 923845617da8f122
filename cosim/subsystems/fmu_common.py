"""What the FMI 2 and FMI 3 adapters share: extraction, logging, value conversion.

The hot path (set inputs, step, get outputs) calls the FMU's C functions directly
through ctypes with pointers into the coupled system's float64 buffers: real-valued
ports are exchanged without a copy, integer and boolean ports are converted.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from fmpy.fmi1 import FMICallException

from ..errors import FMICallError, FMUError, SubsystemError
from ..fmu import archive
from ..fmu.description import FMUInfo
from ..variables import BOOLEAN, INTEGER, REAL, STRING
from .base import Capabilities, Subsystem

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


class PortGroup:
    """Ports of one C type and one direction: value references and a buffer view.

    ``key`` is the C type name (``Real``/``Float64``, ``Integer``, ``Int32``, ...). Float64
    ports that sit contiguously in the buffer are passed by pointer, without a copy;
    others go through a scratch C array (``push`` before a set, ``pull`` after a get).
    """

    def __init__(self, key: str, vrs: list[int], positions: list[int], buffer: np.ndarray,
                 ctype: Any, vr_type: Any):
        self.key = key
        self.n = len(vrs)
        self.vr = (vr_type * max(1, self.n))(*vrs)
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


class FMUSubsystem(Subsystem):
    """Base of the FMI adapters: owns the extracted folder and the instance's lifetime."""

    kind = "fmu"

    def __init__(self, name: str, info: FMUInfo, parameters: dict[str, Any],
                 start: dict[str, Any]):
        super().__init__(name, info.interface)
        self.info = info
        self.parameters = dict(parameters)
        self.start_values = dict(start)
        self.log = FMULog()
        self.folder: Path | None = None
        self.fmu = None
        self.instantiated = False
        self.time = 0.0
        cs = info.co_simulation
        can_roll_back = bool(getattr(cs, "canGetAndSetFMUstate", False)
                             or getattr(cs, "canGetAndSetFMUState", False))
        self.capabilities = Capabilities(
            can_roll_back=can_roll_back,
            can_vary_step=bool(cs.canHandleVariableCommunicationStepSize),
            has_event_mode=bool(getattr(cs, "hasEventMode", False)),
            may_return_early=bool(getattr(cs, "mightReturnEarlyFromDoStep", False)),
            fixed_step=float(cs.fixedInternalStepSize)
            if getattr(cs, "fixedInternalStepSize", None) else None)

    # -- helpers for subclasses ------------------------------------------------------

    def extract(self) -> Path:
        self.folder = archive.extract(self.info.path, prefix=f"cosim-{self.name}-")
        return self.folder

    def load_binary(self, cls, **kwargs):
        """``cls(**kwargs)`` (an fmpy FMU class, which loads the shared library and binds
        every FMI function), with load failures as one FMUError (bad input, exit 2)."""
        binary = self.info.binary_name()
        try:
            return cls(**kwargs)
        except AttributeError as err:  # ctypes: a function the standard requires is missing
            symbol = str(err).rpartition("undefined symbol: ")[2] or str(err)
            raise FMUError(f"node {self.name}: the FMU's library {binary} does not export "
                           f"{symbol}, which FMI requires (not an FMI {self.info.fmi_major} "
                           "co-simulation library, or built for another FMI version)",
                           file=str(self.info.path)) from None
        except Exception as err:  # noqa: BLE001 - fmpy raises a bare Exception (dlopen)
            reason = str(err).rpartition(": ")[2] if ": " in str(err) else str(err)
            raise FMUError(f"node {self.name}: cannot load the FMU's library {binary}: "
                           f"{reason}", file=str(self.info.path)) from None

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

    def groups(self, names: list[str], buffer: np.ndarray, key_of, ctypes_of: dict[str, Any],
               vr_type: Any) -> list[PortGroup]:
        """Split ports into PortGroups by C type (``key_of(variable)``), Float64 first."""
        by_key: dict[str, tuple[list[int], list[int]]] = {}
        for pos, name in enumerate(names):
            var = self.interface[name]
            key = key_of(var)
            if var.kind == STRING or key not in ctypes_of:
                raise SubsystemError(f"variables of type {var.fmi_type} cannot be exchanged",
                                     node=self.name, variable=name)
            vrs, positions = by_key.setdefault(key, ([], []))
            vrs.append(var.value_reference)
            positions.append(pos)
        return [PortGroup(key, vrs, positions, buffer, ctypes_of[key], vr_type)
                for key, (vrs, positions) in sorted(
                    by_key.items(), key=lambda kv: ctypes_of[kv[0]] is not ctypes.c_double)]

    # what -> (FMI function name for messages, fmpy method), set by each adapter
    STATE_CALLS: dict[str, tuple[str, str]] = {}

    def _state_call(self, what: str, *args):
        function, method = self.STATE_CALLS[what]
        return self.guarded(function, getattr(self.fmu, method), *args, time=self.time)

    def save_state(self) -> Any:
        return self._state_call("get")

    def restore_state(self, state: Any) -> None:
        self._state_call("set", state)

    def free_state(self, state: Any) -> None:
        self._state_call("free", state)

    def terminate(self) -> None:
        if self.instantiated:
            self._state_call("terminate")

    def initial_values(self) -> list[tuple[str, Any]]:
        """Parameters, then start values: what setup applies before initialization."""
        return list(self.parameters.items()) + list(self.start_values.items())

    def close(self) -> None:
        try:
            # freeing must never mask the error that ended the run
            if self.fmu is not None and self.instantiated:
                self.instantiated = False
                with contextlib.suppress(Exception):
                    self.fmu.freeInstance()
            elif self.fmu is not None:
                with contextlib.suppress(Exception):
                    self.fmu.freeLibrary()
        finally:
            self.fmu = None
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def provenance(self) -> dict[str, Any]:
        md = self.info.description
        return {"kind": "fmu", "file": str(self.info.path), "sha256": self.info.sha256,
                "guid": self.info.guid, "fmi_version": md.fmiVersion,
                "model_name": md.modelName, "generation_tool": md.generationTool or ""}


def convert(kind: str, value: Any) -> Any:
    """A Python value for an FMU setter of the given kind."""
    if kind == REAL:
        return float(value)
    if kind == INTEGER:
        return int(value)
    if kind == BOOLEAN:
        return bool(value)
    return str(value)
