"""Explicit Runge-Kutta integrators (scipy's RK45 and DOP853), stepped one internal step
at a time, for non-stiff clusters.

scipy's ``OdeSolver`` classes take one adaptive step per ``step()`` and give a dense
output over it. After each step the event indicators are evaluated at its end; a sign
change against the start of the unexplored part of the step is located on the dense
output by bisection to ``1e-12 * max(1, |t|)`` s, and the state there is taken on the
far side of the crossing. Output times inside a step are interpolated, so communication
points cost no extra right-hand-side evaluations. The solver's boundary is the next
time event (``t_stop``) or infinity: it never evaluates the problem past a time event.
"""

from __future__ import annotations

import math

import numpy as np

from .base import (
    Integrator,
    IntegratorError,
    OdeProblem,
    Reached,
    RecoverableRhs,
    SolverOptions,
    StepDone,
    Stop,
)

ROOT_RTOL = 1e-12


def _crossed(z0: np.ndarray, z1: np.ndarray) -> bool:
    """An indicator left its sign (or reached zero from one)."""
    return bool(np.any(((z0 > 0) & (z1 <= 0)) | ((z0 < 0) & (z1 >= 0))))


class ExplicitIntegrator(Integrator):
    name = "explicit"

    def __init__(self, options: SolverOptions, problem: OdeProblem):
        super().__init__(options, problem)
        from scipy.integrate import DOP853, RK45
        self.method = {"rk45": RK45, "dop853": DOP853}[options.solver]
        self.solver = None
        self.bound = math.inf
        self.dense = None      # the dense output of the last internal step
        self.z = np.zeros(problem.nz)     # indicators at self.t
        self.z_scratch = np.zeros(problem.nz)
        self.atol: float | np.ndarray = options.abs_tol

    def _fun(self, t: float, x: np.ndarray) -> np.ndarray:
        dx = np.empty_like(x)
        try:
            self.problem.rhs(t, x, dx)
        except RecoverableRhs:
            raise IntegratorError(f"the right-hand side cannot be evaluated at t={t!r} s "
                                  f"(FMI Discard) and {self.options.solver} cannot retry "
                                  "with a smaller step; use a cvode solver", time=t) from None
        return dx

    def _start(self, t0: float, bound: float) -> None:
        opts = self.options
        self.bound = bound
        self.solver = self.method(self._fun, t0, self.x[:self.n].copy(), bound,
                                  rtol=opts.rtol, atol=self.atol,
                                  max_step=opts.max_step or math.inf)
        self.dense = None

    def reset(self, t0: float, x0: np.ndarray, nominals: np.ndarray | None = None) -> None:
        self.x[:self.n] = x0
        self.t = t0
        if nominals is not None and self.n:
            self.atol = self.options.scaled_atol(nominals)
        self.solver = None
        if self.problem.nz:
            self.problem.indicators(t0, self.x[:self.n], self.z)
        self.stats.resets += 1

    # -- stepping --------------------------------------------------------------------------

    def advance(self, t_end: float, *, t_stop: float | None = None,
                step_done: StepDone | None = None) -> Reached:
        bound = t_stop if t_stop is not None else math.inf
        if step_done is not None:  # every completed step is reported: never pass t_end
            bound = min(bound, t_end)
        if self.n == 0:
            return self._advance_stateless(t_end)
        solver = self.solver
        if solver is None or bound != self.bound or (
                solver.status != "running" and self.t >= solver.t):
            self._start(self.t, bound)
        steps = 0
        while True:
            if self.dense is None or self.t >= self.solver.t:
                steps += 1
                self._step(t_end, steps)
                if step_done is not None and self.solver.t <= t_end:
                    found = self._scan(self.solver.t)
                    if found is not None:
                        return found
                    if step_done(self.t, self.x[:self.n]):
                        return Reached(self.t, Stop.STEP)
                    continue
            found = self._scan(min(self.solver.t, t_end))
            if found is not None:
                return found
            if self.t >= t_end:
                return Reached(t_end, Stop.END)

    def _step(self, t_end: float, steps: int) -> None:
        """One internal step of the solver (the ``steps``-th of this advance)."""
        solver = self.solver
        if solver.status != "running":
            raise IntegratorError(f"{self.options.solver} stopped at t={solver.t!r} s "
                                  f"before t={t_end!r} s", time=solver.t)
        if steps > self.options.max_steps:
            raise IntegratorError(f"more than {self.options.max_steps} steps before "
                                  f"t={t_end!r} s; a stiff problem? try solver: cvode-bdf",
                                  time=solver.t)
        message = solver.step()
        if solver.status == "failed":
            raise IntegratorError(f"{self.options.solver} failed: {message}", time=solver.t)
        self.dense = solver.dense_output()
        self.stats.steps += 1

    def _scan(self, t_hi: float) -> Reached | None:
        """Move from ``self.t`` to ``t_hi`` (inside the last step); stop at the first
        indicator crossing on the way."""
        t_hi = float(t_hi)
        x_hi = self.solver.y if t_hi == self.solver.t else self.dense(t_hi)
        if self.problem.nz:
            z_hi = np.empty(self.problem.nz)
            self.problem.indicators(t_hi, x_hi, z_hi)
            if _crossed(self.z, z_hi):
                t_root = self._locate(self.t, t_hi, z_hi)
                self.x[:self.n] = self.dense(t_root)
                self.t = t_root
                self.problem.indicators(t_root, self.x[:self.n], self.z)
                self.stats.roots += 1
                self.solver = None  # the event resets the integrator anyway
                return Reached(t_root, Stop.ROOT)
            self.z[:] = z_hi
        self.x[:self.n] = x_hi
        self.t = t_hi
        return None

    def _locate(self, lo: float, hi: float, z_hi: np.ndarray) -> float:
        """Bisection on the dense output: the earliest time (within the tolerance) at
        which some indicator has crossed relative to ``self.z`` at ``lo``."""
        z = self.z_scratch
        while hi - lo > ROOT_RTOL * max(1.0, abs(hi)):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            self.problem.indicators(mid, self.dense(mid), z)
            if _crossed(self.z, z):
                hi = mid
            else:
                lo = mid
        return float(hi)

    def _advance_stateless(self, t_end: float) -> Reached:
        """No states: the indicators can only change through time; check the end."""
        if self.problem.nz:
            z = np.empty(self.problem.nz)
            self.problem.indicators(t_end, self.x[:0], z)
            if _crossed(self.z, z):
                self.dense = lambda t: self.x[:0]
                t_root = self._locate(self.t, t_end, z)
                self.t = t_root
                self.problem.indicators(t_root, self.x[:0], self.z)
                return Reached(t_root, Stop.ROOT)
            self.z[:] = z
        self.t = t_end
        return Reached(t_end, Stop.END)
