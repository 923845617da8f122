"""SSPs written by hand after the standard's examples import and run; each result is
checked against values computed by hand from the standard's rules.

The Gain FMU is static (``y = k*u + b``), so every value below follows from the
parameters and the transformations with pen and paper.
"""

from __future__ import annotations

import os
import shutil

import pytest

import cosim
from cosim.ssp import archive as ssp_archive
from tests.ssp.sspfiles import archive, ssd, ssv, valid


def gain(name: str, connectors: str, extra: str = "") -> str:
    return (f'<ssd:Component name="{name}" source="resources/Gain.fmu">'
            f"<ssd:Connectors>{connectors}</ssd:Connectors>{extra}</ssd:Component>")


def real(name: str, kind: str, unit: str | None = None) -> str:
    unit_attr = f' unit="{unit}"' if unit else ""
    return f'<ssd:Connector name="{name}" kind="{kind}"><ssc:Real{unit_attr}/></ssd:Connector>'


def inline(*values: tuple[str, float], unit: str | None = None) -> str:
    params = "".join(f'<ssv:Parameter name="{n}"><ssv:Real value="{v}"/></ssv:Parameter>'
                     for n, v in values)
    return ("<ssd:ParameterBindings><ssd:ParameterBinding><ssd:ParameterValues>"
            f'<ssv:ParameterSet version="1.0" name="inline"><ssv:Parameters>{params}'
            "</ssv:Parameters></ssv:ParameterSet></ssd:ParameterValues></ssd:ParameterBinding>"
            "</ssd:ParameterBindings>")


UNITS = """<ssd:Units>
  <ssc:Unit name="km"><ssc:BaseUnit m="1" factor="1000"/></ssc:Unit>
  <ssc:Unit name="m"><ssc:BaseUnit m="1"/></ssc:Unit>
  <ssc:Unit name="mm"><ssc:BaseUnit m="1" factor="0.001"/></ssc:Unit>
</ssd:Units>"""

# Nested systems, connections through system connectors, linear transformations and
# units (SSP 1.0, 5.3.2 Connections; 4.5 Transformation Choice; 4.3.2 Units):
#   source.y = 2*3 + 1 = 7
#   stage.in [km] <- 7 (the Gain's output has no unit: nothing to convert)
#   stage-amp.u = 2*7 + 1 = 15; stage-amp.y = 10*15 = 150 (k bound on the system 'stage')
#   stage.out [m] = 150 -> display.in [mm] = 150 m in mm + 5 mm = 150005 (converted first,
#   then the LinearTransformation in the target's unit)
#   display-scale.y = 1*150005 + 0
NESTED = ssd(f"""
<ssd:System name="Plant">
  <ssd:Elements>
    {gain("source", real("y", "output"), inline(("k", 2), ("b", 1), ("u", 3)))}
    <ssd:System name="stage">
      <ssd:Connectors>{real("in", "input", "km")}{real("out", "output", "m")}</ssd:Connectors>
      {inline(("amp.k", 10))}
      <ssd:Elements>{gain("amp", real("u", "input") + real("y", "output"))}</ssd:Elements>
      <ssd:Connections>
        <ssd:Connection startConnector="in" endElement="amp" endConnector="u">
          <ssc:LinearTransformation factor="2" offset="1"/>
        </ssd:Connection>
        <ssd:Connection startElement="amp" startConnector="y" endConnector="out"/>
      </ssd:Connections>
    </ssd:System>
    <ssd:System name="display">
      <ssd:Connectors>{real("in", "input", "mm")}</ssd:Connectors>
      <ssd:Elements>{gain("scale", real("u", "input") + real("y", "output"))}</ssd:Elements>
      <ssd:Connections>
        <ssd:Connection startConnector="in" endElement="scale" endConnector="u"/>
      </ssd:Connections>
    </ssd:System>
  </ssd:Elements>
  <ssd:Connections>
    <ssd:Connection startElement="source" startConnector="y" endElement="stage"
                    endConnector="in"/>
    <ssd:Connection startElement="stage" startConnector="out" endElement="display"
                    endConnector="in">
      <ssc:LinearTransformation offset="5"/>
    </ssd:Connection>
  </ssd:Connections>
</ssd:System>
{UNITS}
<ssd:DefaultExperiment startTime="0" stopTime="0.05"/>""", name="nested")


