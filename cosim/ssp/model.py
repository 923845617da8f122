"""What cosim reads from SSP files, as plain data (no XML, no FMUs).

Every item remembers ``where`` it was written (``file:line``). Names are as in the
files; flattening into cosim node names happens in :mod:`cosim.ssp.flatten`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..units import UnitDef

#: SSP types (connectors, parameters) by the cosim kind they carry
REAL_TYPES = ("Real", "Float64", "Float32")
INTEGER_TYPES = ("Integer", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64",
                 "UInt64")
TYPES = (*REAL_TYPES, *INTEGER_TYPES, "Boolean", "String", "Enumeration", "Binary", "Clock")


@dataclass(frozen=True)
class Transformation:
    """A connection's or a mapping entry's transformation.

    ``kind``: ``linear`` (``target = factor * source + offset``, in the target's unit
    after unit conversion), or ``boolean``, ``integer``, ``enumeration`` (a table of
    ``(source, target)`` pairs; values not in it pass unchanged; enumeration entries
    are item names).
    """

    kind: str
    where: str
    factor: float = 1.0
    offset: float = 0.0
    entries: tuple[tuple[Any, Any], ...] = ()


@dataclass(frozen=True)
class Connector:
    """A connector of a component or system. ``type`` is the SSP type element's name
    (``Real``, ``Boolean``, ...) or None when not given; ``unit`` its unit name."""

    name: str
    kind: str
    where: str
    type: str | None = None
    unit: str | None = None
    enumeration: str | None = None


@dataclass(frozen=True)
class Value:
    """One parameter value of a parameter set (``type`` as in SSV: Real, Integer, ...)."""

    name: str
    type: str
    value: Any
    where: str
    unit: str | None = None


@dataclass(frozen=True)
class MappingEntry:
    """``target`` takes the value of the source parameter ``source`` (transformed)."""

    source: str
    target: str
    where: str
    transformation: Transformation | None = None
    suppress_unit_conversion: bool = False


@dataclass
class ParameterSet:
    """An ``ssv:ParameterSet`` with the units its file defines."""

    name: str
    values: list[Value]
    units: dict[str, UnitDef]
    where: str


@dataclass
class Binding:
    """A parameter binding of a component or system: values (inline or from a file),
    a name ``prefix``, and optionally a mapping (only mapped values are applied)."""

    where: str
    values: ParameterSet | None
    prefix: str = ""
    mapping: list[MappingEntry] | None = None


@dataclass
class Component:
    """An ``ssd:Component``: an FMU (``type`` application/x-fmu-sharedlibrary), or a cosim
    block exported by cosim (``block`` holds its annotation)."""

    name: str
    where: str
    type: str
    source: str | None
    implementation: str = "any"
    connectors: list[Connector] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    step: float | None = None
    block: dict[str, Any] | None = None
    description: str = ""


@dataclass
class Connection:
    """An ``ssd:Connection``; an element of None names a connector of the system itself."""

    start_element: str | None
    start_connector: str
    end_element: str | None
    end_connector: str
    where: str
    transformation: Transformation | None = None
    suppress_unit_conversion: bool = False
    cosim: dict[str, Any] = field(default_factory=dict)


@dataclass
class System:
    """An ``ssd:System``: connectors, elements (components and systems), connections."""

    name: str
    where: str
    connectors: list[Connector] = field(default_factory=list)
    elements: list[Component | System] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    step: float | None = None


@dataclass
class Description:
    """A parsed SSD: its root system, units, enumerations and run settings.

    ``problems`` are what cosim cannot use (each a :class:`~cosim.errors.Problem`);
    ``notes`` what it reads but ignores or interprets (shown by ``cosim check``).
    """

    name: str
    version: str
    where: str
    system: System
    units: dict[str, UnitDef] = field(default_factory=dict)
    enumerations: dict[str, dict[str, int]] = field(default_factory=dict)
    start: float | None = None
    stop: float | None = None
    step: float | None = None
    step_from: str = ""
    cosim: dict[str, Any] = field(default_factory=dict)
    problems: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
