"""The master algorithm interface and what all algorithms share.

Call order, as the execution drives it::

    algo.initialize(system, t0)     consistent initial outputs through the graph,
                                    algebraic loops solved, in initialization mode
    algo.step(system, t, dt)        one macro step from t to t + dt [s]; returns None when
                                    every node reached t + dt, else a MacroOutcome
                                    (a node returned early, or flagged an FMU event)

Recoverable step results (early return, an FMU event) are values; failures raise.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..clock import ceil_ticks, to_ticks
from ..errors import SimulationError
from ..subsystems.base import STEP_OK, StepOutcome, StepStatus, Subsystem
from ..topology.schema import LoopSpec
from .loops import LoopSolver


@dataclass
class MacroOutcome:
    """What a macro step reports when it is not plainly done.

    ``reached`` [s]: the earliest time a node returned early at (``t + dt`` otherwise);
    ``events``: indices of nodes that flagged an FMU event at their end time.
    """

    reached: float
    events: list[int] = field(default_factory=list)
    early: bool = False


class MasterAlgorithm(ABC):
    name = "master"

    def __init__(self, loops: LoopSpec | None = None):
        self.loops = LoopSolver(loops or LoopSpec())

    def initialize(self, system, t0: float) -> None:
        """Propagate initial values through the graph, in initialization mode.

        Stages are visited in stepping order (single nodes: set inputs, get outputs;
        loops: solved). The pass repeats until no output changes when the order has
        backward connections (cycles through state outputs), at most once per node
        plus one.
        """
        subs = system.subsystems
        passes = 1 if system.forward else len(subs) + 1

        def init_node(i, apply_tears=None):
            system.exchange_into(i)
            if apply_tears is not None:
                apply_tears()
            subs[i].set_inputs()
            subs[i].get_outputs()

        for _ in range(passes):
            before = system.y.copy()
            for s, stage in enumerate(system.stages):
                if system.loop_stage[s]:
                    self.loops.solve(system, s, t0, 0.0, exchange=True, step_node=init_node,
                                     init=True)
                else:
                    init_node(stage[0])
            if passes == 1 or (system.y == before).all():
                break
        system.snapshot()
        system.commit(t0)

    @abstractmethod
    def step(self, system, t: float, dt: float) -> MacroOutcome | None: ...

    def node_stepper(self, system, t: float, dt: float, bound: float | None):
        """A function stepping one node in the general path: exchange (unless ``bound``
        is None: inputs already set), apply loop tears, set, step, get, stamp outputs.
        Its ``outcome`` attribute collects events and early returns."""
        subs = system.subsystems

        def step_node(i: int, apply_tears=None) -> None:
            if bound is not None:
                system.exchange_into(i, t, dt, bound=bound)
            if apply_tears is not None:
                apply_tears()
            subs[i].set_inputs()
            outcome = subs[i].do_step(t, dt)
            if outcome is not STEP_OK and check_outcome(subs[i], outcome, t, dt):
                step_node.outcome = note(step_node.outcome, i, outcome, t, dt)
            subs[i].get_outputs()
            system.label_outputs(i, t + dt)

        step_node.outcome = None
        return step_node

    def settings(self) -> dict:
        return {"name": self.name, "loops": self.loops.spec.model_dump()}


def check_outcome(sub: Subsystem, outcome: StepOutcome, t: float, dt: float) -> bool:
    """True when the node flagged an FMU event or returned early (handled by the caller);
    raises for a discarded step or a termination request."""
    if outcome is STEP_OK or (outcome.status == StepStatus.OK and not outcome.event):
        return False
    if outcome.status == StepStatus.DISCARD:
        raise SimulationError(f"{sub.name} discarded the step of {dt:g} s; fixed-step "
                              "masters cannot retry it: try a smaller step", time=t,
                              nodes=[sub.name])
    if outcome.status == StepStatus.TERMINATE:
        raise SimulationError(f"{sub.name} asked to terminate the simulation", time=t,
                              nodes=[sub.name])
    return True


def note(result: MacroOutcome | None, i: int, outcome: StepOutcome, t: float, dt: float
         ) -> MacroOutcome:
    """Fold one node's event/early-return outcome into the macro step's."""
    result = result or MacroOutcome(reached=t + dt)
    # early only if it stopped at least a tick short of the target (a redo aimed at the
    # next tick after an event time ends within that tick: that is arriving)
    if outcome.status == StepStatus.EARLY_RETURN and outcome.reached is not None \
            and ceil_ticks(outcome.reached) < to_ticks(t + dt) \
            and outcome.reached < result.reached:
        result.reached = outcome.reached
        result.early = True
    if outcome.event:
        result.events.append(i)
    return result


def make_algorithm(name: str, loops: LoopSpec | None = None) -> MasterAlgorithm:
    from .gauss_seidel import GaussSeidel
    from .jacobi import Jacobi
    algorithms = {"jacobi": Jacobi, "gauss-seidel": GaussSeidel}
    try:
        return algorithms[name](loops)
    except KeyError:
        raise SimulationError(f"unknown algorithm {name!r}; choose one of "
                              f"{', '.join(algorithms)}") from None