def test_nested_systems_linear_transformations_and_units(tmp_path, fmu2):
    path = archive(tmp_path / "nested.ssp", {"SystemStructure.ssd": NESTED,
                                            "resources/Gain.fmu": fmu2("Gain")})
    topo = cosim.load(path)
    assert topo.nodes == ["source", "stage-amp", "display-scale"]
    links = {(c.source, c.target): (c.gain, c.offset, c.check_units) for c in topo.connections()}
    assert links == {("source.y", "stage-amp.u"): (2.0, 1.0, True),
                     ("stage-amp.y", "display-scale.u"): (1000.0, 5.0, True)}
    assert topo.node("stage-amp")["parameters"] == {"k": 10.0}
    assert topo.node("source")["start"] == {"u": 3.0}
    final = cosim.run(topo).df.iloc[-1]
    assert final["source.y"] == 7.0
    assert final["stage-amp.y"] == 150.0
    assert final["display-scale.y"] == 150005.0
    assert topo.run.start == 0.0 and topo.run.stop == 0.05


def test_a_bare_ssd_next_to_its_resources_reads_the_same(tmp_path, fmu2):
    (tmp_path / "resources").mkdir()
    shutil.copy(fmu2("Gain"), tmp_path / "resources" / "Gain.fmu")
    (tmp_path / "nested.ssd").write_text(valid("x.ssd", NESTED))
    topo = cosim.load(tmp_path / "nested.ssd")
    assert cosim.run(topo).df["display-scale.y"].iloc[-1] == 150005.0
    assert topo.node("source")["where"] == f"{tmp_path / 'nested.ssd'}:6"


# Parameter bindings (SSP 1.0, 5.3.4): values from .ssv files and inline, a prefix,
# a parameter mapping (.ssm) with transformations and units, precedence.
DEFAULTS = ssv('<ssv:Parameter name="k"><ssv:Real value="2"/></ssv:Parameter>'
               '<ssv:Parameter name="b"><ssv:Real value="0.5"/></ssv:Parameter>')
PLANT = ssv("""
<ssv:Parameter name="gain_pct"><ssv:Real value="250"/></ssv:Parameter>
<ssv:Parameter name="offset_mm"><ssv:Real value="1500" unit="mm"/></ssv:Parameter>
<ssv:Parameter name="x_init"><ssv:Real value="25" unit="cm"/></ssv:Parameter>
<ssv:Parameter name="unused"><ssv:Real value="1"/></ssv:Parameter>
<ssv:Parameter name="flag"><ssv:Boolean value="true"/></ssv:Parameter>
<ssv:Parameter name="count"><ssv:Integer value="2"/></ssv:Parameter>
<ssv:Parameter name="color"><ssv:Enumeration value="red"/></ssv:Parameter>""",
            units='<ssc:Unit name="mm"><ssc:BaseUnit m="1" factor="0.001"/></ssc:Unit>'
                  '<ssc:Unit name="cm"><ssc:BaseUnit m="1" factor="0.01"/></ssc:Unit>')
