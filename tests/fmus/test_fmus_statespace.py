"""StateSpace (FMI 3 only): arrays with <Dimension>, structural parameters, (Re)Configuration Mode.

der(x) = A x + B u, y = C x + D u.  With u held constant, [x; u] evolves by the matrix
exponential of [[A, B], [0, 0]]: the exact solution the FMU's RK4 (h = 1e-3 s) is compared to
(error < 1e-10 here).  Arrays are passed flattened, row-major.
"""

from __future__ import annotations

import numpy as np
import pytest
from fmpy import read_model_description
from fmpy.fmi1 import FMICallException
from fmutest_helpers import logged
from scipy.linalg import expm

TOL = 1e-10


def exact(A, B, x0, u, t):
    """x(t) for constant u, via the augmented matrix exponential."""
    nx, nu = A.shape[0], B.shape[1]
    M = np.zeros((nx + nu, nx + nu))
    M[:nx, :nx], M[:nx, nx:] = A, B
    return (expm(M * t) @ np.concatenate([x0, u]))[:nx]


def run(inst, t_end, dt=0.01):
    for i in range(round(t_end / dt)):
        inst.step(i * dt, dt)


def test_description_has_the_dimensions(fmus):
    md = read_model_description(str(fmus[("StateSpace", 3)]))
    v = {x.name: x for x in md.modelVariables}
    assert {n: v[n].causality for n in ("nx", "nu", "ny")} == dict.fromkeys(
        ("nx", "nu", "ny"), "structuralParameter")
    assert (v["nx"].variability, v["nu"].variability, v["ny"].variability) == (
        "fixed", "tunable", "tunable")
    assert [d.variable.name for d in v["B"].dimensions] == ["nx", "nu"]
    assert [d.variable.name for d in v["C"].dimensions] == ["ny", "nx"]
    assert [d.start for d in v["x_norms"].dimensions] == [3]
    assert v["A"].shape == (2, 2) and v["y"].shape == (2,)
    assert ("StateSpace", 2) not in fmus  # FMI 2 has no arrays


def test_default_mass_spring_against_the_matrix_exponential(instance):
    ss = instance("StateSpace", 3).init(u=[0.5])
    assert ss.get("A") == [0.0, 1.0, -4.0, -0.4] and ss.get("x") == [1.0, 0.0]
    run(ss, 5.0)
    A, B = np.array([[0.0, 1.0], [-4.0, -0.4]]), np.array([[0.0], [1.0]])
    x = exact(A, B, np.array([1.0, 0.0]), np.array([0.5]), 5.0)
    np.testing.assert_allclose(ss.get("y"), x, rtol=0, atol=TOL)  # C = I, D = 0
    norms = ss.get("x_norms")
    np.testing.assert_allclose(norms, [np.abs(x).sum(), np.linalg.norm(x), np.abs(x).max()],
                               rtol=0, atol=TOL)


def test_configuration_mode_resizes_before_initialization(instance):
    rng = np.random.default_rng(7)
    nx, nu, ny = 3, 2, 1
    A = rng.normal(size=(nx, nx)) - 2 * np.eye(nx)
    B, C, D = rng.normal(size=(nx, nu)), rng.normal(size=(ny, nx)), rng.normal(size=(ny, nu))
    x0, u = rng.normal(size=nx), rng.normal(size=nu)
    ss = instance("StateSpace", 3)
    ss.fmu.enterConfigurationMode()
    ss.fmu.setUInt64([ss.vr("nx"), ss.vr("nu"), ss.vr("ny")], [nx, nu, ny])
    ss.fmu.exitConfigurationMode()
    ss.init(A=A.ravel().tolist(), B=B.ravel().tolist(), C=C.ravel().tolist(),
            D=D.ravel().tolist(), x0=x0.tolist(), u=u.tolist())
    assert ss.count("B") == 6 and ss.get("B") == B.ravel().tolist()  # row-major
    run(ss, 2.0)
    x = exact(A, B, x0, u, 2.0)
    np.testing.assert_allclose(ss.get("x"), x, rtol=0, atol=TOL)
    np.testing.assert_allclose(ss.get("y"), C @ x + D @ u, rtol=0, atol=TOL)


