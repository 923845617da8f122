"""Options of the master algorithms, as plain values (the topology schema's pydantic
specs are translated into these by the execution, so the masters never depend on the
configuration format)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LoopOptions:
    """How algebraic loops are solved: fixed-point iteration with ``relaxation`` first,
    then (``method == "newton"``) scipy's ``root``; converged when every loop input
    changes by at most ``tolerance * (1 + |value|)``."""

    method: str = "newton"
    tolerance: float = 1e-10
    max_iterations: int = 100
    relaxation: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AdaptiveOptions:
    """Error-controlled macro steps by step doubling; steps in seconds."""

    rtol: float = 1e-4
    atol: float = 1e-6
    min_step: float = 1e-6
    max_step: float | None = None
    initial_step: float | None = None
    safety: float = 0.9

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def options_from(spec: Any, cls: type) -> Any:
    """``cls`` filled from a spec object's attributes of the same names (None: None)."""
    if spec is None:
        return None
    return cls(**{name: getattr(spec, name) for name in cls.__dataclass_fields__})
