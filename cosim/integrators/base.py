"""The integrator interface that model-exchange clusters drive.

A problem (:class:`OdeProblem`) is ``dx/dt = f(t, x)`` with event indicators
``z(t, x)``; an integrator advances it and locates the first sign change of an
indicator (a state event). Call order::

    integ = make_integrator(options, problem)     nothing allocated yet
    integ.reset(t0, x0, nominals)   (re)start at t0 [s] from x0: at the start, after
                                    every event, after a rollback and whenever an input
                                    of the problem jumped (its right-hand side did)
    loop:
        reached = integ.advance(t_end, t_stop=..., step_done=...)
                                    integrate towards t_end [s]; returns where it
                                    stopped and why (END, ROOT, STEP); ``integ.x`` holds
                                    the state there
    integ.close()                   free native memory (idempotent)

``advance`` never reports a time beyond ``t_end`` and never evaluates the problem
beyond ``t_stop`` (a time event). It may integrate beyond ``t_end`` internally and
interpolate back (CVODE, dense output): a following ``advance`` continues from there,
unless :meth:`Integrator.reset` is called in between. At ``ROOT`` the state is on the
far side of the crossing (an indicator has changed sign, or reached zero), so the
model's event condition holds there; the crossing is located within ``1e-12 * max(1,
|t|)`` s (CVODE: its own root tolerance, ~100 ulp of t). ``STEP``: ``step_done(t, x)``
(called after every completed internal step, FMI's ``completedIntegratorStep``) asked to
stop there.

Errors: a problem's ``rhs`` may raise :class:`RecoverableRhs` (the integrator retries
with a smaller step) or any exception (re-raised from ``advance``); an integrator that
fails raises :class:`IntegratorError` saying why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np

from ..errors import SubsystemError

SOLVERS = ("cvode-bdf", "cvode-adams", "rk45", "dop853")
DEFAULT_SOLVER = "cvode-bdf"


class OdeProblem(Protocol):
    """What an integrator integrates. Arrays are float64; ``n`` states, ``nz``
    indicators (either may be 0)."""

    n: int
    nz: int

    def rhs(self, t: float, x: np.ndarray, dx: np.ndarray) -> None:
        """Write ``f(t, x)`` into ``dx``."""

    def indicators(self, t: float, x: np.ndarray, z: np.ndarray) -> None:
        """Write ``z(t, x)`` into ``z``."""


class RecoverableRhs(Exception):  # noqa: N818 - a signal, not a failure
    """The right-hand side cannot be evaluated at this point (FMI Discard): the
    integrator should retry with a smaller step."""


class IntegratorError(SubsystemError):
    """The integrator failed (too much work, convergence, tolerance too small...); the
    cluster running it fills in its node name."""


class Stop(Enum):
    END = "end"     # reached t_end
    ROOT = "root"   # an event indicator changed sign
    STEP = "step"   # step_done() asked for an event after a completed step


@dataclass(frozen=True)
class Reached:
    t: float
    why: Stop


@dataclass(frozen=True)
class SolverOptions:
    """``solver`` (one of :data:`SOLVERS`), ``rtol``, ``atol`` (absolute tolerance per
    state, scaled by the state's nominal value; default ``rtol / 100``), ``max_step`` [s]
    (None: unlimited) and ``max_steps``: internal steps allowed per ``advance``."""

    solver: str = DEFAULT_SOLVER
    rtol: float = 1e-6
    atol: float | None = None
    max_step: float | None = None
    max_steps: int = 100_000

    @property
    def abs_tol(self) -> float:
        return self.rtol * 1e-2 if self.atol is None else self.atol

    def scaled_atol(self, nominals: np.ndarray) -> np.ndarray:
        """The absolute tolerance of each state, scaled by its nominal value (states
        without a positive nominal keep the plain tolerance)."""
        return self.abs_tol * np.abs(np.where(nominals > 0, nominals, 1.0))

    def as_dict(self) -> dict:
        return {"solver": self.solver, "rtol": self.rtol, "atol": self.abs_tol,
                "max_step": self.max_step}


@dataclass
class Stats:
    """Counters over the integrator's life (never rolled back)."""

    steps: int = 0
    resets: int = 0
    roots: int = 0


StepDone = Callable[[float, np.ndarray], bool]


class Integrator(ABC):
    """Base of the integrators; see the module docstring for the call order."""

    name = "integrator"

    def __init__(self, options: SolverOptions, problem: OdeProblem):
        self.options = options
        self.problem = problem
        self.n = problem.n
        self.x = np.zeros(max(problem.n, 1))  # the state where advance() stopped
        self.t = 0.0
        self.stats = Stats()

    @abstractmethod
    def reset(self, t0: float, x0: np.ndarray, nominals: np.ndarray | None = None) -> None:
        ...

    @abstractmethod
    def advance(self, t_end: float, *, t_stop: float | None = None,
                step_done: StepDone | None = None) -> Reached: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


def make_integrator(options: SolverOptions, problem: OdeProblem) -> Integrator:
    """The integrator named by ``options.solver`` for ``problem``."""
    if options.solver.startswith("cvode-"):
        from .cvode import CVodeIntegrator
        return CVodeIntegrator(options, problem)
    if options.solver in ("rk45", "dop853"):
        from .explicit import ExplicitIntegrator
        return ExplicitIntegrator(options, problem)
    raise ValueError(f"unknown solver {options.solver!r}; choose one of {', '.join(SOLVERS)}")
