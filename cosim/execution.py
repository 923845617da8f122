"""Running a topology: the lifecycle around the master algorithm.

:func:`run` checks the topology (every problem at once), makes the subsystems, builds
the coupled system, initializes, then steps from ``start`` to ``stop`` on communication
points ``start + n * step`` computed in integer ticks (the last step is shortened to
land exactly on ``stop``). Observers see every point. Whatever happens, observers are
told how the run ended and every subsystem is closed (instances freed, temporary
folders removed); a failed run's error carries the partial :class:`Result` as
``error.result``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from . import __version__
from .clock import to_seconds, to_ticks
from .errors import ConfigError, CosimError, NonFiniteError, Problem, TopologyError
from .master import make_algorithm
from .observers.base import Observer, RowKind, RunInfo
from .observers.memory import MemoryRecorder
from .output_guard import claimed, topology_inputs
from .result import Result
from .subsystems.factory import make_subsystem
from .subsystems.tracing import TracingSubsystem
from .supervisor import beacon
from .system import CoupledSystem
from .topology.graph import Topology
from .topology.loader import load


def run(topology: Topology | str | Path, *, output: str | Path | None = None,
        start: float | None = None, stop: float | None = None, step: float | None = None,
        algorithm: str | None = None, parameters: dict[str, Any] | None = None,
        progress: bool = False, observers: Iterable[Observer] = (),
        keep_in_memory: bool = True, trace: bool = False, fast: bool = True) -> Result:
    """Run a topology (a :class:`Topology` or a file path) and return its :class:`Result`.

    ``start``/``stop``/``step`` [s] and ``algorithm`` override the topology's run
    settings; ``parameters`` maps ``"node.parameter"`` to a value and overrides the
    topology's. ``output`` streams results to an HDF5 file as the run goes.
    ``fast=False`` forces the Python step loop even where a compiled one is available.
    """
    topo = load(topology) if isinstance(topology, (str, Path)) else topology.copy()
    overrides = {k: v for k, v in dict(start=start, stop=stop, step=step,
                                       algorithm=algorithm).items() if v is not None}
    if overrides:
        try:
            topo.run = type(topo.run).model_validate({**topo.run.model_dump(), **overrides})
        except ValueError as err:  # one line per problem, not pydantic's dump
            from .topology.yamlio import validation_message
            raise ConfigError(f"invalid run settings: {validation_message(err)}") from None
    _apply_parameters(topo, parameters or {})
    report = topo.check()
    report.raise_if_problems()
    # never an input, never two writers, never a stranger's file (cosim/output_guard.py)
    inputs = topology_inputs(topo, report) if output is not None else ()
    with claimed(output, inputs=inputs, what="result file"):
        return Execution(topo, report, output=output, progress=progress,
                         observers=observers, keep_in_memory=keep_in_memory, trace=trace,
                         fast=fast).run()


def _apply_parameters(topo: Topology, parameters: dict[str, Any]) -> None:
    problems = []
    for key, value in parameters.items():
        node, _, var = key.partition(".")
        if node not in topo.graph or not var:
            problems.append(Problem(f"parameter override {key!r}: no node {node!r}"
                                    if var else f"parameter override {key!r} is not node.name"))
            continue
        topo.graph.nodes[node]["parameters"][var] = value
    if problems:
        raise TopologyError(problems)


class Execution:
    """Owns everything during one run; short step loop, everything released in finally."""

    def __init__(self, topology: Topology, report, *, output=None, progress=False,
                 observers: Iterable[Observer] = (), keep_in_memory=True, trace=False,
                 fast: bool = True):
        self.topology, self.report = topology, report
        self.run_spec = topology.run
        self.algorithm = self._algorithm()
        self.events: list = []
        self.stats: dict = {}
        self.memory = MemoryRecorder() if keep_in_memory else None
        self.observers: list[Observer] = [o for o in [self.memory] if o is not None]
        self.output = Path(output) if output is not None else None
        if self.output is not None:
            from .observers.hdf5 import HDF5Recorder
            self.observers.append(HDF5Recorder(self.output))
        if progress:
            from .observers.progress import ProgressBar
            self.observers.append(ProgressBar())
        self.observers.extend(observers)
        self.trace: list | None = [] if trace else None
        self.fast = fast and not trace

    def _algorithm(self):
        """The master: Jacobi or Gauss-Seidel, or multirate when nodes have own steps."""
        run = self.run_spec
        base = to_ticks(run.step, what="step")
        steps = [to_ticks(self.topology.graph.nodes[n].get("step") or run.step, what="step")
                 for n in self.report.order]
        if all(s == base for s in steps):
            return make_algorithm(run.algorithm, run.loops)
        from .master.multirate import Multirate
        return Multirate(run.loops, run.algorithm, steps)

    def _plan(self) -> tuple[int, int, int, int]:
        run = self.run_spec
        t0, t1, h = (to_ticks(run.start, what="start"), to_ticks(run.stop, what="stop"),
                     to_ticks(run.step, what="step"))
        if h <= 0:
            raise ConfigError(f"step {run.step} s is below the time resolution (1 ns)")
        n_steps = -(-(t1 - t0) // h)
        return t0, t1, h, n_steps

    def run(self) -> Result:
        t0, t1, h, n_steps = self._plan()
        subsystems: dict = {}
        started: list[Observer] = []
        error: BaseException | None = None
        clock = time.perf_counter()
        try:
            event_mode = not self.report.cannot_roll_back
            for name in self.report.order:
                sub = make_subsystem(self.topology, name, self.report.nodes[name])
                if event_mode and sub.capabilities.has_event_mode and \
                        hasattr(sub, "event_mode"):
                    sub.event_mode = True  # FMI 3: events and early returns, with rollback
                subsystems[name] = TracingSubsystem(sub, self.trace) if self.trace is not None \
                    else sub
            system = CoupledSystem(self.topology, self.report, subsystems)
            beacon.watch(system, self.observers)  # no-op unless run by a supervisor
            self.info = self._info(system, n_steps)
            for obs in self.observers:
                obs.started(self.info)
                started.append(obs)
            self._loop(system, t0, t1, h, n_steps)
            for sub in system.subsystems:
                sub.terminate()
        except BaseException as err:
            error = err
            raise
        finally:
            self._finish(started, subsystems, error, time.perf_counter() - clock)
        return self.result

    def _loop(self, system: CoupledSystem, t0: int, t1: int, h: int, n_steps: int) -> None:
        start, stop = to_seconds(t0), to_seconds(t1)
        for sub in system.subsystems:
            sub.setup(start, stop)
        self.algorithm.initialize(system, start)
        for sub in system.subsystems:
            sub.exit_initialization()
        self._check_finite(system, start)
        self.system = system
        if self._needs_event_loop(system):
            from .eventloop import EventLoop
            rollback = any(getattr(s, "events_used", False) for s in system.subsystems)
            EventLoop(self, system, rollback).run(t0, t1, h)
            return
        observers, y, rec = self.observers, system.y, system.record_index
        for obs in observers:
            obs.stepped(start, y[rec])
        from .fast import compile_loop
        fast = compile_loop(system, self.algorithm, self.run_spec) if self.fast else None
        if fast is not None:
            fast.run(t0, t1, h, 1, n_steps, observers)
            return
        self._python_steps(system, t0, t1, h, n_steps)

    def _python_steps(self, system: CoupledSystem, t0: int, t1: int, h: int, n_steps: int
                      ) -> None:
        """Macro steps 1..n_steps in Python (the reference the fast path must match)."""
        observers, y, rec = self.observers, system.y, system.record_index
        step, allow_nonfinite = self.algorithm.step, self.run_spec.allow_nonfinite
        isfinite = _isfinite_all
        t_prev = t0
        for n in range(1, n_steps + 1):
            t_next = min(t0 + n * h, t1)
            t = to_seconds(t_prev)
            step(system, t, to_seconds(t_next) - t)
            t_prev = t_next
            now = to_seconds(t_next)
            if not allow_nonfinite and not isfinite(y):
                self._check_finite(system, now)
            values = y[rec]
            for obs in observers:
                obs.stepped(now, values)

    def _needs_event_loop(self, system: CoupledSystem) -> bool:
        topo = self.topology
        return bool(topo.events or topo.monitors or self.run_spec.adaptive or any(
            getattr(s, "events_used", False) for s in system.subsystems)
            or getattr(self.algorithm, "steps", None))

    def _emit(self, t: float, kind: RowKind = RowKind.COMMUNICATION_POINT) -> None:
        """Hand the recorded outputs at ``t`` [s] to every observer."""
        values = self.system.y[self.system.record_index]
        for obs in self.observers:
            obs.stepped(t, values, kind)

    def _check_finite(self, system: CoupledSystem, t: float) -> None:
        if self.run_spec.allow_nonfinite:
            return
        bad = system.first_nonfinite()
        if bad is not None:
            node, var = bad
            value = system.y[system.out_lo[system.index[node]] +
                             system.subsystems[system.index[node]].outputs.index(var)]
            raise NonFiniteError(f"output is {value} (set run.allow_nonfinite: true to "
                                 "accept non-finite values)", node=node, variable=var, time=t)

    def _finish(self, started, subsystems, error, wall: float) -> None:
        """Tell observers how the run ended, close every subsystem, build the Result.

        An observer failing on a run that had completed (a full disk, say) makes the run
        failed; on a run that had failed, the original error is kept.
        """
        late: BaseException | None = None
        try:
            for obs in started:
                try:
                    obs.finished(error)
                except Exception as err:  # noqa: BLE001 - keep closing the others
                    late = late or err
        finally:
            for sub in subsystems.values():
                sub.close()
        final = error or late
        self.result = Result(
            name=self.topology.name, status="completed" if final is None else "failed",
            error=final, path=self.output, info=getattr(self, "info", None),
            memory=self.memory, trace=self.trace, wall_time=wall, events=self.events,
            stats=self.stats)
        if isinstance(final, CosimError | KeyboardInterrupt):
            final.result = self.result  # the partial result, for the CLI's message
        if error is None and late is not None:
            raise late

    def _info(self, system: CoupledSystem, n_steps: int) -> RunInfo:
        run = self.run_spec
        params = {}
        for name in system.names:
            data = self.topology.graph.nodes[name]
            iface = self.report.nodes[name].interface
            for key, value in data["parameters"].items():
                var = iface.get(key)
                params[f"{name}.{key}"] = (value, var.unit if var else None)
        # parameters may hold objects (a fitted model given in Python): record their repr
        spec = json.loads(json.dumps(self.topology.to_spec().model_dump(by_alias=True),
                                     default=repr))
        spec_json = json.dumps(spec, sort_keys=True)
        meta = {
            "topology": spec,
            "topology_sha256": hashlib.sha256(spec_json.encode()).hexdigest(),
            "topology_file": self.topology.source or "",
            "graph": _node_link(self.topology),
            "subsystems": {s.name: s.provenance() for s in system.subsystems},
            "versions": _versions(),
            "algorithm": {**self.algorithm.settings(), "start": run.start, "stop": run.stop,
                          "step": run.step, "order": system.names,
                          "extrapolation": run.extrapolation,
                          "adaptive": run.adaptive.model_dump() if run.adaptive else None},
        }
        return RunInfo(name=self.topology.name, signals=system.signals, start=run.start,
                       stop=run.stop, step=run.step, algorithm=self.algorithm.name,
                       n_steps=n_steps, parameters=params, meta=meta)


def _isfinite_all(y) -> bool:
    # sum() is finite iff every element is (barring overflow, which the slow path catches)
    s = y.sum()
    return s - s == 0.0


def _node_link(topology: Topology) -> dict:
    g = nx.MultiDiGraph()
    for n, data in topology.graph.nodes(data=True):
        source = data["source"] if isinstance(data["source"], str) else \
            f"{data['source'].__module__}:{data['source'].__qualname__}"
        g.add_node(n, kind=data["kind"], source=source,
                   parameters=json.loads(json.dumps(data["parameters"], default=str)))
    for u, v, k, data in topology.graph.edges(keys=True, data=True):
        g.add_edge(u, v, key=k, **{a: b for a, b in data.items() if a != "where"})
    return nx.node_link_data(g, edges="edges")


def _versions() -> dict[str, str]:
    import fmpy
    import h5py
    import numpy
    import scipy
    return {"cosim": __version__, "fmpy": fmpy.__version__, "numpy": numpy.__version__,
            "h5py": h5py.__version__, "scipy": scipy.__version__,
            "networkx": nx.__version__, "python": platform.python_version()}

