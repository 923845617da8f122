"""SSP parameter bindings applied to the flattened nodes, in the standard's order.

A binding on an element applies a parameter set to it (SSP 1.0 section 5.3.4 / 2.0
"ParameterBindings"):

* names are relative to the element: a component's variable names; in a system, its
  connector names and ``element.name`` paths into its elements (a name may match
  several variables: then it applies to all of them);
* ``prefix`` is put in front of every name of the set first;
* with a parameter mapping only mapped values are applied, under their target names,
  each converted into the target's unit (unless ``suppressUnitConversion``) and then
  transformed (linear, or a Boolean/Integer/Enumeration table);
* a value for a system connector flows along the system's connections to the
  components' variables (with the connections' transformations);
* order: later bindings of one element override earlier ones; bindings of an enclosing
  system override those of the elements inside it.

Names that match nothing are ignored, as SSP says, and listed in a note. A value for a
parameter becomes the node's parameter; for any other variable (an input, a state with
``initial="exact"``) the node's start value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import units
from ..errors import Problem
from ..units import UnitError
from ..variables import BOOLEAN, INTEGER, REAL, STRING
from .flatten import Flat, Owner, downstream
from .links import EnumOf, UnitOf, compose
from .model import REAL_TYPES, Binding, MappingEntry, Value

PARAMETER_CAUSALITIES = ("parameter", "structuralParameter")


@dataclass
class Assignment:
    """``node.variable = value`` from a binding, as a parameter or a start value."""

    node: str
    variable: str
    value: Any
    where: str
    start: bool


@dataclass
class _Target:
    owner: Owner
    name: str  # a component's variable, or a system's connector


class Binder:
    """Applies every binding of a flattened description."""

    def __init__(self, flat: Flat, unit_of: UnitOf, enum_of: EnumOf, variable_of):
        self.flat, self.unit_of, self.enum_of = flat, unit_of, enum_of
        self.variable_of = variable_of  # (owner, name) -> (Variable, fmpy variable) or None
        self.assignments: dict[tuple[str, str], Assignment] = {}
        self.problems: list[Problem] = []
        self.notes: list[str] = []

    def apply_all(self) -> None:
        found = [(len(path), k, owner, b) for k, (path, owner) in
                 enumerate(self.flat.owners.items()) for b in owner.element.bindings]
        for _, _, owner, binding in sorted(found, key=lambda x: (-x[0], x[1])):
            self.apply(owner, binding)

    def apply(self, owner: Owner, binding: Binding) -> None:
        if binding.values is None:
            return
        values = [Value(binding.prefix + v.name, v.type, v.value, v.where, v.unit)
                  for v in binding.values.values]
        items: list[tuple[str, Value, MappingEntry | None]]
        if binding.mapping is None:
            items = [(v.name, v, None) for v in values]
        else:
            by_name = {v.name: v for v in values}
            items = []
            for entry in binding.mapping:
                if entry.source not in by_name:
                    self.notes.append(f"{entry.where}: mapping entry source {entry.source!r} "
                                      "is not in the parameter set (ignored)")
                    continue
                items.append((entry.target, by_name[entry.source], entry))
        unmatched = []
        for name, value, entry in items:
            targets = self.resolve(owner, name)
            if not targets:
                unmatched.append(name)
            for target in targets:
                self.assign(target, value, entry, binding.values.units)
        if unmatched:
            shown = ", ".join(unmatched[:8]) + (", ..." if len(unmatched) > 8 else "")
            self.notes.append(f"{binding.where}: {len(unmatched)} parameter value(s) match no "
                              f"variable of {owner_label(owner)} and are ignored: {shown}")

    def resolve(self, owner: Owner, name: str) -> list[_Target]:
        if not owner.is_system:
            known = owner.interface is None or name in owner.interface
            return [_Target(owner, name)] if known else []
        found = [_Target(owner, name)] if name in owner.connectors else []
        for child in owner.element.elements:
            prefix = child.name + "."
            if name.startswith(prefix):
                found += self.resolve(self.flat.owners[owner.path + (child.name,)],
                                      name[len(prefix):])
        return found

    # -- values ----------------------------------------------------------------------------

    def assign(self, target: _Target, value: Value, entry: MappingEntry | None,
               set_units: dict) -> None:
        try:
            if target.owner.is_system:  # a system's connector
                self._through_port(target, value, entry, set_units)
            else:
                x = self._mapped(value, entry, set_units, self.unit_of((target.owner.path,
                                                                        target.name)))
                self._set(target.owner, target.name, x, value)
        except (ValueError, UnitError) as err:
            where = entry.where if entry is not None else value.where
            self.problems.append(Problem(f"parameter {value.name!r}: {err}", where))

    def _mapped(self, value: Value, entry: MappingEntry | None, set_units: dict, target_unit):
        """The value in the target's unit (``target_unit``: (spec or None, relative)),
        transformed by the mapping entry."""
        x = value.value
        suppress = entry is not None and entry.suppress_unit_conversion
        spec, relative = target_unit
        if value.type in REAL_TYPES and value.unit and spec and not suppress:
            source = set_units.get(value.unit, value.unit)
            x = float(units.convert(float(x), source, spec, relative=relative))
        t = entry.transformation if entry is not None else None
        if t is None:
            return x
        if t.kind == "linear":
            if value.type not in REAL_TYPES:
                raise ValueError(f"a LinearTransformation applies to real values, not "
                                 f"{value.type}")
            return t.factor * float(x) + t.offset
        table = dict(t.entries)
        return table.get(x, x)

    def _through_port(self, target: _Target, value: Value, entry, set_units) -> None:
        port = (target.owner.path, target.name)
        x = self._mapped(value, entry, set_units, self.unit_of(port))
        paths = downstream(self.flat, port)
        if not paths:
            self.notes.append(f"{value.where}: parameter {value.name!r} sets connector "
                              f"{target.name!r} of {owner_label(target.owner)}, which is not "
                              "connected to any component (ignored)")
        for path in paths:
            link, problem = compose(path, self.unit_of, self.enum_of)
            if problem is not None:
                self.problems.append(problem)
                continue
            y = self._linked(x, link, path)
            owner = self.flat.owners[path.target[0]]
            self._set(owner, path.target[1], y, value)

    def _linked(self, x, link, path):
        if link.mapping is not None:
            return link.mapping.get(x, x)
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            if link.gain == 1.0 and link.offset == 0.0:
                return x
            raise ValueError(f"value {x!r} cannot pass a linear transformation")
        (a, rel_a), (b, rel_b) = self.unit_of(path.source), self.unit_of(path.target)
        if link.check_units and a and b:
            x = float(units.convert(float(x), a, b, relative=rel_a or rel_b))
        return link.gain * x + link.offset if (link.gain, link.offset) != (1.0, 0.0) else x

    def _set(self, owner: Owner, name: str, x, value: Value) -> None:
        found = self.variable_of(owner, name)
        start = True
        if found is not None:
            var, fmi_var = found
            _settable(var, fmi_var)
            x = _typed(x, var, self.enum_of((owner.path, name)))
            start = var.causality not in PARAMETER_CAUSALITIES
        elif owner.element.block is not None:  # a cosim block: its parameters
            start = name in owner.connectors
        self.assignments[(owner.node, name)] = Assignment(owner.node, name, x, value.where,
                                                          start)


def owner_label(owner: Owner) -> str:
    kind = "system" if owner.is_system else "component"
    return f"{kind} {'.'.join(owner.path) or owner.element.name!r}" if owner.path else \
        f"the root system {owner.element.name!r}"


def _settable(var, fmi_var) -> None:
    if var.variability == "constant":
        raise ValueError(f"{var.name} is a constant")
    initial = getattr(fmi_var, "initial", None)
    if var.causality in ("independent",) or (
            var.causality in ("output", "local", "calculatedParameter")
            and initial == "calculated"):
        raise ValueError(f"{var.name} ({var.causality}, initial={initial or 'calculated'}) "
                         "cannot be set; SSP parameterizes variables with initial exact "
                         "or approx")


def _typed(x, var, items: dict[str, int] | None):
    """``x`` as a value of ``var``'s kind; ValueError if it does not fit."""
    if var.kind == REAL and isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    if var.kind == INTEGER:
        if isinstance(x, str) and items is not None and x in items:
            return items[x]
        if isinstance(x, int) and not isinstance(x, bool):
            return x
    if var.kind == BOOLEAN and isinstance(x, bool):
        return x
    if var.kind == STRING and isinstance(x, str):
        return x
    what = var.fmi_type or var.kind
    hint = f" (items: {', '.join(items)})" if items and isinstance(x, str) else ""
    raise ValueError(f"value {x!r} does not fit {var.name}, a {what} variable{hint}")
