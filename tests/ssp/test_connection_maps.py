"""Mapping tables on connections (``map:``), the topology option SSP's Boolean/Integer/
Enumeration mapping transformations import into: in YAML, checked, run by both masters
without delay, and kept off the compiled loop."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import cosim
from cosim.fast import explain


def topology(tmp_path, fmu, connections: str, algorithm: str = "gauss-seidel") -> Path:
    path = tmp_path / "maps.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: maps
        run: {{start: 0, stop: 0.3, step: 0.1, algorithm: {algorithm},
              record: [b.y_Boolean, b.y_Int32, b.y_Enumeration]}}
        nodes:
          a: {{fmu: {fmu('AllTypes', 2)}}}
          b: {{fmu: {fmu('AllTypes', 2)}}}
        connections:
        """) + textwrap.indent(textwrap.dedent(connections), "  "))
    return path


MAPS = """\
- {from: a.y_Boolean, to: b.u_Boolean, map: {true: false, false: true}}
- {from: a.y_Int32, to: b.u_Int32, map: {1: 20, 2: 30}}
- {from: a.y_Enumeration, to: b.u_Enumeration, map: {2: 3}}
"""


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_maps_in_yaml_run_without_delay(tmp_path, fmu, algorithm):
    topo = cosim.load(topology(tmp_path, fmu, MAPS, algorithm))
    assert {c.target: c.mapping for c in topo.connections()} == {
        "b.u_Boolean": ((True, False), (False, True)), "b.u_Int32": ((1, 20), (2, 30)),
        "b.u_Enumeration": ((2, 3),)}
    with cosim.Simulation(topo) as sim:
        assert explain(sim) == "the system has mapping tables on connections"
        df = sim.run().df
    # a (default inputs): y_Boolean = true, y_Int32 = 1, y_Enumeration = green (2);
    # b gets false, 20, blue (3) and gives true, 21, red (1), from the first row on
    assert (df["b.y_Boolean"] == 1).all() and (df["b.y_Int32"] == 21).all()
    assert (df["b.y_Enumeration"] == 1).all()


def test_saving_keeps_the_maps(tmp_path, fmu):
    topo = cosim.load(topology(tmp_path, fmu, MAPS))
    again = cosim.load(topo.save(tmp_path / "again.yaml"))
    assert [c.mapping for c in again.connections()] == [c.mapping for c in topo.connections()]


@pytest.mark.parametrize(("connection", "message"), [
    ("- {from: a.y_Float64, to: b.u_Float64, map: {1: 2}}",
     "a mapping table ('map') applies to integer and boolean values, but a.y_Float64 is "
     "real and b.u_Float64 is real"),
    ("- {from: a.y_Int32, to: b.u_Int32, map: {1: 2}, gain: 2}",
     "has both a mapping table and gain/offset"),
])
def test_maps_that_cannot_apply_are_problems_at_their_line(tmp_path, fmu, connection, message):
    path = topology(tmp_path, fmu, connection)
    with pytest.raises(cosim.TopologyError) as err:
        cosim.load(path).check().raise_if_problems()
    assert f"{path}:8: b." in str(err.value)  # the connection's line and message in str(err.value)


def test_a_map_inside_an_algebraic_loop_is_a_problem(tmp_path, fmu):
    # y_Int32 depends directly on u_Int32 in both FMUs: a closed loop through the map
    path = topology(tmp_path, fmu, """\
        - {from: a.y_Int32, to: b.u_Int32, map: {1: 2}}
        - {from: b.y_Int32, to: a.u_Int32}
        """)
    with pytest.raises(cosim.TopologyError, match="has a mapping table and lies in an "
                                                  "algebraic loop; mark it 'delayed: true'"):
        cosim.load(path).check().raise_if_problems()
