"""The ``constant`` block: one output holding a fixed value."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import ConfigError
from .base import Block, NativeBlock, Param, Port


def finite_float(block: Block, name: str, value: object, *, allow_none: bool = False
                 ) -> float | None:
    """``value`` as a finite float, or a :class:`ConfigError` naming the block and parameter."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{type(block).__name__}: parameter {name!r} must be a number, "
                          f"got {value!r}", field=name)
    if not math.isfinite(value):
        raise ConfigError(f"{type(block).__name__}: parameter {name!r} must be finite, "
                          f"got {value!r}", field=name)
    return float(value)


def optional_unit(block: Block, name: str, value: object) -> str | None:
    """``value`` as a unit string (or None), else a :class:`ConfigError`."""
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"{type(block).__name__}: parameter {name!r} must be a unit string "
                      f"such as 'K' or 'W', got {value!r}", field=name)


class Constant(Block):
    """A constant source: ``y(t) = value`` for all t.

    Parameters: ``value`` (float, default 0, in ``unit``), ``unit`` (str or None).
    Outputs: ``y`` [``unit``]. No inputs, no state.
    """

    parameters = {
        "value": Param(0.0, description="the output value, in `unit`"),
        "unit": Param(None, description="unit of the output y"),
    }
    outputs = {"y": Port(description="the constant value")}
    feedthrough = {"y": []}

    def __init__(self, **params):
        super().__init__(**params)
        self.value = finite_float(self, "value", self.value)
        self.unit = optional_unit(self, "unit", self.unit)

    def port_declarations(self):
        return {}, {"y": Port(unit=self.unit, start=self.value,
                              description="the constant value")}

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> dict[str, float]:
        return {"y": self.value}

    def native(self) -> NativeBlock:
        self.require_native(Constant)
        return NativeBlock("constant", [float(self.value)], [], ["y"])

    def save_state(self) -> None:
        return None

    def restore_state(self, state: object) -> None:
        pass
