"""Gauss-Seidel: stages step one after another in the order derived from the graph,
each from the freshest outputs of the stages before it (``delayed`` connections read the
previous communication point); algebraic loops are solved as one stage. See
:mod:`cosim.topology.analysis` for the order.

A node that returns early, or asks to end the simulation before the end of the step,
ends the macro step there: the nodes after it do not step.
"""

from __future__ import annotations

from ..protocol import STEP_OK
from .base import MacroStep, MasterAlgorithm, fold, seconds


class GaussSeidel(MasterAlgorithm):
    name = "gauss-seidel"

    def step(self, system, now: int, limit: int) -> MacroStep | None:
        if system.has_delayed:
            system.snapshot()
        if system.has_loops or system.extrapolating:
            return self._general_step(system, now, limit)
        return self._plain(system, now, limit, 0, None)

    def _plain(self, system, now: int, limit: int, first: int, result: MacroStep | None
               ) -> MacroStep | None:
        """Nodes ``first``.. of a plain macro step (no loops, no extrapolation)."""
        exchange, step_node = system.exchange_into, system.step_node
        for i in range(first, system.n):
            exchange(i)
            outcome = step_node(i, now, limit)
            if outcome is not STEP_OK:
                result = fold(system, i, outcome, now, limit, result)
                if result is not None and result.stops:
                    return result
        return result

    def resume(self, system, now: int, limit: int, i: int, outcome) -> MacroStep | None:
        result = fold(system, i, outcome, now, limit, None)  # None for STEP_OK
        if result is not None and result.stops:
            return result
        return self._plain(system, now, limit, i + 1, result)

    def _general_step(self, system, now: int, limit: int) -> MacroStep | None:
        step_node = self.node_stepper(system, now, limit, sampled="gauss-seidel")
        for s, stage in enumerate(system.stages):
            if system.loop_stage[s]:
                self.loops.solve(system, s, now, limit, step_node=step_node)
            else:
                step_node(stage[0])
            if step_node.outcome is not None and step_node.outcome.stops:
                return step_node.outcome
        t, dt = seconds(now, limit)
        system.commit(t + dt)
        return step_node.outcome
