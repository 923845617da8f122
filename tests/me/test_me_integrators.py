"""The integrators on their own (a harmonic oscillator in Python) and failures passing
out of them: root location, too much work, errors raised inside the right-hand side."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cosim
from cosim import Block, Port
from cosim.errors import SubsystemError
from cosim.integrators.base import (
    SOLVERS,
    IntegratorError,
    SolverOptions,
    Stop,
    make_integrator,
)


class Harmonic:
    """x'' = -x from x = 1: roots of x at pi/2 + k pi."""

    n, nz = 2, 1

    def __init__(self, fail_after: float = math.inf):
        self.evaluations, self.fail_after = 0, fail_after

    def rhs(self, t, x, dx):
        if t > self.fail_after:
            raise ZeroDivisionError("the model gave up")
        self.evaluations += 1
        dx[0], dx[1] = x[1], -x[0]

    def indicators(self, t, x, z):
        z[0] = x[0]


@pytest.mark.parametrize("solver", SOLVERS)
def test_roots_are_located_on_the_far_side_and_output_times_interpolated(solver):
    problem = Harmonic()
    integ = make_integrator(SolverOptions(solver, rtol=1e-10, atol=1e-12), problem)
    integ.reset(0.0, np.array([1.0, 0.0]))
    roots = []
    for k in range(1, 101):
        while (reached := integ.advance(0.1 * k)).why is Stop.ROOT:
            roots.append(reached.t)
            assert integ.x[0] <= 0 if len(roots) % 2 else integ.x[0] >= 0
            integ.reset(reached.t, integ.x[:2].copy())
        assert reached.t == pytest.approx(0.1 * k, abs=1e-15)
        assert integ.x[0] == pytest.approx(math.cos(0.1 * k), abs=1e-8)
    np.testing.assert_allclose(roots, [math.pi / 2 + j * math.pi for j in range(3)],
                               rtol=0, atol=1e-9)
    integ.close()
    integ.close()  # idempotent


@pytest.mark.parametrize("solver", ["cvode-bdf", "rk45"])
def test_too_much_work_is_an_integrator_error(solver):
    integ = make_integrator(SolverOptions(solver, rtol=1e-12, max_steps=5), Harmonic())
    integ.reset(0.0, np.array([1.0, 0.0]))
    with pytest.raises(IntegratorError, match="CV_TOO_MUCH_WORK|more than 5 steps"):
        integ.advance(100.0)


@pytest.mark.parametrize("solver", ["cvode-adams", "dop853"])
def test_an_exception_in_the_right_hand_side_passes_out_unchanged(solver):
    integ = make_integrator(SolverOptions(solver), Harmonic(fail_after=0.5))
    integ.reset(0.0, np.array([1.0, 0.0]))
    with pytest.raises(ZeroDivisionError, match="gave up"):  # the first call past 0.5 s
        for k in range(1, 11):
            integ.advance(0.1 * k)


class Brittle(Block):
    """y = u, until t > 0.3 s."""

    inputs = {"u": Port()}
    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        if t > 0.3:
            raise ValueError("out of range")
        return {"y": inputs["u"]}


def test_a_member_failing_inside_the_integrator_is_named_with_the_time(fmu):
    topo = cosim.Topology("brittle", stop=1.0, step=0.1)
    topo.add_fmu("osc", fmu("Oscillator", 3))
    topo.add_block("b", Brittle)
    topo.connect("osc.x", "b.u", check_units=False)
    topo.connect("b.y", "osc.F", check_units=False)
    topo.add_cluster("c", ["osc", "b"])
    with pytest.raises(SubsystemError) as info:
        cosim.run(topo)
    err = info.value
    assert err.node == "b" and "out of range" in str(err) and 0.3 < err.time <= 0.41
    assert err.result.status == "failed"


@pytest.mark.parametrize("solver", SOLVERS)
def test_max_step_bounds_every_step(solver):
    integ = make_integrator(SolverOptions(solver, max_step=0.01), Harmonic())
    integ.reset(0.0, np.array([1.0, 0.0]))
    while integ.advance(1.0).why is Stop.ROOT:
        integ.reset(integ.t, integ.x[:2].copy())
    assert integ.stats.steps >= 100
    integ.close()
