"""A model-exchange cluster as one co-simulation node: cosim integrates its members.

The members (model-exchange FMUs, FMI 2 and 3, and Python blocks evaluated as
algebraic maps) form one state vector; their connections are solved at every
right-hand-side evaluation (:mod:`cosim.subsystems.me_layout`), so they have no
coupling delay. The integrator (:mod:`cosim.integrators`) is CVODE or an explicit
Runge-Kutta method. To the master the cluster implements the whole subsystem protocol:

* ``step(now, limit)`` integrates from the cluster's time to ``limit`` [ticks]. It
  continues the integrator where the last step left it (the integrator may already be
  past ``now`` and interpolates), and restarts it after an event, a rollback, or when
  an input from outside the cluster changed (the right-hand side jumped).
* Events. State events (event indicators, located by the integrator's root finding)
  and step events (``completedIntegratorStep``, called after every integrator step
  where a member needs it) stop the integration at the event time ``t_e``. When the
  master can roll every node back (``early_return``, set by the Simulation), the step
  returns there: ``EARLY_RETURN`` with ``reached = t_e`` and ``event`` (or ``OK`` with
  ``event`` when ``t_e`` is in the step's last tick); the master steps every node to
  ``t_e``, records the left limit, calls :meth:`handle_event` and records the right
  limit. The redo of the step replays the located event (:class:`Located`) so that it
  arrives exactly there. Otherwise (a node cannot roll back, or adaptive steps) the
  cluster handles the event itself and integrates on to ``limit``: the run stays
  correct, but the event gets no rows of its own. Time events (``nextEventTime``) are announced to the master by
  :meth:`handle_event` and :meth:`exit_initialization` so that it lands on them; one
  that appears during an event handled inside a step is handled inside too.
* The event iteration (:meth:`_event_iteration`): every FMU member enters Event Mode,
  then ``fmi2NewDiscreteStates`` / ``fmi3UpdateDiscreteStates`` on each member with the
  internal connections solved between rounds, until no member needs another update and
  no internal input changed (at most ``MAX_EVENT_ITERATIONS`` rounds), then
  Continuous-Time Mode, and the integrator restarts from the new states.
* ``save_state``/``restore_state``: every member's FMU state (get/set FMU state; blocks
  by copy) and the cluster's bookkeeping; the integrator restarts after a restore (its
  own history is not part of the state: CVODE cannot save it).
* ``native_form`` raises NotNative: the cluster runs in Python.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..clock import ceil_ticks, to_seconds
from ..errors import SimulationError, SubsystemError
from ..integrators.base import Integrator, IntegratorError, SolverOptions, Stop, make_integrator
from ..protocol import Capabilities, EventOutcome, NotNative, StepOutcome, StepStatus
from .base import STEP_OK, Subsystem
from .me_layout import ClusterLayout

MAX_EVENT_ITERATIONS = 100
TIME_TOL = 2e-9  # [s]: the cluster's time and the master's agree within two ticks


@dataclass
class Located:
    """An event a step returned early at: where the step started [ticks], the event
    time [s] and the members' states there (the left limit). The
    master's redo of that step (restore, step to the event) replays it exactly instead
    of integrating again: a restarted integrator would locate the root a rounding of the
    tolerance away, and the redo must arrive where the first attempt stopped. Under
    Gauss-Seidel the nodes before the cluster deliver other inputs for the shortened
    step; the replay keeps the first attempt's (a difference of the order of the
    coupling error Gauss-Seidel has anyway), so the event keeps its rows."""

    start: int
    time: float
    states: list
    Y: np.ndarray


@dataclass
class ClusterState:
    """What :meth:`ClusterSubsystem.save_state` returns."""

    time: float
    members: list
    U: np.ndarray
    Y: np.ndarray
    u: np.ndarray
    pending: bool
    announced: float | None
    next_time: float | None


class ClusterSubsystem(Subsystem):
    """See the module docstring. ``members``: name -> member adapter, in the cluster's
    order; ``prefix``: how the cluster names each member's variables; ``internal``: the
    connections between members with their effective gain and offset."""

    kind = "cluster"

    def __init__(self, name: str, interface, members: dict[str, Any], prefix: dict[str, str],
                 internal: list, options: SolverOptions):
        super().__init__(name, interface)
        self.members, self.prefix, self.internal = members, prefix, internal
        self.options = options
        self.layout: ClusterLayout | None = None
        self.integ: Integrator | None = None
        self.needs_steps = any(m.needs_completed_step for m in members.values())
        indicators = sum(m.nz for m in members.values())
        self.capabilities = Capabilities(
            can_roll_back=all(m.capabilities.can_roll_back for m in members.values()),
            has_event_mode=True, may_return_early=bool(indicators or self.needs_steps),
            feedthrough_in_step_mode=True)
        self.event_mode = True     # set by the Simulation (the FMI 3 CS flags' names)
        self.early_return = False  # report state events to the master (it can roll back)
        self.events_used = True    # the run needs the event loop
        self._reset_bookkeeping()

    def _reset_bookkeeping(self) -> None:
        #: counters of this run: right-hand-side and indicator evaluations, event
        #: iterations, integrator steps and restarts, completedIntegratorStep calls
        self.stats = {"rhs": 0, "indicators": 0, "events": 0, "steps": 0, "restarts": 0,
                      "completed": 0}
        self.initializing = False
        self.pending = False          # an event located at self.time, not yet handled
        self.announced: float | None = None   # the time event the master knows of
        self.next_time: float | None = None   # the members' earliest time event
        self.restart = True           # the integrator must restart before integrating
        self.u_last: np.ndarray | None = None
        self._steps_seen = self.integ.stats.steps if getattr(self, "integ", None) else 0
        self._forget()

    # -- set-up ----------------------------------------------------------------------------

    def bind(self, inputs, outputs, u, y, objects_in=(), objects_out=()) -> None:
        if objects_in or objects_out:
            raise SubsystemError("string, binary and 64-bit integer ports cannot cross a "
                                 f"model-exchange cluster: {[*objects_in, *objects_out]}",
                                 node=self.name)
        super().bind(inputs, outputs, u, y)
        self.layout = ClusterLayout(self.members, self.prefix, self.internal, self.inputs,
                                    self.outputs)

    def instantiate(self) -> None:
        done = []
        try:
            for member in self.members.values():
                member.instantiate()
                done.append(member)
        except BaseException:
            for member in done:
                member.close()
            raise
        self.layout.connect()
        self.integ = make_integrator(self.options, self)

    @property
    def n(self) -> int:
        return self.layout.n

    @property
    def nz(self) -> int:
        return self.layout.nz

    def configure(self, parameters: dict[str, Any], start: dict[str, Any]) -> None:
        super().configure(parameters, start)
        for m, member in self.members.items():
            p = self.prefix[m]
            member.configure({k[len(p):]: v for k, v in parameters.items() if k.startswith(p)},
                             {k[len(p):]: v for k, v in start.items() if k.startswith(p)})

    def initialize(self, start: float, stop: float | None) -> None:
        self._reset_bookkeeping()
        self.time = start
        self.initializing = True
        for m, member in self.members.items():
            with self._as(m):
                member.initialize(start, stop)

    def _as(self, member: str):
        """Errors of ``member`` named ``member`` (and located at the cluster's time)."""
        return _MemberErrors(self, member)

    # -- the hot path -------------------------------------------------------------------------

    def set_inputs(self) -> None:
        """The cluster's inputs into its members: in initialization all of them; later
        real inputs at once (Continuous-Time Mode), integer and boolean ones through an
        event iteration (FMI allows them in Event Mode only). A changed input restarts the
        integrator (the right-hand side jumped)."""
        u = self.u
        if self.u_last is not None and np.array_equal(u, self.u_last):
            return
        if self.initializing or self.u_last is None:
            self.layout.push_external(u)
        elif self.layout.discrete_in.any() and not np.array_equal(
                u[self.layout.discrete_in], self.u_last[self.layout.discrete_in]):
            self._event_iteration()
        else:
            self.layout.push_external(u, discrete=False)
        self.u_last = u.copy()
        self.restart = True

    def get_outputs(self) -> None:
        """Outputs at the cluster's time into y (in initialization: evaluated now)."""
        layout = self.layout
        if self.initializing:
            layout.propagate()
            layout.read_outputs()
        self.y[:] = layout.Y[layout.y_pos]

    def refresh_outputs(self) -> None:
        """Outputs for the inputs just set, at the current time and states."""
        self.layout.propagate()
        self.layout.read_outputs()
        self.y[:] = self.layout.Y[self.layout.y_pos]

    def step(self, now: int, limit: int) -> StepOutcome:
        t_now, t_end = to_seconds(now), to_seconds(limit)
        if abs(self.time - t_now) > TIME_TOL + 1e-15 * abs(t_now):
            raise SimulationError(f"cluster {self.name} is at t={self.time!r} s but the "
                                  f"master steps it from t={t_now!r} s", time=t_now,
                                  nodes=[self.name])
        located, self.located = self.located, None
        redo = located is not None and located.start == now
        if located is not None:
            if redo and ceil_ticks(located.time) <= limit:
                return self._replay(located, limit)
            self._free(located)
        # another step from where an early return started (a monitor's bisection to
        # an earlier time) handles any event itself: the master expects it to arrive
        early = self.early_return and not redo
        if self.pending:  # an event the master did not ask us to handle: handle it now
            outcome = self._event_iteration()
            if outcome.terminate:
                return StepOutcome(StepStatus.TERMINATE, reached=self.time)
        while True:
            if self.restart:
                self._restart()
            inner = self.next_time if self.next_time is not None and \
                self.next_time < t_end - TIME_TOL else None
            reached = self._integrate(inner if inner is not None else t_end)
            if reached.why is Stop.END and inner is None:
                return STEP_OK
            if reached.why is not Stop.END and early:
                self.pending = True
                if ceil_ticks(reached.t) < limit:  # the master redoes the step to here
                    self.located = Located(now, reached.t,
                                           self._member_states(), self.layout.Y.copy())
                return self._early(reached.t, limit)
            outcome = self._event_iteration()  # handled inside the step
            if outcome.terminate:
                return StepOutcome(StepStatus.TERMINATE, reached=self.time)

    @staticmethod
    def _early(t: float, limit: int) -> StepOutcome:
        """An event at ``t`` [s]: at the end of the step when in its last tick."""
        if ceil_ticks(t) >= limit:
            return StepOutcome(StepStatus.OK, reached=t, event=True)
        return StepOutcome(StepStatus.EARLY_RETURN, reached=t, event=True)

    def _replay(self, located: Located, limit: int) -> StepOutcome:
        """The redo of a step that returned early: back to where it stopped."""
        for (m, member), state in zip(self.members.items(), located.states, strict=True):
            with self._as(m):
                member.restore_state(state)
        self._free(located)
        self.time = located.time
        self.layout.Y[:] = located.Y
        self.y[:] = self.layout.Y[self.layout.y_pos]
        self.pending = self.restart = True
        return self._early(located.time, limit)

    def _member_states(self) -> list:
        states = []
        for m, member in self.members.items():
            with self._as(m):
                states.append(member.save_state())
        return states

    def _free(self, located: Located) -> None:
        for member, state in zip(self.members.values(), located.states, strict=True):
            member.free_state(state)

    def _forget(self) -> None:
        """Drop a remembered early return (a new run, or a reset)."""
        located = getattr(self, "located", None)
        self.located = None
        if located is not None:
            self._free(located)

    def _integrate(self, t_end: float):
        integ = self.integ
        t_stop = self.announced if self.announced is not None and \
            self.announced >= t_end else None
        try:
            reached = integ.advance(t_end, t_stop=t_stop,
                                    step_done=self._step_done if self.needs_steps else None)
        except IntegratorError as err:
            err.locate(node=self.name, time=integ.t)
            raise
        self.stats["steps"] += integ.stats.steps - self._steps_seen
        self._steps_seen = integ.stats.steps
        self.time = reached.t
        with self._as(None):
            self.layout.place(reached.t, integ.x[:self.n])
            self.layout.read_outputs()
        self.y[:] = self.layout.Y[self.layout.y_pos]
        return reached

    def _step_done(self, t: float, x: np.ndarray) -> bool:
        """After a completed integrator step: ``completedIntegratorStep`` where needed."""
        self.layout.place(t, x)
        self.stats["completed"] += 1
        event = False
        for m in self.members.values():
            if m.needs_completed_step:
                enter, stop = m.completed_integrator_step()
                event = event or enter or stop
        return event

    def _restart(self) -> None:
        """Restart the integrator at the cluster's time from the members' states."""
        layout = self.layout
        with self._as(None):
            x = layout.states()
            nominals = layout.nominals()
        self.integ.reset(self.time, x, nominals)
        self.restart = False
        self.stats["restarts"] += 1

    # -- the integrator's problem (OdeProblem) -------------------------------------------

    def rhs(self, t: float, x: np.ndarray, dx: np.ndarray) -> None:
        self.stats["rhs"] += 1
        self.layout.rhs(t, x, dx)

    def indicators(self, t: float, x: np.ndarray, z: np.ndarray) -> None:
        self.stats["indicators"] += 1
        self.layout.indicators(t, x, z)

    # -- events -----------------------------------------------------------------------------

    def exit_initialization(self) -> EventOutcome:
        for m, member in self.members.items():
            with self._as(m):
                member.exit_initialization()
        self.initializing = False
        return self._event_iteration(enter=False)

    def handle_event(self) -> EventOutcome:
        """The event iteration at the cluster's time (a located state or step event, or
        an announced time event the master landed on)."""
        return self._event_iteration()

    def _event_iteration(self, *, enter: bool = True) -> EventOutcome:
        layout, members = self.layout, list(self.members.values())
        with self._as(None):
            if enter:
                for m in members:
                    m.enter_event_mode()
            # the inputs as the master set them last (a replayed or restored FMU state
            # holds older ones; integer and boolean inputs can only be set here)
            layout.push_external(self.u)
            terminate, next_time = self._iterate(layout, members)
            if not terminate:
                for m in members:
                    m.enter_continuous_time_mode()
            layout.propagate()
            layout.read_outputs()
        self.y[:] = layout.Y[layout.y_pos]
        self.pending = False
        self.next_time = self.announced = next_time
        self.restart = True
        self.stats["events"] += 1
        return EventOutcome(next_event=next_time, terminate=terminate)

    def _iterate(self, layout: ClusterLayout, members: list) -> tuple[bool, float | None]:
        """Rounds of discrete updates until every member is settled."""
        for _ in range(MAX_EVENT_ITERATIONS):
            layout.propagate()
            needed, terminate, times = False, False, []
            for m in members:
                more, stop, _, t_next = m.update_discrete()
                needed, terminate = needed or more, terminate or stop
                if t_next is not None:
                    times.append(t_next)
            if terminate:
                return True, None
            before = layout.U.copy()
            layout.propagate()
            if not needed and np.array_equal(before, layout.U):
                return False, min(times) if times else None
        raise SubsystemError(f"the event iteration did not settle after "
                             f"{MAX_EVENT_ITERATIONS} rounds (the members keep asking for "
                             "discrete updates or their connections keep changing)",
                             node=self.name, time=self.time)

    # -- values and state ---------------------------------------------------------------

    def set_value(self, name: str, value: Any) -> None:
        """Set a member's unconnected input (now) or tunable parameter (through an event
        iteration, as FMI requires in model exchange)."""
        member, var = self._member_of(name)
        v = self.members[member].interface.get(var)
        with self._as(member):
            if v is not None and v.causality == "input" and v.kind == "real":
                self.members[member].set_value(var, value)
                self.restart = True
                return
            for m in self.members.values():
                m.enter_event_mode()
            self.members[member].set_value(var, value)
            terminate, next_time = self._iterate(self.layout, list(self.members.values()))
            for m in self.members.values():
                m.enter_continuous_time_mode()
        self.next_time = next_time if next_time is not None else self.next_time
        self.restart = True

    def _member_of(self, name: str) -> tuple[str, str]:
        for m, p in self.prefix.items():
            if not p or name.startswith(p):
                return m, name[len(p):]
        raise SubsystemError("no member variable of that name", node=self.name,
                             variable=name)

    def save_state(self) -> ClusterState:
        return ClusterState(self.time, self._member_states(), self.layout.U.copy(),
                            self.layout.Y.copy(),
                            self.u_last.copy() if self.u_last is not None else None,
                            self.pending, self.announced, self.next_time)

    def restore_state(self, state: ClusterState) -> None:
        for (m, member), s in zip(self.members.items(), state.members, strict=True):
            with self._as(m):
                member.restore_state(s)
        self.time = state.time
        self.layout.U[:], self.layout.Y[:] = state.U, state.Y
        self.u_last = state.u.copy() if state.u is not None else None
        self.pending, self.announced, self.next_time = (state.pending, state.announced,
                                                        state.next_time)
        self.restart = True

    def free_state(self, state: ClusterState) -> None:
        for member, s in zip(self.members.values(), state.members, strict=True):
            member.free_state(s)

    # -- life cycle ----------------------------------------------------------------------

    def terminate(self) -> None:
        for m, member in self.members.items():
            with self._as(m):
                member.terminate()

    def reset(self) -> None:
        self._forget()
        for member in self.members.values():
            member.reset()  # may re-instantiate a member whose reset failed:
        self.layout.connect()  # so bind the calls again
        self._reset_bookkeeping()

    def close(self) -> None:
        try:
            with contextlib.suppress(Exception):  # never mask the error that ended a run
                self._forget()
            for member in self.members.values():
                member.close()
        finally:
            if self.integ is not None:
                self.integ.close()

    def native_form(self):
        raise NotNative(f"node {self.name}: a model-exchange cluster runs in Python (cosim "
                        "integrates it)")

    def provenance(self) -> dict[str, Any]:
        return {"kind": "cluster", "solver": self.options.as_dict(),
                "members": {m: member.provenance() for m, member in self.members.items()}}


class _MemberErrors:
    """Context manager: a SubsystemError from a member gets the member's name (or the
    cluster's) and the cluster's time."""

    def __init__(self, cluster: ClusterSubsystem, member: str | None):
        self.cluster, self.member = cluster, member

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, err, tb) -> bool:
        if isinstance(err, SubsystemError):
            err.locate(node=self.member or self.cluster.name, time=self.cluster.time)
        return False
