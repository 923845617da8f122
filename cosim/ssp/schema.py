"""Validation against the official SSP XML schemas, with xmlschema.

The SSP 1.0 XSDs (SystemStructureDescription, -Common, -ParameterValues,
-ParameterMapping, -SignalDictionary; Modelica Association Project "SSP", BSD
2-clause licence, which allows redistribution with the copyright notice the files
carry) are copied into ``cosim/ssp/schema/`` from the fmpy package, so validation does
not depend on what a future fmpy ships. They are the normative XML Schema 1.0 files.

Files with ``version="2.x"`` are not validated against them (SSP 2.0 adds elements the
1.0 schema does not know; its XSDs are not shipped): cosim's reader checks what it uses
and reports every element it does not support.

Two validators read the same XSDs: :func:`errors` uses xmlschema (pure Python; what the
export and the tests use; an optional dependency, ``pip install cosim[ssp]``), and
:func:`quick_errors` libxml2 through lxml (what an import uses for its notes: building
the schemas takes 0.07 s there against about 2 s, paid by every ``cosim run x.ssp``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent / "schema"
FILES = {"ssd": "SystemStructureDescription.xsd", "ssv": "SystemStructureParameterValues.xsd",
         "ssm": "SystemStructureParameterMapping.xsd",
         "ssb": "SystemStructureSignalDictionary.xsd"}
EXTRA = "ssp"


class SchemaUnavailable(ImportError):
    """xmlschema is not installed."""


@cache
def schema(kind: str):
    """The XMLSchema10 object for ``kind`` (``ssd``, ``ssv``, ``ssm``, ``ssb``)."""
    try:
        import xmlschema
    except ImportError:
        raise SchemaUnavailable(f"validating SSP files needs xmlschema: pip install "
                                f"cosim[{EXTRA}]") from None
    return xmlschema.XMLSchema10(str(FOLDER / FILES[kind]))


@cache
def _lxml_schema(kind: str):
    from lxml import etree
    return etree.XMLSchema(etree.parse(str(FOLDER / FILES[kind])))


def quick_errors(element, kind: str) -> list[tuple[int | None, str]]:
    """:func:`errors` by libxml2 (lxml): ``[(line, message)]``, empty when valid."""
    validator = _lxml_schema(kind)
    if validator.validate(element):
        return []
    return [(e.line or None, e.message) for e in validator.error_log]


def available() -> bool:
    try:
        import xmlschema  # noqa: F401
    except ImportError:
        return False
    return True


def errors(element, kind: str) -> list[tuple[int | None, str]]:
    """Every way ``element`` (an lxml element, e.g. a file's root) violates the SSP 1.0
    schema of ``kind``: ``[(line, message)]``, empty when valid."""
    out = []
    for err in schema(kind).iter_errors(element):
        line = getattr(err, "sourceline", None)
        reason = err.reason or str(err)
        path = getattr(err, "path", None)
        out.append((line, f"{reason}" + (f" (at {path})" if path else "")))
    return out
