"""The topology file format, as pydantic models (unknown keys are rejected).

A topology file::

    name: two_mass
    run: {start: 0, stop: 10, step: 0.001, algorithm: gauss-seidel, record: all}
    nodes:
      osc1:   {fmu: ../fmus/build/fmi2/Oscillator.fmu, parameters: {k: 1.0}}
      ctrl:   {block: pid, parameters: {kp: 2.0}}
      ball:   {fmu: ../fmus/build/fmi2/Ball.fmu, interface: model-exchange, solver: cvode-bdf}
    clusters:                                       # model exchange, integrated together
      mechanics: {nodes: [mass1, mass2, spring], solver: cvode-bdf, rtol: 1.0e-8}
    connections:
      - osc1.x -> spring.x1                         # shorthand
      - {from: spring.F, to: osc2.F, gain: -1.0}    # with gain and offset

Times are in seconds. ``step`` on a node is reserved for multirate masters.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import algorithms
from ..integrators.base import SOLVERS

ALGORITHMS = algorithms.names()
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_ARROW = re.compile(r"^\s*(\S+)\s*->\s*(\S+)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: Times must fit int64 nanoseconds (about 292 years either side of zero).
MAX_SECONDS = 9.2e9


def _seconds(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite time in seconds, got {value}")
    if abs(value) >= MAX_SECONDS:
        raise ValueError(f"{value:g} s is beyond the time range of +-{MAX_SECONDS:.3g} s "
                         "(int64 nanoseconds, about 292 years)")
    return value


Seconds = Annotated[float, AfterValidator(_seconds)]
"""A time or duration in seconds: finite and representable in int64 nanoseconds."""

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
    min_step: Seconds = Field(1e-6, gt=0)
    max_step: Seconds | None = Field(None, gt=0)
    initial_step: Seconds | None = Field(None, gt=0)
    safety: float = Field(0.9, gt=0, le=1)


class PanelSpec(_Strict):
    """One panel of a run's plot (``run.plot``, drawn by ``cosim run --plot`` and ``cosim
    plot``): ``signals`` (names or globs) in their display units, titled ``title``, the y
    axis labelled ``label`` (default: the quantity of the unit, e.g. temperature) and the
    unit; ``lines``: horizontal reference lines, ``label: value`` with a number in the
    unit the panel shows, or ``label: node.variable`` naming a recorded signal, a
    parameter or a start value (in the unit of the panel's signals)."""

    title: str
    signals: list[str] = Field(min_length=1)
    label: str | None = None
    lines: dict[str, float | str] = Field(default_factory=dict)


class RunSpec(_Strict):
    """Run settings. ``record``: ``"all"`` outputs, or glob patterns like ``rack*.T_cpu``.

    ``extrapolation`` (default for every connection): the value an input holds over a
    step is the source's last value (``hold``), or its linear / quadratic polynomial
    through the latest communication points evaluated at the step's midpoint.
    ``event_tolerance`` [s]: how closely state events (monitors) are located.
    ``display_units``: signal glob -> unit that plots, reports and listings show it in
    (``{"rack*.T_cpu": degC}``); stored values keep their own unit. ``plot``: the panels
    of the run's plot (:class:`PanelSpec`); signals in none of them get a panel per unit.
    """

    start: Seconds = 0.0
    stop: Seconds = 1.0
    step: Seconds = 0.01
    algorithm: str = algorithms.DEFAULT
    record: Literal["all"] | list[str] = "all"
    order: list[str] | None = None
    allow_nonfinite: bool = False
    extrapolation: Literal["hold", "linear", "quadratic"] = "hold"
    loops: LoopSpec = Field(default_factory=LoopSpec)
    adaptive: AdaptiveSpec | None = None
    event_tolerance: Seconds = Field(1e-9, gt=0)
    max_event_iterations: int = Field(50, ge=1)
    display_units: dict[str, str] = Field(default_factory=dict)
    plot: list[PanelSpec] = Field(default_factory=list)

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


INTERFACES = ("co-simulation", "model-exchange")
SOLVER_KEYS = ("solver", "rtol", "atol", "max_step")


class _SolverKeys(_Strict):
    """How a model-exchange cluster is integrated (see ``docs/model-exchange.md``):
    ``solver`` one of cvode-bdf (default), cvode-adams, rk45, dop853; ``rtol``;
    ``atol`` (per state, times its nominal value; default rtol/100); ``max_step`` [s]."""

    solver: Literal[SOLVERS] | None = None  # type: ignore[valid-type]
    rtol: float | None = Field(None, gt=0)
    atol: float | None = Field(None, gt=0)
    max_step: float | None = Field(None, gt=0)

    def solver_options(self) -> dict[str, Any]:
        """The solver keys that are set."""
        return {k: getattr(self, k) for k in SOLVER_KEYS if getattr(self, k) is not None}


class NodeSpec(_SolverKeys):
    """One subsystem: exactly one of ``fmu`` (a path relative to the file), ``block`` or
    ``surrogate`` (a ``.surrogate`` artifact, see :mod:`cosim.surrogates.block`).

    ``interface``: which FMI interface an FMU node uses; by default co-simulation when
    the FMU has it, else model exchange. A model-exchange node outside a cluster is
    integrated by cosim as a cluster of its own, with this node's solver keys."""

    fmu: str | None = None
    block: str | None = None
    surrogate: str | None = None
    interface: Literal["co-simulation", "model-exchange"] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    start: dict[str, float | int | bool | str] = Field(default_factory=dict)
    step: Seconds | None = None
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


class ClusterSpec(_SolverKeys):
    """Model-exchange FMU nodes (and Python blocks, as algebraic maps) integrated
    together as one state vector; their connections are solved at every evaluation of
    the right-hand side. To the master the cluster is one co-simulation node; ``step``
    [s] as for nodes (multirate)."""

    nodes: list[str] = Field(min_length=1)
    step: float | None = Field(None, gt=0)
    description: str = ""


class ConnectionSpec(_Strict):
    """``to = gain * from + offset``. ``delayed`` breaks an algebraic loop by one step.

    ``map`` (integer and boolean connections): a table ``{source value: target value}``
    applied to the value instead of gain and offset; values not in the table pass
    unchanged (SSP's Boolean/Integer/EnumerationMappingTransformation).
    """

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    gain: float = 1.0
    offset: float = 0.0
    delayed: bool = False
    check_units: bool = True
    extrapolation: Literal["hold", "linear", "quadratic"] | None = None
    mapping: dict[bool | int, bool | int] | None = Field(None, alias="map")

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

    at: Seconds
    set: str
    value: float | int | bool
    until: Seconds | None = None
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
    clusters: dict[str, ClusterSpec] = Field(default_factory=dict)
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

    @field_validator("nodes", "clusters")
    @classmethod
    def _names(cls, nodes: dict[str, Any]) -> dict[str, Any]:
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
