"""Gauss-Seidel: nodes step one after another in the order derived from the graph,
each from the freshest outputs of the nodes before it (``delayed`` connections read the
previous communication point). See :mod:`cosim.topology.analysis` for the order.
"""

from __future__ import annotations

from ..subsystems.base import STEP_OK
from .base import MasterAlgorithm, check_outcome


class GaussSeidel(MasterAlgorithm):
    name = "gauss-seidel"

    def step(self, system, t: float, dt: float) -> None:
        if system.has_delayed:
            system.snapshot()
        exchange = system.exchange_into
        for i, sub in enumerate(system.subsystems):
            exchange(i)
            sub.set_inputs()
            outcome = sub.do_step(t, dt)
            if outcome is not STEP_OK:
                check_outcome(sub, outcome, t, dt)
            sub.get_outputs()
