"""Model-exchange FMUs integrated by cosim, against independent truth: the closed form
of the oscillator and of the two-mass system (scipy.linalg.expm), and scipy's Radau on
the stiff van der Pol oscillator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

import cosim
from tests.conftest import TOPOLOGIES

SOLVERS = ["cvode-bdf", "cvode-adams", "rk45", "dop853"]


def oscillator_exact(t: np.ndarray, m: float, k: float, c: float, x0: float) -> np.ndarray:
    a = np.array([[0.0, 1.0], [-k / m, -c / m]])
    return np.array([expm(a * ti) @ [x0, 0.0] for ti in t])


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("solver", SOLVERS)
def test_oscillator_me_matches_its_closed_form(fmu, version, solver):
    """A lone ME node (its own cluster), rtol 1e-8: within 1e-6 of expm over 10 s."""
    topo = cosim.Topology("osc", stop=10.0, step=0.05)
    topo.add_fmu("osc", fmu("Oscillator", version), interface="model-exchange",
                 solver=solver, rtol=1e-8, parameters={"m": 2.0, "k": 3.0, "c": 0.2,
                                                       "x0": 1.0})
    with cosim.Simulation(topo) as sim:
        df = sim.run().df
        assert sim.system.subsystems[0].kind == "cluster"
    ref = oscillator_exact(df.index.to_numpy(), 2.0, 3.0, 0.2, 1.0)
    err = np.max(np.abs(df[["osc.x", "osc.v"]].to_numpy() - ref))
    assert err < 1e-6, err
    assert df.index[-1] == 10.0 and len(df) == 201


# -- the two-mass oscillator -------------------------------------------------------------

M1, K1, C1, M2, K2, C2, KC, CC = 1.0, 1.0, 0.1, 2.0, 2.0, 0.0, 10.0, 0.5


def two_mass_exact(t: np.ndarray) -> np.ndarray:
    a = np.array([
        [0, 1, 0, 0],
        [-(K1 + KC) / M1, -(C1 + CC) / M1, KC / M1, CC / M1],
        [0, 0, 0, 1],
        [KC / M2, CC / M2, -(K2 + KC) / M2, -(C2 + CC) / M2],
    ])
    return np.array([expm(a * ti) @ [1.0, 0.0, 0.0, 0.0] for ti in t])


def two_mass(fmu, version: int, *, cluster: bool, step: float) -> cosim.Topology:
    topo = cosim.Topology("two_mass", stop=5.0, step=step)
    topo.add_fmu("mass1", fmu("Oscillator", version),
                 parameters={"m": M1, "k": K1, "c": C1, "x0": 1.0, "v0": 0.0})
    topo.add_fmu("mass2", fmu("Oscillator", version),
                 parameters={"m": M2, "k": K2, "c": C2, "x0": 0.0, "v0": 0.0})
    topo.add_fmu("spring", fmu("Spring", version), parameters={"k": KC, "c": CC})
    for n in ("1", "2"):
        topo.connect(f"mass{n}.x", f"spring.x{n}")
        topo.connect(f"mass{n}.v", f"spring.v{n}")
    topo.connect("spring.F", "mass1.F")
    topo.connect("spring.F", "mass2.F", gain=-1.0)
    if cluster:
        topo.add_cluster("mechanics", ["mass1", "mass2", "spring"], rtol=1e-10, atol=1e-12)
    return topo


def two_mass_error(topo) -> float:
    df = cosim.run(topo).df
    ref = two_mass_exact(df.index.to_numpy())
    return float(np.max(np.abs(df[["mass1.x", "mass1.v", "mass2.x", "mass2.v"]].to_numpy()
                               - ref)))


@pytest.mark.parametrize("version", [2, 3])
def test_two_mass_cluster_has_no_coupling_error(fmu, version):
    """One ME cluster: within 1e-6 of expm at any communication step; the CS version
    shows its first-order coupling error (hundreds of times larger at 10 ms)."""
    me_coarse = two_mass_error(two_mass(fmu, version, cluster=True, step=0.1))
    me_fine = two_mass_error(two_mass(fmu, version, cluster=True, step=0.01))
    cs_fine = two_mass_error(two_mass(fmu, version, cluster=False, step=0.01))
    cs_finer = two_mass_error(two_mass(fmu, version, cluster=False, step=0.005))
    assert me_coarse < 1e-6 and me_fine < 1e-6, (me_coarse, me_fine)
    assert cs_fine > 1e-3, cs_fine
    assert 1.6 < cs_fine / cs_finer < 2.4  # first order: halving the step halves it
    assert cs_fine > 1000 * me_fine


def test_shipped_two_mass_me_topology(fmu):
    topo = cosim.load(TOPOLOGIES / "two_mass_me.yaml")
    with cosim.Simulation(topo, stop=5.0) as sim:
        df = sim.run().df
        assert sim.system.names == ["mechanics"]
    ref = two_mass_exact(df.index.to_numpy())
    assert np.max(np.abs(df["mass1.x"].to_numpy() - ref[:, 0])) < 1e-6
    assert np.max(np.abs(df["mass2.v"].to_numpy() - ref[:, 3])) < 1e-6
    # the spring's force is recorded under its own node's name
    np.testing.assert_allclose(df["spring.F"], KC * (ref[:, 2] - ref[:, 0])
                               + CC * (ref[:, 3] - ref[:, 1]), atol=1e-5)


# -- stiff: van der Pol, mu = 1000 ---------------------------------------------------------

MU, T_VDP = 1000.0, 10.0


def vdp_reference():
    def f(t, y):
        return [y[1], MU * (1 - y[0] ** 2) * y[1] - y[0]]

    def jac(t, y):
        return [[0.0, 1.0], [-2 * MU * y[0] * y[1] - 1.0, MU * (1 - y[0] ** 2)]]

    return solve_ivp(f, (0.0, T_VDP), [2.0, 0.0], method="Radau", rtol=1e-10, atol=1e-12,
                     jac=jac, dense_output=True)


@pytest.mark.parametrize("version", [2, 3])
def test_vanderpol_stiff_bdf_needs_a_hundredth_of_the_explicit_evaluations(fmu, version):
    ref = vdp_reference()
    counts, errors = {}, {}
    for solver in ("cvode-bdf", "rk45"):
        topo = cosim.Topology("vdp", stop=T_VDP, step=0.1)
        topo.add_fmu("vdp", fmu("VanDerPol", version), interface="model-exchange",
                     solver=solver, rtol=1e-8, atol=1e-10, parameters={"mu": MU})
        result = cosim.run(topo)
        df = result.df
        counts[solver] = result.stats["clusters"]["vdp"]["rhs"]
        expected = ref.sol(df.index.to_numpy()).T
        errors[solver] = np.max(np.abs(df[["vdp.x1", "vdp.x2"]].to_numpy() - expected)
                                / (1.0 + np.abs(expected)))
    assert counts["cvode-bdf"] * 100 < counts["rk45"], counts
    assert errors["cvode-bdf"] < 1e-6 and errors["rk45"] < 1e-6, errors
