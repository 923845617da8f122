"""Export: the flagship goes to SSP and back unchanged; what cosim writes validates
against the SSP 1.0 XSDs; cosim-only features come back through annotations."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from lxml import etree

import cosim
from cosim.cli.main import main
from cosim.fmu import description
from cosim.ssp import schema
from tests.conftest import TOPOLOGIES


def graph(topo: cosim.Topology) -> dict:
    """Everything that defines the coupled system, FMUs by content (SHA-256)."""
    nodes = {}
    for n in topo.nodes:
        data = topo.node(n)
        source = description.read(topo.fmu_path(n)).sha256 if data["kind"] == "fmu" \
            else data["source"]
        nodes[n] = (data["kind"], source, data["parameters"], data["start"], data["step"],
                    data["description"])
    conns = sorted((c.source, c.target, c.gain, c.offset, c.delayed, c.check_units,
                    c.extrapolation, c.mapping) for c in topo.connections())
    return {"nodes": nodes, "connections": conns, "run": topo.run.model_dump(),
            "events": topo.events, "monitors": topo.monitors}


def signal_units(topo: cosim.Topology) -> dict:
    report = topo.check()
    return {f"{n}.{v.name}": (v.unit, v.kind) for n, info in report.nodes.items()
            for v in info.interface.variables.values()}


def test_flagship_to_ssp_and_back_is_the_same_graph_and_bit_identical(fmus, tmp_path):
    original = cosim.load(TOPOLOGIES / "datacenter.yaml")
    report = cosim.ssp.export(original, tmp_path / "dc.ssp")
    assert sorted(report.entries) == sorted([
        "SystemStructure.ssd", "resources/parameters.ssv", "resources/Rack.fmu",
        "resources/Cooler.fmu", "resources/cosim/datacenter_blocks.py",
        "resources/cosim/datacenter_blocks.c",  # the mixer's compiled step, beside it
        "resources/cosim/data/it_load.csv"])
    assert len(report.warnings) == 3  # the three Python blocks
    back = cosim.load(tmp_path / "dc.ssp")
    assert back.nodes == original.nodes
    assert graph(back) == graph(original)
    assert signal_units(back) == signal_units(original)
    with cosim.Simulation(back) as sim:  # the mixer's compiled step came along
        assert sim.step_loop()[0] == "step loop: compiled, 8 of 8 nodes native"
    a, b = cosim.run(original), cosim.run(back)
    assert list(a.df.columns) == list(b.df.columns)
    assert np.array_equal(a.df.to_numpy(), b.df.to_numpy())  # bit for bit
    assert np.array_equal(a.df.index.to_numpy(), b.df.index.to_numpy())
    assert a.units == b.units and a.display_units.keys() == b.display_units.keys()


def test_what_cosim_writes_validates_against_the_ssp_schemas(fmus, tmp_path):
    cosim.ssp.export(cosim.load(TOPOLOGIES / "datacenter.yaml"), tmp_path / "dc.ssp")
    with zipfile.ZipFile(tmp_path / "dc.ssp") as zf:
        for name, kind in (("SystemStructure.ssd", "ssd"), ("resources/parameters.ssv", "ssv")):
            root = etree.fromstring(zf.read(name))
            assert schema.errors(root, kind) == [], name
        # SSP packaging: stored or deflated entries, version needed to extract <= 2.0
        assert all(i.compress_type in (0, 8) and i.extract_version <= 20
                   for i in zf.infolist())


def test_cosim_only_features_come_back_through_annotations(fmu, tmp_path):
    t = cosim.Topology("features", stop=2.0, step=0.1, algorithm="jacobi",
                       extrapolation="linear", record=["*.x"])
    t.add_block("src", "step", parameters={"time": 0.5, "after": 2.0, "unit": "1/s"})
    t.add_fmu("d", fmu("Decay", 2), parameters={"k": 2, "x0": 0.5}, step=0.2,
              description="the first decay")
    t.add_fmu("e", fmu("Decay", 3), parameters={"k": 1.0}, start={"u": 0.25})
    t.add_fmu("f", fmu("Decay", 2))
    t.add_fmu("g", fmu("Decay", 2))
    t.connect("src.y", "d.u", gain=0.5, offset=0.1)
    t.connect("d.x", "e.u", check_units=False, delayed=True)
    t.connect("e.x", "f.u", check_units=False, gain=3.0, extrapolation="hold")
    t.add_event(1.0, "g.u", 3.0, until=1.5, name="ramp")
    t.add_monitor("e.x > 0.1", name="rising")
    report = cosim.ssp.export(t, tmp_path / "f.ssp")
    assert {"resources/Decay.fmu", "resources/Decay-2.fmu"} <= set(report.entries)
    text = "\n".join(report.warnings)
    assert "1 scheduled event(s) and 1 monitor(s)" in text and "delayed True" in text
    back = cosim.load(tmp_path / "f.ssp")
    assert graph(back) == graph(t)
    a, b = cosim.run(t), cosim.run(back)
    assert np.array_equal(a.df.to_numpy(), b.df.to_numpy())
    assert [e.time for e in a.events] == [e.time for e in b.events]


def test_mapping_tables_export_as_mapping_transformations(fmu, tmp_path):
    t = cosim.Topology("maps", stop=0.2, step=0.1, record=["b.y_Boolean", "b.y_Int32"])
    t.add_fmu("a", fmu("AllTypes", 2))
    t.add_fmu("b", fmu("AllTypes", 2))
    t.connect("a.y_Boolean", "b.u_Boolean", mapping={True: False, False: True})
    t.connect("a.y_Int32", "b.u_Int32", mapping={1: 41})
    cosim.ssp.export(t, tmp_path / "m.ssp")
    with zipfile.ZipFile(tmp_path / "m.ssp") as zf:
        ssd = zf.read("SystemStructure.ssd").decode()
    assert "BooleanMappingTransformation" in ssd and "IntegerMappingTransformation" in ssd
    back = cosim.load(tmp_path / "m.ssp")
    assert graph(back) == graph(t)
    row = cosim.run(back).df.iloc[-1]
    assert (row["b.y_Boolean"], row["b.y_Int32"]) == (1, 42)  # not(not True); 41 + 1


def test_cli_export_writes_and_warns(fmus, tmp_path, capsys):
    out = tmp_path / "dc.ssp"
    assert main(["export", str(TOPOLOGIES / "datacenter.yaml"), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"{out}: SSP 1.0, 8 components (5 FMU nodes, 3 Python blocks), 23 connections" \
        in captured.out
    assert captured.err.count("warning: ") == 3
    assert main(["check", str(out)]) == 0
    assert "dc.ssp: OK" in capsys.readouterr().out
    assert main(["export", str(TOPOLOGIES / "datacenter.yaml"), "-o",
                 str(tmp_path / "dc.zip")]) == 2


def test_export_refuses_a_topology_with_problems(fmu, tmp_path):
    t = cosim.Topology("bad", stop=1.0, step=0.1)
    t.add_fmu("d", fmu("Decay", 2))
    t.add_fmu("g", fmu("Gain", 2))
    t.connect("d.nothing", "g.u")
    with pytest.raises(cosim.TopologyError, match="unknown source variable"):
        cosim.ssp.export(t, tmp_path / "bad.ssp")
    assert not (tmp_path / "bad.ssp").exists()
