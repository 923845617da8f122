"""The event loop's quiet stretches in the kernel: steps between events at native speed.

Between two instants the event loop must land on (a scheduled event, a ramp's end, an
FMU's announced time event, the stop), nothing but plain macro steps happen unless a
monitored condition turns true or an FMU flags something. :class:`Segments` runs such a
stretch in the kernel, which watches the monitors' conditions and the FMI 3 flags after
every step, and hands back to the Python event loop:

* at the stretch's end: the event loop records the instant and handles its events
  (:meth:`~cosim.eventloop.EventLoop._arrive`);
* at the step where a condition turned true or an FMU flagged an event, returned early
  or asked to end, or a node needs Python for the step: when the nodes can roll back
  (monitors, early return) the system goes back to the start of that step — restored to
  the last checkpoint (saved at every chunk of steps) and stepped forward again in the
  kernel, deterministically — and the Python event loop takes that step itself, locating
  the crossing or handling the flag exactly as it always does; without rollback the
  master finishes the step in Python (``algorithm.resume``) and the event loop handles
  its outcome;
* at an error: it raises what the Python loop raises, after the same rows.

So results are bit-identical to the Python event loop's (the differential tests in
``tests/fast`` hold it), and steps between events cost what the plain compiled loop's do.
"""

from __future__ import annotations

import numpy as np

from ..errors import SimulationError
from .loop import (
    PH_GET,
    PH_SET,
    R_CALL,
    R_DONE,
    R_MONITOR,
    R_PYTHON,
    REDO,
    TURN_OUTCOME,
)
from .plan import exact_times

FMI_DISCARD = 2
OPS = {">": 0, ">=": 1, "<": 2, "<=": 3}
CHUNK_SECONDS_ROLLBACK = 0.01  # checkpoints this often: a stretch stepped again is short


class Segments:
    """Runs the event loop's stretches between instants in a compiled loop."""

    def __init__(self, loop, compiled):
        self.loop, self.compiled = loop, compiled
        self.system = compiled.system
        monitors = loop.monitors
        self.mon_index = np.array([m.index for m in monitors] or [0], dtype=np.int64)
        self.mon_op = np.array([OPS[m.op] for m in monitors] or [0], dtype=np.int64)
        self.mon_threshold = np.array([m.threshold for m in monitors] or [0.0])
        self.mon_was = np.zeros(max(1, len(monitors)), dtype=np.uint8)
        self.n_mon = len(monitors)
        self.rollback = loop.rollback
        self.python_turn = False  # the next step is the Python event loop's

    def ready(self, t: int) -> bool:
        """Whether the stretch from ``t`` can run in the kernel: not right after a hand-
        back that left a step to Python, and no ramp in progress (a ramp sets its target
        at every communication point)."""
        if self.python_turn:
            self.python_turn = False
            return False
        return not any(e.until is not None and e.at <= t < e.until
                       for e in self.loop.schedule.items)

    # -- a stretch ----------------------------------------------------------------------

    def advance(self, t: int, end: int) -> int:
        """Steps from ``t`` towards ``end`` [ticks]; returns the time reached, every row
        and event up to it handled (at ``end``: its instant too)."""
        c, sim, ex = self.compiled, self.loop.sim, self.loop.ex
        t0, h = sim.t0, sim.h
        if not exact_times(t0, h, t, end):
            self.python_turn = True
            return t
        c.refresh()
        ctx, report = c.ctx, c.report
        ctx.t0, ctx.t1, ctx.h, ctx.stop_on_flags = t0, end, h, 1
        self._monitors()
        observers = list(ex.observers)
        n, n_to = (t - t0) // h + 1, -(-(end - t0) // h)
        saved = None
        try:
            while n <= n_to:
                if self.rollback:
                    saved = self._checkpoint(saved, t, n)
                # the event loop records `end` (its instant)
                t, done, elapsed = c.chunk_of_steps(ex, t, n, n_to, observers, end)
                n += done
                if report.code != R_DONE:
                    return self._stopped(saved)
                if self.rollback:
                    c.tune(done, elapsed, CHUNK_SECONDS_ROLLBACK)
                else:
                    c.tune(done, elapsed)
        finally:
            c.write_back()
            if saved is not None:
                self.system.free(saved[2])
        self.loop._arrive(end, None, [])
        return end

    def _monitors(self) -> None:
        """The kernel watches this run's monitors (the plain compiled loop sets none)."""
        ctx = self.compiled.ctx
        ctx.n_mon = self.n_mon
        ctx.mon_index, ctx.mon_op = self.mon_index.ctypes.data, self.mon_op.ctypes.data
        ctx.mon_threshold = self.mon_threshold.ctypes.data
        ctx.mon_was = self.mon_was.ctypes.data

    def _checkpoint(self, saved, t: int, n: int):
        """Every node's state at ``t`` (the start of step ``n``), freeing the last one."""
        self.compiled.write_back()
        state = self.system.save()
        if saved is not None:
            self.system.free(saved[2])
        return (t, n, state)

    # -- a stop inside the stretch ----------------------------------------------------------

    def _soft(self) -> bool:
        """The kernel stopped for something the event loop handles (not an error)."""
        r = self.compiled.report
        if r.code == R_MONITOR:
            return True
        if r.code == R_PYTHON:
            return r.status == TURN_OUTCOME
        if r.code == R_CALL and r.phase not in (PH_SET, PH_GET):
            return r.status == REDO or r.status <= FMI_DISCARD
        return False

    def _stopped(self, saved) -> int:
        c, loop = self.compiled, self.loop
        if not self._soft():
            c.finish_step(loop.ex)  # raises what the Python loop raises
            raise SimulationError("compiled loop: a stop without an error")
        if self.rollback:
            return self._back_to_step(saved)
        start, _ = c.span(c.report.step)
        reached, outcome = c.finish_step(loop.ex)
        if outcome is not None and outcome.early:
            loop._early(None, start, outcome.reached)  # raises: no rollback
        loop._arrive(reached, outcome, [])
        return reached

    def _back_to_step(self, saved) -> int:
        """Restore the checkpoint, step again up to the start of the step the kernel
        stopped in, and leave that step to the Python event loop."""
        c, system = self.compiled, self.system
        k = c.report.step
        start, _ = c.span(k)
        t_c, n_c, state = saved
        c._outcome = None  # a Python node's outcome: its step is taken again
        c.write_back()
        system.restore(state)
        c.refresh()  # block states as restored
        if k > n_c:
            done, _ = c.call(t_c, n_c, k - 1, False, deadline=False)
            if done != k - n_c or c.report.code != R_DONE:
                raise SimulationError(
                    f"stepping again from t={t_c / 1e9:g} s to t={start / 1e9:g} s did not "
                    "reproduce the steps before (a node is not deterministic); run with "
                    "fast=False", time=start / 1e9)
            c.set_times(k - 1)
        self.python_turn = True
        return start
