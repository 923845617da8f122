"""Parsing XML that comes from outside (model descriptions): hardened, whatever the encoding.

The parser is lxml (the library fmpy parses with, so both see the same characters in
any encoding: UTF-8, UTF-16 with or without BOM, ...) with DTD loading, entity
resolution and network access off. A document that declares a DTD at all (``<!DOCTYPE``,
hence any ``<!ENTITY``) is refused: FMI and SSP files never need one, and refusing it is
simpler to trust than expanding it carefully. Huge text nodes and deep trees are refused
by libxml2's own limits (``huge_tree`` off).
"""

from __future__ import annotations

from typing import Any

from ..errors import FMUError


def _parser() -> Any:
    from lxml import etree
    return etree.XMLParser(resolve_entities=False, load_dtd=False, dtd_validation=False,
                           no_network=True, huge_tree=False, remove_pis=True)


def parse(data: bytes, what: str, file: str) -> Any:
    """The root element of ``data`` (an lxml element); FMUError if it is not well-formed
    or declares a DTD. ``what`` names the document in messages (``modelDescription.xml``),
    ``file`` the archive it came from."""
    from lxml import etree
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as err:
        raise FMUError(f"{what} is not well-formed XML: {err}", file=file) from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise FMUError(f"{what} declares a DTD or XML entities (<!DOCTYPE ...>); cosim "
                       "refuses such files instead of expanding entities (a "
                       "denial-of-service risk)", file=file)
    return root
