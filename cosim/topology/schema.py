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

ALGORITHMS = ("gauss-seidel", "jacobi")
NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_ARROW = re.compile(r"^\s*(\S+)\s*->\s*(\S+)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunSpec(_Strict):
    """Run settings. ``record``: ``"all"`` outputs, or glob patterns like ``rack*.T_cpu``."""

    start: float = 0.0
    stop: float = 1.0
    step: float = 0.01
    algorithm: Literal["gauss-seidel", "jacobi"] = "gauss-seidel"
    record: Literal["all"] | list[str] = "all"
    order: list[str] | None = None
    allow_nonfinite: bool = False

    @model_validator(mode="after")
    def _times(self) -> RunSpec:
        if not self.step > 0:
            raise ValueError(f"step must be > 0 s, got {self.step}")
        if not self.stop > self.start:
            raise ValueError(f"stop ({self.stop} s) must be after start ({self.start} s)")
        return self


class NodeSpec(_Strict):
    """One subsystem: exactly one of ``fmu`` (a path relative to the file) or ``block``."""

    fmu: str | None = None
    block: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    start: dict[str, float | int | bool | str] = Field(default_factory=dict)
    step: float | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> NodeSpec:
        if (self.fmu is None) == (self.block is None):
            raise ValueError("a node needs exactly one of 'fmu' (a path) or 'block' "
                             "(a built-in name or module:Class)")
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

    @field_validator("source", "target")
    @classmethod
    def _port(cls, value: str) -> str:
        if "." not in value:
            raise ValueError(f"{value!r} is not of the form node.variable")
        return value


class TopologySpec(_Strict):
    name: str | None = None
    description: str = ""
    run: RunSpec = Field(default_factory=RunSpec)
    nodes: dict[str, NodeSpec]
    connections: list[ConnectionSpec] = Field(default_factory=list)

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
