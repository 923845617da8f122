"""Jacobi: every node steps from the same inputs, the outputs of the last point.

One macro step: exchange all, set every node's inputs, step every node, get every
node's outputs. Information crosses one connection per step. Algebraic loops are
solved as stages (their internal connections implicitly, at the end of the step); their
inputs from outside the loop are Jacobi's, like everyone's.
"""

from __future__ import annotations

from ..subsystems.base import STEP_OK
from .base import MacroOutcome, MasterAlgorithm, check_outcome, note


class Jacobi(MasterAlgorithm):
    name = "jacobi"

    def step(self, system, t: float, dt: float) -> MacroOutcome | None:
        if system.has_loops or system.extrapolating:
            return self._general_step(system, t, dt)
        subs = system.subsystems
        result = None
        system.exchange_all()
        for sub in subs:
            sub.set_inputs()
        for i, sub in enumerate(subs):
            outcome = sub.do_step(t, dt)
            if outcome is not STEP_OK and check_outcome(sub, outcome, t, dt):
                result = note(result, i, outcome, t, dt)
        for sub in subs:
            sub.get_outputs()
        return result

    def _general_step(self, system, t: float, dt: float) -> MacroOutcome | None:
        for i in range(len(system.subsystems)):
            system.exchange_into(i, t, dt, bound=t)
        step_node = self.node_stepper(system, t, dt, bound=None)
        # loops first, while every other output is still at t (Jacobi's inputs)
        for s in range(len(system.stages)):
            if system.loop_stage[s]:
                self.loops.solve(system, s, t, dt, exchange=False, step_node=step_node)
        for s, stage in enumerate(system.stages):
            if not system.loop_stage[s]:
                step_node(stage[0])
        system.commit(t + dt)
        return step_node.outcome
