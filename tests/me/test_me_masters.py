"""A mixed topology -- a model-exchange cluster (an Oscillator FMU and a Python block
evaluated as an algebraic map), a co-simulation FMU and a built-in block -- under the
Jacobi, Gauss-Seidel and adaptive masters, against the closed form of the whole linear
system; rollback (monitors), scheduled events on cluster members, and reuse."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import cosim
from cosim import Block, Param, Port
from cosim.topology.schema import AdaptiveSpec

M, K, CD, KD, G, B = 1.0, 4.0, 0.3, 2.0, -0.5, 0.7


class Damper(Block):
    """F = -c*v + u_ext + bias: memoryless, so it may sit in a cluster."""

    inputs = {"v": Port(unit="m/s"), "u_ext": Port(unit="N"), "bias": Port(unit="N")}
    outputs = {"F": Port(unit="N")}
    parameters = {"c": Param(0.3, unit="N.s/m")}

    def step(self, t, dt, inputs):
        return {"F": -self.c * inputs["v"] + inputs["u_ext"] + inputs["bias"]}


def exact(t: np.ndarray) -> np.ndarray:
    """[x, v, y]: x' = v, v' = (-CD v + G y + B - K x) / M, y' = -KD y + x."""
    a = np.array([[0, 1, 0, 0], [-K / M, -CD / M, G / M, B / M], [1, 0, -KD, 0],
                  [0, 0, 0, 0]])
    return np.array([(expm(a * ti) @ [1.0, 0.0, 0.0, 1.0])[:3] for ti in t])


def mixed(fmu, version: int = 2, step: float = 0.02, solver: str = "cvode-bdf",
          **run) -> cosim.Topology:
    topo = cosim.Topology("mixed", stop=1.0, step=step, **run)
    topo.add_fmu("osc", fmu("Oscillator", version),
                 parameters={"m": M, "k": K, "c": 0.0, "x0": 1.0, "v0": 0.0})
    topo.add_block("damp", Damper, parameters={"c": CD})
    topo.add_fmu("ctrl", fmu("Decay", version), parameters={"k": KD, "x0": 0.0})  # CS
    topo.add_block("bias", "constant", parameters={"value": B, "unit": "N"})
    topo.add_cluster("plant", ["osc", "damp"], solver=solver, rtol=1e-8)
    topo.connect("osc.v", "damp.v")
    topo.connect("damp.F", "osc.F")
    topo.connect("osc.x", "ctrl.u", check_units=False)
    topo.connect("ctrl.x", "damp.u_ext", gain=G, check_units=False)
    topo.connect("bias.y", "damp.bias")
    return topo


def error(result) -> float:
    df = result.df
    return float(np.max(np.abs(df[["osc.x", "osc.v", "ctrl.x"]].to_numpy()
                               - exact(df.index.to_numpy()))))


@pytest.mark.parametrize("algorithm,solver", [("jacobi", "rk45"),
                                              ("gauss-seidel", "cvode-bdf")])
def test_mixed_topology_converges_at_first_order_under_both_masters(fmu, algorithm,
                                                                     solver):
    """The cluster's inputs from the CS node are held over each step: the coupling
    error is first order (halving the step halves it); inside the cluster the block is
    solved with the FMU at every evaluation (no delay)."""
    with cosim.Simulation(mixed(fmu, solver=solver), algorithm=algorithm) as sim:
        assert set(sim.system.names) == {"bias", "ctrl", "plant"}
        coarse = error(sim.run())
    fine = error(cosim.run(mixed(fmu, step=0.01, solver=solver), algorithm=algorithm))
    assert coarse < 1e-2, coarse
    assert 1.7 < coarse / fine < 2.3, (coarse, fine)


def test_mixed_topology_under_the_adaptive_master(fmu):
    result = cosim.run(mixed(fmu, 3, adaptive=AdaptiveSpec(rtol=1e-4, atol=1e-6)))
    assert result.status == "completed"
    assert error(result) < 2e-3  # a coupling error controlled locally to 1e-4
    assert result.stats["rejected"] + result.stats["accepted"] > 10


def test_fmi3_cluster_members_agree_with_fmi2(fmu):
    a = cosim.run(mixed(fmu, 2)).df
    b = cosim.run(mixed(fmu, 3)).df
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-9)


def test_reset_then_run_is_bit_identical_to_a_fresh_run(fmu):
    topo = mixed(fmu)
    fresh = cosim.run(topo, parameters={"osc.k": 3.0}).df
    with cosim.Simulation(topo) as sim:
        sim.run()
        sim.reset(parameters={"osc.k": 3.0})
        again = sim.run().df
        assert sim.parameters()["osc.k"] == 3.0
    np.testing.assert_array_equal(fresh.to_numpy(), again.to_numpy())


def test_monitor_on_a_cluster_output_rolls_the_cluster_back(fmu):
    """A monitor bisects by saving and restoring every node, the cluster included: the
    first zero of x is found to the event tolerance (undamped: t = pi / (2 sqrt(K)))."""
    topo = cosim.Topology("osc", stop=1.5, step=0.1)
    topo.add_fmu("osc", fmu("Oscillator", 2), interface="model-exchange", rtol=1e-10,
                 parameters={"m": M, "k": K, "c": 0.0, "x0": 1.0})
    topo.add_monitor("osc.x < 0", name="zero")
    result = cosim.run(topo)
    located = [e.time for e in result.events if e.kind == "monitor"]
    assert located == [pytest.approx(np.pi / (2 * np.sqrt(K)), abs=2e-9)]
    np.testing.assert_allclose(result.df["osc.x"], np.cos(2 * result.df.index.to_numpy()),
                               atol=1e-7)


def test_scheduled_event_sets_an_unconnected_member_input(fmu):
    """At t = 1 s the force on mass 1 of a two-oscillator cluster steps to 2 N: the
    response is the step response of the linear system (expm, affine)."""
    topo = cosim.Topology("pair", stop=3.0, step=0.05)
    topo.add_fmu("a", fmu("Oscillator", 2), parameters={"k": 4.0, "x0": 0.0})
    topo.add_fmu("b", fmu("Decay", 2), parameters={"k": 1.0, "x0": 0.0})
    topo.connect("a.x", "b.u", check_units=False)
    topo.add_cluster("pair", ["a", "b"], rtol=1e-10)
    topo.add_event(1.0, "a.F", 2.0)
    result = cosim.run(topo)
    df = result.df.loc[~result.df.index.duplicated(keep="last")]
    t = df.index.to_numpy()
    a = np.array([[0, 1, 0, 0], [-4, 0, 0, 1], [1, 0, -1, 0], [0, 0, 0, 0]])
    z = np.array([(expm(a * max(ti - 1.0, 0.0)) @ [0, 0, 0, 2.0])[[0, 2]] for ti in t])
    np.testing.assert_allclose(df[["a.x", "b.x"]].to_numpy(), z, atol=1e-8)
    assert [e.kind for e in result.events] == ["scheduled"]
