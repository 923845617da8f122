"""The coupled system: subsystems plus the port maps that connect them.

All exchanged values live in two float64 vectors owned here:

* ``y`` — every exchanged or recorded output, node by node (node *i* owns
  ``y[out_lo[i]:out_hi[i]]``; variables read only to be recorded, such as locals and
  states, sit there too);
* ``u`` — every connected input, node by node (``u[in_lo[i]:in_hi[i]]``).

Each connection is a row of the index arrays ``src`` (into ``y``), ``dst`` (into
``u``), ``gain`` and ``offset``: ``u[dst] = gain * y[src] + offset`` (the effective gain
and offset of the check report: unit conversion, then the connection's own). Rows are
sorted by target node, so the connections into node *i* are rows ``c_lo[i]:c_hi[i]``.
A connection with a mapping table (integer and boolean values; gain 1, offset 0) is
then looked up: ``u[dst] = table.get(u[dst], u[dst])`` (``node_maps``).
Subsystems read and write these vectors through views, so the exchange needs no
per-variable dictionary look-up, and the compiled loop (:mod:`cosim.fast`) works on the
very same buffers (:meth:`CoupledSystem.layout`).

The masters see the system through its methods (stages, exchange, stepping one node,
save/restore), with times in integer ticks; they never touch a subsystem. Nodes are
indexed in stepping order (the Gauss-Seidel order of the check report). ``delayed``
connections read ``y_prev``, the outputs at the previous communication point, which
:meth:`CoupledSystem.snapshot` saves. Each stage is one node, or the nodes of one
algebraic loop (solved together by the loop solver).

Extrapolation (per connection: 0 hold, 1 linear, 2 quadratic): the value an input holds
over a step ``[t, t + h]`` is the polynomial through the source's latest samples,
evaluated at the step's midpoint ``t + h/2``. Every value carries the time it stands
for: an output without direct feedthrough stands for the end of its node's step; an
output with direct feedthrough for the time of the inputs it depends on (a spring fed
midpoint values yields a midpoint force). ``commit`` adds each output's new sample to
its history; under Gauss-Seidel a source that has already stepped contributes its fresh
sample too. Hold is the plain value: fresh under Gauss-Seidel, the last communication
point's under Jacobi.

Multirate: a node stepping over several base steps holds, for recording and for the
read-only view, its last *completed* output until its step ends (sample and hold): a
row never shows a value from a later time than its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clock import TICKS_PER_SECOND
from .protocol import StepOutcome
from .subsystems.base import Subsystem
from .topology.checks import CheckReport
from .variables import NUMBER, OBJECT, Signal, split_element


@dataclass(frozen=True)
class Layout:
    """The system's buffers and connection tables, published for the compiled loop."""

    u: np.ndarray
    y: np.ndarray
    y_prev: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    gain: np.ndarray
    offset: np.ndarray
    delayed: np.ndarray
    in_lo: np.ndarray
    in_hi: np.ndarray
    out_lo: np.ndarray
    out_hi: np.ndarray
    c_lo: np.ndarray
    c_hi: np.ndarray
    record_index: np.ndarray
    plain: bool
    has_delayed: bool


