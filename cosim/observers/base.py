"""Observers: read-only watchers of a run (recorders, progress bars, traces).

Observers sit outside the coupled system (as in libcosim): they never change a value,
they only see a :class:`RunInfo` at the start and the recorded signal values after
every communication point.

Call order, guaranteed by the execution::

    started(info)                    once, after initialization, before the first step
    stepped(t, values, kind)         once for the initial point (t = start), then after
                                     every communication point; ``t`` in seconds (float),
                                     ``values`` a read-only float64 array aligned with
                                     ``info.columns`` (the numeric signals, arrays
                                     flattened); ``kind`` a RowKind
    stepped_objects(t, values)       just before ``stepped``, when the run records object
                                     signals (strings, 64-bit integers): their values,
                                     aligned with ``info.object_signals``
    stepped_block(times, values)     (instead of many ``stepped``) a block of rows at once,
                                     from a compiled loop: ``times`` (n,), ``values``
                                     (n, len(signals)); the default calls ``stepped``
    event(t, kind, name, text)       an event happened at ``t`` [s] (kind: scheduled,
                                     monitor, fmu); between its EVENT_BEFORE and
                                     EVENT_AFTER rows
    terminated(t, node, text)        a node asked to end the simulation; the run ends
                                     normally at ``t`` [s] (then ``finished(None)``)
    finished(error)                  exactly once, on every path; ``error`` is None when
                                     the run completed, else the exception that ended it

``values`` is a view into the master's buffer: copy what you keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results.layout import RowKind
from ..variables import Signal

__all__ = ["Observer", "RowKind", "RunInfo", "Signal"]


@dataclass
class RunInfo:
    """What observers learn when a run starts.

    ``start``/``stop``/``step`` are in seconds; ``n_steps`` the number of macro steps
    planned (``None`` when not known ahead). ``parameters`` maps ``node.param`` to
    ``(value, unit)`` for the values applied. ``meta`` holds provenance: topology as
    node-link JSON, FMU hashes and GUIDs, versions, algorithm settings.
    """

    name: str
    signals: list[Signal]
    start: float
    stop: float
    step: float
    algorithm: str
    n_steps: int | None = None
    parameters: dict[str, tuple[Any, str | None]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"<RunInfo {self.name!r}: {self.start:g} to {self.stop:g} s, step "
                f"{self.step:g} s, {self.algorithm}, {len(self.signals)} signals, "
                f"{len(self.parameters)} parameters>")

    def _repr_html_(self) -> str:
        from ..reprs import MAX_ROWS, fields, page, table
        params = list(self.parameters.items())
        return page(
            fields(f"RunInfo {self.name!r}", [
                ("time [s]", f"{self.start:g} .. {self.stop:g}, step {self.step:g}"),
                ("algorithm", self.algorithm), ("steps", self.n_steps),
                ("signals", ", ".join(s.name for s in self.signals[:MAX_ROWS])
                 + (" ..." if len(self.signals) > MAX_ROWS else ""))]),
            table("parameters", ("parameter", "value", "unit"),
                  [(k, v, u or "") for k, (v, u) in params[:MAX_ROWS]], total=len(params)))

    @property
    def numeric_signals(self) -> list[Signal]:
        """The signals recorded as numbers (in ``stepped``'s ``values``)."""
        return [s for s in self.signals if s.variable.channel == "number"]

    @property
    def object_signals(self) -> list[Signal]:
        """The signals recorded as objects (in ``stepped_objects``'s ``values``)."""
        return [s for s in self.signals if s.variable.channel == "object"]

    @property
    def columns(self) -> list[str]:
        """The names of ``stepped``'s values: numeric signals, arrays element by element
        (``node.y[1]``, ``node.y[2]``, ...)."""
        return [f"{s.node}.{e}" for s in self.numeric_signals
                for e in s.variable.element_names()]


class Observer:
    """Base class with no-op hooks; subclass and override what you need."""

    def started(self, info: RunInfo) -> None:
        pass

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        pass

    def event(self, t: float, kind: str, name: str, description: str) -> None:
        pass

    def stepped_objects(self, t: float, values: list) -> None:
        pass

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        for t, row in zip(times.tolist(), values, strict=True):
            self.stepped(t, row)

    def terminated(self, t: float, node: str, description: str) -> None:
        pass

    def finished(self, error: BaseException | None) -> None:
        pass
