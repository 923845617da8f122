"""docs/ssp.md tells the truth: its Python example runs and its printed values are the
code's; the shipped nested_gains.ssd is valid SSP 1.0 and checks as the docs show."""

from __future__ import annotations

import re

from lxml import etree

from cosim.cli.main import main
from cosim.ssp import schema
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "ssp.md").read_text()


def test_python_example_runs_and_prints_what_it_says(fmus, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    (ROOT / "out").mkdir(exist_ok=True)
    code = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)
    assert len(code) == 1
    exec(compile(code[0], "docs/ssp.md", "exec"), {"__name__": "doc_ssp"})  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    documented = [line.split("# ", 1)[1] for line in code[0].splitlines()
                  if line.startswith("# ") or "# [" in line]
    assert [p for p in printed if p.strip()] == [d for d in documented if d.strip()]


def test_nested_gains_is_valid_ssp_and_checks_as_documented(fmus, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    root = etree.parse(str(ROOT / "topologies" / "nested_gains.ssd")).getroot()
    assert schema.errors(root, "ssd") == []
    assert main(["check", "topologies/nested_gains.ssd"]) == 0
    out = capsys.readouterr().out
    documented = next(b for b in re.findall(r"```text\n(.*?)```", DOC, flags=re.S)
                      if "nested_gains.ssd: OK" in b)
    assert out == documented


ERRORS_SSD = """<?xml version="1.0" encoding="UTF-8"?>
<ssd:SystemStructureDescription version="1.0" name="demo"
    xmlns:ssd="http://ssp-standard.org/SSP1/SystemStructureDescription"
    xmlns:ssc="http://ssp-standard.org/SSP1/SystemStructureCommon">
  <ssd:System name="root">
    <ssd:Elements>
      <ssd:Component name="a" source="resources/Gain.fmu">
        <ssd:Connectors>
          <ssd:Connector name="y" kind="output"><ssc:Real/></ssd:Connector>
        </ssd:Connectors>
      </ssd:Component>
      <ssd:Component name="b" source="resources/Gain.fmu">
        <ssd:Connectors>
          <ssd:Connector name="input" kind="input"><ssc:Real/></ssd:Connector>
        </ssd:Connectors>
      </ssd:Component>
      <ssd:Component name="c" source="resources/Gian.fmu"/>
    </ssd:Elements>
    <ssd:Connections>
      <ssd:Connection startElement="a" startConnector="y" endElement="b" endConnector="input"/>
    </ssd:Connections>
  </ssd:System>
</ssd:SystemStructureDescription>
"""


def test_documented_errors_are_real(fmu, tmp_path, monkeypatch, capsys):
    from tests.ssp.sspfiles import archive
    archive(tmp_path / "system.ssp", {"SystemStructure.ssd": ERRORS_SSD,
                                     "resources/Gain.fmu": fmu("Gain", 2)})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "system.ssp"]) == 2
    documented = next(b for b in re.findall(r"```text\n(.*?)```", DOC, flags=re.S)
                      if "cosim check: error" in b)
    assert capsys.readouterr().err == documented