class CoupledSystem:
    def __init__(self, topology, report: CheckReport, subsystems: dict[str, Subsystem]):
        self.topology = topology
        self.names: list[str] = list(report.order)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.subsystems: list[Subsystem] = [subsystems[n] for n in self.names]
        self.n = len(self.names)
        self.current = -1  # the node being stepped (for error messages), -1: none
        conns = sorted(topology.connections(),
                       key=lambda c: (self.index[c.target_node], c.target_var, c.source))
        recorded = set(report.recorded) | set(report.monitored)
        n = self.n
        self.in_lo, self.in_hi = np.zeros(n, np.intp), np.zeros(n, np.intp)
        self.out_lo, self.out_hi = np.zeros(n, np.intp), np.zeros(n, np.intp)
        inputs, outputs, objects_in, objects_out = self._ports(report, conns, recorded)
        self.u = np.zeros(self.in_hi[-1] if n else 0)
        self.y = np.zeros(self.out_hi[-1] if n else 0)
        self.y_prev = self.y.copy()
        for i, sub in enumerate(self.subsystems):
            sub.bind(inputs[i], outputs[i], self.u[self.in_lo[i]:self.in_hi[i]],
                     self.y[self.out_lo[i]:self.out_hi[i]], objects_in[i], objects_out[i])
        self._build_connections(conns, report)
        self.signals = [Signal(node, report.nodes[node].interface[var])
                        for node, var in report.recorded]
        numeric = [s for s in self.signals if s.variable.channel == NUMBER]
        self.object_signals = [s for s in self.signals if s.variable.channel == OBJECT]
        self.record_index = np.array([self.position(s.node, s.variable.name) + k
                                      for s in numeric for k in range(s.variable.size)],
                                     dtype=np.intp)
        self.has_objects = any(objects_in) or any(objects_out)
        self._starts = self._slot_starts(report, outputs, "out", len(self.y))
        self._input_starts = self._slot_starts(report, inputs, "in", len(self.u))
        self._input_starts[self.dst] = 0.0  # connected slots: written before they are read
        self.y[:] = self._starts
        self.u[:] = self._input_starts
        self.real_outputs = np.array(
            [report.nodes[self.names[i]].interface[name].kind == "real"
             for i, sub in enumerate(self.subsystems) for name in outputs[i]
             for _ in sub.output_slots[name]], dtype=bool)
        self._build_stages(report)
        self._build_extrapolation(topology, conns, report)

    # -- construction ------------------------------------------------------------------

    def _ports(self, report, conns, recorded):
        """Per node: the numeric inputs and outputs (outputs first, then variables read
        only to be recorded) and the object ports; the slot ranges in u and y."""
        inputs, outputs, objects_in, objects_out = [], [], [], []
        ui = yi = 0
        for i, name in enumerate(self.names):
            iface = report.nodes[name].interface
            connected = {_base(c.target_var) for c in conns if c.target_node == name}
            needed = {_base(c.source_var) for c in conns if c.source_node == name}
            needed |= {_base(var) for node, var in recorded if node == name}
            ins = [v for v in iface.inputs if v.name in connected]
            outs = [v for v in iface.outputs if v.name in needed]
            outs += [v for v in iface.variables.values() if v.name in needed and v not in outs]
            inputs.append([v.name for v in ins if v.channel == NUMBER])
            outputs.append([v.name for v in outs if v.channel == NUMBER])
            objects_in.append([v.name for v in ins if v.channel == OBJECT])
            objects_out.append([v.name for v in outs if v.channel == OBJECT])
            self.in_lo[i], self.out_lo[i] = ui, yi
            ui += sum(iface[v].size for v in inputs[-1])
            yi += sum(iface[v].size for v in outputs[-1])
            self.in_hi[i], self.out_hi[i] = ui, yi
        return inputs, outputs, objects_in, objects_out

    def _slot_of(self, i: int, port: str, side: str) -> tuple[int, int]:
        """(first slot, number of slots) of ``port`` (a variable or an element ``y[2]``)
        of node ``i`` in u (``side="in"``) or y."""
        sub = self.subsystems[i]
        var, flat = sub.interface.port(port)
        slots = (sub.input_slots if side == "in" else sub.output_slots)[var.name]
        lo = (self.in_lo if side == "in" else self.out_lo)[i]
        if flat is None:
            return int(lo + slots.start), len(slots)
        return int(lo + slots.start + flat), 1

    def _build_connections(self, conns, report) -> None:
        rows, self.object_rows = [], [[] for _ in range(self.n)]
        for c in conns:
            i, j = self.index[c.source_node], self.index[c.target_node]
            gain, offset = report.gain_offset(c)  # unit conversion, then c.gain/c.offset
            source = self.subsystems[i].interface.port(c.source_var)[0]
            target = self.subsystems[j].interface.port(c.target_var)[0]
            if source.channel == NUMBER and target.channel == NUMBER:
                src, n = self._slot_of(i, c.source_var, "out")
                dst, _ = self._slot_of(j, c.target_var, "in")
                rows += [(src + k, dst + k, gain, offset, c.delayed, j) for k in range(n)]
            else:
                self.object_rows[j].append(_ObjectRow(
                    j, target.name, i, source.name,
                    self._slot_of(i, c.source_var, "out")[0] if source.channel == NUMBER
                    else None,
                    self._slot_of(j, c.target_var, "in")[0] if target.channel == NUMBER
                    else None, target.fmi_type, c.delayed))
        self.src = np.array([r[0] for r in rows], dtype=np.intp)
        self.dst = np.array([r[1] for r in rows], dtype=np.intp)
        self.gain = np.array([r[2] for r in rows], dtype=float)
        self.offset = np.array([r[3] for r in rows], dtype=float)
        self.delayed = np.array([r[4] for r in rows], dtype=bool)
        self.has_delayed = bool(self.delayed.any())
        self.plain = bool(np.all(self.gain == 1.0) and np.all(self.offset == 0.0))
        target = np.array([r[5] for r in rows], dtype=np.intp)
        # node index of each connection's source and target (in stepping order)
        self.src_node = np.searchsorted(self.out_hi, self.src, side="right")
        self.dst_node = target
        # True when every undelayed connection goes forward in stepping order: then one
        # initialization pass in that order is enough.
        self.forward = bool(np.all((self.src_node < target) | self.delayed)) and all(
            r.source < r.target or r.delayed for rs in self.object_rows for r in rs)
        n = self.n
        self.c_lo = np.searchsorted(target, np.arange(n), side="left")
        self.c_hi = np.searchsorted(target, np.arange(n), side="right")
        # Per-node rows as Python tuples: the cheapest form for the Python loop.
        self.node_rows = [
            [(int(self.dst[k]), int(self.src[k]), float(self.gain[k]), float(self.offset[k]),
              bool(self.delayed[k])) for k in range(self.c_lo[i], self.c_hi[i])]
            for i in range(n)]
        self._objects_prev: list[dict] = [dict() for _ in range(n)]
        # mapping tables (SSP map transformations), per target node: [(dst, {from: to})]
        self.node_maps: list[list[tuple[int, dict[float, float]]]] = [[] for _ in range(n)]
        for c in conns:
            if c.mapping is not None:
                table = {float(a): float(b) for a, b in c.mapping}
                j = self.index[c.target_node]
                self.node_maps[j].append((self._slot_of(j, c.target_var, "in")[0], table))
        self.has_maps = any(self.node_maps)

    def _build_stages(self, report) -> None:
        groups: list[set[int]] = []
        for loop in report.loops:
            members = {self.index[p.partition(".")[0]] for p in loop}
            for g in [g for g in groups if g & members]:
                members |= g
                groups.remove(g)
            groups.append(members)
        self.stages: list[tuple[int, ...]] = []
        self.loop_stage: list[bool] = []
        done: set[int] = set()
        for i in range(self.n):
            if i in done:
                continue
            group = next((g for g in groups if i in g), {i})
            self.stages.append(tuple(sorted(group)))
            self.loop_stage.append(len(group) > 1 or any(i in g for g in groups))
            done |= group
        self.has_loops = any(self.loop_stage)
        # loop connections: both ends inside one loop stage, not delayed
        stage_of = {i: k for k, st in enumerate(self.stages) for i in st}
        src_node, dst_node = self.src_node, self.dst_node
        self.stage_tears = [
            np.array([k for k in range(len(self.src)) if not self.delayed[k]
                      and stage_of[int(src_node[k])] == s and stage_of[int(dst_node[k])] == s],
                     dtype=np.intp) if self.loop_stage[s] else np.zeros(0, np.intp)
            for s in range(len(self.stages))]

    def _build_extrapolation(self, topology, conns, report) -> None:
        default = topology.run.extrapolation
        degrees = {"hold": 0, "linear": 1, "quadratic": 2}
        self.degree = np.array([degrees[c.extrapolation or default] for c in conns], np.intp)
        self.extrapolating = bool(self.degree.any())
        self.multirate = any(topology.graph.nodes[n].get("step") not in (None, topology.run.step)
                             for n in self.names)
        self.sampled = self.extrapolating or self.multirate  # samples kept
        ny, nu = len(self.y), len(self.u)
        self.y_time = np.zeros(ny)   # the time each output value stands for [s]
        self.u_time = np.zeros(nu)   # the time each held input value stands for [s]
        self.hist_t = np.full((4, ny), np.nan)  # samples per output, newest last
        self.hist_v = np.full((4, ny), np.nan)
        self.node_end = np.zeros(self.n)  # multirate: where each node has got to [s]
        self.y_held = self.y.copy()  # multirate: each node's last completed outputs
        self.slot_node = np.repeat(np.arange(self.n), self.out_hi - self.out_lo)
        # per node: for each exchanged output, the positions in u of the connected
        # inputs it depends on directly (empty: it stands for the end of the step)
        self.out_deps: list[list[np.ndarray]] = []
        for i, sub in enumerate(self.subsystems):
            iface = report.nodes[self.names[i]].interface
            deps = []
            for name in sub.outputs:
                var = iface[name]
                found = iface.direct_dependencies(name) if var.causality == "output" else ()
                pos = np.array([self.in_lo[i] + k for d in found if d in sub.input_slots
                                for k in sub.input_slots[d]], dtype=np.intp)
                deps += [pos] * var.size
            self.out_deps.append(deps)
        self.feedthrough = [any(p.size for p in deps) for deps in self.out_deps]

    def _slot_starts(self, report, ports: list[list[str]], side: str, n: int) -> np.ndarray:
        """Start values of the numeric ports, slot by slot (0 where none is declared)."""
        starts = np.zeros(n)
        lo = self.in_lo if side == "in" else self.out_lo
        for i, names in enumerate(ports):
            sub = self.subsystems[i]
            slots = sub.input_slots if side == "in" else sub.output_slots
            for name in names:
                start = report.nodes[self.names[i]].interface[name].start
                values = start if isinstance(start, list) else [start]
                for k, value in zip(slots[name], values, strict=False):
                    if isinstance(value, (int, float)):
                        starts[lo[i] + k] = float(value)
        return starts

    def clear(self) -> None:
        """Back to the state before a run (buffers, samples), for the next run."""
        self.u[:] = self._input_starts
        self.y[:] = self._starts
        self.y_prev[:] = self.y
        self.y_time[:] = 0.0
        self.u_time[:] = 0.0
        self.hist_t[:] = np.nan
        self.hist_v[:] = np.nan
        self.node_end[:] = 0.0
        self.y_held[:] = self.y
        self.current = -1

    # -- reading -----------------------------------------------------------------------

    def position(self, node: str, variable: str) -> int:
        """Where ``node.variable`` (or its first element; or the element ``y[2]``) sits
        in ``y``."""
        return self._slot_of(self.index[node], variable, "out")[0]

    def value(self, node: str, var: str) -> float:
        """The current value of an exchanged or recorded output."""
        return float(self.y[self.position(node, var)])

    def recorded_objects(self) -> list:
        """The values of the recorded object signals (strings, binaries, 64-bit
        integers), aligned with ``object_signals``."""
        subs, index = self.subsystems, self.index
        return [subs[index[s.node]].obj_out.get(s.variable.name) for s in self.object_signals]

    def recorded(self, t: float | None = None) -> np.ndarray:
        """The recorded values at time ``t`` [s]: under multirate, a node whose step has
        not ended by ``t`` shows its last completed outputs (sample and hold)."""
        if not self.multirate or t is None:
            return self.y[self.record_index]
        rec = self.record_index
        done = self.node_end[self.slot_node[rec]] <= t
        return np.where(done, self.y[rec], self.y_held[rec])

    def input_name(self, pos: int) -> str:
        """``node.input`` (``node.input[k]`` for an array element) of position ``pos``
        in ``u``."""
        i = int(np.searchsorted(self.in_hi, pos, side="right"))
        sub, k = self.subsystems[i], pos - self.in_lo[i]
        for name, slots in sub.input_slots.items():
            if k in slots:
                var = sub.interface[name]
                return f"{self.names[i]}.{var.element_names()[k - slots.start]}"
        return f"{self.names[i]}.?"

    def first_nonfinite(self) -> tuple[str, str] | None:
        """The first output (node, variable) holding NaN or an infinity, if any."""
        bad = np.flatnonzero(~np.isfinite(self.y))
        if bad.size == 0:
            return None
        k = int(bad[0])
        i = int(np.searchsorted(self.out_hi, k, side="right"))
        sub, pos = self.subsystems[i], k - self.out_lo[i]
        for name, slots in sub.output_slots.items():
            if pos in slots:
                return self.names[i], sub.interface[name].element_names()[pos - slots.start]
        return self.names[i], "?"

    def layout(self) -> Layout:
        return Layout(self.u, self.y, self.y_prev, self.src, self.dst, self.gain,
                      self.offset, self.delayed, self.in_lo, self.in_hi, self.out_lo,
                      self.out_hi, self.c_lo, self.c_hi, self.record_index, self.plain,
                      self.has_delayed)

    # -- stepping one node -------------------------------------------------------------

    def set_inputs(self, i: int) -> None:
        self.subsystems[i].set_inputs()

    def get_outputs(self, i: int) -> None:
        self.subsystems[i].get_outputs()

    def step(self, i: int, now: int, limit: int) -> StepOutcome:
        """Node ``i``'s step from ``now`` to ``limit`` [ticks] (inputs already set)."""
        self.current = i
        return self.subsystems[i].step(now, limit)

    def step_node(self, i: int, now: int, limit: int) -> StepOutcome:
        """Set node ``i``'s inputs, step it from ``now`` to ``limit``, get its outputs."""
        sub = self.subsystems[i]
        self.current = i
        sub.set_inputs()
        outcome = sub.step(now, limit)
        sub.get_outputs()
        return outcome

    def propagate(self, changed: np.ndarray) -> np.ndarray:
        """Re-evaluate direct-feedthrough outputs downstream of the outputs ``changed`` (a
        mask over ``y``), in stepping order, without stepping: the right limit after an
        event, the outputs after initialization. Nodes whose outputs may not be read
        after a set without a step (FMI 3 in Step Mode) keep theirs. Returns the mask of
        every output that changed."""
        changed = changed.copy()
        for i in range(self.n):
            sub = self.subsystems[i]
            if not self.feedthrough[i] or not sub.capabilities.feedthrough_in_step_mode:
                continue
            rows = range(self.c_lo[i], self.c_hi[i])
            if not any(changed[self.src[k]] and not self.delayed[k] for k in rows):
                continue
            lo, hi = self.out_lo[i], self.out_hi[i]
            old = self.y[lo:hi].copy()
            self.current = i
            self.exchange_into(i)
            sub.set_inputs()
            sub.refresh_outputs()
            changed[lo:hi] |= self.y[lo:hi] != old
        return changed

    def hold(self, i: int) -> None:
        """Multirate: remember node ``i``'s outputs before it steps past the present."""
        lo, hi = self.out_lo[i], self.out_hi[i]
        self.y_held[lo:hi] = self.y[lo:hi]

    # -- exchange --------------------------------------------------------------------

    def snapshot(self) -> None:
        """Save the outputs of this communication point for delayed connections."""
        self.y_prev[:] = self.y
        if self.has_objects:
            self._objects_prev = [dict(sub.obj_out) for sub in self.subsystems]

    def exchange_all(self) -> None:
        """Every input from the outputs as they are now (Jacobi)."""
        if self.src.size:
            if self.plain:
                self.u[self.dst] = self.y[self.src]
            else:
                self.u[self.dst] = self.gain * self.y[self.src] + self.offset
        if self.has_objects:
            for i in range(self.n):
                self._objects_into(i)
        if self.has_maps:
            for i in range(self.n):
                self.remap(i)

    def exchange_into(self, i: int) -> None:
        """The inputs of node ``i`` from the current outputs (delayed connections: the
        previous communication point's)."""
        u, y, y_prev = self.u, self.y, self.y_prev
        for dst, src, gain, offset, delayed in self.node_rows[i]:
            u[dst] = gain * (y_prev[src] if delayed else y[src]) + offset
        if self.object_rows[i]:
            self._objects_into(i)
        if self.has_maps:
            self.remap(i)

    def remap(self, i: int) -> None:
        """Apply the mapping tables of node ``i``'s input connections to ``u``."""
        u = self.u
        for dst, table in self.node_maps[i]:
            value = float(u[dst])
            u[dst] = table.get(value, value)

    def _objects_into(self, i: int) -> None:
        """Node ``i``'s object inputs from their sources (64-bit integers and numbers
        convert into each other; strings and binaries pass as they are)."""
        target = self.subsystems[i].obj_in
        for row in self.object_rows[i]:
            if row.slot is not None:  # a number into a 64-bit integer input
                value = (self.y_prev if row.delayed else self.y)[row.slot]
            else:
                values = self._objects_prev[row.source] if row.delayed else \
                    self.subsystems[row.source].obj_out
                value = values.get(row.source_var)
            if row.target_slot is not None:  # a 64-bit integer into a number input
                self.u[row.target_slot] = float(value)
            else:
                target[row.target_var] = _converted(value, row.fmi_type)

    def sample_into(self, i: int, now: int, limit: int, jacobi: bool) -> None:
        """The inputs of node ``i`` for its step from ``now`` to ``limit`` [ticks] from the
        sources' samples: those standing for times up to the step's start (Jacobi) or end
        (Gauss-Seidel), held or extrapolated to the midpoint."""
        t = now / TICKS_PER_SECOND
        h = limit / TICKS_PER_SECOND - t
        self._sampled_into(i, t, h, t if jacobi else t + h)

    def _samples(self, src: int, bound: float, delayed: bool) -> list[tuple[float, float]]:
        """Samples of output ``src`` standing for times <= ``bound`` (oldest first)."""
        points = [(tk, vk) for tk, vk in zip(self.hist_t[:, src], self.hist_v[:, src],
                                             strict=True) if tk == tk and tk <= bound]
        now = self.y_time[src]
        if not delayed and now <= bound and (not points or now > points[-1][0]):
            points.append((now, self.y[src]))
        if delayed and len(points) > 1:
            points.pop()
        return points

    def _sampled_into(self, i: int, t: float, h: float, bound: float) -> None:
        u = self.u
        mid = t + 0.5 * h
        tol = 1e-12 * max(1.0, abs(bound))
        for k in range(self.c_lo[i], self.c_hi[i]):
            src, delayed, degree = int(self.src[k]), bool(self.delayed[k]), int(self.degree[k])
            dst = self.dst[k]
            points = self._samples(src, bound + tol, delayed)
            if not points:  # nothing visible yet (start): the current value
                value, stamp = self.y[src], self.y_time[src]
            elif degree == 0 or h <= 0 or len(points) == 1:
                value, stamp = points[-1][1], points[-1][0]
            else:
                value, stamp = lagrange(points[-(degree + 1):], mid), mid
            self.u_time[dst] = stamp
            u[dst] = self.gain[k] * value + self.offset[k]
        if self.has_maps:
            self.remap(i)

    # -- samples (extrapolation, multirate) ----------------------------------------------

    def label_outputs(self, i: int, t_end: float) -> None:
        """Set the times node ``i``'s outputs stand for, after a step ending at ``t_end``
        [s] (as the node computed it: ``t + dt``)."""
        lo = self.out_lo[i]
        for k, pos in enumerate(self.out_deps[i]):
            self.y_time[lo + k] = self.u_time[pos].mean() if pos.size else t_end

    def restart_samples(self, changed: np.ndarray, t: float) -> None:
        """Outputs that jumped at an event at ``t`` [s]: forget their samples before it,
        so extrapolation starts afresh from the right limit."""
        if self.sampled and changed.any():
            self.hist_t[:, changed] = np.nan
            self.hist_v[:, changed] = np.nan
            self.y_time[changed] = t

    def commit(self, t: float) -> None:
        """Add every output's new sample to its history (at communication points) [s]."""
        if not self.sampled:
            return
        if t is not None and not np.isfinite(self.hist_t[-1]).any():
            self.y_time[:] = t  # initialization: every value stands for the start time
        new = ~(self.y_time <= self.hist_t[-1])  # NaN (empty history) counts as new
        if new.any():
            self.hist_t[:, new] = np.roll(self.hist_t[:, new], -1, axis=0)
            self.hist_v[:, new] = np.roll(self.hist_v[:, new], -1, axis=0)
            self.hist_t[-1, new] = self.y_time[new]
            self.hist_v[-1, new] = self.y[new]

    # -- interventions (events: inputs and tunable parameters only) ----------------------

    def set_value(self, node: str, variable: str, value) -> None:
        """Set an unconnected input or a tunable parameter of ``node`` now."""
        self.subsystems[self.index[node]].set_value(variable, value)

    # -- rollback --------------------------------------------------------------------

    def save(self, nodes=None) -> tuple:
        """States of ``nodes`` (indices; all by default) and of the exchange buffers."""
        nodes = range(self.n) if nodes is None else nodes
        states = [(i, self.subsystems[i].save_state()) for i in nodes]
        objects = [(dict(s.obj_in), dict(s.obj_out)) for s in self.subsystems] \
            if self.has_objects else None
        return (states, self.u.copy(), self.y.copy(), self.y_prev.copy(), self.hist_t.copy(),
                self.hist_v.copy(), self.y_time.copy(), self.u_time.copy(),
                self.node_end.copy(), self.y_held.copy(), objects)

    def restore(self, saved: tuple) -> None:
        states, u, y, y_prev, hist_t, hist_v, y_time, u_time, node_end, y_held, objects = \
            saved
        if objects is not None:
            for sub, (obj_in, obj_out) in zip(self.subsystems, objects, strict=True):
                sub.obj_in.clear(), sub.obj_in.update(obj_in)
                sub.obj_out.clear(), sub.obj_out.update(obj_out)
        self.node_end[:] = node_end
        for i, state in states:
            self.subsystems[i].restore_state(state)
        self.u[:], self.y[:], self.y_prev[:] = u, y, y_prev
        self.hist_t[:], self.hist_v[:], self.y_time[:], self.u_time[:] = (
            hist_t, hist_v, y_time, u_time)
        self.y_held[:] = y_held

    def free(self, saved: tuple) -> None:
        for i, state in saved[0]:
            self.subsystems[i].free_state(state)


@dataclass(frozen=True)
class _ObjectRow:
    """A connection into an object input (or from an object output into a number):
    ``target``'s ``target_var`` from ``source``'s ``source_var`` (or slot ``slot`` of y)."""

    target: int
    target_var: str
    source: int
    source_var: str
    slot: int | None
    target_slot: int | None
    fmi_type: str | None
    delayed: bool


def _converted(value, fmi_type: str | None):
    """A value for an object input of ``fmi_type`` (numbers become integers)."""
    if fmi_type in ("Int64", "UInt64") and isinstance(value, float):
        return int(round(value))
    return value


def _base(port: str) -> str:
    """The variable of a port (``y[2]`` -> ``y``)."""
    return split_element(port)[0]


def lagrange(points: list[tuple[float, float]], t: float) -> float:
    """The polynomial through ``points`` [(t_k, v_k)] evaluated at ``t``."""
    total = 0.0
    for j, (tj, vj) in enumerate(points):
        weight = 1.0
        for m, (tm, _) in enumerate(points):
            if m != j:
                weight *= (t - tm) / (tj - tm)
        total += weight * vj
    return total
