"""The step loop with events: scheduled interventions, FMU events, monitors.

One turn of the loop, at time ``t`` (integer ticks)::

    limit = min(next grid point start + n*step, next scheduled time, stop)
    save every node (when anything may need a rollback)
    algorithm.step(t, limit - t)
    a node returned early at t_e      -> roll back, step everyone to t_e
    a monitor's condition turned true -> roll back and bisect to the crossing t_c,
                                         step everyone to t_c
    record the point; at an event: a left row (EVENT_BEFORE), the event, a right row
    (EVENT_AFTER): FMU event iteration, monitor actions, scheduled interventions
    guard: more than ``max_event_iterations`` events at one instant is chattering

Rollback uses every node's ``save_state`` / ``restore_state`` (FMU state get/set; blocks
by copy). The checks guarantee it is available when monitors are used; FMU event mode
is only switched on when it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import ceil_ticks, to_seconds, to_ticks
from .errors import SimulationError
from .events import Schedule, make_monitors
from .observers.base import RowKind


@dataclass
class EventRecord:
    """One entry of the events log. ``kind``: scheduled, monitor, fmu or stop."""

    time: float
    kind: str
    name: str
    description: str


class EventLoop:
    def __init__(self, execution, system, rollback: bool):
        self.ex = execution
        self.system = system
        self.algorithm = execution.algorithm
        self.run_spec = execution.run_spec
        self.schedule = Schedule(execution.topology, {
            n: execution.report.nodes[n].interface for n in system.names})
        self.monitors = make_monitors(execution.topology, system)
        self.rollback = rollback or bool(self.monitors)
        self.tol = max(1, to_ticks(self.run_spec.event_tolerance))
        self.events_at_instant = 0
        self.last_event_time: int | None = None
        self.stopped = False
        self.sync: int | None = None
        self.controller = None
        if self.run_spec.adaptive is not None:
            from .master.adaptive import StepController
            order = 2 if self.system.extrapolating else 1
            self.controller = StepController(self.run_spec.adaptive, self.run_spec.step,
                                             self.run_spec.stop - self.run_spec.start, order)
            execution.stats = self.controller.stats

    # -- the loop --------------------------------------------------------------------

    def run(self, t0: int, t1: int, h: int) -> None:
        t, n = t0, 0
        self._at_instant(t, [], [])  # scheduled events at the start time
        while t < t1 and not self.stopped:
            grid = t0 + (n + 1) * h if self.controller is None else t1
            limit = min(grid, t1)
            nxt = self.schedule.next_time(t)
            if nxt is not None:
                limit = min(limit, nxt)
            self.sync = min(t1, nxt) if nxt is not None else t1
            t_new, outcome, crossed = self._advance(t, limit)
            t = t_new
            if t >= grid:
                n += 1
            self.ex._check_finite(self.system, to_seconds(t))
            fmu_events = outcome.events if outcome is not None else []
            self._at_instant(t, fmu_events, crossed,
                             early=outcome is not None and outcome.early)

    def _step(self, t: int, target: int, sync: int | None = None):
        """One macro step of the algorithm from ``t`` to ``target`` (ticks)."""
        if hasattr(self.algorithm, "horizon"):  # multirate: where slow steps must end
            self.algorithm.horizon = sync if sync is not None else target
        return self.algorithm.step(self.system, to_seconds(t),
                                   to_seconds(target) - to_seconds(t))

    def _advance(self, t: int, limit: int):
        """Step from ``t`` towards ``limit``; return (time reached, outcome, monitors).

        With adaptive steps the controller picks (and may shorten) the step and leaves
        the system in the accepted state; FMU early returns are then not expected.
        """
        system = self.system
        before = [m.holds(system.y) for m in self.monitors]
        saved = system.save() if self.rollback else None
        try:
            if self.controller is not None:
                outcome, reached = None, self.controller.advance(self, t, limit)
            else:
                outcome, reached = self._step(t, limit, self.sync), limit
                if outcome is not None and outcome.early:
                    reached = self._early(saved, t, outcome)
                    outcome = self._redo(saved, t, reached)
            crossed = self._crossed(before)
            if crossed:
                reached, outcome, crossed = self._locate(saved, t, reached, before)
            return reached, outcome, crossed
        finally:
            if saved is not None:
                system.free(saved)

    def _early(self, saved, t: int, outcome) -> int:
        if saved is None:
            raise SimulationError("a node returned early from its step but the other "
                                  "nodes cannot be rolled back to that time",
                                  time=outcome.reached)
        return max(t + 1, ceil_ticks(outcome.reached))

    def _redo(self, saved, t: int, target: int):
        """Roll everyone back to ``t`` and step them to ``target``."""
        self.system.restore(saved)
        outcome = self._step(t, target)
        if outcome is not None and outcome.early and \
                to_ticks(outcome.reached) < target - self.tol:
            raise SimulationError(f"stepping to the event at t={to_seconds(target):g} s "
                                  f"returned early again at t={outcome.reached:g} s",
                                  time=outcome.reached)
        if outcome is not None:
            outcome.early = False
        return outcome

    def _crossed(self, before: list[bool]) -> list:
        y = self.system.y
        return [m for m, was in zip(self.monitors, before, strict=True)
                if not was and m.holds(y)]

    def _locate(self, saved, t: int, hi: int, before: list[bool]):
        """Bisect on time, stepping from ``t`` each time, to a crossing (the first one if
        the condition changes once within the step)."""
        lo = t
        while hi - lo > self.tol:
            mid = (lo + hi) // 2
            self.system.restore(saved)
            self._step(t, mid)
            if self._crossed(before):
                hi = mid
            else:
                lo = mid
        self.system.restore(saved)
        outcome = self._step(t, hi)
        if outcome is not None:
            outcome.early = False
        return hi, outcome, self._crossed(before)

    # -- events at one instant -------------------------------------------------------

    def _at_instant(self, t: int, fmu_events: list[int], crossed: list,
                    early: bool = False) -> None:
        due = self.schedule.due(t)
        ramps = self.schedule.ramps(t)
        if not (fmu_events or crossed or due):
            for item in ramps:
                self.schedule.apply(self.system, item, t)
            self.ex._emit(to_seconds(t), RowKind.EARLY_RETURN if early
                          else RowKind.COMMUNICATION_POINT)
            return
        self._guard(t, fmu_events, crossed, due)
        now = to_seconds(t)
        system = self.system
        self.ex._emit(now, RowKind.EVENT_BEFORE)
        left = system.y.copy()
        subs = system.subsystems
        for i in fmu_events:
            reported = getattr(subs[i], "time", now)
            subs[i].handle_event()
            self._log(now, "fmu", subs[i].name,
                      f"{subs[i].name}: FMU event at t={reported!r} s (reported by the FMU)")
        # monitors made true by the event itself (a jump at an FMU event)
        crossed = crossed + [m for m in self.monitors if m not in crossed
                             and not m.holds(left) and m.holds(system.y)]
        for m in crossed:
            self._fire(m, now)
        for item in due + ramps:
            text = self.schedule.apply(system, item, t)
            if item in due:
                self._log(now, "scheduled", item.name, text)
        system.restart_samples(system.y != left, now)
        system.snapshot()
        system.commit(now)
        self.ex._emit(now, RowKind.EVENT_AFTER)

    def _fire(self, monitor, now: float) -> None:
        spec = monitor.spec
        value = self.system.y[monitor.index]
        text = f"{monitor.name}: {monitor.node}.{monitor.variable} = {value:g} at t={now:g} s"
        if spec.action == "set":
            node, _, var = spec.set.partition(".")
            self.system.subsystems[self.system.index[node]].set_value(var, spec.value)
            text += f"; set {spec.set} = {spec.value}"
        elif spec.action == "stop":
            self.stopped = True
            text += "; run stopped"
        self._log(now, "monitor", monitor.name, text)

    def _guard(self, t: int, fmu_events, crossed, due) -> None:
        near = self.last_event_time is not None and t - self.last_event_time <= self.tol
        self.events_at_instant = self.events_at_instant + 1 if near else 1
        self.last_event_time = t
        if self.events_at_instant > self.run_spec.max_event_iterations:
            names = sorted({self.system.names[i] for i in fmu_events} |
                           {m.name for m in crossed} | {e.name for e in due})
            raise SimulationError(
                f"chattering: {self.events_at_instant} events in a row, each within "
                f"{self.run_spec.event_tolerance:g} s of the last (Zeno behaviour), at "
                f"t={to_seconds(t)!r} s, involving "
                f"{', '.join(names) or 'no node'}; the events keep re-triggering at one "
                "instant — check the monitor's condition and action, or raise "
                "run.max_event_iterations", time=to_seconds(t), nodes=names)

    def _log(self, t: float, kind: str, name: str, description: str) -> None:
        record = EventRecord(t, kind, name, description)
        self.ex.events.append(record)
        for obs in self.ex.observers:
            hook = getattr(obs, "event", None)
            if hook is not None:
                hook(t, kind, name, description)
