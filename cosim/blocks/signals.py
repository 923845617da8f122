"""Source signals of time: ``step`` and ``ramp``.

Times are compared on the master's 1 ns clock grid (:mod:`cosim.clock`), so a step at
``time = 0.8`` is reached at the communication point 0.8 s even when ``t + dt`` is
computed as ``0.7999999999999999`` in floating point.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..clock import to_ticks
from ..errors import ConfigError
from .base import Block, NativeBlock, Param, Port
from .constant import finite_float, optional_unit

TICK_LIMIT = 2 ** 62  # tick parameters beyond this are clamped for the kernel (never reached)


def _ticks(value: int) -> int:
    return max(-TICK_LIMIT, min(TICK_LIMIT, int(value)))


class Step(Block):
    """A step: ``y(t) = before`` for ``t < time``, ``after`` for ``t >= time``.

    At exactly ``t == time`` the output is ``after`` (right-continuous), with times
    compared to the nearest nanosecond.

    Parameters: ``time`` [s] (default 0), ``before`` (default 0), ``after`` (default 1),
    ``unit`` (unit of ``y``, default none). Output: ``y``. No inputs, no state.
    """

    parameters = {
        "time": Param(0.0, unit="s", description="time of the step"),
        "before": Param(0.0, description="value before the step"),
        "after": Param(1.0, description="value from the step on"),
        "unit": Param(None, description="unit of the output y"),
    }
    outputs = {"y": Port(description="the step signal")}
    feedthrough = {"y": []}

    def __init__(self, **params):
        super().__init__(**params)
        for name in ("time", "before", "after"):
            setattr(self, name, finite_float(self, name, getattr(self, name)))
        self.unit = optional_unit(self, "unit", self.unit)
        self._time_ticks = to_ticks(self.time)

    def port_declarations(self):
        return {}, {"y": Port(unit=self.unit, start=self.before,
                              description="the step signal")}

    def value_at(self, t: float) -> float:
        """``y(t)``."""
        return self.after if to_ticks(t) >= self._time_ticks else self.before

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> dict[str, float]:
        return {"y": self.value_at(t + dt)}

    def save_state(self) -> None:
        return None

    def restore_state(self, state: object) -> None:
        pass

    NATIVE_METHODS = ("step", "initialize", "value_at")

    def native(self) -> NativeBlock:
        self.require_native(Step)
        return NativeBlock("step", [float(self.before), float(self.after)], [], ["y"],
                           ipar=[_ticks(self._time_ticks)])


class Ramp(Block):
    """A ramp from ``offset`` to ``offset + height`` over ``[start_time, start_time + duration]``.

    ``y(t) = offset`` for ``t <= start_time``,
    ``offset + height * (t - start_time) / duration`` during the ramp, and
    ``offset + height`` for ``t >= start_time + duration``. With ``duration == 0`` the
    ramp is a step of ``height`` at ``start_time`` (``y = offset + height`` at
    ``t == start_time``).

    Parameters: ``start_time`` [s] (default 0), ``duration`` [s] (>= 0, default 1),
    ``height`` (default 1), ``offset`` (default 0), ``unit`` (unit of ``y``).
    Output: ``y``. No inputs, no state. ``y`` is continuous and monotonic in t.
    """

    parameters = {
        "start_time": Param(0.0, unit="s", description="time the ramp starts"),
        "duration": Param(1.0, unit="s", description="length of the ramp (>= 0)"),
        "height": Param(1.0, description="total change of y over the ramp"),
        "offset": Param(0.0, description="value before the ramp"),
        "unit": Param(None, description="unit of the output y"),
    }
    outputs = {"y": Port(description="the ramp signal")}
    feedthrough = {"y": []}

    def __init__(self, **params):
        super().__init__(**params)
        for name in ("start_time", "duration", "height", "offset"):
            setattr(self, name, finite_float(self, name, getattr(self, name)))
        if self.duration < 0:
            raise ConfigError(f"Ramp: parameter 'duration' must be >= 0 s, got {self.duration!r}",
                              field="duration")
        self.unit = optional_unit(self, "unit", self.unit)
        self._start_ticks = to_ticks(self.start_time)
        self._end_ticks = to_ticks(self.start_time + self.duration)

    def port_declarations(self):
        return {}, {"y": Port(unit=self.unit, start=self.offset,
                              description="the ramp signal")}

    def value_at(self, t: float) -> float:
        """``y(t)``."""
        ticks = to_ticks(t)
        if ticks >= self._end_ticks:
            return self.offset + self.height
        if ticks <= self._start_ticks:
            return self.offset
        fraction = min(max((t - self.start_time) / self.duration, 0.0), 1.0)
        return self.offset + self.height * fraction

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> dict[str, float]:
        return {"y": self.value_at(t + dt)}

    def save_state(self) -> None:
        return None

    def restore_state(self, state: object) -> None:
        pass

    NATIVE_METHODS = ("step", "initialize", "value_at")

    def native(self) -> NativeBlock:
        self.require_native(Ramp)
        par = [self.start_time, self.duration, self.height, self.offset]
        return NativeBlock("ramp", [float(p) for p in par], [], ["y"],
                           ipar=[_ticks(self._start_ticks), _ticks(self._end_ticks)])
