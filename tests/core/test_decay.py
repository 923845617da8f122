"""Decay chains against their closed form, and a Python block standing in for an FMU."""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from cosim import Block, Param, Port
from tests.conftest import TOPOLOGIES


class PyDecay(Block):
    """dx/dt = -k x + u, integrated exactly over each step with u held (ZOH)."""

    inputs = {"u": Port(unit="1/s")}
    outputs = {"x": Port(unit="1")}
    parameters = {"k": Param(1.0, unit="1/s"), "x0": Param(1.0, unit="1")}
    feedthrough = {"x": []}

    def reset(self, t0):
        self.x = self.x0

    def step(self, t, dt, inputs):
        if dt > 0:
            e = np.exp(-self.k * dt)
            self.x = e * self.x + inputs["u"] / self.k * (1 - e)
        return {"x": self.x}


def test_single_decay_with_constant_input_matches_closed_form(fmu):
    k, x0, u = 2.0, 1.5, 0.7
    topo = cosim.Topology("decay", stop=3.0, step=0.1)
    topo.add_block("src", "constant", parameters={"value": u})
    topo.add_fmu("d", fmu("Decay"), parameters={"k": k, "x0": x0})
    topo.connect("src.y", "d.u", check_units=False)
    df = cosim.run(topo).df
    t = df.index.to_numpy()
    exact = u / k + (x0 - u / k) * np.exp(-k * t)
    # a constant input makes co-simulation exact; what is left is the FMU's RK4 error
    np.testing.assert_allclose(df["d.x"], exact, rtol=0, atol=1e-9)


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_chain_converges_to_closed_form(algorithm):
    """The shipped chain: x1' = 1 - x1, x2' = x1 - 2 x2, x3' = x2 - 3 x3, all from 0."""
    def exact(t):
        x1 = 1 - np.exp(-t)
        x2 = 0.5 - np.exp(-t) + 0.5 * np.exp(-2 * t)
        x3 = 1 / 6 - 0.5 * np.exp(-t) + 0.5 * np.exp(-2 * t) - np.exp(-3 * t) / 6
        return np.stack([x1, x2, x3], axis=1)

    errs = []
    for h in (0.05, 0.025, 0.0125):
        df = cosim.run(TOPOLOGIES / "decay_chain.yaml", step=h, algorithm=algorithm).df
        got = df[["d1.x", "d2.x", "d3.x"]].to_numpy()
        errs.append(np.max(np.abs(got - exact(df.index.to_numpy()))))
    assert errs[0] < 0.05
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 1.7) & (ratios < 2.3)), errs  # first order


def test_python_block_gives_the_same_result_as_the_fmu(fmu):
    """The FMU integrates with RK4 on a fine internal step, the block exactly: they agree
    to the FMU's integration error at every point, for both algorithms."""
    def chain(kind):
        topo = cosim.Topology("chain", stop=4.0, step=0.05)
        topo.add_block("src", "step", parameters={"time": 1.0, "before": 0.0, "after": 2.0})
        for name, k in (("a", 1.0), ("b", 3.0)):
            if kind == "fmu":
                topo.add_fmu(name, fmu("Decay"), parameters={"k": k, "x0": 1.0})
            else:
                topo.add_block(name, PyDecay, parameters={"k": k, "x0": 1.0})
        topo.connect("src.y", "a.u", check_units=False)
        topo.connect("a.x", "b.u", check_units=False)
        return topo

    for algorithm in ("gauss-seidel", "jacobi"):
        a = cosim.run(chain("fmu"), algorithm=algorithm).df
        b = cosim.run(chain("block"), algorithm=algorithm).df
        np.testing.assert_allclose(a[["a.x", "b.x"]], b[["a.x", "b.x"]], rtol=0, atol=1e-9)


def test_in_memory_model_as_block_parameter(tmp_path, fmu):
    """A fitted model object given in Python (not a file) runs, and is recorded by repr."""
    from numpy.polynomial import Polynomial
    poly = Polynomial.fit([0.0, 1.0, 2.0], [1.0, 3.0, 5.0], 1)  # y = 2u + 1
    topo = cosim.Topology("surrogate", stop=1.0, step=0.5)
    topo.add_block("src", "constant", parameters={"value": 0.25})
    topo.add_block("s", "surrogate", parameters={"model": poly, "inputs": ["u"],
                                                 "outputs": ["y"]})
    topo.connect("src.y", "s.u")
    out = tmp_path / "s.h5"
    df = cosim.run(topo, output=out).df
    np.testing.assert_allclose(df["s.y"], 1.5, rtol=1e-12)
    assert "Polynomial" in str(cosim.read(out).meta["topology"]["nodes"]["s"]["parameters"])
