"""A wrapper that records every call the master makes to a subsystem.

Used by tests (and curious users, ``cosim.run(..., trace=True)``) to assert the exact
sequence of set/step/get calls. Entries: ``("set", node, t, inputs)``,
``("step", node, t, dt)``, ``("get", node, t, outputs)``; values as tuples.
"""

from __future__ import annotations

from typing import Any

from .base import StepOutcome, Subsystem


class TracingSubsystem(Subsystem):
    def __init__(self, inner: Subsystem, trace: list):
        super().__init__(inner.name, inner.interface)
        self.inner, self.trace = inner, trace
        self.capabilities = inner.capabilities
        self.kind = inner.kind
        self.time = 0.0

    def bind(self, inputs, outputs, u, y) -> None:
        super().bind(inputs, outputs, u, y)
        self.inner.bind(inputs, outputs, u, y)

    def setup(self, start: float, stop: float | None) -> None:
        self.time = start
        self.inner.setup(start, stop)

    def set_inputs(self) -> None:
        self.trace.append(("set", self.name, self.time, tuple(self.u.tolist())))
        self.inner.set_inputs()

    def get_outputs(self) -> None:
        self.inner.get_outputs()
        self.trace.append(("get", self.name, self.time, tuple(self.y.tolist())))

    def do_step(self, t: float, dt: float) -> StepOutcome:
        self.trace.append(("step", self.name, t, dt))
        outcome = self.inner.do_step(t, dt)
        self.time = outcome.reached if outcome.reached is not None else t + dt
        return outcome

    @property
    def event_mode(self) -> bool:
        return getattr(self.inner, "event_mode", False)

    @event_mode.setter
    def event_mode(self, value: bool) -> None:
        self.inner.event_mode = value

    @property
    def events_used(self) -> bool:
        return getattr(self.inner, "events_used", False)

    def handle_event(self, **kwargs):
        self.trace.append(("event", self.name, self.time))
        return self.inner.handle_event(**kwargs)

    def exit_initialization(self) -> None:
        self.inner.exit_initialization()

    def set_value(self, name: str, value: Any) -> None:
        self.inner.set_value(name, value)

    def save_state(self) -> Any:
        return self.inner.save_state()

    def restore_state(self, state: Any) -> None:
        self.inner.restore_state(state)

    def free_state(self, state: Any) -> None:
        self.inner.free_state(state)

    def terminate(self) -> None:
        self.inner.terminate()

    def close(self) -> None:
        self.inner.close()

    def provenance(self) -> dict[str, Any]:
        return self.inner.provenance()
