"""Multirate: each node steps with its own step, an integer multiple of the base step.

At every base point ``t`` the nodes that have reached ``t`` are *due*: each takes a step
of its own length (shortened to land on the next synchronisation point — a scheduled
event or the stop time — given as ``horizon``). A node that is still ahead is left
alone. Inputs come from samples of their sources (see
:meth:`cosim.system.CoupledSystem.exchange_into`): a sample is visible to a node once
the node has reached the time it stands for (Jacobi: its step start; Gauss-Seidel: its
step end), so values cross a connection only at points where both ends have stepped,
held (zero order) or extrapolated (linear, quadratic) to the step's midpoint.
Algebraic loops between nodes of different rates are not supported.
"""

from __future__ import annotations

from ..clock import to_seconds, to_ticks
from ..errors import SimulationError
from ..subsystems.base import STEP_OK
from .base import MacroOutcome, MasterAlgorithm, check_outcome, note


class Multirate(MasterAlgorithm):
    def __init__(self, loops, base: str, steps: list[int]):
        """``steps``: each node's step in ticks, in stepping order."""
        super().__init__(loops)
        self.base = base
        self.name = f"multirate-{base}"
        self.steps = steps
        self.horizon: int | None = None  # ticks: the next synchronisation point

    def step(self, system, t: float, dt: float) -> MacroOutcome | None:
        if system.has_loops:
            raise SimulationError("algebraic loops are not supported with multirate steps; "
                                  "give the loop's nodes one step", time=t)
        subs, now = system.subsystems, to_ticks(t)
        end_of_macro = to_ticks(t + dt)
        horizon = end_of_macro if self.horizon is None else max(self.horizon, end_of_macro)
        result: MacroOutcome | None = None
        due = [i for i in range(len(subs)) if to_ticks(system.node_end[i]) <= now]
        for i in due:  # Jacobi: every due node's inputs before anyone steps
            if self.base == "jacobi":
                end = min(now + self.steps[i], horizon)
                system.exchange_into(i, t, to_seconds(end) - t, bound=t)
        for i in due:
            end = min(now + self.steps[i], horizon)
            h = to_seconds(end) - t
            if self.base != "jacobi":
                system.exchange_into(i, t, h, bound=t + h)
            subs[i].set_inputs()
            outcome = subs[i].do_step(t, h)
            if outcome is not STEP_OK and check_outcome(subs[i], outcome, t, h):
                result = note(result, i, outcome, t, dt)
            subs[i].get_outputs()
            system.label_outputs(i, to_seconds(end))
            system.node_end[i] = to_seconds(end)
        system.commit(t + dt)
        return result

    def settings(self) -> dict:
        return {**super().settings(), "base": self.base,
                "node_steps": [to_seconds(s) for s in self.steps]}
