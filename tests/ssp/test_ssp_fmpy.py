"""Cross-tool: an SSP cosim exports runs in fmpy's SSP simulator with cosim's results,
and an SSP that fmpy reads is read by cosim with fmpy's results.

fmpy's ``simulate_ssp`` (fmpy 0.3.32) is a Jacobi master that (1) starts every
connector at 0.0 and exchanges nothing before the first step, (2) labels the outputs
after a step with the step's start time, (3) ignores transformations, and (4) applies
parameters only from the parameter set passed to it. The systems below are chosen so
that (1) and (3) do not matter (every coupled output starts at 0; no transformation),
(2) is undone by shifting fmpy's times by one step, and (4) by passing it the SSV cosim
wrote. What remains is a comparison of two masters on one system.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from fmpy.ssp.simulation import simulate_ssp
from fmpy.ssp.ssd import read_ssd, read_ssv

import cosim
from tests.ssp.sspfiles import archive, ssd, ssv

STEP = 0.01


def two_masses(fmu2) -> cosim.Topology:
    """Two oscillators coupled by a spring (no damping in the spring, so the velocities
    it gets do not matter at the first step); a Gain FMU gives mass 2 the opposite
    force. Mass 1 starts at x = 0 with v = 1: every coupled position starts at 0."""
    t = cosim.Topology("two_masses", stop=10.0, step=STEP, algorithm="jacobi")
    t.add_fmu("mass1", fmu2("Oscillator"), parameters={"m": 1.0, "k": 1.0, "c": 0.1,
                                                       "x0": 0.0, "v0": 1.0})
    t.add_fmu("mass2", fmu2("Oscillator"), parameters={"m": 2.0, "k": 2.0, "c": 0.0,
                                                       "x0": 0.0, "v0": 0.0})
    t.add_fmu("spring", fmu2("Spring"), parameters={"k": 10.0, "c": 0.0})
    t.add_fmu("neg", fmu2("Gain"), parameters={"k": -1.0})
    for a, b in [("mass1.x", "spring.x1"), ("mass1.v", "spring.v1"), ("mass2.x", "spring.x2"),
                 ("mass2.v", "spring.v2"), ("spring.F", "mass1.F"), ("spring.F", "neg.u"),
                 ("neg.y", "mass2.F")]:
        t.connect(a, b)
    return t


def fmpy_run(path, stop: float, names: list[str], parameters=None) -> pd.DataFrame:
    res = simulate_ssp(str(path), stop_time=stop, step_size=STEP, parameter_set=parameters)
    df = pd.DataFrame({n: res[n] for n in names}, index=res["time"] + STEP)
    df.index.name = "time"
    return df


def test_cosim_exported_ssp_runs_in_fmpy_with_cosims_results(fmu2, tmp_path):
    topo = two_masses(fmu2)
    path = tmp_path / "two_masses.ssp"
    assert cosim.ssp.export(topo, path).warnings == []
    read_ssd(str(path))  # fmpy validates it against the SSP schema as it reads it
    values = read_ssv(str(path), resource="resources/parameters.ssv")
    names = ["mass1.x", "mass2.x", "spring.F", "neg.y"]
    reference = fmpy_run(path, 10.0, names, values)
    ours = cosim.run(cosim.load(path)).df[names].iloc[1:]  # fmpy records no t = 0 row
    report = cosim.compare(ours, reference)
    assert report.passed, report
    assert report.signals[0].samples == 1000
    assert float(np.abs(ours["mass2.x"].iloc[-1])) > 0.01  # the coupling did move mass 2


# Nested, in the shape fmpy's reader handles (connections into a subsystem through its
# input connector): a Decay FMU (x0 = 0, u = 1, k = 1: x = 1 - exp(-t)) drives, through
# system 'plant', the force on an oscillator; parameters and the start value in an SSV
# bound on the root, with hierarchical names (fmpy applies the same file when it is
# passed to simulate_ssp).
VALUES = ssv('''<ssv:Parameter name="drive.k"><ssv:Real value="1"/></ssv:Parameter>
<ssv:Parameter name="drive.x0"><ssv:Real value="0"/></ssv:Parameter>
<ssv:Parameter name="drive.u"><ssv:Real value="1"/></ssv:Parameter>
<ssv:Parameter name="plant.mass.x0"><ssv:Real value="1"/></ssv:Parameter>''')
NESTED = ssd("""
<ssd:System name="root">
  <ssd:ParameterBindings>
    <ssd:ParameterBinding source="resources/values.ssv"/>
  </ssd:ParameterBindings>
  <ssd:Elements>
    <ssd:Component name="drive" source="resources/Decay.fmu">
      <ssd:Connectors>
        <ssd:Connector name="x" kind="output"><ssc:Real/></ssd:Connector>
      </ssd:Connectors>
    </ssd:Component>
    <ssd:System name="plant">
      <ssd:Connectors>
        <ssd:Connector name="force" kind="input"><ssc:Real/></ssd:Connector>
      </ssd:Connectors>
      <ssd:Elements>
        <ssd:Component name="mass" source="resources/Oscillator.fmu">
          <ssd:Connectors>
            <ssd:Connector name="F" kind="input"><ssc:Real/></ssd:Connector>
            <ssd:Connector name="x" kind="output"><ssc:Real/></ssd:Connector>
          </ssd:Connectors>
        </ssd:Component>
      </ssd:Elements>
      <ssd:Connections>
        <ssd:Connection startConnector="force" endElement="mass" endConnector="F"/>
      </ssd:Connections>
    </ssd:System>
  </ssd:Elements>
  <ssd:Connections>
    <ssd:Connection startElement="drive" startConnector="x" endElement="plant"
                    endConnector="force" suppressUnitConversion="true"/>
  </ssd:Connections>
