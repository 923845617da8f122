"""Algebraic loops, solved at every communication point (and at initialization).

A loop stage is a set of nodes joined by a cycle through direct-feedthrough ports. Its
unknowns ("tears") are the inputs fed by connections inside the stage. One evaluation
``G(x)``: roll every node of the stage back to the start of the step, set the tears to
``x`` (other inputs as the master gives them), step the nodes in order, and read the
tears' new values from the outputs. The loop is solved when ``G(x) = x``:

1. fixed-point iteration ``x <- x + relaxation * (G(x) - x)`` (cheap, often enough);
2. then, for method ``newton``, scipy's ``root`` (Powell hybrid, a Newton method with a
   finite-difference Jacobian, each column costing one rolled-back evaluation).

Converged when ``|G(x) - x| <= tolerance * (1 + |G(x)|)`` for every tear. Failure raises
:class:`~cosim.errors.SimulationError` naming the loop, the residual of every tear and
the number of evaluations. At initialization the nodes are in initialization mode, so
``G`` sets inputs and reads outputs without stepping or rolling back.
"""

from __future__ import annotations

import numpy as np

from ..clock import to_seconds
from ..errors import SimulationError
from .options import LoopOptions

FIXED_POINT_FIRST = 8


class LoopSolver:
    def __init__(self, options: LoopOptions):
        self.options = options
        self.evaluations = 0

    def solve(self, system, stage: int, now: int, limit: int, *, step_node,
              init: bool = False) -> None:
        """Solve loop stage ``stage`` for the step from ``now`` to ``limit`` [ticks] (or
        initialization at ``now``).

        ``step_node(i, apply_tears)`` exchanges, sets, steps and gets node ``i``; at
        initialization it sets and gets only.
        """
        nodes = system.stages[stage]
        tears = system.stage_tears[stage]
        dst, src = system.dst[tears], system.src[tears]
        gain, offset = system.gain[tears], system.offset[tears]
        saved = None if init else system.save(nodes)
        count = 0

        def evaluate(x: np.ndarray) -> np.ndarray:
            nonlocal count
            count += 1
            if saved is not None:
                system.restore(saved)
            for i in nodes:
                step_node(i, lambda: system.u.__setitem__(dst, x))
            return gain * system.y[src] + offset

        try:
            x = system.u[dst].copy()
            x, gx, ok = self._fixed_point(evaluate, x)
            if not ok and self.options.method == "newton":
                x, gx, ok = self._newton(evaluate, x)
            if not ok:
                raise self._failure(system, stage, to_seconds(now), x, gx, count)
            if not np.array_equal(system.u[dst], x):
                evaluate(x)  # leave the stage in the state of the accepted solution
        finally:
            self.evaluations += count
            if saved is not None:
                system.free(saved)

    def _converged(self, x: np.ndarray, gx: np.ndarray) -> bool:
        return bool(np.all(np.abs(gx - x) <= self.options.tolerance * (1 + np.abs(gx))))

    def _fixed_point(self, evaluate, x):
        spec = self.options
        limit = spec.max_iterations if spec.method == "fixed-point" else min(
            FIXED_POINT_FIRST, spec.max_iterations)
        gx = evaluate(x)
        for _ in range(limit):
            if self._converged(x, gx):
                return gx, gx, True
            if not np.all(np.isfinite(gx)):
                break
            x = x + spec.relaxation * (gx - x)
            gx = evaluate(x)
        return x, gx, self._converged(x, gx)

    def _newton(self, evaluate, x):
        spec = self.options
        n = len(x)
        from scipy.optimize import root  # imported when a loop needs Newton
        sol = root(lambda z: evaluate(z) - z, x, method="hybr",
                   options={"xtol": spec.tolerance * 1e-2, "maxfev": spec.max_iterations * (n + 1)})
        x = sol.x
        gx = evaluate(x)
        return x, gx, self._converged(x, gx)

    def _failure(self, system, stage, t, x, gx, count) -> SimulationError:
        tears = system.stage_tears[stage]
        names = []
        for k in tears:
            names.append(system.input_name(int(system.dst[k])))
        residuals = ", ".join(f"{n}: {r:.3g}" for n, r in zip(names, gx - x, strict=True))
        nodes = [system.names[i] for i in system.stages[stage]]
        return SimulationError(
            f"algebraic loop through {', '.join(nodes)} did not converge after {count} "
            f"evaluations ({self.options.method}, tolerance {self.options.tolerance:g}); residual "
            f"per loop input: {residuals}. Try relaxation < 1, a smaller step, or mark a "
            "connection of the loop 'delayed: true'", time=t, nodes=nodes)
