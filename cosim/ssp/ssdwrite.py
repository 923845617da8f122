"""The XML of an exported SSP: SSD elements and the SSV parameter set (SSP 1.0).

Element order follows the SSP 1.0 schema (``TElement``: Connectors, ElementGeometry,
ParameterBindings; ``TSystem`` then Elements, Connections, ..., Annotations; the root:
System, Enumerations, Units, DefaultExperiment, Annotations). Numbers are written as
``repr`` of the float (shortest round-trip text; ``INF``/``-INF``/``NaN`` as xs:double
spells them), so a value read back is the same float.
"""

from __future__ import annotations

import json
import math
from typing import Any

from lxml import etree

from ..units import BASE_UNITS, UnitDef
from . import xmlio

SSD, SSC, SSV, OSP, COSIM = xmlio.SSD, xmlio.SSC, xmlio.SSV, xmlio.OSP, xmlio.COSIM
NSMAP = {"ssd": SSD, "ssc": SSC, "ssv": SSV}


def number(x: float) -> str:
    """A float as xs:double text that reads back as the same float."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "INF" if x > 0 else "-INF"
    return repr(x)


def element(parent, namespace: str, name: str, attrs: dict[str, Any] | None = None,
            nsmap: dict | None = None):
    """A child element (or a root when ``parent`` is None) with string attributes."""
    tag = xmlio.tag(namespace, name)
    attributes = {k: v for k, v in (attrs or {}).items() if v is not None}
    if parent is None:
        return etree.Element(tag, attributes, nsmap=nsmap)
    return etree.SubElement(parent, tag, attributes, nsmap=nsmap)


def annotation(parent, kind: str, namespace: str, name: str, prefix: str,
               attrs: dict | None = None, data: Any = None):
    """An ``ssc:Annotation`` of type ``kind`` holding one element (JSON ``data`` as text)."""
    a = element(parent, SSC, "Annotation", {"type": kind})
    content = element(a, namespace, name, attrs, nsmap={prefix: namespace})
    if data is not None:
        content.text = json.dumps(data, sort_keys=True, allow_nan=True)
    return content


def units(parent, namespace: str, defs: dict[str, UnitDef]) -> None:
    """``<Units>`` (in ``namespace``: ssd or ssv) with one ``ssc:Unit`` per definition."""
    if not defs:
        return
    el = element(parent, namespace, "Units")
    for name, d in defs.items():
        u = element(el, SSC, "Unit", {"name": name})
        attrs = {b: str(e) for b, e in (d.base or ()) if b in BASE_UNITS}
        if d.factor != 1:
            attrs["factor"] = number(float(d.factor))
        if d.offset != 0:
            attrs["offset"] = number(float(d.offset))
        element(u, SSC, "BaseUnit", attrs)


def enumerations(parent, defs: dict[str, dict[str, int]]) -> None:
    if not defs:
        return
    el = element(parent, SSD, "Enumerations")
    for name, items in defs.items():
        e = element(el, SSC, "Enumeration", {"name": name})
        for item, value in items.items():
            element(e, SSC, "Item", {"name": item, "value": str(value)})


def connector(parent, name: str, kind: str, ssp_type: str | None, unit: str | None = None,
              enumeration: str | None = None) -> None:
    c = element(parent, SSD, "Connector", {"name": name, "kind": kind})
    if ssp_type == "Real":
        element(c, SSC, "Real", {"unit": unit})
    elif ssp_type == "Enumeration":
        element(c, SSC, "Enumeration", {"name": enumeration})
    elif ssp_type is not None:
        element(c, SSC, ssp_type)


def transformation(parent, mapping: dict | None, boolean: bool, gain: float,
                   offset: float) -> None:
    """A LinearTransformation (gain, offset) or a Boolean/IntegerMappingTransformation."""
    if mapping is not None:
        kind = "BooleanMappingTransformation" if boolean else "IntegerMappingTransformation"
        t = element(parent, SSC, kind)
        for a, b in mapping.items():
            element(t, SSC, "MapEntry", {"source": _map_value(a, boolean),
                                         "target": _map_value(b, boolean)})
    elif gain != 1.0 or offset != 0.0:
        attrs = {}
        if gain != 1.0:
            attrs["factor"] = number(gain)
        if offset != 0.0:
            attrs["offset"] = number(offset)
        element(parent, SSC, "LinearTransformation", attrs)


def _map_value(v, boolean: bool) -> str:
    return ("true" if v else "false") if boolean else str(int(v))


def parameter_set(name: str, values: list[tuple[str, str, Any, str | None]],
                  defs: dict[str, UnitDef], generation: dict[str, str]):
    """An ``ssv:ParameterSet`` root: ``values`` as ``(name, SSV type, value, unit)``."""
    root = element(None, SSV, "ParameterSet", {"version": "1.0", "name": name, **generation},
                   nsmap={"ssv": SSV, "ssc": SSC})
    params = element(root, SSV, "Parameters")
    for pname, kind, value, unit in values:
        p = element(params, SSV, "Parameter", {"name": pname})
        if kind == "Real":
            element(p, SSV, "Real", {"value": number(value), "unit": unit})
        elif kind == "Boolean":
            element(p, SSV, "Boolean", {"value": "true" if value else "false"})
        elif kind == "Integer":
            element(p, SSV, "Integer", {"value": str(int(value))})
        else:
            element(p, SSV, "String", {"value": str(value)})
    units(root, SSV, defs)
    return root


def serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
