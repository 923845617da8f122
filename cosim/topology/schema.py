"""The topology file format, as pydantic models (unknown keys are rejected).

A topology file::

    name: two_mass
    run: {start: 0, stop: 10, step: 0.001, algorithm: gauss-seidel, record: all}
    nodes:
      osc1:   {fmu: ../fmus/build/fmi2/Oscillator.fmu, parameters: {k: 1.0}}
      ctrl:   {block: pid, parameters: {kp: 2.0}}
    connections:
      - osc1.x -> spring.x1                         # shorthand
      - {from: spring.F, to: osc2.F, gain: -1.0}    # with gain and offset

Times are in seconds. ``step`` on a node is reserved for multirate masters.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import algorithms

ALGORITHMS = algorithms.names()
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_ARROW = re.compile(r"^\s*(\S+)\s*->\s*(\S+)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


EXTRAPOLATIONS = ("hold", "linear", "quadratic")


class LoopSpec(_Strict):
    """How algebraic loops are solved at every communication point (and initialization).

    Fixed-point iteration with ``relaxation`` first (cheap), then Newton (scipy's
    ``root``, Jacobian by finite differences on rollback). Converged when every loop
    input changes by at most ``tolerance * (1 + |value|)``.
    """

    method: Literal["newton", "fixed-point"] = "newton"
    tolerance: float = Field(1e-10, gt=0)
    max_iterations: int = Field(100, ge=1)
    relaxation: float = Field(1.0, gt=0, le=1)


class AdaptiveSpec(_Strict):
    """Error-controlled macro steps (step doubling); needs every node to roll back.

    A step is accepted when ``max |y_half - y_full| / (atol + rtol * |y_half|) <= 1`` over
    all exchanged real outputs. Steps in seconds.
    """

    rtol: float = Field(1e-4, gt=0)
    atol: float = Field(1e-6, gt=0)
    min_step: float = Field(1e-6, gt=0)
    max_step: float | None = Field(None, gt=0)
    initial_step: float | None = Field(None, gt=0)
    safety: float = Field(0.9, gt=0, le=1)


class RunSpec(_Strict):
    """Run settings. ``record``: ``"all"`` outputs, or glob patterns like ``rack*.T_cpu``.

    ``extrapolation`` (default for every connection): the value an input holds over a
    step is the source's last value (``hold``), or its linear / quadratic polynomial
    through the latest communication points evaluated at the step's midpoint.
    ``event_tolerance`` [s]: how closely state events (monitors) are located.
    ``display_units``: signal glob -> unit that plots, reports and listings show it in
    (``{"rack*.T_cpu": degC}``); stored values keep their own unit.
    """

    start: float = 0.0
    stop: float = 1.0
    step: float = 0.01
    algorithm: str = algorithms.DEFAULT
    record: Literal["all"] | list[str] = "all"
    order: list[str] | None = None
    allow_nonfinite: bool = False
    extrapolation: Literal["hold", "linear", "quadratic"] = "hold"
    loops: LoopSpec = Field(default_factory=LoopSpec)
    adaptive: AdaptiveSpec | None = None
    event_tolerance: float = Field(1e-9, gt=0)
    max_event_iterations: int = Field(50, ge=1)
    display_units: dict[str, str] = Field(default_factory=dict)

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        return check_algorithm(value)

    @model_validator(mode="after")
    def _times(self) -> RunSpec:
        if not self.step > 0:
            raise ValueError(f"step must be > 0 s, got {self.step}")
        if not self.stop > self.start:
            raise ValueError(f"stop ({self.stop} s) must be after start ({self.start} s)")
        return self


class NodeSpec(_Strict):
    """One subsystem: exactly one of ``fmu`` (a path relative to the file), ``block`` or
    ``surrogate`` (a ``.surrogate`` artifact, see :mod:`cosim.surrogates.block`)."""

    fmu: str | None = None
    block: str | None = None
    surrogate: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    start: dict[str, float | int | bool | str] = Field(default_factory=dict)
    step: float | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> NodeSpec:
        if sum(x is not None for x in (self.fmu, self.block, self.surrogate)) != 1:
            raise ValueError("a node needs exactly one of 'fmu' (a path), 'block' "
                             "(a built-in name or module:Class) or 'surrogate' (a "
                             ".surrogate file)")
        if self.step is not None and not self.step > 0:
            raise ValueError(f"step must be > 0 s, got {self.step}")
        return self


class ConnectionSpec(_Strict):
    """``to = gain * from + offset``. ``delayed`` breaks an algebraic loop by one step."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    gain: float = 1.0
    offset: float = 0.0
    delayed: bool = False
    check_units: bool = True
    extrapolation: Literal["hold", "linear", "quadratic"] | None = None

    @field_validator("source", "target")
    @classmethod
    def _port(cls, value: str) -> str:
        if "." not in value:
            raise ValueError(f"{value!r} is not of the form node.variable")
        return value