MAPPING = """<?xml version="1.0" encoding="UTF-8"?>
<ssm:ParameterMapping xmlns:ssm="http://ssp-standard.org/SSP1/SystemStructureParameterMapping"
    xmlns:ssc="http://ssp-standard.org/SSP1/SystemStructureCommon" version="1.0">
  <ssm:MappingEntry source="gain_pct" target="g2.k">
    <ssc:LinearTransformation factor="0.01"/>
  </ssm:MappingEntry>
  <ssm:MappingEntry source="offset_mm" target="osc.x0"/>
  <ssm:MappingEntry source="x_init" target="osc2.x0" suppressUnitConversion="true">
    <ssc:LinearTransformation factor="0.001"/>
  </ssm:MappingEntry>
  <ssm:MappingEntry source="flag" target="types.u_Boolean">
    <ssc:BooleanMappingTransformation><ssc:MapEntry source="true" target="false"/>
    </ssc:BooleanMappingTransformation>
  </ssm:MappingEntry>
  <ssm:MappingEntry source="count" target="types.u_Int32">
    <ssc:IntegerMappingTransformation><ssc:MapEntry source="2" target="5"/>
    </ssc:IntegerMappingTransformation>
  </ssm:MappingEntry>
  <ssm:MappingEntry source="color" target="types.u_Enumeration">
    <ssc:EnumerationMappingTransformation><ssc:MapEntry source="red" target="blue"/>
    </ssc:EnumerationMappingTransformation>
  </ssm:MappingEntry>
</ssm:ParameterMapping>
"""
GU = real("u", "input") + real("y", "output")
BINDINGS = ssd(f"""
<ssd:System name="root">
  <ssd:ParameterBindings>
    <ssd:ParameterBinding source="resources/defaults.ssv" prefix="g1."/>
    <ssd:ParameterBinding source="resources/plant.ssv">
      <ssd:ParameterMapping source="resources/plant.ssm"/>
    </ssd:ParameterBinding>
    <ssd:ParameterBinding><ssd:ParameterValues>
      <ssv:ParameterSet version="1.0" name="top"><ssv:Parameters>
        <ssv:Parameter name="sub.g3.b"><ssv:Real value="9"/></ssv:Parameter>
        <ssv:Parameter name="sub.g3.u"><ssv:Real value="1"/></ssv:Parameter>
        <ssv:Parameter name="sub.gain"><ssv:Real value="4"/></ssv:Parameter>
        <ssv:Parameter name="nowhere.x"><ssv:Real value="4"/></ssv:Parameter>
      </ssv:Parameters></ssv:ParameterSet>
    </ssd:ParameterValues></ssd:ParameterBinding>
  </ssd:ParameterBindings>
  <ssd:Elements>
    {gain("g1", GU, inline(("k", 100), ("u", 4)))}
    <ssd:Component name="g2" source="resources/Gain.fmu">
      <ssd:Connectors>{GU}</ssd:Connectors>
      <ssd:ParameterBindings>
        <ssd:ParameterBinding><ssd:ParameterValues><ssv:ParameterSet version="1.0" name="a">
          <ssv:Parameters><ssv:Parameter name="b"><ssv:Real value="1"/></ssv:Parameter>
          <ssv:Parameter name="u"><ssv:Real value="2"/></ssv:Parameter></ssv:Parameters>
        </ssv:ParameterSet></ssd:ParameterValues></ssd:ParameterBinding>
        <ssd:ParameterBinding><ssd:ParameterValues><ssv:ParameterSet version="1.0" name="b">
          <ssv:Parameters><ssv:Parameter name="b"><ssv:Real value="3"/></ssv:Parameter>
          </ssv:Parameters>
        </ssv:ParameterSet></ssd:ParameterValues></ssd:ParameterBinding>
      </ssd:ParameterBindings>
    </ssd:Component>
    <ssd:Component name="osc" source="resources/Oscillator.fmu"/>
    <ssd:Component name="osc2" source="resources/Oscillator.fmu"/>
    <ssd:Component name="types" source="resources/AllTypes.fmu"/>
    <ssd:System name="sub">
      <ssd:Connectors><ssd:Connector name="gain" kind="parameter"><ssc:Real/></ssd:Connector>
      </ssd:Connectors>
      <ssd:ParameterBindings>
        <ssd:ParameterBinding source="resources/defaults.ssv" prefix="g3."/>
      </ssd:ParameterBindings>
      <ssd:Elements>
        {gain("g3", GU + '<ssd:Connector name="k" kind="parameter"><ssc:Real/></ssd:Connector>')}
      </ssd:Elements>
      <ssd:Connections>
        <ssd:Connection startConnector="gain" endElement="g3" endConnector="k"/>
      </ssd:Connections>
    </ssd:System>
  </ssd:Elements>
</ssd:System>
<ssd:DefaultExperiment startTime="0" stopTime="0.1"/>""", name="bindings")


