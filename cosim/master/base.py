"""The master algorithm interface and the outcome checks all algorithms share.

Call order, as the execution drives it::

    algo.initialize(system, t0)     consistent initial outputs through the graph
    algo.step(system, t, dt)        one macro step from t to t + dt [s]; never beyond
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..errors import SimulationError
from ..subsystems.base import STEP_OK, StepOutcome, StepStatus, Subsystem


class MasterAlgorithm(ABC):
    name = "master"

    def initialize(self, system, t0: float) -> None:
        """Propagate initial values through the graph, in initialization mode.

        Nodes are visited in stepping order: set inputs, get outputs. The pass repeats
        until no output changes (cycles through state outputs need more than one pass;
        algebraic loops are rejected by the checks), at most once per node plus one.
        """
        subs = system.subsystems
        passes = 1 if system.forward else len(subs) + 1
        for _ in range(passes):
            before = system.y.copy()
            for i, sub in enumerate(subs):
                system.exchange_into(i)
                sub.set_inputs()
                sub.get_outputs()
            if passes == 1 or (system.y == before).all():
                break
        system.snapshot()

    @abstractmethod
    def step(self, system, t: float, dt: float) -> None: ...

    def settings(self) -> dict:
        return {"name": self.name}


def check_outcome(sub: Subsystem, outcome: StepOutcome, t: float, dt: float) -> None:
    """Fixed-step masters accept only a completed step."""
    if outcome is STEP_OK or outcome.status == StepStatus.OK and not outcome.event:
        return
    if outcome.status == StepStatus.DISCARD:
        raise SimulationError(f"{sub.name} discarded the step of {dt:g} s; the fixed-step "
                              "masters cannot retry it: try a smaller step", time=t,
                              nodes=[sub.name])
    if outcome.status == StepStatus.TERMINATE:
        raise SimulationError(f"{sub.name} asked to terminate the simulation", time=t,
                              nodes=[sub.name])
    raise SimulationError(f"{sub.name} returned early at t={outcome.reached} s or reported an "
                          "event; fixed-step masters do not handle FMU events", time=t,
                          nodes=[sub.name])


def make_algorithm(name: str) -> MasterAlgorithm:
    from .gauss_seidel import GaussSeidel
    from .jacobi import Jacobi
    algorithms = {"jacobi": Jacobi, "gauss-seidel": GaussSeidel}
    try:
        return algorithms[name]()
    except KeyError:
        raise SimulationError(f"unknown algorithm {name!r}; choose one of "
                              f"{', '.join(algorithms)}") from None
