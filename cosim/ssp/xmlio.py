"""Reading SSP XML safely, and saying where an element stands.

Every SSP file (``.ssd``, ``.ssv``, ``.ssm``) is parsed with lxml with DTD loading,
entity resolution and network access switched off; a file that declares a DTD or an
entity at all is rejected before parsing (entity expansion is a denial-of-service
risk, and SSP files never need one). Elements keep their line numbers, so every message
can say ``system.ssp!/SystemStructure.ssd:42: <ssd:Component name="pump">: ...``.

SSP 1.0 and 2.0 share these namespaces (they differ by the ``version`` attribute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ..errors import ConfigError

SSD = "http://ssp-standard.org/SSP1/SystemStructureDescription"
SSC = "http://ssp-standard.org/SSP1/SystemStructureCommon"
SSV = "http://ssp-standard.org/SSP1/SystemStructureParameterValues"
SSM = "http://ssp-standard.org/SSP1/SystemStructureParameterMapping"
SSB = "http://ssp-standard.org/SSP1/SystemStructureSignalDictionary"
#: libcosim's annotations (``type="com.opensimulationplatform"``)
OSP = "http://opensimulationplatform.com/SSP/OSPAnnotations"
#: OMSimulator's annotations (``type="org.openmodelica"``)
OMS = "https://raw.githubusercontent.com/OpenModelica/OMSimulator/master/schema/oms.xsd"
#: cosim's own annotations (``type="cosim"``), read back on import
COSIM = "urn:cosim:ssp:1"

PREFIXES = {SSD: "ssd", SSC: "ssc", SSV: "ssv", SSM: "ssm", SSB: "ssb", OSP: "osp",
            OMS: "oms", COSIM: "cosim"}
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    """Where a file is shown as coming from: ``system.ssp!/resources/p.ssv`` or a path."""

    shown: str

    def at(self, element=None, line: int | None = None) -> str:
        """``shown:line`` for an element (or an explicit line)."""
        if line is None and element is not None:
            line = element.sourceline
        return f"{self.shown}:{line}" if line else self.shown


def parse(data: bytes, source: Source) -> etree._Element:
    """The root element of an XML document; ConfigError naming the file if it is not
    well-formed or declares a DTD or entities."""
    if _DTD.search(data):
        raise ConfigError("declares a DTD or XML entities; cosim rejects them (entity "
                          "expansion is a denial-of-service risk, and SSP files need none)",
                          file=source.shown)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_blank_text=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        line = err.lineno if getattr(err, "lineno", None) else None
        raise ConfigError(f"malformed XML: {err.msg}", file=source.shown,
                          line=line) from None
    return root


def tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def local(element) -> str:
    """The element's name without its namespace (``Component``)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def namespace(element) -> str:
    return etree.QName(element).namespace or "" if isinstance(element.tag, str) else ""


def describe(element) -> str:
    """``<ssd:Component name="pump">``: an element as people find it in the file."""
    ns = namespace(element)
    prefix = PREFIXES.get(ns)
    name = f"{prefix}:{local(element)}" if prefix else local(element)
    attrs = [f'{a}="{element.get(a)}"' for a in ("name", "startElement", "startConnector",
                                                 "endElement", "endConnector", "source",
                                                 "target")
             if element.get(a) is not None]
    return f"<{name}{' ' if attrs else ''}{' '.join(attrs[:4])}>"


def children(element, namespace_: str | None = None, name: str | None = None) -> list:
    """Child elements (comments and processing instructions left out), optionally only
    those of one namespace and name."""
    out = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if namespace_ is not None and namespace(child) != namespace_:
            continue
        if name is not None and local(child) != name:
            continue
        out.append(child)
    return out


def child(element, namespace_: str, name: str):
    """The first child of that namespace and name, or None."""
    found = children(element, namespace_, name)
    return found[0] if found else None


def attr_float(element, name: str, default: float | None = None) -> float | None:
    """A double attribute (xs:double: ``INF``, ``-INF``, ``NaN`` too, which Python's
    float reads as they are); ValueError if bad."""
    text = element.get(name)
    if text is None:
        return default
    return float(text.strip())


def attr_bool(element, name: str, default: bool = False) -> bool:
    """An xs:boolean attribute (``true``, ``false``, ``1``, ``0``); ValueError if bad."""
    text = element.get(name)
    if text is None:
        return default
    return parse_bool(text)


def parse_bool(text: str) -> bool:
    value = text.strip()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ValueError(f"{text!r} is not an XML boolean (true, false, 1, 0)")
