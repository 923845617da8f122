"""The step loop with events: scheduled interventions, FMU events, monitors.

One turn of the loop, at time ``t`` (integer ticks)::

    limit = min(next grid point start + n*step, next scheduled time, next FMU time
                event (FMI 3 nextEventTime), stop)
    save every node (when anything may need a rollback)
    algorithm.step(t, limit)
    a node returned early at t_e      -> roll back, step everyone to t_e
    a node asked to end the simulation before limit -> roll back and step everyone to
                                         that time when the nodes can roll back, else
                                         end at t
    a monitor's condition turned true -> roll back and bisect to the crossing t_c,
                                         step everyone to t_c
    record the point; at an event: a left row (EVENT_BEFORE), the event, a right row
    (EVENT_AFTER): FMU event iteration (for flagged events and for every FMU whose time
    event is due), monitor actions, scheduled interventions, then the direct-feedthrough
    outputs that depend on what changed re-evaluated where the nodes allow it
    guard: more than ``max_event_iterations`` events at one instant is chattering

FMU time events are never stepped over: the step that would pass one is shortened to
land on it (FMI 3.0: "the importer must compute up to nextEventTime ... and then enter
Event Mode"). Rollback uses every node's ``save_state`` / ``restore_state`` (FMU state
get/set; blocks by copy); the checks guarantee it when monitors are used, and FMUs
return early only when every node can roll back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import ceil_ticks, to_seconds, to_ticks
from .errors import SimulationError
from .events import Schedule, make_monitors
from .master.base import MacroStep
from .observers.base import RowKind


@dataclass
class EventRecord:
    """One entry of the events log. ``kind``: scheduled, monitor, fmu or stop."""

    time: float
    kind: str
    name: str
    description: str


class EventLoop:
    def __init__(self, execution, sim):
        self.ex = execution
        self.sim = sim
        self.system = sim.system
        self.algorithm = sim.algorithm
        self.run_spec = sim.run_spec
        view = sim.view  # events and monitors as the system names them (clusters)
        self.schedule = Schedule(view.topology, {
            n: view.report.nodes[n].interface for n in self.system.names},
            values=view.keys(sim.parameters()))
        self.monitors = make_monitors(view.topology, self.system)
        early = any(getattr(s, "events_used", False) and s.capabilities.may_return_early
                    and getattr(s, "early_return", False) for s in self.system.subsystems)
        self.rollback = early or bool(self.monitors)
        self.tol = max(1, to_ticks(self.run_spec.event_tolerance))
        self.events_at_instant = 0
        self.last_event_time: int | None = None
        self.stopped = False
        self.sync: int | None = None
        self.controller = None
        if self.run_spec.adaptive is not None:
            from .master.adaptive import StepController
            from .master.options import AdaptiveOptions, options_from
            order = 2 if self.system.extrapolating else 1
            self.controller = StepController(
                options_from(self.run_spec.adaptive, AdaptiveOptions), self.run_spec.step,
                self.run_spec.stop - self.run_spec.start, order)
            execution.stats = self.controller.stats

    # -- the loop --------------------------------------------------------------------

    def run(self, t_a: int, t_b: int, first: bool = True) -> None:
        t0, h = self.sim.t0, self.sim.h
        t = t_a
        n = (t_a - t0) // h
        if first:
            self._at_instant(t, [], [])  # scheduled and FMU time events at the start
        fast = self._segments()
        while t < t_b and not self.stopped and self.ex.termination is None:
            grid = t0 + (n + 1) * h if self.controller is None else t_b
            limit = min(grid, t_b)
            nxt = self._next_sync(t)
            if nxt is not None:
                limit = min(limit, nxt)
            self.sync = min(t_b, nxt) if nxt is not None else t_b
            if fast is not None and fast.ready(t):  # steps up to the next instant, native
                t = fast.advance(t, self.sync)
                n = (t - t0) // h
                continue
            t_new, outcome, crossed = self._advance(t, limit)
            if not self._arrive(t_new, outcome, crossed):
                return
            t = t_new
            if t >= grid:
                n += 1

    def _segments(self):
        """The compiled loop for the stretches between instants (None: Python only)."""
        if not self.sim.fast or self.controller is not None:
            return None
        compiled = self.sim.compiled_loop()
        if compiled is None:
            return None
        from .fast.segments import Segments
        return Segments(self, compiled)

    def _arrive(self, t: int, outcome, crossed: list) -> bool:
        """The macro step reached ``t``: record the instant and handle its events. False
        when the run ends before ``t`` (a termination request no node got past)."""
        if outcome is not None and outcome.terminate is not None and outcome.cut:
            self.ex.terminated(outcome)  # no node reached the requested time
            return False
        self.ex.reached = t
        self.ex.check_finite(to_seconds(t))
        fmu_events = outcome.events if outcome is not None else []
        self._at_instant(t, fmu_events, crossed, early=outcome is not None and outcome.early)
        if outcome is not None and outcome.terminate is not None:
            self.ex.terminated(outcome, reached=to_seconds(t))
        return True

    def _next_sync(self, t: int) -> int | None:
        """The next time > ``t`` the master must land on: a scheduled event (or ramp end)
        or an FMU's announced time event [ticks]."""
        times = [x for x in (self.schedule.next_time(t),) if x is not None]
        times += [e for e in self._time_events() if e > t]
        return min(times) if times else None

    def _time_events(self) -> list[int]:
        return [to_ticks(e) for e in self.sim.next_events if e is not None]

    def macro_step(self, t: int, target: int):
        """One macro step of the algorithm from ``t`` to ``target`` (ticks)."""
        if hasattr(self.algorithm, "horizon"):  # multirate: where slow steps must end
            self.algorithm.horizon = self.sync if self.sync is not None else target
        return self.algorithm.step(self.system, t, target)

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
                outcome, reached = self.macro_step(t, limit), limit
                if outcome is not None and outcome.early:
                    reached = self._early(saved, t, outcome.reached)
                    outcome = self._redo(saved, t, reached)
                elif outcome is not None and outcome.cut and saved is not None:
                    reached = max(t + 1, ceil_ticks(outcome.terminate[1]))
                    outcome = self._redo(saved, t, reached)
            crossed = self._crossed(before)
            if crossed:
                reached, outcome, crossed = self._locate(saved, t, reached, before)
            return reached, outcome, crossed
        finally:
            if saved is not None:
                system.free(saved)

    def _early(self, saved, t: int, at: float) -> int:
        if saved is None:
            raise SimulationError("a node returned early from its step but the other "
                                  "nodes cannot be rolled back to that time", time=at)
        return max(t + 1, ceil_ticks(at))

    def _redo(self, saved, t: int, target: int):
        """Roll everyone back to ``t`` and step them to ``target``."""
        self.system.restore(saved)
        outcome = self.macro_step(t, target)
        if outcome is not None and outcome.early and \
                to_ticks(outcome.reached) < target - self.tol:
            raise SimulationError(f"stepping to the event at t={to_seconds(target):g} s "
                                  f"returned early again at t={outcome.reached:g} s",
                                  time=outcome.reached)
        if outcome is not None:
            outcome.early = False
            outcome.cut = False
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
            self.macro_step(t, mid)
            if self._crossed(before):
                hi = mid
            else:
                lo = mid
        self.system.restore(saved)
        outcome = self.macro_step(t, hi)
        if outcome is not None:
            outcome.early = False
        return hi, outcome, self._crossed(before)

    # -- events at one instant -------------------------------------------------------

    def _at_instant(self, t: int, fmu_events: list[int], crossed: list,
                    early: bool = False) -> None:
        due = self.schedule.due(t)
        ramps = self.schedule.ramps(t)
        timed = [i for i, e in enumerate(self.sim.next_events)
                 if e is not None and to_ticks(e) <= t and i not in fmu_events]
        fmu_events = sorted(set(fmu_events) | set(timed))
        if not (fmu_events or crossed or due):
            for item in ramps:
                self.schedule.apply(self.system, item, t)
            self.ex.emit(to_seconds(t), RowKind.EARLY_RETURN if early
                         else RowKind.COMMUNICATION_POINT)
            return
        self._guard(t, fmu_events, crossed, due)
        now = to_seconds(t)
        system = self.system
        self.ex.emit(now, RowKind.EVENT_BEFORE)
        left = system.y.copy()
        touched: set[int] = set()
        for i in fmu_events:
            self._fmu_event(i, now)
        for item in due + ramps:
            text = self.schedule.apply(system, item, t)
            touched.add(system.index[item.node])
            if item in due:
                self._log(now, "scheduled", item.name, text)
        self._right_limits(left, touched)
        # monitors that crossed in the step, or that the event itself made true; their
        # actions may make others true at the same instant: iterate (under the guard)
        fire = crossed + [m for m in self.monitors if m not in crossed
                          and not m.holds(left) and m.holds(system.y)]
        while fire:
            before = system.y.copy()
            touched = set()
            for m in fire:
                touched |= self._fire(m, now)
            self._right_limits(before, touched)
            fire = [m for m in self.monitors if not m.holds(before) and m.holds(system.y)]
            if fire:
                self._guard(t, [], fire, [])
        system.restart_samples(system.y != left, now)
        system.snapshot()
        system.commit(now)
        self.ex.emit(now, RowKind.EVENT_AFTER)

    def _fmu_event(self, i: int, now: float) -> None:
        sub = self.system.subsystems[i]
        reported = sub.time
        self.system.current = i
        outcome = sub.handle_event()
        self.sim.next_events[i] = outcome.next_event
        text = f"{sub.name}: FMU event at t={reported!r} s (reported by the FMU)"
        if outcome.next_event is not None:
            text += f"; next time event at t={outcome.next_event!r} s"
        self._log(now, "fmu", sub.name, text)
        if outcome.terminate:
            self.ex.terminated(MacroStep(reached=now, terminate=(i, now)), reached=now)

    def _right_limits(self, left: np.ndarray, touched: set[int]) -> None:
        """Outputs of nodes whose inputs or parameters the event set, then everything
        downstream through direct feedthrough, re-evaluated where allowed (FMI 2 and
        blocks may be read after a set without a step; FMI 3 in Step Mode may not)."""
        system = self.system
        for i in sorted(touched):
            sub = system.subsystems[i]
            if sub.capabilities.feedthrough_in_step_mode:
                system.current = i
                sub.refresh_outputs()
        changed = system.y != left
        if changed.any():
            system.propagate(changed)

    def _fire(self, monitor, now: float) -> set[int]:
        spec = monitor.spec
        value = self.system.y[monitor.index]
        text = f"{monitor.name}: {monitor.node}.{monitor.variable} = {value:g} at t={now:g} s"
        touched: set[int] = set()
        if spec.action == "set":
            node, _, var = spec.set.partition(".")
            self.system.set_value(node, var, spec.value)
            touched.add(self.system.index[node])
            text += f"; set {spec.set} = {spec.value}"
        elif spec.action == "stop":
            self.stopped = True
            text += "; run stopped"
        self._log(now, "monitor", monitor.name, text)
        return touched

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