def test_parameter_bindings_mappings_prefix_units_and_precedence(tmp_path, fmu2):
    path = archive(tmp_path / "bindings.ssp", {
        "SystemStructure.ssd": BINDINGS, "resources/defaults.ssv": DEFAULTS,
        "resources/plant.ssv": PLANT, "resources/plant.ssm": valid("m.ssm", MAPPING),
        "resources/Gain.fmu": fmu2("Gain"), "resources/Oscillator.fmu": fmu2("Oscillator"),
        "resources/AllTypes.fmu": fmu2("AllTypes")})
    topo = cosim.load(path)
    p = {n: topo.node(n)["parameters"] for n in topo.nodes}
    s = {n: topo.node(n)["start"] for n in topo.nodes}
    # root binding (prefix "g1.") overrides the component's own k=100; u stays
    assert (p["g1"], s["g1"]) == ({"k": 2.0, "b": 0.5}, {"u": 4.0})
    # mapping: 250 * 0.01; of two bindings on g2 the later one (b=3) wins
    assert (p["g2"], s["g2"]) == ({"k": 2.5, "b": 3.0}, {"u": 2.0})
    # 1500 mm converted into the FMU's unit m; with suppressUnitConversion 25 * 0.001
    assert p["osc"] == {"x0": 1.5}
    assert p["osc2"] == {"x0": 0.025}
    # tables: true -> false, 2 -> 5, red -> blue (item value 3 in the FMU's Color type)
    assert s["types"] == {"u_Boolean": False, "u_Int32": 5, "u_Enumeration": 3}
    # sub's own binding gives g3 k=2, b=0.5; the root's (higher) b=9 and, through the
    # system's parameter connector 'gain', k=4
    assert (p["sub-g3"], s["sub-g3"]) == ({"k": 4.0, "b": 9.0}, {"u": 1.0})
    notes = "\n".join(topo.graph.graph["notes"])
    assert "1 parameter value(s) match no variable" in notes and "nowhere.x" in notes
    topo.run = topo.run.model_copy(update={"record": [
        "g*.y", "sub-g3.y", "osc*.x", "types.y_Boolean", "types.y_Int32",
        "types.y_Enumeration"]})
    first = cosim.run(topo).df.iloc[0]
    assert (first["g1.y"], first["g2.y"], first["sub-g3.y"]) == (8.5, 8.0, 13.0)
    assert (first["osc.x"], first["osc2.x"]) == (1.5, 0.025)
    # AllTypes: y_Boolean = not u, y_Int32 = u + 1, y_Enumeration = item after u
    assert (first["types.y_Boolean"], first["types.y_Int32"],
            first["types.y_Enumeration"]) == (1, 6, 1)


ENUMS = """<ssd:Enumerations><ssc:Enumeration name="Color">
  <ssc:Item name="red" value="1"/><ssc:Item name="green" value="2"/>
  <ssc:Item name="blue" value="3"/></ssc:Enumeration></ssd:Enumerations>"""


def types_connectors(prefix: str, kind: str) -> str:
    """AllTypes' Boolean, Int32 and Enumeration inputs (``u_``) or outputs (``y_``)."""
    types = {"Boolean": "<ssc:Boolean/>", "Int32": "<ssc:Integer/>",
             "Enumeration": '<ssc:Enumeration name="Color"/>'}
    return "".join(f'<ssd:Connector name="{prefix}_{t}" kind="{kind}">{e}</ssd:Connector>'
                   for t, e in types.items())


