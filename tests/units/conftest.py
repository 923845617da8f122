"""Fixtures for unit tests: the project's Gain FMU with unit definitions written in."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cosim import Block, Port

UNIT_DEFINITIONS = {
    2: """  <UnitDefinitions>
    <Unit name="s"><BaseUnit s="1" /></Unit>
    <Unit name="K"><BaseUnit K="1" /><DisplayUnit name="degF" factor="1.8" offset="-459.67" /></Unit>
    <Unit name="kPa_g"><BaseUnit kg="1" m="-1" s="-2" factor="1000" offset="101325" />
      <DisplayUnit name="bar_g" factor="0.01" /></Unit>
  </UnitDefinitions>
  <TypeDefinitions>
    <SimpleType name="TemperatureDifference"><Real unit="K" relativeQuantity="true" /></SimpleType>
  </TypeDefinitions>
""",
    3: """  <UnitDefinitions>
    <Unit name="s"><BaseUnit s="1" /></Unit>
    <Unit name="K"><BaseUnit K="1" /><DisplayUnit name="degF" factor="1.8" offset="-459.67" /></Unit>
    <Unit name="kPa_g"><BaseUnit kg="1" m="-1" s="-2" factor="1000" offset="101325" />
      <DisplayUnit name="bar_g" factor="0.01" /></Unit>
  </UnitDefinitions>
  <TypeDefinitions>
    <Float64Type name="TemperatureDifference" unit="K" relativeQuantity="true" />
  </TypeDefinitions>
""",
}


def _edit(xml: str, version: int) -> str:
    """Gain with u a temperature difference [K] and y a gauge pressure [kPa_g]."""
    start = xml.index("  <UnitDefinitions>")
    end = xml.index("</UnitDefinitions>\n") + len("</UnitDefinitions>\n")
    xml = xml[:start] + UNIT_DEFINITIONS[version] + xml[end:]
    if version == 2:
        xml = xml.replace('causality="input" variability="continuous">\n      <Real start="0" />',
                          'causality="input" variability="continuous">\n'
                          '      <Real declaredType="TemperatureDifference" start="0" />')
        xml = xml.replace('initial="calculated">\n      <Real />',
                          'initial="calculated">\n      <Real unit="kPa_g" displayUnit="bar_g" />')
    else:
        xml = xml.replace('causality="input" variability="continuous" start="0" />',
                          'causality="input" variability="continuous" start="0" '
                          'declaredType="TemperatureDifference" />')
        xml = xml.replace('initial="calculated" />',
                          'initial="calculated" unit="kPa_g" displayUnit="bar_g" />')
    assert xml.count('declaredType="TemperatureDifference"') == 1
    assert xml.count('unit="kPa_g"') == 1
    return xml


@pytest.fixture(scope="session")
def gain_with_units(fmus, tmp_path_factory):
    """``gain_with_units(version)``: the built Gain FMU, its model description declaring
    units (same binary, same GUID): ``u`` a temperature difference in K (through a
    declared type with relativeQuantity), ``y`` in kPa_g (kPa above 101325 Pa, an FMI
    <BaseUnit> with factor and offset) shown in bar_g."""
    folder = tmp_path_factory.mktemp("gain_units")

    def make(version: int = 2) -> Path:
        out = folder / f"GainUnits{version}.fmu"
        if not out.exists():
            with zipfile.ZipFile(fmus[("Gain", version)]) as zin, \
                    zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
                for info in zin.infolist():
                    data = zin.read(info.filename)
                    if info.filename == "modelDescription.xml":
                        data = _edit(data.decode(), version).encode()
                    zout.writestr(info, data)
        return out
    return make


class Probe(Block):
    """Passes its inputs on: ``P_out = P`` [W], ``T_out = T`` [K], ``p_out = p`` [Pa]."""

    inputs = {"P": Port(unit="W"), "T": Port(unit="K", start=0.0), "p": Port(unit="Pa")}
    outputs = {"P_out": Port(unit="W"), "T_out": Port(unit="K"), "p_out": Port(unit="Pa")}
    feedthrough = {"P_out": ["P"], "T_out": ["T"], "p_out": ["p"]}

    def step(self, t, dt, inputs):
        return {"P_out": inputs["P"], "T_out": inputs["T"], "p_out": inputs["p"]}