</ssd:System>
<ssd:DefaultExperiment startTime="0" stopTime="2"/>""", name="nested")


def test_an_ssp_fmpy_reads_is_read_by_cosim_with_fmpys_results(fmu2, tmp_path):
    path = archive(tmp_path / "nested.ssp", {
        "SystemStructure.ssd": NESTED, "resources/values.ssv": VALUES,
        "resources/Decay.fmu": fmu2("Decay"), "resources/Oscillator.fmu": fmu2("Oscillator")})
    fmpy_ssd = read_ssd(str(path))
    assert [c.name for c in fmpy_ssd.system.elements] == ["drive", "plant"]
    values = read_ssv(str(path), resource="resources/values.ssv")
    reference = fmpy_run(path, 2.0, ["plant.mass.x"], values).rename(
        columns={"plant.mass.x": "plant-mass.x"})
    topo = cosim.load(path)
    assert topo.nodes == ["drive", "plant-mass"]
    assert [str(c) for c in topo.connections()] == ["drive.x -> plant-mass.F"]
    assert topo.node("drive")["parameters"] == {"k": 1.0, "x0": 0.0}
    assert topo.node("drive")["start"] == {"u": 1.0}
    topo.run = topo.run.model_copy(update={"step": STEP, "algorithm": "jacobi"})
    ours = cosim.run(topo).df[["plant-mass.x"]].iloc[1:]
    assert cosim.compare(ours, reference).passed
    # and both are near the truth: x'' + x = 1 - exp(-t), x(0) = 1, x'(0) = 0 has
    # x = 1 - exp(-t)/2 + (cos t - sin t)/2; the force held over each step of 10 ms
    # lags by half a step on average, an error of order h * max|F'| = 0.01
    t = ours.index.to_numpy()
    exact = 1 - np.exp(-t) / 2 + (np.cos(t) - np.sin(t)) / 2
    assert np.max(np.abs(ours["plant-mass.x"] - exact)) < 0.01
