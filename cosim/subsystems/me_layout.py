"""A cluster's evaluation plan: buffers, the order its connections are solved in, and
the right-hand side, indicators and outputs of the whole cluster.

Buffers (float64, owned here): ``U`` holds every connected input of every member,
``Y`` every output the cluster needs (sources of internal connections, then outputs
the master exchanges or records), member by member; ``x``/``dx`` the state vector and its
derivative (member by member, in cluster order), ``z`` the event indicators. Members
read and write their slices through pointers, so no value is looked up by name.

Internal connections are solved in *levels*: an output is at level 0 when it depends
on no internally driven input of its member, else one more than the highest level of
the internal connections feeding those inputs (the checks refuse loops, so levels
exist). One evaluation at time ``t`` of state ``x``::

    set time and states of every member
    for each level: read its outputs (per member, one call), U[dst] = gain * Y[src] + offset,
                    write the inputs it feeds (per member, one call)
    derivatives (or event indicators) of every member

Within a member the ports of one level sit next to each other in ``U``/``Y``, so each
member's level is one FMI call on a contiguous slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..variables import REAL


@dataclass
class Level:
    """One level: outputs to read, connections to apply, inputs to write."""

    gets: list = field(default_factory=list)
    sets: list = field(default_factory=list)
    src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    dst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    gain: np.ndarray = field(default_factory=lambda: np.zeros(0))
    offset: np.ndarray = field(default_factory=lambda: np.zeros(0))
    plain: bool = True


class ClusterLayout:
    """Built once a cluster knows its exchanged ports (see the module docstring).

    ``members``: name -> member adapter (FMU or block); ``prefix``: name -> how the
    cluster names that member's variables; ``internal``: (Connection, gain, offset) of
    every connection between members; ``inputs``/``outputs``: the cluster's exchanged
    ports (prefixed names), aligned with the cluster's ``u``/``y``.
    """

    def __init__(self, members: dict, prefix: dict[str, str], internal: list,
                 inputs: list[str], outputs: list[str]):
        self.members = members
        self.fmus = [m for m in members.values() if m.kind != "block"]
        by_port = {prefix[m] + v: (m, v) for m in members
                   for v in members[m].interface.variables}
        self.internal = {c.target: (c, g, o) for c, g, o in internal}
        self._levels = self._compute_levels()
        self.ext_in = [by_port[p] for p in inputs]
        self.ext_out = [by_port[p] for p in outputs]
        self._allocate()
        self.u_pos = np.array([self.u_index[f"{m}.{v}"] for m, v in self.ext_in], np.intp)
        self.y_pos = np.array([self.y_index[f"{m}.{v}"] for m, v in self.ext_out], np.intp)
        kinds = [members[m].interface[v].kind for m, v in self.ext_in]
        self.discrete_in = np.array([k != REAL for k in kinds], dtype=bool)

    def connect(self) -> None:
        """Once the members are instantiated: the FMI calls of every level, the input
        setters and the state vectors."""
        self._build_levels()
        self._ext_setters = [self.members[m].setter(names, self._ext_views[m])
                             for m, names in self._ext_names.items() if names]
        self._real_setters = []
        for m, names in self._ext_names.items():
            member = self.members[m]
            real = [k for k, v in enumerate(names) if member.interface[v].kind == REAL]
            if real and len(real) < len(names):
                view = self._ext_views[m]
                self._real_setters.append(member.setter([names[k] for k in real],
                                                        view[real[0]:real[-1] + 1]))
            elif real:
                self._real_setters.append(member.setter(names, self._ext_views[m]))
        self.bind_vectors()

    # -- construction ------------------------------------------------------------------

    def _compute_levels(self) -> dict[str, int]:
        """Level of every internal connection's source output ``member.output``."""
        levels: dict[str, int] = {}

        def level(port: str) -> int:
            if port not in levels:
                node, _, var = port.partition(".")
                deps = self.members[node].interface.direct_dependencies(var)
                feeding = [self.internal[f"{node}.{d}"][0].source for d in deps
                           if f"{node}.{d}" in self.internal]
                levels[port] = 1 + max(map(level, feeding)) if feeding else 0
            return levels[port]

        for c, _, _ in self.internal.values():
            level(c.source)
        return levels

    def _allocate(self) -> None:
        """Order each member's ports (internal by level, then external) and cut the
        buffers into member slices."""
        self.inputs_of, self.outputs_of = {}, {}
        self._ext_names = {}
        for m, member in self.members.items():
            internal_in = sorted((v for v in member.interface.variables
                                  if f"{m}.{v}" in self.internal),
                                 key=lambda v, m=m: (self._source_level(f"{m}.{v}"), v))
            # external inputs: real ones first (set in Continuous-Time Mode as a block)
            ext_in = sorted((v for node, v in self.ext_in if node == m),
                            key=lambda v, member=member: member.interface[v].kind != REAL)
            feed = sorted((p.partition(".")[2] for p in self._levels
                           if p.partition(".")[0] == m),
                          key=lambda v, m=m: (self._levels[f"{m}.{v}"], v))
            rest = [v for node, v in self.ext_out if node == m and v not in feed]
            self.inputs_of[m] = internal_in + ext_in
            self.outputs_of[m] = feed + rest
            self._ext_names[m] = ext_in
        self.U = np.zeros(sum(len(v) for v in self.inputs_of.values()))
        self.Y = np.zeros(sum(len(v) for v in self.outputs_of.values()))
        self.u_index, self.y_index = {}, {}
        self._ext_views = {}
        ui = yi = 0
        for m, member in self.members.items():
            ins, outs = self.inputs_of[m], self.outputs_of[m]
            u, y = self.U[ui:ui + len(ins)], self.Y[yi:yi + len(outs)]
            self.u_index.update({f"{m}.{v}": ui + k for k, v in enumerate(ins)})
            self.y_index.update({f"{m}.{v}": yi + k for k, v in enumerate(outs)})
            n_internal = len(ins) - len(self._ext_names[m])
            self._ext_views[m] = u[n_internal:]
            member.bind(ins, outs, u, y)
            ui += len(ins)
            yi += len(outs)

    def _source_level(self, target: str) -> int:
        return self._levels[self.internal[target][0].source]

    def _build_levels(self) -> None:
        n = 1 + max(self._levels.values(), default=-1)
        self.levels = [Level() for _ in range(n)]
        for k, level in enumerate(self.levels):
            rows = [(self.y_index[c.source], self.u_index[c.target], g, o)
                    for c, g, o in self.internal.values() if self._levels[c.source] == k]
            level.src = np.array([r[0] for r in rows], np.intp)
            level.dst = np.array([r[1] for r in rows], np.intp)
            level.gain = np.array([r[2] for r in rows])
            level.offset = np.array([r[3] for r in rows])
            level.plain = bool(np.all(level.gain == 1.0) and np.all(level.offset == 0.0))
            for m, member in self.members.items():
                outs = [v for v in self.outputs_of[m] if self._levels.get(f"{m}.{v}") == k]
                if outs:
                    lo = self.y_index[f"{m}.{outs[0]}"]
                    level.gets.append(member.getter(outs, self.Y[lo:lo + len(outs)]))
                ins = [v for v in self.inputs_of[m] if f"{m}.{v}" in self.internal
                       and self._source_level(f"{m}.{v}") == k]
                if ins:
                    lo = self.u_index[f"{m}.{ins[0]}"]
                    level.sets.append(member.setter(ins, self.U[lo:lo + len(ins)]))

    def bind_vectors(self) -> None:
        """Allocate x, dx, z and point every member at its slices."""
        self.n = sum(m.nx for m in self.members.values())
        self.nz = sum(m.nz for m in self.members.values())
        self.x, self.dx = np.zeros(max(self.n, 1)), np.zeros(max(self.n, 1))
        self.z = np.zeros(max(self.nz, 1))
        xi = zi = 0
        for member in self.members.values():
            member.bind_vectors(self.x, self.dx, self.z, xi, zi)
            xi += member.nx
            zi += member.nz
        calls = [m.hot_calls() for m in self.members.values()]
        self._place = [c[0] for c in calls]
        self._derivatives = [c[1] for m, c in zip(self.members.values(), calls, strict=True)
                             if m.nx]
        self._indicators = [c[2] for m, c in zip(self.members.values(), calls, strict=True)
                            if m.nz]

    # -- evaluation ------------------------------------------------------------------------

    def place(self, t: float, x: np.ndarray | None = None) -> None:
        """Time and (when given) states into every member, then the connections."""
        if x is not None and self.n:
            self.x[:self.n] = x
        for place in self._place:
            place(t)
        if self.levels:
            self.propagate()

    def propagate(self) -> None:
        """Solve the internal connections, level by level, at the members' current time
        and states."""
        U, Y = self.U, self.Y
        for level in self.levels:
            for get in level.gets:
                get()
            if level.plain:
                U[level.dst] = Y[level.src]
            else:
                U[level.dst] = level.gain * Y[level.src] + level.offset
            for put in level.sets:
                put()

    def rhs(self, t: float, x: np.ndarray, dx: np.ndarray) -> None:
        self.place(t, x)
        for derivatives in self._derivatives:
            derivatives()
        dx[:self.n] = self.dx[:self.n]

    def indicators(self, t: float, x: np.ndarray, z: np.ndarray) -> None:
        self.place(t, x)
        for indicators in self._indicators:
            indicators()
        z[:self.nz] = self.z[:self.nz]

    def states(self) -> np.ndarray:
        """The members' continuous states (as their FMUs hold them)."""
        for m in self.fmus:
            m.get_states()
        return self.x[:self.n].copy()

    def nominals(self) -> np.ndarray:
        parts = [m.nominals() for m in self.fmus if m.nx]
        return np.concatenate(parts) if parts else np.ones(0)

    def read_outputs(self) -> None:
        """Every needed output of every member into Y."""
        for m in self.members.values():
            m.get_outputs()

    def push_external(self, u: np.ndarray, discrete: bool = True) -> None:
        """The cluster's inputs ``u`` into the members (``discrete``: integer and
        boolean inputs too, which FMI allows only outside Continuous-Time Mode)."""
        self.U[self.u_pos] = u
        for put in self._ext_setters if discrete else self._real_setters:
            put()
