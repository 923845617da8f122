"""Variables and interfaces: what a subsystem exposes, independent of FMI or Python.

A :class:`Variable` is one named port or parameter of a subsystem. Types are folded
to four kinds that matter to the master: ``real``, ``integer``, ``boolean`` and
``string``. Values travel through the master as float64; integers and booleans are
converted at the subsystem boundary (booleans are 0.0/1.0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .units import UnitDef

REAL, INTEGER, BOOLEAN, STRING = "real", "integer", "boolean", "string"
KINDS = (REAL, INTEGER, BOOLEAN, STRING)

INPUT, OUTPUT, PARAMETER = "input", "output", "parameter"
CALCULATED_PARAMETER, STRUCTURAL_PARAMETER = "calculatedParameter", "structuralParameter"
LOCAL, INDEPENDENT = "local", "independent"

# FMI 2 and FMI 3 type names mapped to the four kinds.
FMI_KINDS: dict[str, str] = {
    "Real": REAL, "Float64": REAL, "Float32": REAL,
    "Integer": INTEGER, "Enumeration": INTEGER,
    "Int8": INTEGER, "UInt8": INTEGER, "Int16": INTEGER, "UInt16": INTEGER,
    "Int32": INTEGER, "UInt32": INTEGER, "Int64": INTEGER, "UInt64": INTEGER,
    "Boolean": BOOLEAN, "String": STRING,
}


@dataclass(frozen=True)
class Variable:
    """One variable of a subsystem.

    ``depends_on`` is meaningful for outputs only: the names of the inputs the output
    depends on *directly* (algebraically, within one instant). ``None`` means unknown,
    which the checks treat as "depends on every input".

    ``unit`` is the unit's name; ``unit_definition`` the FMU's definition of it
    (``<UnitDefinitions>``: base-unit exponents, factor, offset, display units), which
    takes precedence over the name when converting (see :mod:`cosim.units`).
    ``relative_quantity`` (FMI ``relativeQuantity``): the value is a difference, so unit
    conversions drop offsets. ``display_unit``: the unit people should see it in.
    """

    name: str
    causality: str
    kind: str = REAL
    unit: str | None = None
    start: Any = None
    nominal: float | None = None
    variability: str = "continuous"
    description: str = ""
    value_reference: int | None = None
    fmi_type: str | None = None
    depends_on: tuple[str, ...] | None = None
    unit_definition: UnitDef | None = None
    relative_quantity: bool = False
    display_unit: str | None = None

    @property
    def unit_spec(self) -> UnitDef | str | None:
        """What :mod:`cosim.units` converts from: the definition, else the name."""
        return self.unit_definition or self.unit

    @property
    def is_discrete(self) -> bool:
        return self.kind in (INTEGER, BOOLEAN) or self.variability in ("discrete", "constant")


@dataclass(frozen=True)
class Interface:
    """All variables of a subsystem, by name, in declaration order."""

    variables: Mapping[str, Variable] = field(default_factory=dict)

    @classmethod
    def of(cls, variables: Iterable[Variable]) -> Interface:
        return cls({v.name: v for v in variables})

    def __contains__(self, name: str) -> bool:
        return name in self.variables

    def __getitem__(self, name: str) -> Variable:
        return self.variables[name]

    def get(self, name: str) -> Variable | None:
        return self.variables.get(name)

    def with_causality(self, *causalities: str) -> list[Variable]:
        return [v for v in self.variables.values() if v.causality in causalities]

    @property
    def inputs(self) -> list[Variable]:
        return self.with_causality(INPUT)

    @property
    def outputs(self) -> list[Variable]:
        return self.with_causality(OUTPUT)

    @property
    def parameters(self) -> list[Variable]:
        return self.with_causality(PARAMETER, STRUCTURAL_PARAMETER)

    def direct_dependencies(self, output: str) -> tuple[str, ...]:
        """Inputs that ``output`` depends on directly (all inputs when unknown)."""
        var = self.variables[output]
        if var.depends_on is None:
            return tuple(v.name for v in self.inputs)
        return var.depends_on


@dataclass(frozen=True)
class Signal:
    """A recorded signal: ``<node>.<variable>`` with its metadata."""

    node: str
    variable: Variable

    @property
    def name(self) -> str:
        return f"{self.node}.{self.variable.name}"