# Mapping transformations on connections (SSP 1.0, 4.5.2-4.5.4), one of them through a
# system connector: a's outputs for its default inputs are y_Boolean = true, y_Int32 = 1,
# y_Enumeration = green (2); mapped true -> false, 1 -> 7 (then 7 -> 9 at the system
# connector), green -> blue; b's outputs: not false = true, 9 + 1 = 10, after blue: red.
MAPS = ssd(f"""
<ssd:System name="root">
  <ssd:Elements>
    <ssd:Component name="a" source="resources/AllTypes.fmu">
      <ssd:Connectors>{types_connectors("y", "output")}
      </ssd:Connectors>
    </ssd:Component>
    <ssd:System name="sub">
      <ssd:Connectors><ssd:Connector name="n" kind="input"><ssc:Integer/></ssd:Connector>
      </ssd:Connectors>
      <ssd:Elements>
        <ssd:Component name="b" source="resources/AllTypes.fmu">
          <ssd:Connectors>{types_connectors("u", "input")}
          </ssd:Connectors>
        </ssd:Component>
      </ssd:Elements>
      <ssd:Connections>
        <ssd:Connection startConnector="n" endElement="b" endConnector="u_Int32">
          <ssc:IntegerMappingTransformation><ssc:MapEntry source="7" target="9"/>
          </ssc:IntegerMappingTransformation>
        </ssd:Connection>
      </ssd:Connections>
    </ssd:System>
    <ssd:Component name="c" source="resources/AllTypes.fmu">
      <ssd:Connectors>{types_connectors("u", "input")}
      </ssd:Connectors>
    </ssd:Component>
  </ssd:Elements>
  <ssd:Connections>
    <ssd:Connection startElement="a" startConnector="y_Boolean" endElement="c"
                    endConnector="u_Boolean">
      <ssc:BooleanMappingTransformation><ssc:MapEntry source="true" target="false"/>
      </ssc:BooleanMappingTransformation>
    </ssd:Connection>
    <ssd:Connection startElement="a" startConnector="y_Int32" endElement="sub"
                    endConnector="n">
      <ssc:IntegerMappingTransformation><ssc:MapEntry source="1" target="7"/>
      </ssc:IntegerMappingTransformation>
    </ssd:Connection>
    <ssd:Connection startElement="a" startConnector="y_Enumeration" endElement="c"
                    endConnector="u_Enumeration">
      <ssc:EnumerationMappingTransformation><ssc:MapEntry source="green" target="blue"/>
      </ssc:EnumerationMappingTransformation>
    </ssd:Connection>
  </ssd:Connections>
</ssd:System>
{ENUMS}
<ssd:DefaultExperiment startTime="0" stopTime="0.2"/>""", name="maps")


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_mapping_transformations_on_connections(tmp_path, fmu2, algorithm):
    path = archive(tmp_path / "maps.ssp", {"SystemStructure.ssd": MAPS,
                                          "resources/AllTypes.fmu": fmu2("AllTypes")})
    topo = cosim.load(path)
    maps = {c.target: c.mapping for c in topo.connections()}
    # the two integer tables composed: 1 -> 7 -> 9, and a 7 from a passes to the second
    assert maps == {"c.u_Boolean": ((True, False),), "sub-b.u_Int32": ((1, 9), (7, 9)),
                    "c.u_Enumeration": ((2, 3),)}
    topo.run = topo.run.model_copy(update={"algorithm": algorithm, "record": [
        "c.y_Boolean", "sub-b.y_Int32", "c.y_Enumeration"]})
    df = cosim.run(topo).df
    # a's outputs never change, so every row (from t = 0, as the map adds no delay) is:
    assert (df["c.y_Boolean"] == 1).all()
    assert (df["sub-b.y_Int32"] == 10).all()
    assert (df["c.y_Enumeration"] == 1).all()


