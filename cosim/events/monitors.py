"""Monitors: conditions on signals, watched at every communication point.

``Monitor("rack1.T_cpu > 358.15")`` becomes *active* when the condition turns from false
to true between two communication points; the master then rolls every node back and
bisects on time (stepping from the last point each time) until the crossing is
bracketed within the event tolerance, steps to the right end of the bracket, and fires
the action there. The condition is tested on the coupled system's output vector.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from ..topology.schema import MonitorSpec, parse_condition

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass
class Monitor:
    spec: MonitorSpec
    node: str
    variable: str
    index: int  # position of the watched output in the system's y
    op: str
    threshold: float

    @property
    def name(self) -> str:
        return self.spec.name or self.spec.when.strip()

    def holds(self, y) -> bool:
        return _OPS[self.op](float(y[self.index]), self.threshold)


def make_monitors(topology, system) -> list[Monitor]:
    monitors = []
    for spec in topology.monitors:
        port, op, threshold = parse_condition(spec.when)
        node, _, var = port.partition(".")
        monitors.append(Monitor(spec, node, var, system.position(node, var), op, threshold))
    return monitors
