"""A path of SSP connections, composed into one cosim connection.

Along a path ``p0 -> p1 -> ... -> pn`` (component output, system connectors, component
input) each hop converts the value from its start connector's unit into its end
connector's unit (unless ``suppressUnitConversion``, or a unit is unknown), then applies
its transformation. Linear maps compose exactly (fractions) into ``y = a * x + b`` from
``p0``'s unit to ``pn``'s; cosim's connection converts ``p0 -> pn`` itself first
(``y = gain * (s * x + c) + offset``), so ``gain = a / s`` and ``offset = b - gain * c``:
a single hop gives back its factor and offset exactly. When any hop suppresses unit
conversion, the connection is made ``check_units: false`` with ``gain = a``, ``offset =
b`` (the whole map, applied to the raw value). Mapping tables compose into one table
(enumeration tables through the item values of the connectors' enumeration types).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from .. import units
from ..errors import Problem
from ..units import UnitError
from .flatten import Path, Port
from .transformations import Affine, compose_tables, linear

UnitOf = Callable[[Port], tuple[object, bool]]  # (unit spec or None, relative quantity)
EnumOf = Callable[[Port], dict[str, int] | None]


@dataclass(frozen=True)
class Link:
    """What :meth:`cosim.Topology.connect` needs for one path."""

    gain: float = 1.0
    offset: float = 0.0
    check_units: bool = True
    mapping: dict | None = None


def compose(path: Path, unit_of: UnitOf, enum_of: EnumOf) -> tuple[Link | None, Problem | None]:
    ts = [e.connection.transformation for e in path.edges]
    kinds = {t.kind for t in ts if t is not None}
    where = path.edges[-1].connection.where
    if "linear" in kinds and len(kinds) > 1:
        return None, Problem("the connections on this path mix a LinearTransformation "
                             "(real values) with a mapping table (integers, booleans)", where)
    try:
        if kinds - {"linear"}:
            return Link(mapping=_table(path, enum_of)), None
        return _affine(path, unit_of), None
    except (UnitError, ValueError) as err:
        return None, Problem(str(err), getattr(err, "where", where))


def _affine(path: Path, unit_of: UnitOf) -> Link:
    ports = path.ports
    spec = [unit_of(p) for p in ports]
    total = Affine()
    for k, edge in enumerate(path.edges):
        c = edge.connection
        (a, rel_a), (b, rel_b) = spec[k], spec[k + 1]
        if not c.suppress_unit_conversion and a and b:
            try:
                scale, offset = units.exact_conversion(a, b, relative=rel_a or rel_b)
            except UnitError as err:
                raise _located(f"units of the connection cannot be converted: {err}",
                               c.where) from None
            total = total.then(Affine(scale, offset))
        if c.transformation is not None:
            total = total.then(linear(c.transformation))
    if any(e.connection.suppress_unit_conversion for e in path.edges):
        return Link(float(total.a), float(total.b), check_units=False)
    (first, rel_first), (last, rel_last) = spec[0], spec[-1]
    scale, offset = Fraction(1), Fraction(0)
    if first and last:
        scale, offset = units.exact_conversion(first, last, relative=rel_first or rel_last)
    gain = total.a / scale
    return Link(float(gain), float(total.b - gain * offset))


def _table(path: Path, enum_of: EnumOf) -> dict:
    table: dict = {}
    ports = path.ports
    for k, edge in enumerate(path.edges):
        t = edge.connection.transformation
        if t is None:
            continue
        entries = dict(t.entries)
        if t.kind == "enumeration":
            entries = _by_value(entries, enum_of(ports[k]), enum_of(ports[k + 1]), t.where)
        table = compose_tables(table, entries)
    return table


def _by_value(entries: dict, source: dict[str, int] | None, target: dict[str, int] | None,
              where: str) -> dict[int, int]:
    if source is None or target is None:
        raise _located("an EnumerationMappingTransformation needs enumeration types on both "
                       "connectors (from the FMUs or <ssd:Enumerations>)", where)
    out = {}
    for a, b in entries.items():
        if a not in source or b not in target:
            bad, items = (a, source) if a not in source else (b, target)
            raise _located(f"enumeration item {bad!r} is not one of {', '.join(items)}", where)
        out[source[a]] = target[b]
    return out


def _located(message: str, where: str) -> ValueError:
    err = ValueError(message)
    err.where = where  # type: ignore[attr-defined]
    return err
