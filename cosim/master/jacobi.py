"""Jacobi: every node steps from the same inputs, the outputs of the last point.

One macro step: exchange all, set every node's inputs, step every node, get every
node's outputs. Information crosses one connection per step.
"""

from __future__ import annotations

from ..subsystems.base import STEP_OK
from .base import MasterAlgorithm, check_outcome


class Jacobi(MasterAlgorithm):
    name = "jacobi"

    def step(self, system, t: float, dt: float) -> None:
        subs = system.subsystems
        system.exchange_all()
        for sub in subs:
            sub.set_inputs()
        for sub in subs:
            outcome = sub.do_step(t, dt)
            if outcome is not STEP_OK:
                check_outcome(sub, outcome, t, dt)
        for sub in subs:
            sub.get_outputs()
