"""VanDerPol: der(x1) = x2, der(x2) = mu*(1 - x1^2)*x2 - x1, against scipy's Radau.

Co-simulation uses the FMU's RK4 with h <= min(1e-3, 0.5/||J||_inf); model exchange runs
through fmpy's CVode.  Reference: scipy's solve_ivp at rtol = atol = 1e-12, with DOP853
(explicit, 8th order) for the non-stiff cases and Radau (implicit) for mu = 1000.
"""

from __future__ import annotations

import numpy as np
import pytest
from fmpy import simulate_fmu
from scipy.integrate import solve_ivp


def reference(mu, t):
    def f(_, x):
        return [x[1], mu * (1 - x[0] ** 2) * x[1] - x[0]]

    def jac(_, x):
        return [[0.0, 1.0], [-2 * mu * x[0] * x[1] - 1, mu * (1 - x[0] ** 2)]]

    method = "Radau" if mu > 10 else "DOP853"
    sol = solve_ivp(f, (0, t[-1]), [2.0, 0.0], method=method, rtol=1e-12, atol=1e-12,
                    t_eval=t, **({"jac": jac} if method == "Radau" else {}))
    assert sol.success
    return sol.y


@pytest.mark.parametrize("version", [2, 3])
def test_cs_non_stiff(fmus, version):
    r = simulate_fmu(str(fmus[("VanDerPol", version)]), stop_time=20, output_interval=0.1)
    x1, x2 = reference(1.0, r["time"])
    np.testing.assert_allclose(r["x1"], x1, rtol=0, atol=1e-9)
    np.testing.assert_allclose(r["x2"], x2, rtol=0, atol=1e-9)


def test_cs_stiff_through_the_first_jump(fmus):
    """mu = 1000: the slow phase ends near t = (3/2 - ln 2)*mu = 807 s with a fast jump."""
    r = simulate_fmu(str(fmus[("VanDerPol", 2)]), stop_time=900, output_interval=10,
                     start_values={"mu": 1000.0})
    x1, x2 = reference(1000.0, r["time"])
    assert x1[-1] < -1.5  # the jump to the other branch happened
    np.testing.assert_allclose(r["x1"], x1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(r["x2"], x2, rtol=0, atol=1e-6)


@pytest.mark.parametrize("version", [2, 3])
def test_me_with_cvode(fmus, version):
    r = simulate_fmu(str(fmus[("VanDerPol", version)]), fmi_type="ModelExchange", stop_time=20,
                     output_interval=0.1, relative_tolerance=1e-10, start_values={"mu": 2.0})
    x1, x2 = reference(2.0, r["time"])
    np.testing.assert_allclose(r["x1"], x1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(r["x2"], x2, rtol=0, atol=1e-6)
