"""The subsystem protocol: the master's narrow view of an FMU or a Python block.

Call order (times in seconds, float; only the master calls these)::

    sub = make_subsystem(...)          nothing loaded yet
    sub.bind(inputs, outputs, u, y)    which ports are exchanged; u and y are float64
                                       views owned by the coupled system, aligned
                                       with ``inputs`` / ``outputs``
    sub.setup(start, stop)             load, instantiate, apply parameters and start
                                       values, enter initialization mode
    sub.set_inputs() / get_outputs()   any number of times (initialization)
    sub.exit_initialization()
    loop:
        sub.set_inputs()               push u into the model
        sub.do_step(t, dt)             -> StepOutcome; raises on error
        sub.get_outputs()              pull outputs at t + dt into y
    sub.save_state() / restore_state(s) / free_state(s)    where capabilities allow
    sub.terminate()                    when the run completed
    sub.close()                        always; idempotent; frees the instance, removes
                                       temporary folders

Values of integer and boolean ports travel as float64 in u and y (booleans 0.0/1.0).
Errors raise :class:`~cosim.errors.SubsystemError` (FMI failures: FMICallError).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from ..variables import Interface


@dataclass(frozen=True)
class Capabilities:
    """What a subsystem can do, as far as the master algorithms care."""

    can_roll_back: bool = False
    can_vary_step: bool = True
    has_event_mode: bool = False
    may_return_early: bool = False
    fixed_step: float | None = None


class StepStatus(IntEnum):
    OK = 0
    DISCARD = 1
    EARLY_RETURN = 2
    TERMINATE = 3


@dataclass(frozen=True)
class StepOutcome:
    """The recoverable result of a step. ``reached`` is the time actually reached [s]."""

    status: StepStatus = StepStatus.OK
    reached: float | None = None
    event: bool = False
    next_event: float | None = None


STEP_OK = StepOutcome()


class Subsystem(ABC):
    """One node of the coupled system, as the master sees it."""

    kind = "subsystem"

    def __init__(self, name: str, interface: Interface):
        self.name = name
        self.interface = interface
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.u = np.zeros(0)
        self.y = np.zeros(0)

    capabilities = Capabilities()

    def bind(self, inputs: list[str], outputs: list[str], u: np.ndarray, y: np.ndarray
             ) -> None:
        """Fix the exchanged ports and the buffers they live in (views, not copies)."""
        if len(inputs) != len(u) or len(outputs) != len(y):
            raise ValueError(f"{self.name}: buffers do not match the ports")
        self.inputs, self.outputs, self.u, self.y = list(inputs), list(outputs), u, y

    @abstractmethod
    def setup(self, start: float, stop: float | None) -> None: ...

    @abstractmethod
    def set_inputs(self) -> None: ...

    @abstractmethod
    def get_outputs(self) -> None: ...

    def exit_initialization(self) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def do_step(self, t: float, dt: float) -> StepOutcome: ...

    def set_value(self, name: str, value: Any) -> None:
        """Set one variable (a tunable parameter or an unconnected input) now."""
        raise NotImplementedError(f"{self.name}: setting {name} is not supported")

    def save_state(self) -> Any:
        raise NotImplementedError(f"{self.name} cannot save its state")

    def restore_state(self, state: Any) -> None:
        raise NotImplementedError(f"{self.name} cannot restore its state")

    def free_state(self, state: Any) -> None:  # noqa: B027 - optional hook
        pass

    def terminate(self) -> None:  # noqa: B027 - optional hook
        pass

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def provenance(self) -> dict[str, Any]:
        """What to record about this subsystem's origin (hashes, GUIDs, classes)."""
        return {"kind": self.kind}
