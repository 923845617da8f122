"""The subsystem protocol: the master's narrow view of an FMU or a Python block.

Call order (only the execution and the masters call these)::

    sub = make_subsystem(...)          nothing loaded yet
    sub.bind(inputs, outputs, u, y, objects_in, objects_out)
                                       which ports are exchanged; u and y are float64
                                       views owned by the coupled system holding the
                                       ``inputs`` / ``outputs`` (numbers; arrays take
                                       one slot per element, row-major; ``outputs`` also
                                       holds variables read only to be recorded); object
                                       ports (strings, binaries, 64-bit integers) live in
                                       the dicts ``obj_in`` / ``obj_out``
    sub.instantiate()                  load and instantiate (once per Simulation)
    per run:
        sub.configure(parameters, start)   values applied at the next initialize
        sub.initialize(start, stop)        apply values, enter initialization mode
        sub.set_inputs() / get_outputs()   any number of times (initialization)
        sub.exit_initialization()          -> EventOutcome (FMI 3 event mode: the
                                           initial event iteration's next time event)
        sub.get_outputs()                  outputs as initialization left them
        loop:
            sub.set_inputs()               push u into the model
            sub.step(now, limit)           [ticks] -> StepOutcome; raises on error
            sub.get_outputs()              pull outputs at the reached time into y
            sub.handle_event()             -> EventOutcome, when the node is in event
                                           mode and an event is due (time event, flagged)
        sub.save_state() / restore_state(s) / free_state(s)    where capabilities allow
        sub.terminate()                    when the run ended (completed or terminated)
        sub.reset()                        back to the instantiated state (next run)
    sub.close()                        always; idempotent; frees the instance

Times: ``step`` takes integer ticks (:mod:`cosim.clock`); the adapter passes
``t = to_seconds(now)`` and ``dt = to_seconds(limit) - t`` to the model, the only float
arithmetic on time. Values of integer and boolean ports travel as float64 in u and y
(booleans 0.0/1.0). Errors raise :class:`~cosim.errors.SubsystemError` (FMI failures:
FMICallError); recoverable results are :class:`~cosim.protocol.StepOutcome` values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..errors import SubsystemError
from ..protocol import (
    STEP_OK,
    Capabilities,
    EventOutcome,
    NativeForm,
    NotNative,
    StepOutcome,
    StepStatus,
)
from ..variables import Interface

__all__ = ["STEP_OK", "Capabilities", "EventOutcome", "StepOutcome", "StepStatus",
           "Subsystem"]

NO_EVENT = EventOutcome()


class Subsystem(ABC):
    """One node of the coupled system, as the master sees it."""

    kind = "subsystem"
    capabilities = Capabilities()

    def __init__(self, name: str, interface: Interface):
        self.name = name
        self.interface = interface
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.u = np.zeros(0)
        self.y = np.zeros(0)
        self.input_slots: dict[str, range] = {}
        self.output_slots: dict[str, range] = {}
        self.obj_in: dict[str, Any] = {}
        self.obj_out: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}
        self.start_values: dict[str, Any] = {}
        self.time = 0.0  # [s], for messages: where the node is

    def bind(self, inputs: list[str], outputs: list[str], u: np.ndarray, y: np.ndarray,
             objects_in: list[str] = (), objects_out: list[str] = ()) -> None:
        """Fix the exchanged ports and the buffers they live in (views, not copies)."""
        self.input_slots, self.output_slots = self.slots(inputs), self.slots(outputs)
        if sum(map(len, self.input_slots.values())) != len(u) or \
                sum(map(len, self.output_slots.values())) != len(y):
            raise SubsystemError("buffers do not match the ports", node=self.name)
        self.inputs, self.outputs, self.u, self.y = list(inputs), list(outputs), u, y
        start = {v.name: v.start for v in self.interface.variables.values()}
        self.obj_in = {name: start.get(name) for name in objects_in}
        self.obj_out = {name: start.get(name) for name in objects_out}

    def slots(self, names: list[str]) -> dict[str, range]:
        """Each variable's slots in a buffer holding ``names`` one after another."""
        out, k = {}, 0
        for name in names:
            size = self.interface[name].size
            out[name] = range(k, k + size)
            k += size
        return out

    def configure(self, parameters: dict[str, Any], start: dict[str, Any]) -> None:
        """The parameter and start values the next :meth:`initialize` applies."""
        self.parameters, self.start_values = dict(parameters), dict(start)

    # -- life cycle ---------------------------------------------------------------------

    def instantiate(self) -> None:  # noqa: B027 - optional hook
        """Load and instantiate (once); nothing to do for pure-Python nodes."""

    @abstractmethod
    def initialize(self, start: float, stop: float | None) -> None:
        """Apply the configured values and enter initialization at ``start`` [s]."""

    def exit_initialization(self) -> EventOutcome:
        return NO_EVENT

    def terminate(self) -> None:  # noqa: B027 - optional hook
        pass

    def reset(self) -> None:  # noqa: B027 - optional hook
        """Back to the just-instantiated state, for another run."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    # -- the hot path -------------------------------------------------------------------

    @abstractmethod
    def set_inputs(self) -> None: ...

    @abstractmethod
    def get_outputs(self) -> None: ...

    @abstractmethod
    def step(self, now: int, limit: int) -> StepOutcome: ...

    def refresh_outputs(self) -> None:
        """Outputs for the inputs just set, without a step (only where
        ``capabilities.feedthrough_in_step_mode``): FMI 2 allows get after set."""
        self.get_outputs()

    # -- events, values, state ------------------------------------------------------------

    def handle_event(self) -> EventOutcome:
        """Run the event iteration at the current time (nodes with event mode)."""
        return NO_EVENT

    def set_value(self, name: str, value: Any) -> None:
        """Set one variable (a tunable parameter or an unconnected input) now."""
        raise SubsystemError("setting a variable during a run is not supported",
                             node=self.name, variable=name)

    def save_state(self) -> Any:
        raise SubsystemError("cannot save its state", node=self.name)

    def restore_state(self, state: Any) -> None:
        raise SubsystemError("cannot restore its state", node=self.name)

    def free_state(self, state: Any) -> None:  # noqa: B027 - optional hook
        pass

    def native_form(self) -> NativeForm:
        """The compiled loop's form of this node; raises :class:`NotNative` saying why
        there is none (the node then runs in Python, and so does the loop)."""
        raise NotNative(f"node {self.name}: {self.kind} nodes have no compiled form")

    def native_key(self) -> object | None:
        """A value that changes whenever :meth:`native_form` would change (None: it may
        change at any time, ask again before every run)."""
        return None

    def provenance(self) -> dict[str, Any]:
        """What to record about this subsystem's origin (hashes, GUIDs, classes)."""
        return {"kind": self.kind}
