"""One run of a built :class:`~cosim.simulation.Simulation`: the step loop and its life.

:func:`run` is the one-call form: build a Simulation, run it once, close it.

An :class:`Execution` owns one run (or one segment of a run continued by later
``Simulation.run`` calls): it tells observers what runs, initializes the system (on the
first segment), steps from ``t_a`` to ``t_b`` on communication points
``start + n * step`` computed in integer ticks (a step is shortened to land exactly on
``t_b``), and hands every recorded row to the observers. Whatever happens, observers
are told how the run ended; a failed run's error carries the partial :class:`Result` as
``error.result``, and errors reaching the user name the node and the time (attached
here, in one place, as they pass up).

The step loop is, by what the run needs:

* the compiled loop (:mod:`cosim.fast`) when every node has a native form and the run
  uses no feature the kernel lacks;
* the plain Python loop (:meth:`Execution._plain_steps`), the reference the compiled
  loop matches bit for bit;
* the event loop (:mod:`cosim.eventloop`) for scheduled events, monitors, FMU event
  mode, multirate and adaptive steps.

A node asking to end the simulation (:class:`~cosim.protocol.StepStatus` TERMINATE) ends
the run normally with status ``"terminated"``: at the end of the macro step when every
node completed it, else at the last communication point every node completed (or, when
the nodes can roll back, at the requested time itself: see the event loop).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .clock import TICKS_PER_SECOND, to_seconds
from .errors import CosimError, NonFiniteError, SimulationError, SubsystemError
from .master.base import MacroStep
from .observers.base import Observer, RowKind
from .result import Result, Termination


def run(topology, *, output: str | Path | None = None, start: float | None = None,
        stop: float | None = None, step: float | None = None, algorithm: str | None = None,
        parameters: dict[str, Any] | None = None, progress: bool = False,
        observers: Iterable[Observer] = (), keep_in_memory: bool = True, trace: bool = False,
        fast: bool = True) -> Result:
    """Run a topology (a :class:`~cosim.Topology` or a file path) once; return its Result.

    ``start``/``stop``/``step`` [s] and ``algorithm`` override the topology's run
    settings; ``parameters`` maps ``"node.parameter"`` to a value and overrides the
    topology's. ``output`` streams results to an HDF5 file as the run goes.
    ``fast=False`` forces the Python step loop even where a compiled one is available.
    To run one topology many times, build a :class:`~cosim.Simulation` once instead.
    """
    from .simulation import Simulation
    with Simulation(topology, start=start, stop=stop, step=step, algorithm=algorithm,
                    parameters=parameters, trace=trace, fast=fast) as sim:
        return sim.run(output=output, progress=progress, observers=observers,
                       keep_in_memory=keep_in_memory)


class Execution:
    """Owns one run segment; a short step loop, observers always told how it ended."""

    def __init__(self, sim, observers: list[Observer], memory, output: Path | None):
        self.sim = sim
        self.system = sim.system
        self.algorithm = sim.algorithm
        self.run_spec = sim.run_spec
        self.observers = observers
        self.memory = memory
        self.output = output
        self.events: list = []
        self.stats: dict = {}
        self.termination: Termination | None = None
        self.reached: int | None = None  # ticks: the last communication point recorded

    # -- the run -------------------------------------------------------------------------

    def run(self, t_a: int, t_b: int, first: bool) -> Result:
        """Step from ``t_a`` to ``t_b`` [ticks]; initialize first when ``first``."""
        started: list[Observer] = []
        error: BaseException | None = None
        clock = time.perf_counter()
        try:
            self.info = self.sim.run_info(t_a, t_b)
            for obs in self.observers:
                obs.started(self.info)
                started.append(obs)
            try:
                if first:
                    self._initialize(t_a)
                self._loop(t_a, t_b, first)
                self.stats["step_loop"] = self.sim.step_loop()
            except BaseException as err:
                raise self._located(err) from None
        except BaseException as err:
            error = err
            raise
        finally:
            self._finish(started, error, time.perf_counter() - clock)
        return self.result

    def _located(self, err: BaseException) -> BaseException:
        """Attach the node being stepped and the time to a node's error passing up (the
        one place that does); wrap what is not a cosim error in a SimulationError naming
        the time, so no bare library exception reaches the user."""
        system = self.system
        now = to_seconds(self.reached) if self.reached is not None else None
        if isinstance(err, SubsystemError):
            node = system.names[system.current] if 0 <= system.current < system.n else None
            err.locate(node=node, time=now)
            return err
        if isinstance(err, CosimError) or not isinstance(err, Exception):
            return err  # cosim's own errors say where; KeyboardInterrupt, SystemExit pass
        wrapped = SimulationError(f"internal error ({type(err).__name__}: {err}); please "
                                  "report it with COSIM_TRACEBACK=1 output", time=now)
        wrapped.__cause__ = err
        return wrapped

    def _initialize(self, t0: int) -> None:
        """Initialization mode, then the consistent initial point (its row is the loop's
        first)."""
        self.reached = t0
        outcomes = self.sim.initialize(t0)
        start = to_seconds(t0)
        self.check_finite(start)
        asking = [i for i, o in enumerate(outcomes) if o.terminate]
        if asking:  # an FMU asked to end the simulation in its initial event iteration
            self.terminated(MacroStep(reached=start, terminate=(asking[0], start)))

    def _loop(self, t_a: int, t_b: int, first: bool) -> None:
        sim = self.sim
        if sim.needs_event_loop():
            sim.event_loop(self).run(t_a, t_b, first)
            return
        if first:
            self.emit(to_seconds(t_a))
        if self.termination is not None:
            return
        compiled = sim.compiled_loop() if sim.fast else None
        t0, h = sim.t0, sim.h
        if compiled is not None:
            if (t_a - t0) % h:  # off the grid: a first partial step in Python
                t_a = self._plain_steps(t_a, min(t_b, t0 + ((t_a - t0) // h + 1) * h))
                if t_a is None:
                    return
            result = compiled.run(self, t_a, t_b)
            if result is not None and result.terminate is not None:
                self.terminated(result)
            return
        self._plain_steps(t_a, t_b)

    def _plain_steps(self, t_a: int, t_b: int) -> int | None:
        """Macro steps in Python from ``t_a`` to ``t_b`` (the reference the compiled loop
        must match). Returns ``t_b``, or None when a node ended the simulation."""
        system, step = self.system, self.algorithm.step
        t0, h = self.sim.t0, self.sim.h
        allow_nonfinite = self.run_spec.allow_nonfinite
        observers, y = self.observers, system.y
        objects = bool(system.object_signals)
        n = (t_a - t0) // h + 1
        prev = t_a
        while prev < t_b:
            nxt = min(t0 + n * h, t_b)
            result = step(system, prev, nxt)
            if result is not None and result.terminate is not None:
                if not result.cut:
                    self.row(nxt)
                self.terminated(result)
                return None
            now = nxt / TICKS_PER_SECOND
            self.reached = nxt
            if not allow_nonfinite and not _isfinite_all(y):
                self.check_finite(now)
            if objects:
                self.emit(now)
            else:
                values = system.recorded(now)
                for obs in observers:
                    obs.stepped(now, values)
            prev = nxt
            n += 1
        return t_b

    def row(self, ticks: int) -> None:
        """Check and record the row of the communication point ``ticks`` just reached."""
        now = ticks / TICKS_PER_SECOND
        self.reached = ticks
        self.check_finite(now)
        self.emit(now)

    # -- helpers for the loops -------------------------------------------------------------

    def emit(self, t: float, kind: RowKind = RowKind.COMMUNICATION_POINT) -> None:
        """Hand the recorded outputs at ``t`` [s] to every observer."""
        values = self.system.recorded(t)
        objects = self.system.recorded_objects() if self.system.object_signals else None
        for obs in self.observers:
            if objects is not None:
                obs.stepped_objects(t, objects)
            obs.stepped(t, values, kind)

    def check_finite(self, t: float) -> None:
        if self.run_spec.allow_nonfinite or _isfinite_all(self.system.y):
            return  # the cheap test first: the event loop checks every step
        bad = self.system.first_nonfinite()
        if bad is not None:
            node, var = bad
            value = self.system.value(node, var)
            raise NonFiniteError(f"output is {value} (set run.allow_nonfinite: true to "
                                 "accept non-finite values)", node=node, variable=var, time=t)

    def terminated(self, result, reached: float | None = None) -> None:
        """A node asked to end the simulation: the run ends normally."""
        i, requested = result.terminate
        node = self.system.names[i]
        end = reached if reached is not None else (
            to_seconds(self.reached) if self.reached is not None else requested)
        self.termination = Termination(node=node, requested=requested, time=end)
        for obs in self.observers:
            hook = getattr(obs, "terminated", None)
            if hook is not None:
                hook(end, node, self.termination.describe())

    def _finish(self, started, error, wall: float) -> None:
        """Tell observers how the run ended, build the Result.

        An observer failing on a run that had completed (a full disk, say) makes the run
        failed; on a run that had failed, the original error is kept.
        """
        late: BaseException | None = None
        for obs in started:
            try:
                obs.finished(error)
            except Exception as err:  # noqa: BLE001 - keep telling the others
                late = late or err
        final = error or late
        status = "failed" if final is not None else (
            "terminated" if self.termination is not None else "completed")
        self.result = Result(
            name=self.sim.topology.name, status=status, error=final, path=self.output,
            info=getattr(self, "info", None), memory=self.memory, trace=self.sim.trace,
            wall_time=wall, events=self.events, stats=self.stats,
            termination=self.termination)
        if isinstance(final, CosimError | KeyboardInterrupt):
            final.result = self.result  # the partial result, for the CLI's message
        if error is None and late is not None:
            raise late


def _isfinite_all(y) -> bool:
    # sum() is finite iff every element is (barring overflow, which the slow path catches)
    s = y.sum()
    return s - s == 0.0


def no_event_loop_reason(sim) -> str | None:
    """Why the run needs the event loop (None: it does not)."""
    topo = sim.topology
    for what, on in (("scheduled events", topo.events), ("monitors", topo.monitors),
                     ("adaptive steps", sim.run_spec.adaptive),
                     ("multirate steps", getattr(sim.algorithm, "steps", None))):
        if on:
            return what
    used = [s.name for s in sim.system.subsystems if getattr(s, "events_used", False)]
    return f"FMI 3 event mode ({', '.join(used)})" if used else None


__all__ = ["Execution", "SimulationError", "run"]
