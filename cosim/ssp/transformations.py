"""Transformations of SSP connections and parameter mappings, read and composed.

SSP (``ssc:GTransformationChoice``): a ``LinearTransformation`` computes
``target = factor * source + offset`` where ``source`` is already converted into the
target's unit, unless the connection or mapping entry says
``suppressUnitConversion="true"`` (then the transformation replaces the conversion).
``Boolean``/``Integer``/``EnumerationMappingTransformation`` map values through a table
of ``MapEntry source/target`` pairs; values the table does not name pass unchanged.

A path of connections through system connectors is one cosim connection: its maps are
composed here, exactly (fractions), into one affine map or one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import Problem
from . import xmlio
from .model import Transformation

KINDS = {"LinearTransformation": "linear", "BooleanMappingTransformation": "boolean",
         "IntegerMappingTransformation": "integer",
         "EnumerationMappingTransformation": "enumeration"}


def read(element, source: xmlio.Source) -> tuple[Transformation | None, list[Problem]]:
    """The transformation among ``element``'s children (None if none) and the problems
    that make it unusable (empty when fine)."""
    found = [c for c in xmlio.children(element, xmlio.SSC) if xmlio.local(c) in KINDS]
    if not found:
        return None, []
    t = found[0]
    kind, where = KINDS[xmlio.local(t)], source.at(t)
    problems = [Problem(f"{xmlio.describe(element)} has {len(found)} transformations; SSP "
                        "allows one", where)] if len(found) > 1 else []
    try:
        if kind == "linear":
            factor = xmlio.attr_float(t, "factor", 1.0)
            offset = xmlio.attr_float(t, "offset", 0.0)
            return Transformation(kind, where, factor=factor, offset=offset), problems
        entries = tuple(_entry(kind, e) for e in xmlio.children(t, xmlio.SSC, "MapEntry"))
    except ValueError as err:
        return None, [*problems, Problem(f"{xmlio.describe(t)}: {err}", where)]
    sources = [s for s, _ in entries]
    if len(set(sources)) != len(sources):
        problems.append(Problem(f"{xmlio.describe(t)} maps a source value twice (SSP: map "
                                "entries must be unambiguous)", where))
    return Transformation(kind, where, entries=entries), problems


def _entry(kind: str, element) -> tuple[Any, Any]:
    if kind == "boolean":
        return xmlio.attr_bool(element, "source"), xmlio.attr_bool(element, "target")
    if kind == "integer":
        return int(element.get("source", "")), int(element.get("target", ""))
    return element.get("source", ""), element.get("target", "")


@dataclass(frozen=True)
class Affine:
    """``y = a * x + b``, exactly."""

    a: Fraction = Fraction(1)
    b: Fraction = Fraction(0)

    def then(self, other: Affine) -> Affine:
        """This map followed by ``other``."""
        return Affine(other.a * self.a, other.a * self.b + other.b)

    @classmethod
    def of(cls, scale: float | Fraction, offset: float | Fraction) -> Affine:
        return cls(Fraction(scale), Fraction(offset))


def linear(t: Transformation) -> Affine:
    return Affine.of(t.factor, t.offset)


def compose_tables(first: dict, second: dict) -> dict:
    """The table of ``first`` followed by ``second`` (values not listed pass unchanged)."""
    out = {k: second.get(v, v) for k, v in first.items()}
    for k, v in second.items():
        out.setdefault(k, v)
    return out
