"""Model exchange in topologies: the syntax (interface, clusters, solver keys), every
problem at once with file:line, what ``cosim check`` and ``cosim inspect`` show, FMUs
that only have model exchange, and the contracted view the master runs."""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from cosim.cli.main import main
from cosim.errors import ConfigError, TopologyError
from cosim.topology.contraction import system_view
from tests.conftest import TOPOLOGIES


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, fmu, body: str):
    p = tmp_path / "t.yaml"
    p.write_text(body.format(osc=fmu("Oscillator"), spring=fmu("Spring"), gain=fmu("Gain")))
    return p


BAD = """\
name: bad
run: {{stop: 1, step: 0.01}}
nodes:
  mass1: {{fmu: {osc}, rtol: 1.0e-8}}
  mass2: {{fmu: {osc}, interface: co-simulation}}
  spring: {{fmu: {spring}}}
  gain: {{fmu: {gain}, solver: rk45}}
  gme: {{fmu: {gain}, interface: model-exchange}}
  ctrl: {{block: pid}}
  src: {{block: constant, interface: model-exchange}}
clusters:
  mech: {{nodes: [mass1, mass2, spring, sprung, ctrl]}}
  other: {{nodes: [spring, gain]}}
connections:
  - mass1.x -> spring.x1
  - {{from: spring.F, to: mass1.F, delayed: true}}
  - {{from: spring.F, to: spring.x2, check_units: false}}
"""


def test_every_cluster_problem_at_once_with_file_and_line(tmp_path, capsys, fmu):
    p = write(tmp_path, fmu, BAD)
    code, _, err = cli(capsys, "check", p)
    assert code == 2 and "11 problems" in err
    expected = [
        (7, "gain: Gain.fmu has no model-exchange interface (a cluster lists it)"),
        (8, "gme: Gain.fmu has no model-exchange interface (interface: model-exchange)"),
        (12, "mech: cluster mech lists unknown node 'sprung' (did you mean 'spring'?)"),
        (4, "mass1: rtol: set solver settings on cluster mech"),
        (5, "mass2: cluster mech lists it, but it says interface: co-simulation"),
        (9, "ctrl: the pid block has state"),
        (13, "spring: is listed by clusters mech and other"),
        (7, "gain: solver: set solver settings on cluster other"),
        (10, "src: interface: is for FMU nodes"),
        (16, "mass1.F: delayed: connections inside cluster mech are solved"),
        (12, "mech: algebraic loop inside cluster mech: spring.F -> spring.x2 -> "
             "spring.F"),
    ]
    for line, text in expected:
        assert f"{p}:{line}: {text}" in err, (line, text, err)


def test_check_refuses_what_the_simulation_cannot_build(tmp_path, capsys, fmu):
    """Labeled has a String output: as co-simulation it runs and records it; as model
    exchange, strings cannot cross the cluster, and `cosim check` says so (exit 2, the
    node and the port) instead of OK, as the run would fail there."""
    for interface in ("co-simulation", "model-exchange"):
        (tmp_path / f"{interface}.yaml").write_text(
            f"name: labeled\nrun: {{stop: 1, step: 0.1}}\n"
            f"nodes:\n  d: {{fmu: {fmu('Labeled')}, interface: {interface}}}\n")
    code, out, _ = cli(capsys, "check", tmp_path / "co-simulation.yaml")
    assert code == 0 and "co-simulation.yaml: OK" in out
    assert cosim.run(tmp_path / "co-simulation.yaml").df["d.label"].iloc[-1] == "decay k=1"
    code, out, err = cli(capsys, "check", tmp_path / "model-exchange.yaml")
    assert code == 2 and "OK" not in out
    assert "the simulation cannot be built: d: string, binary and 64-bit integer ports " \
           "cannot cross a model-exchange cluster: ['label']" in err


def test_schema_refuses_unknown_solvers_and_interfaces(tmp_path, fmu):
    p = write(tmp_path, fmu, "nodes:\n  a: {{fmu: {osc}, solver: rk4, interface: me}}\n"
              "clusters:\n  c: {{nodes: [], rtol: -1}}\n")
    with pytest.raises(TopologyError) as info:
        cosim.load(p)
    text = str(info.value)
    assert f"{p}:2" in text and "cvode-bdf" in text and "model-exchange" in text
    assert f"{p}:4" in text and "rtol" in text


def test_cosim_check_shows_interfaces_clusters_and_the_masters_order(capsys, fmus):
    code, out, _ = cli(capsys, "check", TOPOLOGIES / "two_mass_me.yaml")
    assert code == 0
    assert "FMI interfaces: co-simulation: -; model exchange: spring, mass1, mass2" in out
    assert ("mechanics: mass1, mass2, spring (solver cvode-bdf, rtol 1e-10, atol 1e-12): "
            "4 states, 0 event indicators") in out
    assert "stepped by the master (1): mechanics" in out


