"""Jacobi: every node steps from the same inputs, the outputs of the last point.

One macro step: exchange all, set every node's inputs, step every node, get every
node's outputs. Information crosses one connection per step. Algebraic loops are
solved as stages (their internal connections implicitly, at the end of the step); their
inputs from outside the loop are Jacobi's, like everyone's.
"""

from __future__ import annotations

from ..protocol import STEP_OK
from .base import MacroStep, MasterAlgorithm, fold, seconds


class Jacobi(MasterAlgorithm):
    name = "jacobi"

    def step(self, system, now: int, limit: int) -> MacroStep | None:
        if system.has_loops or system.extrapolating:
            return self._general_step(system, now, limit)
        system.exchange_all()
        set_inputs = system.set_inputs
        for i in range(system.n):
            set_inputs(i)
        return self._step_and_get(system, now, limit, 0, None)

    def _step_and_get(self, system, now: int, limit: int, first: int,
                      result: MacroStep | None) -> MacroStep | None:
        step = system.step
        for i in range(first, system.n):
            outcome = step(i, now, limit)
            if outcome is not STEP_OK:
                result = fold(system, i, outcome, now, limit, result)
        get_outputs = system.get_outputs
        for i in range(system.n):
            get_outputs(i)
        return result

    def resume(self, system, now: int, limit: int, i: int, outcome) -> MacroStep | None:
        result = fold(system, i, outcome, now, limit, None)  # None for STEP_OK
        return self._step_and_get(system, now, limit, i + 1, result)

    def _general_step(self, system, now: int, limit: int) -> MacroStep | None:
        for i in range(system.n):
            system.sample_into(i, now, limit, jacobi=True)
        step_node = self.node_stepper(system, now, limit, sampled=None)
        # loops first, while every other output is still at t (Jacobi's inputs)
        for s in range(len(system.stages)):
            if system.loop_stage[s]:
                self.loops.solve(system, s, now, limit, step_node=step_node)
        for s, stage in enumerate(system.stages):
            if not system.loop_stage[s]:
                step_node(stage[0])
        t, dt = seconds(now, limit)
        system.commit(t + dt)
        return step_node.outcome
