"""A topology built in Python, saved to YAML and loaded back, is the same system."""

from __future__ import annotations

import networkx as nx
import numpy as np
import yaml

import cosim
from tests.conftest import TOPOLOGIES


def test_python_topology_saved_and_loaded_runs_identically(tmp_path, fmu):
    topo = cosim.Topology("roundtrip", stop=1.0, step=0.05, algorithm="jacobi",
                          extrapolation="linear")
    topo.add_block("src", "ramp", parameters={"start_time": 0.2, "duration": 0.5,
                                              "height": 2.0, "unit": "1/s"})
    topo.add_fmu("d", fmu("Decay"), parameters={"k": 2.0, "x0": 0.5})
    topo.add_fmu("g", fmu("Gain", 3), parameters={"k": -1.5})
    topo.connect("src.y", "d.u")
    topo.connect("d.x", "g.u", gain=2.0, offset=0.1)
    topo.add_monitor("g.y < -1.0", name="low")
    (tmp_path / "sub").mkdir()
    path = topo.save(tmp_path / "sub" / "saved.yaml")
    data = yaml.safe_load(path.read_text())
    assert data["nodes"]["d"]["fmu"].startswith("..")  # rewritten relative to the file
    assert data["run"]["extrapolation"] == "linear"
    again = cosim.load(path)
    assert sorted(again.graph.nodes) == sorted(topo.graph.nodes)
    assert nx.is_isomorphic(topo.graph, again.graph)
    assert again.graph.nodes["d"]["parameters"] == {"k": 2.0, "x0": 0.5}
    assert [str(c) for c in again.connections()] == [str(c) for c in topo.connections()]
    assert [(c.gain, c.offset) for c in again.connections()] == [(1.0, 0.0), (2.0, 0.1)]
    assert again.monitors == topo.monitors and again.run == topo.run
    a, b = cosim.run(topo), cosim.run(again)
    assert np.array_equal(a.df.to_numpy(), b.df.to_numpy())
    assert [e.time for e in a.events] == [e.time for e in b.events] != []


def test_shipped_topology_round_trips(tmp_path, fmus):
    topo = cosim.load(TOPOLOGIES / "datacenter_outage.yaml")
    copy = cosim.load(topo.save(tmp_path / "dc.yaml"))
    assert copy.events == topo.events and copy.monitors == topo.monitors
    assert sorted(map(str, copy.connections())) == sorted(map(str, topo.connections()))
