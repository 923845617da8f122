"""The ``pid`` block: a discrete PID controller sampled at the co-simulation step.

The law, for a step from ``t`` to ``t + dt`` with the inputs held at their values at
``t`` (so the error ``e`` is constant over the step)::

    e      = setpoint - measurement           (direction "direct", e.g. heating)
    e      = measurement - setpoint           (direction "reverse", e.g. cooling)
    d_new  = (Tf * d + (e - e_prev)) / (Tf + dt)    derivative of e, filtered by a
                                                    first-order lag of time constant
                                                    Tf = derivative_filter (backward
                                                    Euler); Tf = 0: (e - e_prev) / dt
    I_try  = I + e * dt                              integral of e [error * s]
    u_try  = kp * e + ki * I_try + kd * d_new
    I_new  = I      if (u_try > u_max and e > 0) or (u_try < u_min and e < 0)
             I_try  otherwise                        (conditional integration)
    u      = clip(kp * e + ki * I_new + kd * d_new, u_min, u_max)   output at t + dt

``e_prev`` is the error of the previous step (or of :meth:`PID.initialize`); the
first step after :meth:`PID.reset` without ``initialize`` has no derivative term.

Anti-windup by conditional integration: the integral is frozen while the output would
be saturated *and* integrating would push it further into saturation; it keeps
integrating when the error drives the output back inside the limits. So the integral
never grows without bound against a limit, and the controller leaves saturation as
soon as the error changes sign, without overshoot from a wound-up integral.

Because the controller is discrete, its behaviour depends on the master's step size;
choose ``dt`` well below the closed-loop time constants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import ConfigError
from ..protocol import NotNative
from .base import Block, NativeBlock, Param, Port
from .constant import finite_float, optional_unit

DIRECTIONS = ("direct", "reverse")


class PID(Block):
    """Discrete PID controller with output limits and conditional-integration anti-windup.

    Inputs: ``measurement`` and ``setpoint`` [``unit``]. Output: ``u`` [``output_unit``],
    which depends directly on both inputs (``kp`` and ``kd`` act within the instant).

    Parameters
    ----------
    kp : float >= 0
        Proportional gain [output_unit / unit].
    ki : float >= 0
        Integral gain [output_unit / (unit * s)], i.e. 1/s for a dimensionless loop.
    kd : float >= 0
        Derivative gain [output_unit * s / unit], i.e. s for a dimensionless loop.
    u_min, u_max : float or None
        Output limits (None: unbounded). ``u_min < u_max``.
    direction : ``"direct"`` | ``"reverse"``
        ``direct``: e = setpoint - measurement (u up raises the measurement, heating);
        ``reverse``: e = measurement - setpoint (u up lowers it, cooling).
    derivative_filter : float >= 0
        Time constant [s] of the first-order filter on the derivative (0: none).
    unit, output_unit : str or None
        Units of the measurement and setpoint, and of ``u``.

    Invariants: ``u_min <= u <= u_max`` at all times; the integral changes only when
    the output is not pushed further into a limit.
    """

    parameters = {
        "kp": Param(1.0, description="proportional gain"),
        "ki": Param(0.0, unit="1/s", description="integral gain"),
        "kd": Param(0.0, unit="s", description="derivative gain"),
        "u_min": Param(None, description="lower output limit (None: unbounded)"),
        "u_max": Param(None, description="upper output limit (None: unbounded)"),
        "direction": Param("direct", description="direct | reverse"),
        "derivative_filter": Param(0.0, unit="s", description="derivative filter time constant"),
        "unit": Param(None, description="unit of measurement and setpoint"),
        "output_unit": Param(None, description="unit of the output u"),
    }
    feedthrough = {"u": ["measurement", "setpoint"]}

    def __init__(self, **params):
        super().__init__(**params)
        for name in ("kp", "ki", "kd", "derivative_filter"):
            value = finite_float(self, name, getattr(self, name))
            if value < 0:
                raise ConfigError(f"PID: parameter {name!r} must be >= 0, got {value!r} "
                                  f"(use direction: reverse to invert the action)", field=name)
            setattr(self, name, value)
        self._lo = self._limit("u_min", -math.inf)
        self._hi = self._limit("u_max", math.inf)
        self.u_min = None if self.u_min is None else self._lo
        self.u_max = None if self.u_max is None else self._hi
        if not self._lo < self._hi:
            raise ConfigError(f"PID: parameter 'u_min' ({self.u_min!r}) must be below "
                              f"'u_max' ({self.u_max!r})", field="u_min")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"PID: parameter 'direction' must be one of "
                              f"{', '.join(DIRECTIONS)}; got {self.direction!r}",
                              field="direction")
        self.unit = optional_unit(self, "unit", self.unit)
        self.output_unit = optional_unit(self, "output_unit", self.output_unit)
        self.reset(0.0)

    def _limit(self, name: str, default: float) -> float:
        value = getattr(self, name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ConfigError(f"PID: parameter {name!r} must be a number or null, "
                              f"got {value!r}", field=name)
        return float(value)

    def port_declarations(self):
        ins = {"measurement": Port(unit=self.unit, description="measured value"),
               "setpoint": Port(unit=self.unit, description="desired value")}
        start = min(max(0.0, self._lo), self._hi)
        outs = {"u": Port(unit=self.output_unit, start=start, description="control output")}
        return ins, outs

    # -- behaviour ---------------------------------------------------------------------

    def reset(self, t0: float) -> None:
        self._integral = 0.0
        self._derivative = 0.0
        self._e_prev: float | None = None

    def error(self, inputs: Mapping[str, float]) -> float:
        """The control error for these inputs, signed by ``direction``."""
        e = float(inputs["setpoint"]) - float(inputs["measurement"])
        return -e if self.direction == "reverse" else e

    def _clip(self, u: float) -> float:
        return min(max(u, self._lo), self._hi)

    def initialize(self, t: float, inputs: Mapping[str, float]) -> dict[str, float]:
        """Output at ``t``: P (+ I, D from the state, zero after reset), clipped."""
        e = self.error(inputs)
        self._e_prev = e
        return {"u": self._clip(self.kp * e + self.ki * self._integral
                                + self.kd * self._derivative)}

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> dict[str, float]:
        e = self.error(inputs)
        if dt == 0:
            return {"u": self._clip(self.kp * e + self.ki * self._integral
                                    + self.kd * self._derivative)}
        if self._e_prev is None:
            d = 0.0
        else:
            tf = self.derivative_filter
            d = (tf * self._derivative + (e - self._e_prev)) / (tf + dt)
        integral = self._integral + e * dt
        u_try = self.kp * e + self.ki * integral + self.kd * d
        if (u_try > self._hi and e > 0) or (u_try < self._lo and e < 0):
            integral = self._integral  # conditional integration: do not wind up
        self._integral, self._derivative, self._e_prev = integral, d, e
        return {"u": self._clip(self.kp * e + self.ki * integral + self.kd * d)}

    # -- the compiled loop -----------------------------------------------------------------

    NATIVE_METHODS = ("step", "error", "_clip")

    def native(self) -> NativeBlock:
        """par = kp ki kd tf lo hi reverse; state = integral derivative e_prev has_prev."""
        self.require_native(PID)
        if self.direction not in ("direct", "reverse"):
            raise NotNative(f"PID direction {self.direction!r}")
        e_prev = self._e_prev
        state = [self._integral, self._derivative, 0.0 if e_prev is None else e_prev,
                 0.0 if e_prev is None else 1.0]

        def write_back(s) -> None:
            self._integral, self._derivative = float(s[0]), float(s[1])
            self._e_prev = None if s[3] == 0.0 else float(s[2])

        par = [self.kp, self.ki, self.kd, self.derivative_filter, self._lo, self._hi,
               1.0 if self.direction == "reverse" else 0.0]
        return NativeBlock("pid", [float(p) for p in par], ["measurement", "setpoint"], ["u"],
                           state=[float(v) for v in state], write_back=write_back)

    # -- state ---------------------------------------------------------------------------

    @property
    def integral(self) -> float:
        """The integral of the error so far [error unit * s]."""
        return self._integral

    def save_state(self) -> tuple[float, float, float | None]:
        return (self._integral, self._derivative, self._e_prev)

    def restore_state(self, state: tuple[float, float, float | None]) -> None:
        self._integral, self._derivative, self._e_prev = state
