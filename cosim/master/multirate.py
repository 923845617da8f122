"""Multirate: each node steps with its own step, an integer multiple of the base step.

At every base point ``now`` the nodes that have reached ``now`` are *due*: each takes a
step of its own length (shortened to land on the next synchronisation point — a
scheduled event, an FMU time event or the stop time — given as ``horizon``). A node that
is still ahead is left alone. Inputs come from samples of their sources (see
:meth:`cosim.system.CoupledSystem.sample_into`): a sample is visible to a node once the
node has reached the time it stands for (Jacobi: its step start; Gauss-Seidel: its step
end), so values cross a connection only at points where both ends have stepped, held
(zero order) or extrapolated (linear, quadratic) to the step's midpoint. Before a node
steps past the present, its outputs are held for recording (a row never shows a value
from a later time). Algebraic loops between nodes of different rates are not supported.
"""

from __future__ import annotations

from ..clock import to_seconds, to_ticks
from ..errors import SimulationError
from ..protocol import STEP_OK
from .base import MacroStep, MasterAlgorithm, check_outcome, note, seconds


class Multirate(MasterAlgorithm):
    def __init__(self, loops, base: str, steps: list[int]):
        """``steps``: each node's step in ticks, in stepping order."""
        super().__init__(loops)
        self.base = base
        self.name = f"multirate-{base}"
        self.steps = steps
        self.horizon: int | None = None  # ticks: the next synchronisation point

    def step(self, system, now: int, limit: int) -> MacroStep | None:
        t, dt = seconds(now, limit)
        if system.has_loops:
            raise SimulationError("algebraic loops are not supported with multirate steps; "
                                  "give the loop's nodes one step", time=t)
        horizon = limit if self.horizon is None else max(self.horizon, limit)
        result: MacroStep | None = None
        due = [i for i in range(system.n) if to_ticks(system.node_end[i]) <= now]
        jacobi = self.base == "jacobi"
        if jacobi:  # every due node's inputs before anyone steps
            for i in due:
                system.sample_into(i, now, min(now + self.steps[i], horizon), jacobi=True)
        for i in due:
            end = min(now + self.steps[i], horizon)
            if not jacobi:
                system.sample_into(i, now, end, jacobi=False)
            system.hold(i)
            system.set_inputs(i)
            outcome = system.step(i, now, end)
            ti, hi = seconds(now, end)
            if outcome is not STEP_OK and check_outcome(system, i, outcome, ti, hi):
                result = note(result, i, outcome, t, dt)
            system.get_outputs(i)
            system.label_outputs(i, to_seconds(end))
            system.node_end[i] = to_seconds(end)
        system.commit(t + dt)
        return result

    def settings(self) -> dict:
        return {**super().settings(), "base": self.base,
                "node_steps": [to_seconds(s) for s in self.steps]}
