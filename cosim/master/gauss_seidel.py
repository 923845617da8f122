"""Gauss-Seidel: stages step one after another in the order derived from the graph,
each from the freshest outputs of the stages before it (``delayed`` connections read the
previous communication point); algebraic loops are solved as one stage. See
:mod:`cosim.topology.analysis` for the order.
"""

from __future__ import annotations

from ..subsystems.base import STEP_OK
from .base import MacroOutcome, MasterAlgorithm, check_outcome, note


class GaussSeidel(MasterAlgorithm):
    name = "gauss-seidel"

    def step(self, system, t: float, dt: float) -> MacroOutcome | None:
        if system.has_delayed:
            system.snapshot()
        if system.has_loops or system.extrapolating:
            return self._general_step(system, t, dt)
        result = None
        exchange = system.exchange_into
        for i, sub in enumerate(system.subsystems):
            exchange(i)
            sub.set_inputs()
            outcome = sub.do_step(t, dt)
            sub.get_outputs()
            if outcome is not STEP_OK and check_outcome(sub, outcome, t, dt):
                result = note(result, i, outcome, t, dt)
                if result.early:
                    return result
        return result

    def _general_step(self, system, t: float, dt: float) -> MacroOutcome | None:
        step_node = self.node_stepper(system, t, dt, bound=t + dt)
        for s, stage in enumerate(system.stages):
            if system.loop_stage[s]:
                self.loops.solve(system, s, t, dt, exchange=True, step_node=step_node)
            else:
                step_node(stage[0])
            if step_node.outcome is not None and step_node.outcome.early:
                return step_node.outcome
        system.commit(t + dt)
        return step_node.outcome
