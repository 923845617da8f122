"""The original model, stepped for the steps a surrogate may not answer.

``on_extrapolation: fallback`` steps the FMU the surrogate replaces whenever the inputs
leave the training envelope. The FMU has its own state (200 thermal nodes for
``RackDetailed``) that no surrogate output determines, so it is kept *lazily in step*:
every step's inputs are remembered, and when the FMU is needed it first replays the
steps since it was last stepped (from the run's start the first time), then takes the
step that left the envelope. Its state is then exactly what the original model would
have with the same input history, and the surrogate continues from the FMU's outputs.
The replay costs the FMU's own step time for every step since the last fallback, paid
only when the envelope is left.

The FMU is driven through cosim's own adapters (:mod:`cosim.subsystems`), extracted
once per process like any node's, with the parameters the surrogate was trained with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..clock import to_ticks
from ..errors import ConfigError
from ..fmu import description


class FmuFallback:
    """One instance of the original FMU, driven step by step on demand."""

    def __init__(self, path: Path, node: str, inputs: list[str], outputs: list[str],
                 parameters: dict[str, Any], source: dict[str, Any]):
        self.info = description.read(path)
        _check_same_model(self.info, path, inputs, outputs, source)
        from ..subsystems.fmi2 import FMI2Subsystem
        from ..subsystems.fmi3 import FMI3Subsystem
        cls = FMI2Subsystem if self.info.fmi_major == 2 else FMI3Subsystem
        self.sub = cls(f"{node} (fallback)", self.info)
        self.u, self.y = np.zeros(len(inputs)), np.zeros(len(outputs))
        self.sub.bind(list(inputs), list(outputs), self.u, self.y)
        self.parameters = dict(parameters)
        self.pending: list[tuple[float, float, np.ndarray]] = []
        self.started = False
        self.steps = 0  # FMU steps taken (replayed ones included)

    def start(self, t0: float) -> None:
        """Back to the initial state at ``t0`` [s] (instantiated on first use)."""
        if not self.sub.instantiated:
            self.sub.instantiate()
        elif self.started:
            self.sub.reset()
        self.sub.configure(self.parameters, {})
        self.sub.initialize(t0, None)
        self.sub.get_outputs()
        self.sub.exit_initialization()
        self.sub.get_outputs()
        self.pending.clear()
        self.started = True

    def remember(self, t: float, dt: float, u: np.ndarray) -> None:
        """A step the surrogate took: replayed before the FMU's next step."""
        self.pending.append((t, dt, np.array(u, dtype=np.float64)))

    def step(self, t: float, dt: float, u: np.ndarray) -> np.ndarray:
        """Catch up on the remembered steps, take this one; the outputs at ``t + dt``."""
        for args in self.pending:
            self._one(*args)
        self.pending.clear()
        self._one(t, dt, np.asarray(u, dtype=np.float64))
        return self.y.copy()

    def _one(self, t: float, dt: float, u: np.ndarray) -> None:
        self.u[:] = u
        self.sub.set_inputs()
        self.sub.step(to_ticks(t), to_ticks(t + dt))
        self.sub.get_outputs()
        self.steps += 1

    def save(self) -> Any:
        state = self.sub.save_state() if self.started and self.sub.capabilities.can_roll_back \
            else None
        return (state, list(self.pending), self.steps)

    def restore(self, saved: Any) -> None:
        state, pending, self.steps = saved
        if state is not None:
            self.sub.restore_state(state)
        self.pending = list(pending)

    def close(self) -> None:
        if self.sub.instantiated:
            self.sub.close()


def check_fallback(path: Path, art) -> None:
    """Refuse a fallback FMU that is not the model ``art`` was trained on (GUID, model
    name) or lacks its ports in their units (ConfigError saying which)."""
    info = description.read(path)
    _check_same_model(info, path, art.input_names, art.output_names,
                      art.info.get("source", {}))
    for port in [*art.inputs, *art.outputs]:
        var = info.interface.get(port.name)
        if port.unit and var.unit and var.unit != port.unit:
            raise ConfigError(f"fallback {path.name}: {port.name} is in {var.unit!r}, the "
                              f"surrogate's in {port.unit!r}", field="fallback")


def _check_same_model(info, path: Path, inputs: list[str], outputs: list[str],
                      source: dict[str, Any]) -> None:
    """The fallback FMU must be the model the surrogate was trained on, with its ports."""
    model = info.description.modelName
    if source.get("guid") and source["guid"] != info.guid:
        raise ConfigError(f"fallback {path.name} is not the model the surrogate was trained "
                          f"on: its GUID {info.guid} differs from the recorded "
                          f"{source['guid']} ({source.get('fmu')}, model "
                          f"{source.get('model')})", field="fallback")
    if source.get("model") and source["model"] != model:
        raise ConfigError(f"fallback {path.name} is model {model}, the surrogate was trained "
                          f"on {source['model']}", field="fallback")
    iface = info.interface
    missing = [n for n in [*inputs, *outputs] if n not in iface.variables]
    if missing:
        raise ConfigError(f"fallback {path.name} has no variable {', '.join(missing)}",
                          field="fallback")
