"""The coupled system: subsystems plus the port maps that connect them.

All exchanged values live in two float64 vectors owned here:

* ``y`` — every exchanged or recorded output, node by node (node *i* owns
  ``y[out_lo[i]:out_hi[i]]``);
* ``u`` — every connected input, node by node (``u[in_lo[i]:in_hi[i]]``).

Each connection is a row of the index arrays ``src`` (into ``y``), ``dst`` (into
``u``), ``gain`` and ``offset``: ``u[dst] = gain * y[src] + offset``. Rows are sorted
by target node, so the connections into node *i* are rows ``c_lo[i]:c_hi[i]``.
Subsystems read and write these vectors through views, so the exchange needs no
per-variable dictionary look-up, and the loop can later be compiled as it is.

Nodes are indexed in stepping order (the Gauss-Seidel order of the check report).
``delayed`` connections read ``y_prev``, the outputs at the previous communication
point, which :meth:`CoupledSystem.snapshot` saves.
"""

from __future__ import annotations

import numpy as np

from .observers.base import Signal
from .subsystems.base import Subsystem
from .topology.checks import CheckReport


class CoupledSystem:
    def __init__(self, topology, report: CheckReport, subsystems: dict[str, Subsystem]):
        self.topology = topology
        self.names: list[str] = list(report.order)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.subsystems: list[Subsystem] = [subsystems[n] for n in self.names]
        conns = sorted(topology.connections(),
                       key=lambda c: (self.index[c.target_node], c.target_var, c.source))
        recorded = set(report.recorded)
        n = len(self.names)
        self.in_lo, self.in_hi = np.zeros(n, np.intp), np.zeros(n, np.intp)
        self.out_lo, self.out_hi = np.zeros(n, np.intp), np.zeros(n, np.intp)
        inputs, outputs = self._ports(report, conns, recorded)
        self.u = np.zeros(self.in_hi[-1] if n else 0)
        self.y = np.zeros(self.out_hi[-1] if n else 0)
        self.y_prev = self.y.copy()
        self._build_connections(conns, inputs, outputs)
        for i, sub in enumerate(self.subsystems):
            sub.bind(inputs[i], outputs[i], self.u[self.in_lo[i]:self.in_hi[i]],
                     self.y[self.out_lo[i]:self.out_hi[i]])
        self.signals = [Signal(node, report.nodes[node].interface[var])
                        for node, var in report.recorded]
        self.record_index = np.array(
            [self.out_lo[self.index[s.node]] + outputs[self.index[s.node]].index(
                s.variable.name) for s in self.signals], dtype=np.intp)
        self._fill_output_starts(report)

    def _ports(self, report, conns, recorded):
        inputs, outputs = [], []
        ui = yi = 0
        for i, name in enumerate(self.names):
            iface = report.nodes[name].interface
            connected_in = {c.target_var for c in conns if c.target_node == name}
            needed_out = {c.source_var for c in conns if c.source_node == name}
            needed_out |= {var for node, var in recorded if node == name}
            ins = [v.name for v in iface.inputs if v.name in connected_in]
            outs = [v.name for v in iface.outputs if v.name in needed_out]
            self.in_lo[i], self.out_lo[i] = ui, yi
            ui += len(ins)
            yi += len(outs)
            self.in_hi[i], self.out_hi[i] = ui, yi
            inputs.append(ins)
            outputs.append(outs)
        return inputs, outputs

    def _build_connections(self, conns, inputs, outputs) -> None:
        rows = []
        for c in conns:
            i, j = self.index[c.source_node], self.index[c.target_node]
            src = self.out_lo[i] + outputs[i].index(c.source_var)
            dst = self.in_lo[j] + inputs[j].index(c.target_var)
            rows.append((src, dst, c.gain, c.offset, c.delayed, j))
        self.src = np.array([r[0] for r in rows], dtype=np.intp)
        self.dst = np.array([r[1] for r in rows], dtype=np.intp)
        self.gain = np.array([r[2] for r in rows], dtype=float)
        self.offset = np.array([r[3] for r in rows], dtype=float)
        self.delayed = np.array([r[4] for r in rows], dtype=bool)
        self.has_delayed = bool(self.delayed.any())
        self.plain = bool(np.all(self.gain == 1.0) and np.all(self.offset == 0.0))
        target = np.array([r[5] for r in rows], dtype=np.intp)
        source_node = np.searchsorted(self.out_hi, self.src, side="right")
        # True when every undelayed connection goes forward in stepping order: then one
        # initialization pass in that order is enough.
        self.forward = bool(np.all((source_node < target) | self.delayed))
        n = len(self.names)
        self.c_lo = np.searchsorted(target, np.arange(n), side="left")
        self.c_hi = np.searchsorted(target, np.arange(n), side="right")
        # Per-node rows as Python tuples: the cheapest form for the Python loop.
        self.node_rows = [
            [(int(self.dst[k]), int(self.src[k]), float(self.gain[k]), float(self.offset[k]),
              bool(self.delayed[k])) for k in range(self.c_lo[i], self.c_hi[i])]
            for i in range(n)]

    def _fill_output_starts(self, report) -> None:
        """Start values of outputs, where declared, until initialization computes them."""
        for i, sub in enumerate(self.subsystems):
            for k, name in enumerate(sub.outputs):
                start = report.nodes[self.names[i]].interface[name].start
                if isinstance(start, (int, float)):
                    self.y[self.out_lo[i] + k] = float(start)

    # -- exchange --------------------------------------------------------------------

    def snapshot(self) -> None:
        """Save the outputs of this communication point for delayed connections."""
        self.y_prev[:] = self.y

    def exchange_all(self) -> None:
        """Every input from the outputs as they are now (Jacobi)."""
        if self.src.size:
            if self.plain:
                self.u[self.dst] = self.y[self.src]
            else:
                self.u[self.dst] = self.gain * self.y[self.src] + self.offset

    def exchange_into(self, i: int) -> None:
        """The inputs of node ``i`` from the current outputs (delayed ones: previous)."""
        u, y, y_prev = self.u, self.y, self.y_prev
        for dst, src, gain, offset, delayed in self.node_rows[i]:
            u[dst] = gain * (y_prev[src] if delayed else y[src]) + offset

    def first_nonfinite(self) -> tuple[str, str] | None:
        """The first output (node, variable) holding NaN or an infinity, if any."""
        bad = np.flatnonzero(~np.isfinite(self.y))
        if bad.size == 0:
            return None
        k = int(bad[0])
        i = int(np.searchsorted(self.out_hi, k, side="right"))
        return self.names[i], self.subsystems[i].outputs[k - self.out_lo[i]]