def test_resized_arrays_get_zeros_or_their_start_values(instance):
    ss = instance("StateSpace", 3)
    ss.fmu.enterConfigurationMode()
    ss.fmu.setUInt64([ss.vr("nx")], [3])
    ss.fmu.exitConfigurationMode()
    ss.fmu.enterConfigurationMode()
    ss.fmu.setUInt64([ss.vr("nx")], [2])  # back to the start size: the start values again
    ss.fmu.exitConfigurationMode()
    ss.fmu.enterConfigurationMode()
    ss.fmu.setUInt64([ss.vr("nu")], [2])
    ss.fmu.exitConfigurationMode()
    ss.init()
    assert ss.get("A") == [0.0, 1.0, -4.0, -0.4]
    assert ss.get("B") == [0.0] * 4 and ss.get("u") == [0.0, 0.0]


def test_reconfiguration_of_a_tunable_structural_parameter_in_step_mode(instance):
    ss = instance("StateSpace", 3).init()
    run(ss, 1.0)
    x1 = np.array(ss.get("x"))
    ss.fmu.enterConfigurationMode()  # from Step Mode: Reconfiguration Mode
    with pytest.raises(FMICallException):
        ss.fmu.setUInt64([ss.vr("nx")], [3])  # fixed: only in Configuration Mode
    assert logged(ss, 3, "fixed structural parameter: set it in Configuration Mode")
    ss.fmu.setUInt64([ss.vr("nu"), ss.vr("ny")], [2, 1])
    ss.fmu.exitConfigurationMode()
    assert ss.get("x") == x1.tolist()  # the state is kept
    assert ss.get("B") == [0.0] * 4 and ss.get("u") == [0.0, 0.0]
    B, C, D, u = np.array([[0.0, 0.0], [1.0, -2.0]]), [[0.0, 1.0]], [[0.5, 0.5]], [1.0, 0.25]
    ss.set(B=B.ravel().tolist(), C=[0.0, 1.0], D=[0.5, 0.5], u=u)
    for i in range(100):
        ss.step(1.0 + i * 0.01, 0.01)
    x = exact(np.array([[0.0, 1.0], [-4.0, -0.4]]), B, x1, np.array(u), 1.0)
    np.testing.assert_allclose(ss.get("x"), x, rtol=0, atol=TOL)
    np.testing.assert_allclose(ss.get("y"), np.array(C) @ x + np.array(D) @ u, rtol=0, atol=TOL)


def test_invalid_sizes_and_counts_are_refused(instance):
    ss = instance("StateSpace", 3)
    with pytest.raises(FMICallException):  # structural parameters need Configuration Mode
        ss.fmu.setUInt64([ss.vr("nu")], [2])
    assert logged(ss, 3, "cannot be set in Instantiated")
    ss.fmu.enterConfigurationMode()
    with pytest.raises(FMICallException):
        ss.fmu.setUInt64([ss.vr("nx")], [9])
    assert logged(ss, 3, "'nx' (vr 1) = 9 is outside [1, 8]")
    with pytest.raises(FMICallException):  # only structural parameters in this mode
        ss.fmu.setFloat64([ss.vr("x0")], [1.0, 2.0])
    ss.fmu.exitConfigurationMode()
    ss.init()
    with pytest.raises(FMICallException):
        ss.fmu.setFloat64([ss.vr("A")], [1.0, 2.0, 3.0])
    assert logged(ss, 3, "nValues = 3 for 1 value reference(s), expected 4")
    with pytest.raises(FMICallException):
        ss.fmu.getFloat64([ss.vr("y"), ss.vr("x_norms")], nValues=2)
    assert logged(ss, 3, "expected 5")
    assert ss.fmu.getFloat64([ss.vr("y"), ss.vr("x_norms")], nValues=5)[:2] == [1.0, 0.0]


def test_configuration_mode_needs_structural_parameters(instance):
    gain = instance("Gain", 3)
    with pytest.raises(FMICallException):
        gain.fmu.enterConfigurationMode()
    assert logged(gain, 3, "Gain has no structural parameters")
