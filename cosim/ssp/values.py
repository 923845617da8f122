"""Parameter values (SSV), parameter mappings (SSM), units and enumerations.

Each reader takes an element (the root of an ``.ssv``/``.ssm`` file or its inline copy
inside an SSD) and returns what it found with the problems that make parts unusable.
Values are converted from their XML text by their SSV type: ``Real``/``Float64``/
``Float32`` to float, the integer types to int, ``Boolean`` to bool (``true``,
``false``, ``1``, ``0``), ``String`` and ``Enumeration`` (an item name) to str.
Array values (``Dimension``) and ``Binary`` values are reported as unsupported.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import Problem
from ..units import BASE_UNITS, UnitDef
from . import transformations, xmlio
from .model import INTEGER_TYPES, REAL_TYPES, MappingEntry, ParameterSet, Value

_SCALAR_TYPES = (*REAL_TYPES, *INTEGER_TYPES, "Boolean", "String", "Enumeration")


def read_units(element, source: xmlio.Source) -> tuple[dict[str, UnitDef], list[Problem]]:
    """``ssc:Unit`` definitions under ``element`` (an ``Units`` element), by name."""
    units: dict[str, UnitDef] = {}
    problems: list[Problem] = []
    for u in xmlio.children(element, xmlio.SSC, "Unit"):
        name, where = u.get("name", ""), source.at(u)
        if name in units:  # the schema's uniqueness rule: the file means one of them
            problems.append(Problem(f"unit {name!r} is defined twice", where))
            continue
        base = xmlio.child(u, xmlio.SSC, "BaseUnit")
        try:
            if base is None:
                raise ValueError("has no <ssc:BaseUnit>")
            exps = tuple((b, int(base.get(b, "0"))) for b in BASE_UNITS)
            units[name] = UnitDef(name, tuple((b, e) for b, e in exps if e),
                                  Fraction(base.get("factor", "1").strip()),
                                  Fraction(base.get("offset", "0").strip()))
        except ValueError as err:
            problems.append(Problem(f"{xmlio.describe(u)}: {err}", where))
    return units, problems


def read_enumerations(element, source: xmlio.Source) -> tuple[dict[str, dict[str, int]],
                                                            list[Problem]]:
    """``ssc:Enumeration`` definitions under ``element``: name -> {item: value}."""
    enums: dict[str, dict[str, int]] = {}
    problems: list[Problem] = []
    for e in xmlio.children(element, xmlio.SSC, "Enumeration"):
        items: dict[str, int] = {}
        for item in xmlio.children(e, xmlio.SSC, "Item"):
            try:
                items[item.get("name", "")] = int(item.get("value", ""))
            except ValueError:
                problems.append(Problem(f"{xmlio.describe(item)}: value "
                                        f"{item.get('value')!r} is not an integer",
                                        source.at(item)))
        enums[e.get("name", "")] = items
    return enums, problems


def parameter_set(element, source: xmlio.Source) -> tuple[ParameterSet, list[Problem]]:
    """An ``ssv:ParameterSet``: its values and units."""
    problems: list[Problem] = []
    units: dict[str, UnitDef] = {}
    units_el = xmlio.child(element, xmlio.SSV, "Units")
    if units_el is not None:
        units, problems = read_units(units_el, source)
    values: list[Value] = []
    parameters = xmlio.child(element, xmlio.SSV, "Parameters")
    for p in xmlio.children(parameters, xmlio.SSV, "Parameter") if parameters is not None \
            else ():
        value, problem = _value(p, source)
        if problem is not None:
            problems.append(problem)
        elif value is not None:
            values.append(value)
    for v in values:
        if v.unit is not None and v.unit not in units:
            problems.append(Problem(
                f"parameter {v.name!r}: unit {v.unit!r} is not defined in the parameter "
                f"set's <ssv:Units> (defined: {', '.join(units) or 'none'})", v.where))
    return ParameterSet(element.get("name", ""), values, units, source.at(element)), problems


def _value(p, source: xmlio.Source) -> tuple[Value | None, Problem | None]:
    name, where = p.get("name", ""), source.at(p)
    typed = [c for c in xmlio.children(p, xmlio.SSV) if xmlio.local(c) != "Annotations"]
    if any(xmlio.local(c) == "Dimension" for c in typed):
        return None, Problem(f"parameter {name!r} is an array (<ssv:Dimension>); cosim "
                             "supports scalar parameters only", where)
    if len(typed) != 1:
        return None, Problem(f"parameter {name!r} needs exactly one type element (Real, "
                             "Integer, Boolean, String, Enumeration, ...)", where)
    t = typed[0]
    kind = xmlio.local(t)
    if kind not in _SCALAR_TYPES:
        return None, Problem(f"parameter {name!r}: {kind} values are not supported (cosim "
                             "supports Real, Integer, Boolean, String, Enumeration and the "
                             "sized Float/Int types)", where)
    text = _text(t)
    try:
        value = _convert(kind, text)
    except (TypeError, ValueError):
        return None, Problem(f"parameter {name!r}: {text!r} is not a valid {kind} value",
                             where)
    return Value(name, kind, value, where, t.get("unit")), None


def _text(t) -> str | None:
    """A value from the ``value`` attribute, or (SSP 2.0) one ``Value`` child."""
    if t.get("value") is not None:
        return t.get("value")
    items = [c for c in t if isinstance(c.tag, str) and xmlio.local(c) == "Value"]
    if len(items) == 1:
        return items[0].get("value", items[0].text)
    return None


def _convert(kind: str, text: str | None):
    if text is None:
        raise ValueError("no value")
    if kind in REAL_TYPES:  # float reads xs:double's INF, -INF and NaN as they are
        return float(text.strip())
    if kind in INTEGER_TYPES:
        return int(text.strip())
    if kind == "Boolean":
        return xmlio.parse_bool(text)
    return text


def parameter_mapping(element, source: xmlio.Source
                      ) -> tuple[list[MappingEntry], list[Problem]]:
    """The entries of an ``ssm:ParameterMapping``."""
    entries: list[MappingEntry] = []
    problems: list[Problem] = []
    targets: dict[str, str] = {}
    for e in xmlio.children(element, xmlio.SSM, "MappingEntry"):
        where = source.at(e)
        t, found = transformations.read(e, source)
        problems.extend(found)
        try:
            suppress = xmlio.attr_bool(e, "suppressUnitConversion")
        except ValueError as err:
            problems.append(Problem(f"{xmlio.describe(e)}: suppressUnitConversion: {err}",
                                    where))
            continue
        entry = MappingEntry(e.get("source", ""), e.get("target", ""), where, t, suppress)
        if entry.target in targets:
            problems.append(Problem(f"{xmlio.describe(e)}: target {entry.target!r} is mapped "
                                    f"twice (also at {targets[entry.target]}); SSP forbids "
                                    "mapping several parameters to one name", where))
        targets[entry.target] = where
        entries.append(entry)
    return entries, problems
