"""Global-error order of the two-mass oscillator with hold and linear extrapolation.

The coupling force is exchanged at communication points; with ``hold`` it is constant
over a step (first order). With ``linear`` each input is the straight line through its
source's latest samples evaluated at the step's midpoint, which makes the scheme second
order, for Jacobi and for Gauss-Seidel. Truth: the closed form of the coupled linear
system (``tests/core/test_two_mass.py``, scipy ``expm``).
"""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from tests.core.test_two_mass import exact, global_error, two_mass

STEPS = [0.04, 0.02, 0.01, 0.005, 0.0025]  # four halvings


def measured(fmu, algorithm: str, extrapolation: str) -> tuple[list[float], float, np.ndarray]:
    """(errors per step, fitted order over all steps, local order of each halving)."""
    topo = two_mass(fmu)
    topo.run.extrapolation = extrapolation
    errors = [global_error(topo, algorithm, h) for h in STEPS]
    slope = float(np.polyfit(np.log(STEPS), np.log(errors), 1)[0])
    local = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    return errors, slope, local


@pytest.mark.parametrize("algorithm", ["jacobi", "gauss-seidel"])
def test_master_linear_extrapolation_is_second_order(fmu, algorithm):
    errors, slope, local = measured(fmu, algorithm, "linear")
    assert 1.8 <= slope <= 2.2, (slope, errors)
    assert np.all((local >= 1.8) & (local <= 2.2)), (local, errors)
    assert errors[0] / errors[-1] > 150  # 256x in theory over four halvings
    assert errors[-1] < 1e-3


def test_master_hold_is_first_order_gauss_seidel(fmu):
    errors, slope, local = measured(fmu, "gauss-seidel", "hold")
    assert 0.8 <= slope <= 1.2, (slope, errors)
    assert np.all((local >= 0.8) & (local <= 1.2)), (local, errors)


def test_master_hold_is_first_order_jacobi(fmu):
    # Jacobi with hold at 0.04 s is outside its asymptotic range (the local order of the
    # first halving is ~1.9); the finer halvings are first order.
    errors, _, local = measured(fmu, "jacobi", "hold")
    assert np.all((local[1:] >= 0.8) & (local[1:] <= 1.35)), (local, errors)
    assert 0.8 <= local[-1] <= 1.2, (local, errors)


@pytest.mark.parametrize("algorithm", ["jacobi", "gauss-seidel"])
def test_master_linear_beats_hold_at_the_finest_step(fmu, algorithm):
    h = STEPS[-1]
    topo = two_mass(fmu)
    hold = global_error(topo, algorithm, h)
    topo.run.extrapolation = "linear"
    linear = global_error(topo, algorithm, h)
    assert linear < hold / 20, (linear, hold)


def test_master_connection_extrapolation_overrides_the_run_default(fmu):
    """``extrapolation`` on every connection gives the same run as the run-wide setting;
    on one connection only, it changes only what flows through that connection."""
    h = 0.01
    run_wide = two_mass(fmu)
    run_wide.run.extrapolation = "linear"
    per_connection = two_mass(fmu)
    for _, _, data in per_connection.graph.edges(data=True):
        data["extrapolation"] = "linear"
    a = cosim.run(run_wide, step=h).df
    b = cosim.run(per_connection, step=h).df
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    # run-wide linear, but mass2's position and velocity held: a different, less accurate
    # run (the spring's force already stands for the step's midpoint, so holding it would
    # change nothing under Gauss-Seidel)
    mixed = two_mass(fmu)
    mixed.run.extrapolation = "linear"
    for src, _, data in mixed.graph.edges(data=True):
        if src == "mass2":
            data["extrapolation"] = "hold"
    c = cosim.run(mixed, step=h).df
    assert np.max(np.abs(c.to_numpy() - a.to_numpy())) > 1e-6
    ref = exact(a.index.to_numpy())
    cols = ["mass1.x", "mass1.v", "mass2.x", "mass2.v"]
    err_a = np.max(np.abs(a[cols].to_numpy() - ref))
    err_c = np.max(np.abs(c[cols].to_numpy() - ref))
    assert err_a < err_c, (err_a, err_c)
