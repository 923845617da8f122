"""Writing SSP archives in tests: XML from strings, FMUs from fmus/build, zipped here.

Every XML file a test writes goes through :func:`valid` first (unless the test is about
an invalid file), so the files the tests read are checked against the SSP 1.0 XSDs.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from cosim.ssp import schema

NS = ('xmlns:ssd="http://ssp-standard.org/SSP1/SystemStructureDescription" '
      'xmlns:ssc="http://ssp-standard.org/SSP1/SystemStructureCommon" '
      'xmlns:ssv="http://ssp-standard.org/SSP1/SystemStructureParameterValues" '
      'xmlns:ssm="http://ssp-standard.org/SSP1/SystemStructureParameterMapping"')


def ssd(body: str, name: str = "test", version: str = "1.0") -> str:
    """A SystemStructureDescription around ``body`` (System, Units, DefaultExperiment)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ssd:SystemStructureDescription {NS} version="{version}" name="{name}">\n'
            f'{body}\n</ssd:SystemStructureDescription>\n')


def ssv(parameters: str, units: str = "", name: str = "values") -> str:
    units_el = f"<ssv:Units>{units}</ssv:Units>" if units else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ssv:ParameterSet {NS} version="1.0" name="{name}">'
            f'<ssv:Parameters>{parameters}</ssv:Parameters>{units_el}</ssv:ParameterSet>\n')


def ssm(entries: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ssm:ParameterMapping {NS} version="1.0">{entries}</ssm:ParameterMapping>\n')


KINDS = {".ssd": "ssd", ".ssv": "ssv", ".ssm": "ssm"}


def valid(name: str, text: str) -> str:
    """``text`` after asserting it conforms to the SSP 1.0 schema of its kind."""
    root = etree.fromstring(text.encode())
    errors = schema.errors(root, KINDS[Path(name).suffix])
    assert not errors, f"{name} does not validate: {errors}"
    return text


def archive(path: Path, files: dict[str, str | bytes | Path], *, check: bool = True) -> Path:
    """Zip ``files`` (entry name -> XML text, bytes, or a file to copy) into ``path``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            if isinstance(content, Path):
                zf.write(content, name)
            elif isinstance(content, str):
                zf.writestr(name, valid(name, content) if check and name.endswith(
                    tuple(KINDS)) else content)
            else:
                zf.writestr(name, content)
    return path
