"""Algebraic loops of direct-feedthrough FMUs against their closed form.

Two Gain FMUs (``y = k*u + b``) wired in a ring::

    g1: y1 = a*y2 + b        g2: y2 = c*y1 + d
    =>  y1 = (a*d + b) / (1 - a*c),   y2 = c*y1 + d

The loop is solved at initialization and at every communication point (fixed point
first, then Newton on rollback). One node is FMI 2, the other FMI 3.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import cosim

STOP, STEP = 0.5, 0.1
CONTRACTIVE = (0.5, 1.0, -0.3, 2.0)  # a*c = -0.15: fixed-point iteration converges
DIVERGENT = (2.0, 1.0, 1.5, -1.0)    # a*c = 3: fixed-point iteration diverges
SINGULAR = (1.0, 1.0, 1.0, 0.0)      # a*c = 1: y1 = y1 + 1 has no solution


def gain_loop(fmu, a, b, c, d, *, versions=(2, 3), method="newton", delayed=False,
              algorithm="gauss-seidel") -> cosim.Topology:
    topo = cosim.Topology("gain_loop", stop=STOP, step=STEP, algorithm=algorithm)
    topo.add_fmu("g1", fmu("Gain", versions[0]), parameters={"k": a, "b": b})
    topo.add_fmu("g2", fmu("Gain", versions[1]), parameters={"k": c, "b": d})
    topo.connect("g2.y", "g1.u", delayed=delayed)
    topo.connect("g1.y", "g2.u")
    topo.run.loops.method = method
    return topo


def residuals(message: str) -> dict[str, float]:
    """``{"g1.u": r1, "g2.u": r2}`` from a loop failure message."""
    found = re.findall(r"\b(g[12]\.u): (-?(?:inf|nan|\d+(?:\.\d+)?(?:e[+-]?\d+)?))", message)
    return {port: float(value) for port, value in found}


def closed_form(a, b, c, d) -> tuple[float, float]:
    y1 = (a * d + b) / (1 - a * c)
    return y1, c * y1 + d


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
@pytest.mark.parametrize("versions", [(2, 3), (3, 2)])
@pytest.mark.parametrize("coeffs", [CONTRACTIVE, DIVERGENT], ids=["a*c=-0.15", "a*c=3"])
def test_master_loop_matches_closed_form_at_every_point(fmu, algorithm, versions, coeffs):
    df = cosim.run(gain_loop(fmu, *coeffs, versions=versions, algorithm=algorithm)).df
    t = df.index.to_numpy()
    np.testing.assert_allclose(t, np.linspace(0.0, STOP, 6), rtol=0, atol=1e-12)
    assert t[0] == 0.0  # the initialization row is recorded and checked too
    y1, y2 = closed_form(*coeffs)
    np.testing.assert_allclose(df["g1.y"], y1, rtol=0, atol=1e-10)
    np.testing.assert_allclose(df["g2.y"], y2, rtol=0, atol=1e-10)


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_fixed_point_alone_fails_where_newton_succeeds(fmu, algorithm):
    with pytest.raises(cosim.SimulationError) as info:
        cosim.run(gain_loop(fmu, *DIVERGENT, method="fixed-point", algorithm=algorithm))
    msg = str(info.value)
    assert "did not converge" in msg and "fixed-point" in msg, msg
    # it diverged (|a*c| = 3): the residual grew, it did not merely stall
    found = residuals(msg)
    assert set(found) == {"g1.u", "g2.u"}, msg
    assert all(not abs(r) <= 1e6 for r in found.values()), msg  # large, inf or nan
    # the same loop with the default method (fixed point, then Newton) is solved
    df = cosim.run(gain_loop(fmu, *DIVERGENT, algorithm=algorithm)).df
    np.testing.assert_allclose(df["g1.y"], closed_form(*DIVERGENT)[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_singular_loop_raises_naming_nodes_residuals_and_count(fmu, algorithm):
    with pytest.raises(cosim.SimulationError) as info:
        cosim.run(gain_loop(fmu, *SINGULAR, algorithm=algorithm))
    err = info.value
    msg = str(err)
    assert "g1" in msg and "g2" in msg, msg
    assert sorted(err.nodes) == ["g1", "g2"], err.nodes
    found = residuals(msg)
    assert set(found) == {"g1.u", "g2.u"}, msg
    # G(x) - x = (x2 - x1, x1 + 1 - x2) for tears x = (g1.u, g2.u): whatever x the solver
    # stops at, the residuals add up to 1 (printed to 3 digits)
    assert abs(abs(found["g1.u"] + found["g2.u"]) - 1.0) < 0.01, msg
    m = re.search(r"after (\d+) evaluations", msg)
    assert m and int(m.group(1)) >= 2, msg
    assert err.time == 0.0  # it fails at initialization already


def delayed_recurrence(a, b, c, d, n: int, algorithm: str) -> np.ndarray:
    """y1, y2 at t_0..t_n with g2.y -> g1.u delayed by one step, computed by hand.

    Initialization (order g1, g2): g1 reads the delayed y2 of "before the start", the
    output's start value 0 (Gain.y has none); g2 reads the fresh y1.
    Gauss-Seidel: y1[k] = a*y2[k-1] + b, y2[k] = c*y1[k] + d.
    Jacobi:       y1[k] = a*y2[k-1] + b, y2[k] = c*y1[k-1] + d.
    """
    y1, y2 = np.zeros(n + 1), np.zeros(n + 1)
    y1[0] = a * 0.0 + b
    y2[0] = c * y1[0] + d
    for k in range(1, n + 1):
        y1[k] = a * y2[k - 1] + b
        y2[k] = c * (y1[k] if algorithm == "gauss-seidel" else y1[k - 1]) + d
    return np.stack([y1, y2], axis=1)


@pytest.mark.parametrize("fast", [True, False], ids=["default-loop", "python-loop"])
@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_delayed_connection_breaks_the_loop_by_one_step(fmu, algorithm, fast):
    coeffs = CONTRACTIVE
    topo = gain_loop(fmu, *coeffs, delayed=True, algorithm=algorithm)
    df = cosim.run(topo, fast=fast).df
    want = delayed_recurrence(*coeffs, len(df) - 1, algorithm)
    np.testing.assert_allclose(df[["g1.y", "g2.y"]].to_numpy(), want, rtol=0, atol=1e-12)
    # not solved: the recurrence is still far from the fixed point after 5 steps
    assert abs(df["g1.y"].iloc[1] - closed_form(*coeffs)[0]) > 0.1


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_loop_with_time_varying_input(fmu, algorithm):
    """Spring (F = k*(x2 - x1)) and Gain (y = a*F + b) in a loop, x2 = r(t) from a ramp.

    F = k*(r - a*F - b)  =>  F = k*(r - b) / (1 + k*a). Gauss-Seidel steps the ramp first
    and sees r(t_n); Jacobi feeds the loop the ramp's previous value r(t_{n-1}).
    """
    k, a, b = 2.0, 0.5, 0.1
    topo = cosim.Topology("spring_loop", stop=STOP, step=STEP, algorithm=algorithm)
    topo.add_block("r", "ramp", parameters={"start_time": 0.0, "duration": 10.0,
                                            "height": 10.0, "offset": 1.0})
    topo.add_fmu("s", fmu("Spring", 3), parameters={"k": k, "c": 0.0})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": a, "b": b})
    topo.connect("r.y", "s.x2")
    topo.connect("s.F", "g.u")
    topo.connect("g.y", "s.x1")
    df = cosim.run(topo).df
    t = df.index.to_numpy()
    r = 1.0 + t
    seen = r if algorithm == "gauss-seidel" else np.concatenate([[r[0]], r[:-1]])
    f = k * (seen - b) / (1 + k * a)
    np.testing.assert_allclose(df["r.y"], r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["s.F"], f, rtol=0, atol=1e-10)
    np.testing.assert_allclose(df["g.y"], a * f + b, rtol=0, atol=1e-10)
