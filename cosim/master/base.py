"""The master algorithm interface and what all algorithms share.

Call order, as the execution drives it (times in integer ticks, :mod:`cosim.clock`)::

    algo.initialize(system, t0)         consistent initial outputs through the graph,
                                        algebraic loops solved, in initialization mode
    algo.step(system, now, limit)       one macro step from ``now`` to ``limit``; returns
                                        None when every node reached ``limit``, else a
                                        MacroStep (a node returned early, flagged an FMU
                                        event, or asked to end the simulation)
    algo.resume(system, now, limit, i, outcome)
                                        finish a macro step that the compiled loop ran up
                                        to node ``i``'s step, whose outcome was not OK

The masters see only the coupled system (:mod:`cosim.system`) and the protocol's value
types (:mod:`cosim.protocol`): never a subsystem, never the topology's configuration.
Recoverable step results (early return, an FMU event, a termination request) are values;
failures raise.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..clock import TICKS_PER_SECOND, ceil_ticks, to_ticks
from ..errors import SimulationError
from ..protocol import STEP_OK, StepOutcome, StepStatus
from .loops import LoopSolver
from .options import LoopOptions


@dataclass
class MacroStep:
    """What a macro step reports when it is not plainly done.

    ``reached`` [s]: the earliest time a node returned early at (``t + dt`` otherwise);
    ``events``: indices of nodes that flagged an FMU event at their end time;
    ``terminate``: ``(node index, time [s])`` of the first node that asked to end the
    simulation; ``cut``: that request came before the end of the step (the step is not
    complete for every node).
    """

    reached: float
    events: list[int] = field(default_factory=list)
    early: bool = False
    terminate: tuple[int, float] | None = None
    cut: bool = False

    @property
    def stops(self) -> bool:
        """The macro step ended before every node reached its end."""
        return self.early or self.cut


def seconds(now: int, limit: int) -> tuple[float, float]:
    """``(t, dt)`` [s] of a step from ``now`` to ``limit`` [ticks], computed as every
    node computes them (so sample times and step ends agree bit for bit)."""
    t = now / TICKS_PER_SECOND
    return t, limit / TICKS_PER_SECOND - t


class MasterAlgorithm(ABC):
    name = "master"

    def __init__(self, loops: LoopOptions | None = None):
        self.loops = LoopSolver(loops or LoopOptions())

    def initialize(self, system, t0: int) -> None:
        """Propagate initial values through the graph, in initialization mode.

        Stages are visited in stepping order (single nodes: set inputs, get outputs;
        loops: solved). The pass repeats until no output changes when the order has
        backward connections (cycles through state outputs), at most once per node
        plus one.
        """
        passes = 1 if system.forward else system.n + 1

        def init_node(i, apply_tears=None):
            system.exchange_into(i)
            if apply_tears is not None:
                apply_tears()
            system.set_inputs(i)
            system.get_outputs(i)

        for _ in range(passes):
            before = system.y.copy()
            for s, stage in enumerate(system.stages):
                if system.loop_stage[s]:
                    self.loops.solve(system, s, t0, t0, step_node=init_node, init=True)
                else:
                    system.current = stage[0]
                    init_node(stage[0])
            if passes == 1 or (system.y == before).all():
                break
        system.snapshot()
        system.commit(t0 / TICKS_PER_SECOND)

    @abstractmethod
    def step(self, system, now: int, limit: int) -> MacroStep | None: ...

    def resume(self, system, now: int, limit: int, i: int, outcome: StepOutcome
               ) -> MacroStep | None:
        """Finish a plain macro step run natively up to node ``i``'s step."""
        raise SimulationError(f"{self.name} cannot resume a compiled macro step")

    def node_stepper(self, system, now: int, limit: int, sampled: str | None):
        """A function stepping one node in the general path: sample its inputs (unless
        ``sampled`` is None: inputs already set; else "jacobi" or "gauss-seidel"), apply
        loop tears, set, step, get, stamp outputs. Its ``outcome`` attribute collects
        events, early returns and termination requests."""
        t, dt = seconds(now, limit)
        jacobi = sampled == "jacobi"

        def step_node(i: int, apply_tears=None) -> None:
            if sampled is not None:
                system.sample_into(i, now, limit, jacobi)
            if apply_tears is not None:
                apply_tears()
            system.set_inputs(i)
            outcome = system.step(i, now, limit)
            if outcome is not STEP_OK and check_outcome(system, i, outcome, t, dt):
                step_node.outcome = note(step_node.outcome, i, outcome, t, dt)
            system.get_outputs(i)
            system.label_outputs(i, t + dt)

        step_node.outcome = None
        return step_node

    def settings(self) -> dict:
        return {"name": self.name, "loops": self.loops.options.as_dict()}


def check_outcome(system, i: int, outcome: StepOutcome, t: float, dt: float) -> bool:
    """True when node ``i`` flagged an FMU event, returned early or asked to end the
    simulation (handled by the caller); raises for a discarded step."""
    if outcome is STEP_OK or (outcome.status == StepStatus.OK and not outcome.event):
        return False
    if outcome.status == StepStatus.DISCARD:
        name = system.names[i]
        raise SimulationError(f"{name} rejected the step of {dt:g} s (fmiDiscard, without a "
                              "termination request); fixed-step masters cannot retry it: "
                              "try a smaller step, or adaptive steps", time=t, nodes=[name])
    return True


def fold(system, i: int, outcome: StepOutcome, now: int, limit: int,
         result: MacroStep | None) -> MacroStep | None:
    """``result`` with node ``i``'s outcome of a step from ``now`` to ``limit`` folded
    in (STEP_OK leaves it as it is: the hot loops skip the call then; raises for a
    discarded step)."""
    t, dt = seconds(now, limit)
    if check_outcome(system, i, outcome, t, dt):
        return note(result, i, outcome, t, dt)
    return result


def note(result: MacroStep | None, i: int, outcome: StepOutcome, t: float, dt: float
         ) -> MacroStep:
    """Fold one node's event/early-return/termination outcome into the macro step's."""
    result = result or MacroStep(reached=t + dt)
    # early only if it stopped at least a tick short of the target (a redo aimed at the
    # next tick after an event time ends within that tick: that is arriving)
    short = outcome.reached is not None and ceil_ticks(outcome.reached) < to_ticks(t + dt)
    if outcome.status == StepStatus.EARLY_RETURN and short \
            and outcome.reached < result.reached:
        result.reached = outcome.reached
        result.early = True
    if outcome.status == StepStatus.TERMINATE and result.terminate is None:
        reached = outcome.reached if outcome.reached is not None else t + dt
        result.terminate = (i, reached)
        result.cut = short
    if outcome.event:
        result.events.append(i)
    return result


def make_algorithm(name: str, loops: LoopOptions | None = None) -> MasterAlgorithm:
    """The master algorithm registered as ``name`` (:mod:`cosim.algorithms`)."""
    import importlib

    from .. import algorithms
    try:
        target = algorithms.ALGORITHMS[name][0]
    except KeyError:
        raise SimulationError(f"unknown algorithm {name!r}; choose one of "
                              f"{', '.join(algorithms.names())}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)(loops)