def test_inspect_shows_model_exchange_capabilities(capsys, fmu, me_only):
    code, out, _ = cli(capsys, "inspect", fmu("Ball", 3))
    assert code == 0
    assert ("model exchange: canGetAndSetFMUstate=True, needsCompletedIntegratorStep=False, "
            "2 continuous states, 1 event indicator") in out
    assert "co-simulation by default; model exchange (integrated by cosim)" in out
    code, out, _ = cli(capsys, "inspect", me_only("Oscillator"))
    assert "model exchange only: cosim integrates it" in out
    assert "co-simulation:" not in out


def test_an_fmu_with_only_model_exchange_runs_as_its_own_cluster(fmu, me_only):
    topo = cosim.Topology("osc", stop=2.0, step=0.1)
    topo.add_fmu("osc", me_only("Oscillator", 2), parameters={"k": 4.0}, rtol=1e-9)
    report = topo.check()
    assert report.ok and report.nodes["osc"].model_exchange
    assert list(report.clusters) == ["osc"] and report.clusters["osc"].implicit
    df = cosim.run(topo).df
    np.testing.assert_allclose(df["osc.x"], np.cos(2 * df.index.to_numpy()), atol=1e-7)
    # and asking for co-simulation is a problem naming what the FMU has
    topo = cosim.Topology("osc")
    topo.add_fmu("osc", me_only("Oscillator", 3), interface="co-simulation")
    assert "has no co-simulation interface (interface: co-simulation); it has: " \
           "model-exchange" in str(topo.check().problems[0])


def test_both_interfaces_default_to_co_simulation(fmu):
    topo = cosim.Topology("osc", stop=1.0, step=0.1)
    topo.add_fmu("cs", fmu("Oscillator"))
    topo.add_fmu("me", fmu("Oscillator"), interface="model-exchange")
    report = topo.check()
    assert report.nodes["cs"].fmi_interface == "co-simulation"
    assert report.nodes["me"].fmi_interface == "model-exchange"
    assert list(report.clusters) == ["me"]
    with cosim.Simulation(topo) as sim:
        assert {s.name: s.kind for s in sim.system.subsystems} == {"cs": "fmu",
                                                                    "me": "cluster"}


def test_clusters_round_trip_through_yaml(tmp_path, fmus):
    topo = cosim.load(TOPOLOGIES / "two_mass_me.yaml")
    topo.add_fmu("ball", fmus[("Ball", 3)], interface="model-exchange", solver="rk45",
                 max_step=0.1)
    again = cosim.load(topo.save(tmp_path / "copy.yaml"))
    assert again.clusters == topo.clusters
    assert again.node("ball")["interface"] == "model-exchange"
    assert again.node("ball")["solver"] == {"solver": "rk45", "max_step": 0.1}
    with pytest.raises(ConfigError, match="taken"):
        again.add_cluster("ball", ["mass1"])


def test_the_view_contracts_a_cluster_into_one_node(fmus):
    topo = cosim.load(TOPOLOGIES / "two_mass_me.yaml")
    topo.add_block("push", "constant", parameters={"value": 1.0, "unit": "N"})
    topo.add_fmu("probe", fmus[("Gain", 2)])
    topo.graph.remove_edge("spring", "mass1", "spring.F->mass1.F")  # mass1.F: loose
    topo.connect("push.y", "probe.u", check_units=False)
    topo.add_event(0.5, "mass1.F", 2.0)
    topo.add_monitor("mass2.x > 0.01", name="moved")
    view = system_view(topo, topo.check())
    assert sorted(view.topology.nodes) == ["mechanics", "probe", "push"]
    iface = view.report.nodes["mechanics"].interface
    assert iface["mass1.F"].causality == "input"          # driven from outside now
    assert iface["mass2.F"].causality == "local"          # driven by the spring inside
    assert iface["spring.F"].depends_on == ()             # no path from mass1.F: states
    assert {str(c) for c in view.topology.connections()} == {"push.y -> probe.u"}
    assert view.topology.events[0].set == "mechanics.mass1.F"
    assert view.topology.monitors[0].when == "mechanics.mass2.x > 0.01"
    assert view.topology.monitors[0].name == "moved"
    assert view.key("mass1.k") == "mechanics.mass1.k" and view.key("push.value") == \
        "push.value"
    result = cosim.run(topo, stop=1.0)
    assert sorted((e.kind, e.name) for e in result.events) == [
        ("monitor", "moved"), ("scheduled", "mass1.F = 2.0")]
    assert "mass1.x" in result.df.columns and "probe.y" in result.df.columns