def osp_and_oms(step_annotation: str, version: str = "1.0") -> str:
    return ssd(f"""
<ssd:System name="root">
  <ssd:Elements>
    <ssd:Component name="g" source="resources/Gain.fmu">
      <ssd:Annotations><ssc:Annotation type="com.opensimulationplatform">
        <osp:StepSizeHint xmlns:osp="http://opensimulationplatform.com/SSP/OSPAnnotations"
                          value="0.04"/>
      </ssc:Annotation></ssd:Annotations>
    </ssd:Component>
  </ssd:Elements>
  {step_annotation if "oms" in step_annotation else ""}
</ssd:System>
<ssd:DefaultExperiment startTime="0.5" stopTime="1.5">
  {step_annotation if "osp" in step_annotation else ""}
</ssd:DefaultExperiment>
<ssd:Annotations><ssc:Annotation type="com.example.tool"><x/></ssc:Annotation>
</ssd:Annotations>""", version=version)


LIBCOSIM = """<ssd:Annotations><ssc:Annotation type="com.opensimulationplatform">
  <osp:Algorithm xmlns:osp="http://opensimulationplatform.com/SSP/OSPAnnotations">
    <osp:FixedStepAlgorithm baseStepSize="0.02"/></osp:Algorithm>
</ssc:Annotation></ssd:Annotations>"""
OMSIMULATOR = """<ssd:Annotations><ssc:Annotation type="org.openmodelica">
  <oms:Annotations
      xmlns:oms="https://raw.githubusercontent.com/OpenModelica/OMSimulator/master/schema/oms.xsd">
    <oms:SimulationInformation>
      <oms:FixedStepMaster description="oms-ma" stepSize="0.005000"/>
    </oms:SimulationInformation>
  </oms:Annotations>
</ssc:Annotation></ssd:Annotations>"""


@pytest.mark.parametrize(("annotation", "step"), [(LIBCOSIM, 0.02), (OMSIMULATOR, 0.005)])
def test_run_settings_from_default_experiment_and_tool_annotations(tmp_path, fmu2,
                                                                   annotation, step):
    path = archive(tmp_path / "steps.ssp", {"SystemStructure.ssd": osp_and_oms(annotation),
                                           "resources/Gain.fmu": fmu2("Gain")})
    topo = cosim.load(path)
    assert (topo.run.start, topo.run.stop, topo.run.step) == (0.5, 1.5, step)
    assert topo.node("g")["step"] == 0.04
    assert any("'com.example.tool'" in n and "ignored" in n
               for n in topo.graph.graph["notes"])


def test_an_ssp_2_0_file_reads_with_a_note(tmp_path, fmu2):
    # not checked against the SSP 1.0 XSDs: its version attribute is 2.0 (valid SSP 2.0)
    path = archive(tmp_path / "v2.ssp", {
        "SystemStructure.ssd": osp_and_oms(LIBCOSIM, version="2.0"),
        "resources/Gain.fmu": fmu2("Gain")}, check=False)
    topo = cosim.load(path)
    assert topo.run.step == 0.02
    assert any("SSP 2.0" in n for n in topo.graph.graph["notes"])


def test_the_extraction_is_shared_and_stale_ones_are_swept(tmp_path, fmu2):
    files = {"SystemStructure.ssd": NESTED, "resources/Gain.fmu": fmu2("Gain")}
    first = archive(tmp_path / "a.ssp", files)
    second = tmp_path / "b.ssp"
    second.write_bytes(first.read_bytes())  # same bytes (zip entries carry times)
    a, b = cosim.load(first), cosim.load(second)  # same bytes: same folder
    root = a.graph.graph["ssp"]["root"]
    assert b.graph.graph["ssp"]["root"] == root
    assert a.fmu_path("source").is_relative_to(root)
    top = ssp_archive.cache_root()
    stale = top / ("0" * 24)
    stale.mkdir(exist_ok=True)
    os.utime(stale, (0, 0))
    assert ssp_archive.sweep(top) >= 1
    assert not stale.exists()
