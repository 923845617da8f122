"""A wrapper that records every call the master makes to a subsystem.

Used by tests (and curious users, ``cosim.run(..., trace=True)``) to assert the exact
sequence of set/step/get calls. Entries: ``("set", node, t, inputs)``,
``("step", node, t, dt)``, ``("get", node, t, outputs)``, ``("event", node, t)``; times
in seconds, values as tuples.
"""

from __future__ import annotations

from typing import Any

from ..clock import to_seconds
from .base import EventOutcome, StepOutcome, Subsystem


class TracingSubsystem(Subsystem):
    def __init__(self, inner: Subsystem, trace: list):
        super().__init__(inner.name, inner.interface)
        self.inner, self.trace = inner, trace
        self.capabilities = inner.capabilities
        self.kind = inner.kind

    def __getattr__(self, name: str) -> Any:
        # attributes the adapter has beyond the protocol (events_used, ...)
        if name in ("inner", "trace"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def bind(self, inputs, outputs, u, y, objects_in=(), objects_out=()) -> None:
        self.inner.bind(inputs, outputs, u, y, objects_in, objects_out)
        super().bind(inputs, outputs, u, y, objects_in, objects_out)
        self.obj_in, self.obj_out = self.inner.obj_in, self.inner.obj_out

    def configure(self, parameters, start) -> None:
        self.inner.configure(parameters, start)

    def instantiate(self) -> None:
        self.inner.instantiate()

    def initialize(self, start: float, stop: float | None) -> None:
        self.time = start
        self.inner.initialize(start, stop)

    def set_inputs(self) -> None:
        self.trace.append(("set", self.name, self.time, tuple(self.u.tolist())))
        self.inner.set_inputs()

    def get_outputs(self) -> None:
        self.inner.get_outputs()
        self.trace.append(("get", self.name, self.time, tuple(self.y.tolist())))

    def step(self, now: int, limit: int) -> StepOutcome:
        t = to_seconds(now)
        dt = to_seconds(limit) - t
        self.trace.append(("step", self.name, t, dt))
        outcome = self.inner.step(now, limit)
        self.time = outcome.reached if outcome.reached is not None else t + dt
        return outcome

    def handle_event(self, **kwargs) -> EventOutcome:
        self.trace.append(("event", self.name, self.time))
        return self.inner.handle_event(**kwargs)

    def refresh_outputs(self) -> None:
        self.inner.refresh_outputs()
        self.trace.append(("get", self.name, self.time, tuple(self.y.tolist())))

    def exit_initialization(self) -> EventOutcome:
        return self.inner.exit_initialization()

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

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()

    def native_form(self):
        from ..protocol import NotNative
        raise NotNative(f"node {self.name}: traced")

    def provenance(self) -> dict[str, Any]:
        return self.inner.provenance()