class EventSpec(_Strict):
    """A scheduled event: at ``at`` [s] set ``set`` (``node.variable``: a tunable
    parameter or an input that no connection drives) to ``value``; with ``until`` [s],
    ramp it linearly from its value at ``at`` to ``value`` at ``until``."""

    at: float
    set: str
    value: float | int | bool
    until: float | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _ramp(self) -> EventSpec:
        if "." not in self.set:
            raise ValueError(f"set: {self.set!r} is not of the form node.variable")
        if self.until is not None and not self.until > self.at:
            raise ValueError(f"until ({self.until} s) must be after at ({self.at} s)")
        return self


class MonitorSpec(_Strict):
    """A state event: ``when`` is ``node.variable OP value`` with OP one of
    ``> >= < <=``. When the condition becomes true (false -> true) between two
    communication points, the master rolls back and locates the crossing within
    ``run.event_tolerance``, then applies ``action``: ``log`` (record it), ``stop``
    (end the run there) or ``set`` (``set: node.variable`` to ``value``)."""

    when: str
    name: str | None = None
    action: Literal["log", "stop", "set"] = "log"
    set: str | None = None
    value: float | int | bool | None = None

    @model_validator(mode="after")
    def _action(self) -> MonitorSpec:
        parse_condition(self.when)
        if self.action == "set" and (self.set is None or self.value is None):
            raise ValueError("action 'set' needs 'set: node.variable' and 'value'")
        return self


_CONDITION = re.compile(r"^\s*([A-Za-z_][\w\-]*\.\S+)\s*(>=|<=|>|<)\s*(\S+)\s*$")


def parse_condition(text: str) -> tuple[str, str, float]:
    """``"rack1.T_cpu > 358.15"`` -> ``("rack1.T_cpu", ">", 358.15)``."""
    m = _CONDITION.match(text)
    if not m:
        raise ValueError(f"condition {text!r} is not of the form 'node.variable > value' "
                         "(operators: > >= < <=)")
    try:
        threshold = float(m.group(3))
    except ValueError:
        raise ValueError(f"condition {text!r}: {m.group(3)!r} is not a number") from None
    return m.group(1), m.group(2), threshold


class TopologySpec(_Strict):
    """A topology file. ``parameters_from``: parameter files (relative to this file)
    applied in order, a later one overriding an earlier; a node's own ``parameters:``
    override them all (see :mod:`cosim.topology.parameters`)."""

    name: str | None = None
    description: str = ""
    run: RunSpec = Field(default_factory=RunSpec)
    parameters_from: list[str] = Field(default_factory=list)
    nodes: dict[str, NodeSpec]
    connections: list[ConnectionSpec] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)
    monitors: list[MonitorSpec] = Field(default_factory=list)
    #: node -> .surrogate file: the FMU node becomes a surrogate node (its FMU the fallback)
    replace: dict[str, str] = Field(default_factory=dict)

    @field_validator("connections", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            return value
        return [parse_arrow(c) if isinstance(c, str) else c for c in value]

    @field_validator("nodes")
    @classmethod
    def _names(cls, nodes: dict[str, NodeSpec]) -> dict[str, NodeSpec]:
        for name in nodes:
            if not NODE_NAME.match(name):
                raise ValueError(f"node name {name!r} must start with a letter or _ and hold "
                                 "only letters, digits, _ and - (no dots)")
        return nodes


def check_algorithm(name: str) -> str:
    """``name`` if it is a registered master algorithm (:mod:`cosim.algorithms`)."""
    if name not in algorithms.ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose one of "
                         f"{', '.join(algorithms.names())}")
    return name


def parse_arrow(text: str) -> dict[str, str]:
    """``"a.y -> b.u"`` as ``{"from": "a.y", "to": "b.u"}``."""
    m = _ARROW.match(text)
    if not m:
        raise ValueError(f"connection {text!r} is not of the form 'node.output -> node.input'")
    return {"from": m.group(1), "to": m.group(2)}


def split_port(port: str) -> tuple[str, str]:
    """``"rack1.T_out"`` -> ``("rack1", "T_out")``; the variable may hold dots."""
    node, _, var = port.partition(".")
    return node, var
