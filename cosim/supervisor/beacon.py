"""Where a supervised run is, kept in shared memory so the supervisor can read it after a
crash: the phase, the node being called and the end of the last completed step.

The supervisor creates a :class:`Beacon` (an anonymous shared mapping) before it forks
the child that runs the simulation; the child :func:`activate` s it. Writers:

* the compiled loop (``cosim/fast/kernel.c``) stores the index of the node it calls
  and the end tick of each completed macro step straight into :func:`kernel_slots`
  (two int64 stores per node and step: nothing measurable);
* on the Python loop, :func:`watch` wraps each subsystem's ``instantiate``,
  ``initialize``, ``exit_initialization``, ``step`` and ``terminate`` on the instance
  (only in a supervised run) to store the node index, and the step's start tick for
  ``step``;
* an observer (:func:`phases`) moves the phase from *setting up* to *stepping* to
  *finishing*.

Nothing is read while the child runs; the supervisor reads the record once the child
has ended (or has been killed), so torn values are impossible. Without an active
beacon every function here is a no-op and :func:`kernel_slots` is private scratch.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..observers.base import Observer

SIZE = 1 << 16
#: int64 slots. NODE and TICKS are adjacent: the kernel writes them as where[0], where[1].
PHASE, NODE, TICKS, REQUEST, EXIT_CODE, NAMES_LEN = range(6)
_SLOTS = 8
NAMES_AT = 8 * _SLOTS
NO_TICKS = -(2 ** 63)
#: phases
STARTING, SETTING_UP, STEPPING, FINISHING, DONE = range(5)
PHASE_NAMES = {STARTING: "starting", SETTING_UP: "setting up", STEPPING: "stepping",
               FINISHING: "finishing", DONE: "done"}
#: requests from the supervisor (why it signals the child)
NONE, INTERRUPT, TIMEOUT = range(3)


@dataclass(frozen=True)
class Where:
    """What the record says: ``phase`` (a name), ``node`` (None if unknown) and ``time``,
    the end of the last completed step [s] (None before the first)."""

    phase: str
    node: str | None
    time: float | None

    def describe(self) -> str:
        """``"while node h was stepping from t=0.5 s"`` and the like."""
        node = f"node {self.node}" if self.node else "the run"
        if self.phase == PHASE_NAMES[SETTING_UP]:
            return f"while {node} was being set up (instantiated and initialized)"
        if self.phase == PHASE_NAMES[STEPPING]:
            since = f" from t={self.time:g} s" if self.time is not None else ""
            return f"while {node} was stepping{since}"
        if self.phase == PHASE_NAMES[FINISHING]:
            return f"while {node} was being terminated"
        return "before the simulation started"


class Beacon:
    """The shared record (see the module docstring); create it before forking."""

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, SIZE)
        self.slots = np.frombuffer(self._map, dtype=np.int64, count=_SLOTS)
        self.fast = memoryview(self._map).cast("q")[:_SLOTS]  # cheap item writes
        self.slots[:] = 0
        self.slots[NODE] = -1
        self.slots[TICKS] = NO_TICKS

    # -- child side --------------------------------------------------------------------

    def set_names(self, names: list[str]) -> None:
        data = json.dumps(names).encode()[:SIZE - NAMES_AT]
        self._map[NAMES_AT:NAMES_AT + len(data)] = data
        self.slots[NAMES_LEN] = len(data)

    def set_phase(self, phase: int) -> None:
        self.slots[PHASE] = phase

    # -- supervisor side ---------------------------------------------------------------

    @property
    def phase(self) -> int:
        return int(self.slots[PHASE])

    @property
    def request(self) -> int:
        return int(self.slots[REQUEST])

    def names(self) -> list[str]:
        n = int(self.slots[NAMES_LEN])
        try:
            names = json.loads(bytes(self._map[NAMES_AT:NAMES_AT + n]).decode())
        except (ValueError, UnicodeDecodeError):
            return []
        return [str(x) for x in names] if isinstance(names, list) else []

    def where(self) -> Where:
        names = self.names()
        node = int(self.slots[NODE])
        ticks = int(self.slots[TICKS])
        return Where(PHASE_NAMES.get(self.phase, "starting"),
                     names[node] if 0 <= node < len(names) else None,
                     None if ticks == NO_TICKS else ticks / 1e9)


_ACTIVE: Beacon | None = None
_SCRATCH = np.zeros(2, dtype=np.int64)


def activate(beacon: Beacon | None) -> None:
    """Make ``beacon`` the record this process writes (in the supervised child)."""
    global _ACTIVE
    _ACTIVE = beacon


def active() -> Beacon | None:
    return _ACTIVE


def kernel_slots() -> np.ndarray:
    """Two int64 the compiled loop writes: [node index, end tick of the last step]."""
    if _ACTIVE is None:
        return _SCRATCH
    return _ACTIVE.slots[NODE:NODE + 2]


def watch(system: Any) -> None:
    """In a supervised run, record the node names and wrap the subsystems (module
    docstring), once per built system. Does nothing otherwise."""
    beacon = _ACTIVE
    if beacon is None:
        return
    beacon.set_names(list(system.names))
    for i, sub in enumerate(system.subsystems):
        _wrap(sub, i, beacon)


def phases() -> Observer | None:
    """In a supervised run, the observer moving the phase (one per run); else None."""
    return _Phases(_ACTIVE) if _ACTIVE is not None else None


def _wrap(sub: Any, i: int, beacon: Beacon) -> None:
    slots = beacon.fast

    def marked(method):
        def call(*args):
            slots[NODE] = i
            return method(*args)
        return call

    step, terminate = sub.step, sub.terminate

    def step_(now, limit):
        slots[NODE] = i
        slots[TICKS] = now
        return step(now, limit)

    def terminate_():
        slots[PHASE] = FINISHING
        slots[NODE] = i
        return terminate()

    sub.instantiate = marked(sub.instantiate)
    sub.initialize = marked(sub.initialize)
    sub.exit_initialization = marked(sub.exit_initialization)
    sub.step, sub.terminate = step_, terminate_


class _Phases(Observer):
    """Moves the phase: setting up at start, stepping at the first row, finishing."""

    def __init__(self, beacon: Beacon):
        self.beacon = beacon
        self.stepping = False

    def started(self, info) -> None:
        self.beacon.set_phase(SETTING_UP)

    def stepped(self, t, values, kind=None) -> None:
        if not self.stepping:
            self.stepping = True
            self.beacon.set_phase(STEPPING)

    def stepped_block(self, times, values) -> None:
        if not self.stepping:
            self.stepped(times[0], values[0])

    def finished(self, error) -> None:
        self.beacon.set_phase(FINISHING)
