"""Variables and interfaces: what a subsystem exposes, independent of FMI or Python.

A :class:`Variable` is one named port or parameter of a subsystem. FMI's types are
folded to the kinds that matter to the master: ``real`` (Float64, Float32), ``integer``
(Int8 ... UInt64, Enumeration), ``boolean``, ``string``, ``binary`` and ``clock``.

How values travel (:attr:`Variable.channel`):

* ``"number"`` — float64 slots of the coupled system's vectors: reals, booleans (0.0/1.0),
  integers up to 32 bits and enumerations, exactly; converted at the subsystem boundary;
* ``"object"`` — Python objects kept beside the vectors: strings, binaries, and 64-bit
  integers (float64 holds integers exactly only up to 2**53);
* ``None`` — clocks, which cosim does not exchange (``cosim check`` says so).

FMI 3 arrays (``<Dimension>``) have a ``shape``; their elements are stored flattened,
row-major, and named ``y[2]`` or ``A[1,2]`` (1-based, as FMI's structured names).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .units import UnitDef

REAL, INTEGER, BOOLEAN, STRING = "real", "integer", "boolean", "string"
BINARY, CLOCK = "binary", "clock"
KINDS = (REAL, INTEGER, BOOLEAN, STRING, BINARY, CLOCK)
NUMBER, OBJECT = "number", "object"
#: FMI types whose values float64 cannot hold exactly
WIDE_INTEGERS = ("Int64", "UInt64")

INPUT, OUTPUT, PARAMETER = "input", "output", "parameter"
CALCULATED_PARAMETER, STRUCTURAL_PARAMETER = "calculatedParameter", "structuralParameter"
LOCAL, INDEPENDENT = "local", "independent"

# FMI 2 and FMI 3 type names mapped to the four kinds.
FMI_KINDS: dict[str, str] = {
    "Real": REAL, "Float64": REAL, "Float32": REAL,
    "Integer": INTEGER, "Enumeration": INTEGER,
    "Int8": INTEGER, "UInt8": INTEGER, "Int16": INTEGER, "UInt16": INTEGER,
    "Int32": INTEGER, "UInt32": INTEGER, "Int64": INTEGER, "UInt64": INTEGER,
    "Boolean": BOOLEAN, "String": STRING, "Binary": BINARY, "Clock": CLOCK,
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
    shape: tuple[int, ...] = ()
    dimensions: tuple[int | str, ...] = ()
    clocks: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Number of values: 1 for a scalar, the product of the shape for an array."""
        return math.prod(self.shape)

    @property
    def channel(self) -> str | None:
        """How the value travels: ``"number"``, ``"object"`` or None (see module doc)."""
        if self.kind == CLOCK:
            return None
        if self.kind in (STRING, BINARY) or self.fmi_type in WIDE_INTEGERS:
            return OBJECT
        return NUMBER

    def element_names(self) -> list[str]:
        """``[name]`` for a scalar; ``name[1]``, ``name[2]``, ... (row-major) for arrays."""
        return element_names(self.name, self.shape) if self.shape else [self.name]

    def flat_index(self, index: tuple[int, ...]) -> int:
        """Position of the element ``index`` (1-based) in the flattened array; raises
        IndexError when it is outside the shape."""
        if len(index) != len(self.shape) or any(not 1 <= i <= d
                                                 for i, d in zip(index, self.shape,
                                                                 strict=True)):
            raise IndexError(f"{self.name}{list(index)} is outside its shape "
                             f"{list(self.shape)}")
        flat = 0
        for i, d in zip(index, self.shape, strict=True):
            flat = flat * d + (i - 1)
        return flat

    @property
    def unit_spec(self) -> UnitDef | str | None:
        """What :mod:`cosim.units` converts from: the definition, else the name."""
        return self.unit_definition or self.unit

    @property
    def is_discrete(self) -> bool:
        return self.kind in (INTEGER, BOOLEAN) or self.variability in ("discrete", "constant")


def element_names(name: str, shape: tuple[int, ...]) -> list[str]:
    """Names of an array's elements, row-major and 1-based: ``name[1]``, ``name[2]``,
    ... or ``name[1,1]``, ``name[1,2]``, ..."""
    return [f"{name}[{','.join(str(i + 1) for i in index)}]"
            for index in itertools.product(*(range(d) for d in shape))]


def split_element(port: str) -> tuple[str, tuple[int, ...] | None]:
    """``"y[2]"`` -> ``("y", (2,))``; ``"A[1,2]"`` -> ``("A", (1, 2))``; ``"x"`` -> ``("x",
    None)``. A name that merely contains brackets (FMI 2 flat names like ``a[1].b``) is
    returned whole."""
    if not port.endswith("]") or "[" not in port:
        return port, None
    name, _, rest = port[:-1].rpartition("[")
    try:
        index = tuple(int(part) for part in rest.split(","))
    except ValueError:
        return port, None
    return name, index


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

    def port(self, name: str) -> tuple[Variable, int | None] | None:
        """The variable a port name refers to and, for an array element (``y[2]``), its
        flat index (None for a whole variable); None when there is no such port (an
        element outside the shape raises IndexError)."""
        var = self.variables.get(name)
        if var is not None:
            return var, None
        base, index = split_element(name)
        var = self.variables.get(base)
        if var is None or index is None or not var.shape:
            return None
        return var, var.flat_index(index)

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

