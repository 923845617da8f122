"""Units in a topology: conversions on connections, display units of signals.

A connection between variables in compatible units converts automatically: the source
value is first converted into the target's unit (``scale * y + offset``, offset 0 when
either end is a ``relativeQuantity``), then the connection's own ``gain * value +
offset`` applies. Its *effective* gain and offset, computed here once at check time,
are therefore ``gain * scale`` and ``gain * offset_unit + offset``; the coupled system
uses them as they are. Units of different dimensions are a problem; ``check_units:
false`` on a connection turns both the check and the conversion off.

Display units (``run.display_units``: signal glob -> unit, then the FMU's declared
``displayUnit``) only change what people see: plots, reports, listings.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from .. import units
from ..errors import Problem
from ..units import Display, UnitError
from ..variables import INPUT, OUTPUT, REAL, Interface, Variable


@dataclass(frozen=True)
class Conversion:
    """The unit conversion of one connection: ``value_to = scale * value_from + offset``."""

    from_unit: str
    to_unit: str
    scale: float
    offset: float
    relative: bool = False

    def __str__(self) -> str:
        text = f"{self.from_unit} -> {self.to_unit}: x{self.scale:.10g}"
        if self.offset:
            text += f" {'+' if self.offset > 0 else '-'} {abs(self.offset):.10g}"
        return text + (" (difference)" if self.relative else "")


def connection_units(c, s: Variable, d: Variable) -> tuple[Conversion | None, Problem | None]:
    """The conversion ``c`` needs from ``s`` to ``d`` (None when none), or a problem."""
    if not c.check_units or not s.unit or not d.unit:
        return None, None
    relative = bool(s.relative_quantity or d.relative_quantity)
    try:
        scale, offset = units.conversion(s.unit_spec, d.unit_spec, relative=relative)
    except UnitError as err:
        return None, Problem(_why(c, s, d, err), c.where, c.target_node, c.target_var)
    if scale == 1.0 and offset == 0.0:
        return None, None
    return Conversion(s.unit, d.unit, scale, offset, relative), None


def _why(c, s: Variable, d: Variable, err: UnitError) -> str:
    if "different dimensions" not in str(err):
        return f"cannot check the units of {c}: {err}"
    a, b = units.define(s.unit_spec), units.define(d.unit_spec)
    return (f"incompatible units: {c.source} is in {s.unit!r} ({a.dimension}) but "
            f"{c.target} expects {d.unit!r} ({b.dimension}), which cannot be converted; "
            "connect a signal of the same quantity, or set 'check_units: false' on the "
            "connection to pass the value on unconverted (scaled by gain/offset)")


def effective_gain(c, conversion: Conversion | None) -> tuple[float, float]:
    """``(gain, offset)`` applied to the source value: unit conversion, then c's own."""
    if conversion is None:
        return c.gain, c.offset
    return c.gain * conversion.scale, c.gain * conversion.offset + c.offset


def display_units(topology, interfaces: dict[str, Interface]
                  ) -> tuple[dict[str, Display], list[Problem]]:
    """Display unit of every real input and output that has one, and the problems.

    ``run.display_units`` patterns are applied in the order written (a later match
    overrides an earlier one) over the FMU's declared ``displayUnit``. A pattern's
    unit applies to the signals it matches whose units convert to it; a pattern that
    fits none of them, or names an unknown unit, is a problem.
    """
    ports = [(f"{n}.{v.name}", v) for n, iface in interfaces.items()
             for v in iface.variables.values()
             if v.causality in (INPUT, OUTPUT) and v.kind == REAL and v.unit]
    shown: dict[str, Display] = {}
    for name, v in ports:
        if v.display_unit and v.display_unit != v.unit:
            display = _display(v, v.display_unit)
            if display is not None:
                shown[name] = display
    problems = []
    located = topology.graph.graph.get("display_where", {})
    for pattern, unit in topology.run.display_units.items():
        where = located.get(pattern) or topology.source or ""
        try:
            units.define(unit)
        except UnitError as err:
            problems.append(Problem(f"run.display_units {pattern!r}: {err}", where))
            continue
        hits = [(name, v) for name, v in ports if fnmatch.fnmatchcase(name, pattern)]
        fitting = {name: d for name, v in hits if (d := _display(v, unit)) is not None}
        shown.update(fitting)
        if not fitting:
            seen = sorted({v.unit for _, v in hits})
            why = f"its signals are in {', '.join(map(repr, seen))}" if seen else \
                "it matches no input or output with a unit"
            problems.append(Problem(f"run.display_units {pattern!r}: {unit!r} fits none of "
                                    f"the signals it matches ({why})", where))
    return shown, problems


def _display(v: Variable, unit: str) -> Display | None:
    try:
        scale, offset = units.display_conversion(v.unit_spec, unit,
                                                 relative=v.relative_quantity)
    except UnitError:
        return None
    return Display(unit, scale, offset)
