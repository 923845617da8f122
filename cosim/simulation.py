"""A topology built once and run many times: the unit of work of every lifecycle tool.

::

    with cosim.Simulation("topologies/datacenter.yaml") as sim:
        nominal = sim.run()                              # a Result
        sim.reset(parameters={"rack1.C_cpu": 3.0e5})     # other values, same system
        stiffer = sim.run()
        sim.reset(start=3600.0)                          # another start time [s]
        first_hour = sim.run(until=7200.0)               # stop early ...
        rest = sim.run()                                 # ... and continue to the stop

Building checks the topology (every problem at once), makes the subsystems, extracts
every FMU once per process (shared by its instances, keyed by SHA-256) and
instantiates it once. Each run then starts from the just-instantiated state (FMI
``fmi2Reset``/``fmi3Reset``; blocks rebuilt or reset), so a reset-then-run is
bit-identical to a fresh run. ``run(until=t)`` stops at ``t`` [s] (landing on it
exactly) and a later ``run`` continues from there; without ``reset`` a finished run is
run again from the start.

Life cycle of the nodes per run (see :mod:`cosim.subsystems.base`): configure values,
initialize, master initialization (consistent initial outputs, loops solved), exit
initialization, outputs re-read (FMUs exported by modelling tools compute them when
leaving initialization) and direct-feedthrough outputs downstream re-evaluated, steps,
terminate. ``close()`` (or the ``with`` block) frees every instance.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .clock import to_seconds, to_ticks
from .errors import ConfigError, Problem, TopologyError
from .master import make_algorithm
from .master.options import AdaptiveOptions, LoopOptions, options_from
from .observers.base import Observer, RunInfo
from .output_guard import claimed, topology_inputs
from .protocol import EventOutcome, NotNative
from .result import Result
from .subsystems.factory import make_subsystem
from .subsystems.tracing import TracingSubsystem
from .supervisor import beacon
from .system import CoupledSystem
from .topology import parameters as param_values
from .topology.checks import check_values
from .topology.contraction import system_view
from .topology.graph import Topology
from .topology.loader import load
from .variables import Signal

NEW, READY, PAUSED, FINISHED, CLOSED = "new", "ready", "paused", "finished", "closed"


class Simulation:
    """A checked topology with instantiated subsystems, run and reset at will.

    ``parameters`` (``{"node.parameter": value}``), ``start``/``stop``/``step`` [s] and
    ``algorithm`` override the topology's values for every run; :meth:`reset` changes
    parameters, start values and the start time between runs. ``trace=True`` records
    every call the master makes (``Result.trace``); ``fast=False`` keeps the Python
    step loop even where the compiled one could run.
    """

    def __init__(self, topology: Topology | str | Path, *, parameters: dict[str, Any] | None
                 = None, start: float | None = None, stop: float | None = None,
                 step: float | None = None, algorithm: str | None = None,
                 trace: bool = False, fast: bool = True):
        topo = load(topology) if isinstance(topology, (str, Path)) else topology.copy()
        _apply_run_settings(topo, start=start, stop=stop, step=step, algorithm=algorithm)
        _apply_parameters(topo, parameters or {})
        report = topo.check()
        report.raise_if_problems()
        self.topology, self.report = topo, report
        # what the run core is built from: model-exchange clusters as single nodes
        self.view = system_view(topo, report)
        self.run_spec = topo.run
        self.trace: list | None = [] if trace else None
        self.fast = fast and not trace
        self.algorithm = self._algorithm()
        self._parameters: dict[str, Any] = {}
        self._start_values: dict[str, Any] = {}
        self._start = to_ticks(self.run_spec.start, what="start")
        self.state = NEW
        self._compiled: Any = None
        self._meta: dict[str, Any] | None = None
        self._input_files: Any = None
        self.next_events: list[float | None] = []
        self.system = self._build()
        self.t0, self.h = self._start, to_ticks(self.run_spec.step, what="step")
        if self.h <= 0:
            raise ConfigError(f"step {self.run_spec.step} s is below the time resolution "
                              "(1 ns)")
        self.now = self.t0  # ticks: where the system is

    # -- building -------------------------------------------------------------------------

    def _algorithm(self):
        """The master: Jacobi or Gauss-Seidel, or multirate when nodes have own steps."""
        run = self.run_spec
        loops = options_from(run.loops, LoopOptions)
        base = to_ticks(run.step, what="step")
        graph = self.view.topology.graph
        steps = [to_ticks(graph.nodes[n].get("step") or run.step, what="step")
                 for n in self.view.report.order]
        if all(s == base for s in steps):
            return make_algorithm(run.algorithm, loops)
        from .master.multirate import Multirate
        return Multirate(loops, run.algorithm, steps)

    def _build(self) -> CoupledSystem:
        rollback = not self.report.cannot_roll_back
        # early return needs every node to roll back, and a master that acts on it (the
        # adaptive step controller does not: there the nodes handle their events)
        early = rollback and self.run_spec.adaptive is None
        view = self.view
        subsystems: dict = {}
        try:
            for name in view.report.order:
                sub = make_subsystem(view.topology, name, view.report.nodes[name])
                if hasattr(sub, "event_mode"):  # FMI 3 CS, ME clusters: events handled
                    # by the importer, early return only when all roll back; FMUs with
                    # clocks (which cosim does not drive) handle their events themselves
                    sub.event_mode = not any(v.kind == "clock"
                                             for v in sub.interface.variables.values())
                    sub.early_return = early
                subsystems[name] = TracingSubsystem(sub, self.trace) \
                    if self.trace is not None else sub
            system = CoupledSystem(view.topology, view.report, subsystems)
            if view.report is not self.report:  # results name the user's nodes
                system.signals = [Signal(n, self.report.nodes[n].interface[v])
                                  for n, v in self.report.recorded]
            beacon.watch(system)  # no-op unless run by a supervisor (cosim run)
            for sub in system.subsystems:
                sub.instantiate()
        except BaseException:
            for sub in subsystems.values():
                sub.close()
            raise
        return system

    # -- configuring runs -----------------------------------------------------------------

    def reset(self, parameters: dict[str, Any] | None = None, start: float | None = None,
              *, start_values: dict[str, Any] | None = None) -> Simulation:
        """Start the next run afresh with these overrides of the topology's values:
        ``parameters`` and ``start_values`` keyed ``"node.variable"``, ``start`` the start
        time [s]. Overrides are not cumulative: each reset replaces the last one's."""
        self._require_open()
        overrides = {"parameter": parameters or {}, "start value": start_values or {}}
        problems = self._check_overrides(overrides)
        if problems:
            raise TopologyError(problems)
        begin = to_ticks(self.run_spec.start if start is None else start, what="start")
        if not begin < to_ticks(self.run_spec.stop):
            raise ConfigError(f"start {to_seconds(begin):g} s must be before the stop "
                              f"time {self.run_spec.stop:g} s")
        self._parameters = dict(parameters or {})
        self._start_values = dict(start_values or {})
        self._start = begin
        if self.state != NEW:
            self.state = FINISHED  # the next run resets the nodes
        return self

    def _check_overrides(self, overrides: dict[str, dict[str, Any]]) -> list[Problem]:
        problems = []
        for what, values in overrides.items():
            by_node: dict[str, dict[str, Any]] = {}
            for key, value in values.items():
                node, _, var = key.partition(".")
                if node not in self.report.nodes or not var:
                    problems.append(Problem(f"{what} override {key!r}: no node {node!r}"
                                            if var else f"{what} override {key!r} is not "
                                            "node.name"))
                    continue
                by_node.setdefault(node, {})[var] = value
            for node, vals in by_node.items():
                info = self.report.nodes[node]
                if what == "parameter":
                    problems += check_values(node, info, vals, {}, "")
                else:
                    problems += check_values(node, info, {}, vals, "")
        return problems

    def _node_values(self) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        """Parameters and start values of every system node (a cluster: its members',
        named as the cluster names them), overrides applied."""
        graph = self.view.topology.graph
        params = _by_node(self.view.keys(self._parameters))
        starts = _by_node(self.view.keys(self._start_values))
        return {name: ({**graph.nodes[name]["parameters"], **params.get(name, {})},
                       {**graph.nodes[name]["start"], **starts.get(name, {})})
                for name in self.system.names}

    def parameters(self) -> dict[str, Any]:
        """The parameter values the next run applies, ``{"node.parameter": value}``."""
        graph, overrides = self.topology.graph, _by_node(self._parameters)
        return {f"{n}.{k}": v for n in self.report.order
                for k, v in {**graph.nodes[n]["parameters"], **overrides.get(n, {})}.items()}

    # -- running --------------------------------------------------------------------------

    def run(self, until: float | None = None, *, output: str | Path | None = None,
            observers: Iterable[Observer] = (), progress: bool = False,
            keep_in_memory: bool = True) -> Result:
        """Run to ``until`` [s] (default: the stop time) and return the Result of this run
        (or of this segment, when continuing a run stopped early by ``until``).

        ``output`` streams the rows to an HDF5 file; ``observers`` see every row;
        ``progress`` shows a progress bar on stderr.
        """
        from .execution import Execution
        from .observers.memory import MemoryRecorder

        self._require_open()
        stop = to_ticks(self.run_spec.stop, what="stop")
        t_b = stop if until is None else min(stop, to_ticks(until, what="until"))
        first = self.state != PAUSED
        if first:
            self._prepare()
        t_a = self.now
        if not t_b > t_a:
            raise ConfigError(f"run until {to_seconds(t_b):g} s: the simulation is at "
                              f"t={to_seconds(t_a):g} s already")
        memory = MemoryRecorder() if keep_in_memory else None
        watchers: list[Observer] = [memory] if memory is not None else []
        out = Path(output) if output is not None else None
        if out is not None:
            from .observers.hdf5 import HDF5Recorder
            watchers.append(HDF5Recorder(out))
        if progress:
            from .observers.progress import ProgressBar
            watchers.append(ProgressBar())
        watchers.extend(observers)
        phases = beacon.phases()
        if phases is not None:
            watchers.append(phases)
        execution = Execution(self, watchers, memory, out)
        self.state = READY
        try:
            # never an input, never two writers, never a stranger's file (output_guard)
            with claimed(out, inputs=self._inputs() if out is not None else (),
                         what="result file"):
                result = execution.run(t_a, t_b, first)
        except BaseException:
            self.state = FINISHED
            raise
        self.now = execution.reached if execution.reached is not None else t_b
        clusters = {s.name: dict(s.stats) for s in self.system.subsystems
                    if s.kind == "cluster"}
        if clusters:  # integrator counters of the model-exchange clusters, this run
            result.stats["clusters"] = clusters
        done = result.status == "terminated" or self.now >= stop
        self.state = FINISHED if done else PAUSED
        if done:
            for sub in self.system.subsystems:
                sub.terminate()
        return result

    def _inputs(self):
        """Every file the run reads (topology, FMUs, data files, ...): never an output."""
        if self._input_files is None:
            self._input_files = topology_inputs(self.topology, self.report)
        return self._input_files

    def _prepare(self) -> None:
        """Bring every node to its just-instantiated state with this run's values."""
        if self.state == FINISHED or self.state == READY:
            for sub in self.system.subsystems:
                sub.reset()
        self.system.clear()
        values = self._node_values()
        for name, sub in zip(self.system.names, self.system.subsystems, strict=True):
            sub.configure(*values[name])
        self.now = self._start
        self.t0 = self._start

    def initialize(self, t0: int) -> list[EventOutcome]:
        """Initialization of every node and of the coupled system at ``t0`` [ticks];
        returns each node's initial event outcome (next time event, termination)."""
        system = self.system
        start, stop = to_seconds(t0), self.run_spec.stop
        for sub in system.subsystems:
            system.current = system.index[sub.name]
            sub.initialize(start, stop)
        self.algorithm.initialize(system, t0)
        outcomes = []
        for i, sub in enumerate(system.subsystems):
            system.current = i
            outcomes.append(sub.exit_initialization())
        self._refresh_after_initialization()
        self.next_events = [o.next_event for o in outcomes]
        return outcomes

    def _refresh_after_initialization(self) -> None:
        """Outputs as leaving initialization left them; then what depends on them."""
        system = self.system
        before = system.y.copy()
        for i, sub in enumerate(system.subsystems):
            if not getattr(sub, "events_used", False):  # event mode: read by the event
                system.current = i
                sub.get_outputs()
        changed = system.y != before
        if changed.any():
            system.propagate(changed)
            system.snapshot()
            system.commit(to_seconds(self.t0))

    # -- what the run needs ---------------------------------------------------------------

    def needs_event_loop(self) -> bool:
        from .execution import no_event_loop_reason
        return no_event_loop_reason(self) is not None

    def event_loop(self, execution):
        from .eventloop import EventLoop
        return EventLoop(execution, self)

    def compiled_loop(self):
        """The compiled loop for this system (built once, refreshed per run), or None."""
        from .fast import compile_loop
        if self._compiled is None:
            self._compiled = compile_loop(self)
            if self._compiled is None:
                self._compiled = False
        elif self._compiled is not False:
            try:
                self._compiled.refresh()
            except NotNative:
                self._compiled = False
        return self._compiled or None

    def step_loop(self) -> list[str]:
        """How runs of this simulation step: the compiled loop, node by node native or
        called in Python (and why), or the Python loop (and why)."""
        compiled = self._compiled
        key = (self.fast, id(compiled), getattr(compiled, "plan_version", 0))
        if getattr(self, "_step_loop_key", None) != key:  # the plan changed
            from .fast import summary
            self._step_loop_lines, self._step_loop_key = summary(self), key
        return list(self._step_loop_lines)

    def run_info(self, t_a: int, t_b: int) -> RunInfo:
        """What the observers of a run learn (provenance computed once)."""
        run = self.run_spec
        if self._meta is None:
            from .provenance import node_link, topology_record, versions
            spec, sha = topology_record(self.topology)
            adaptive = options_from(run.adaptive, AdaptiveOptions)
            self._meta = {
                "topology": spec, "topology_sha256": sha,
                "topology_file": self.topology.source or "",
                "graph": node_link(self.topology),
                "subsystems": {s.name: s.provenance() for s in self.system.subsystems},
                "versions": versions(),
                "display_units": {s.name: self.report.display[s.name].to_dict()
                                  for s in self.system.signals
                                  if s.name in self.report.display},
                "algorithm": {**self.algorithm.settings(), "stop": run.stop, "step": run.step,
                              "order": self.system.names, "extrapolation": run.extrapolation,
                              "adaptive": adaptive.as_dict() if adaptive else None}}
        params, sources = param_values.used(self.topology, self.report.nodes,
                                            self.report.order)
        for key, value in self._parameters.items():
            node, _, var = key.partition(".")
            known = self.report.nodes[node].interface.get(var)
            params[key] = (value, known.unit if known else None)
            sources[key] = "Simulation.reset(parameters=...)"
        meta = {**self._meta, "parameter_sources": sources,
                "algorithm": {**self._meta["algorithm"], "start": to_seconds(self._start)}}
        n_steps = -(-(t_b - t_a) // self.h)
        return RunInfo(name=self.topology.name, signals=self.system.signals,
                       start=to_seconds(t_a), stop=to_seconds(t_b), step=run.step,
                       algorithm=self.algorithm.name, n_steps=n_steps, parameters=params,
                       meta=meta)

    # -- closing ---------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.state == CLOSED:
            raise ConfigError("this Simulation is closed")

    def close(self) -> None:
        """Free every instance (idempotent)."""
        if self.state == CLOSED:
            return
        self.state = CLOSED
        for sub in self.system.subsystems:
            sub.close()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<Simulation {self.topology.name!r}: {self.system.n} nodes, "
                f"{self.state} at t={to_seconds(self.now):g} s>")

    def _repr_html_(self) -> str:
        from .reprs import fields, page, table
        run, g = self.topology.run, self.topology.graph
        return page(
            fields(f"Simulation {self.topology.name!r}", [
                ("state", f"{self.state} at t={to_seconds(self.now):g} s"),
                ("run [s]", f"{run.start:g} .. {run.stop:g}, step {run.step:g}"),
                ("algorithm", run.algorithm)]),
            table("nodes (in stepping order)", ("node", "kind", "source"),
                  [(n, g.nodes[n]["kind"], _source_name(g.nodes[n]["source"]))
                   for n in self.report.order]))


def _source_name(source: Any) -> str:
    """An FMU path or a block name; a block class by its qualified name."""
    if isinstance(source, str):
        return source
    return f"{getattr(source, '__module__', '')}:{getattr(source, '__qualname__', source)}"


def _by_node(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"node.variable": value}`` grouped as ``{node: {variable: value}}`` (in order)."""
    grouped: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        node, _, var = key.partition(".")
        grouped.setdefault(node, {})[var] = value
    return grouped


def _apply_run_settings(topo: Topology, **settings: Any) -> None:
    overrides = {k: v for k, v in settings.items() if v is not None}
    if overrides:
        try:
            topo.run = type(topo.run).model_validate({**topo.run.model_dump(), **overrides})
        except ValueError as err:  # one line per problem, not pydantic's dump
            from .topology.yamlio import validation_message
            raise ConfigError(f"invalid run settings: {validation_message(err)}") from None


def _apply_parameters(topo: Topology, parameters: dict[str, Any]) -> None:
    # values may be {value, unit}; see cosim.topology.parameters
    param_values.apply_later(topo, param_values.from_mapping(parameters, "run(parameters=...)"))


__all__ = ["Simulation"]
