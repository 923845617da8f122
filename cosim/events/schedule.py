"""Scheduled events: set (or ramp) an input or tunable parameter at a time.

Times are integer ticks (see :mod:`cosim.clock`). The master lands exactly on every
event time: a macro step that would pass one is shortened to end there. A ramp
``{at: a, until: b, set: x, value: v}`` moves ``x`` linearly from its value at ``a`` to
``v`` at ``b``, applied at every communication point in between (inputs are held over a
step, so the ramp is a staircase on the communication grid, landing exactly on ``b``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import to_seconds, to_ticks


@dataclass
class Intervention:
    at: int
    node: str
    variable: str
    value: float
    until: int | None = None
    name: str = ""
    start_value: float | None = None  # the ramp's value at ``at``, known when it fires

    def value_at(self, t: int) -> float:
        if self.until is None or self.start_value is None or t >= self.until:
            return self.value
        frac = (t - self.at) / (self.until - self.at)
        return self.start_value + frac * (self.value - self.start_value)


class Schedule:
    """The scheduled events of a run, with the current value of every target."""

    def __init__(self, topology, interfaces, values=None):
        """``values``: the run's parameter values keyed ``node.variable`` (default: the
        topology's); a target's value before its first event is that, or its start
        value."""
        self.items: list[Intervention] = []
        self.current: dict[tuple[str, str], float] = {}
        for spec in topology.events:
            node, _, var = spec.set.partition(".")
            self.items.append(Intervention(
                to_ticks(spec.at), node, var, float(spec.value),
                to_ticks(spec.until) if spec.until is not None else None,
                spec.name or f"{spec.set} = {spec.value}"))
            data = topology.graph.nodes[node]
            default = data["start"].get(var, interfaces[node][var].start)
            start = data["parameters"].get(var, default) if values is None else \
                values.get(spec.set, default)
            self.current.setdefault((node, var), float(start or 0.0))
        self.items.sort(key=lambda e: e.at)  # stable: file order at equal times

    def __bool__(self) -> bool:
        return bool(self.items)

    def next_time(self, after: int) -> int | None:
        """The first time > ``after`` the master must land on (event or ramp end)."""
        times = [e.at for e in self.items if e.at > after]
        times += [e.until for e in self.items if e.until is not None and e.until > after]
        return min(times) if times else None

    def due(self, t: int) -> list[Intervention]:
        """Events that start at ``t`` (fired once)."""
        return [e for e in self.items if e.at == t]

    def ramps(self, t: int) -> list[Intervention]:
        """Ramps in progress at ``t`` (after their start, up to and including the end)."""
        return [e for e in self.items if e.until is not None and e.at < t <= e.until]

    def apply(self, system, item: Intervention, t: int) -> str:
        """Set the target's value for time ``t``; return a description for the log."""
        key = (item.node, item.variable)
        if t == item.at and item.until is not None:
            item.start_value = self.current[key]
        value = item.value_at(t)
        system.set_value(item.node, item.variable, value)
        self.current[key] = value
        return f"{item.node}.{item.variable} = {value:g} at t={to_seconds(t):g} s"
