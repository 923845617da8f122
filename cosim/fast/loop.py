"""The compiled loop: plan a system for the kernel, run chunks of steps, report errors.

:func:`plan` checks that the whole run has a compiled form (see :func:`explain`) and
builds a :class:`CompiledLoop`. :meth:`CompiledLoop.run` calls the kernel for chunks of
macro steps (sized to take about :data:`CHUNK_SECONDS` each), hands each chunk's rows
to the observers with ``stepped_block`` and, when the kernel stops early, raises
exactly the error the Python loop raises at that step, after the rows before it.

Whatever the chunk size, the kernel returns between two steps once :data:`HANDOVER_NS`
of wall time have passed (it looks at a coarse clock every ~10 ms of steps), so a run
whose steps slow down still hands its rows over, and Python signal handlers still run,
at least every 0.5 s. The kernel also writes the node it calls and the end of each step
into :func:`cosim.supervisor.beacon.kernel_slots` for the supervisor of ``cosim run``.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any

import numpy as np

from ..clock import to_seconds, to_ticks
from ..errors import NonFiniteError
from ..master.base import check_outcome, note
from ..master.gauss_seidel import GaussSeidel
from ..master.jacobi import Jacobi
from ..subsystems.base import STEP_OK
from ..subsystems.block import BlockSubsystem
from ..subsystems.fmi2 import FMI2Subsystem
from ..subsystems.fmi3 import FMI3Subsystem
from ..supervisor import beacon
from . import reference
from .nodes import NativeNode, NotCompilable, native_node

R_DONE, R_CALL, R_NONFINITE = 0, 1, 2
PH_SET, PH_STEP, PH_GET = 1, 2, 3
FLAGGED = 100
#: run settings the compiled loop implements (any other must keep its default)
PLAIN_RUN_FIELDS = frozenset({"start", "stop", "step", "algorithm", "record", "order",
                              "allow_nonfinite", "event_tolerance", "max_event_iterations",
                              "loops"})
MAX_TICKS = 2 ** 53  # ticks / 1e9 is then the same in C as in Python
CHUNK_SECONDS = 0.1  # aim for observer hand-overs this often
HANDOVER_NS = 500_000_000  # and hand rows over at the latest after this (wall time)
CLOCK_CHECK_SECONDS = 0.01  # the kernel looks at the clock about this often
MAX_CHUNK_ROWS = 65536
ROW_BUFFER_BYTES = 2 * 1024 * 1024

_i64, _ptr = ctypes.c_int64, ctypes.c_void_p


class _Node(ctypes.Structure):  # Node in kernel.c
    _fields_ = [("kind", _i64), ("n_in", _i64), ("n_out", _i64), ("in_lo", _i64),
                ("out_lo", _i64), ("c_lo", _i64), ("c_hi", _i64), ("comp", _ptr),
                ("set", _ptr), ("get", _ptr), ("step", _ptr), ("vr_in", _ptr),
                ("vr_out", _ptr), ("event", _ptr), ("terminate", _ptr), ("early", _ptr),
                ("last_time", _ptr), ("par", _ptr), ("ipar", _ptr), ("state", _ptr),
                ("bin", _ptr), ("bout", _ptr), ("in_map", _ptr), ("out_map", _ptr),
                ("step_status", _i64)]


class _Ctx(ctypes.Structure):  # Ctx in kernel.c
    _fields_ = [("nodes", _ptr), ("n_nodes", _i64), ("jacobi", _i64), ("u", _ptr),
                ("y", _ptr), ("y_prev", _ptr), ("n_y", _i64), ("src", _ptr), ("dst", _ptr),
                ("gain", _ptr), ("offset", _ptr), ("delayed", _ptr), ("n_conn", _i64),
                ("plain", _i64), ("has_delayed", _i64), ("t0", _i64), ("t1", _i64),
                ("h", _i64), ("rec", _ptr), ("n_rec", _i64), ("rows", _ptr),
                ("times", _ptr), ("check_finite", _i64), ("where", _ptr),
                ("deadline_ns", _i64), ("check_every", _i64)]


class _Report(ctypes.Structure):  # Report in kernel.c
    _fields_ = [("code", _i64), ("step", _i64), ("node", _i64), ("phase", _i64),
                ("status", _i64), ("step_status", _i64)]


# -- what can be compiled ------------------------------------------------------------


def _run_reason(run_spec) -> str | None:
    for name, spec in type(run_spec).model_fields.items():
        if name in PLAIN_RUN_FIELDS:
            continue
        if getattr(run_spec, name) != spec.get_default(call_default_factory=True):
            return f"run.{name} is set"
    try:
        ticks = [to_ticks(run_spec.start), to_ticks(run_spec.stop), to_ticks(run_spec.step)]
    except ValueError as err:
        return str(err)
    if max(abs(t) for t in ticks) >= MAX_TICKS:
        return "times beyond 2**53 ns (104 days)"
    return None


def _topology_reason(system, run_spec) -> str | None:
    graph = system.topology.graph
    for what in ("events", "monitors"):
        if graph.graph.get(what):
            return f"the topology has {what}"
    for conn in system.topology.connections():
        if getattr(conn, "extrapolation", None) not in (None, "hold"):
            return f"connection {conn.source} -> {conn.target} extrapolates"
    for name in system.names:
        step = graph.nodes[name].get("step")
        if step is not None and step != run_spec.step:
            return f"node {name} has its own step"
    return None


def _system_reason(system) -> str | None:
    for attr, what in (("has_loops", "algebraic loops"), ("extrapolating", "extrapolation"),
                       ("sampled", "sampled exchange (multirate)")):
        if getattr(system, attr, False):
            return f"the system has {what}"
    return None


def _groups(system, algorithm) -> list[str]:
    groups = ["core", "gauss-seidel" if type(algorithm) is GaussSeidel else "jacobi"]
    for sub in system.subsystems:
        kind = type(sub)
        if kind is FMI2Subsystem:
            groups.append("fmi2")
        elif kind is FMI3Subsystem:
            groups.append("fmi3")
        elif kind is BlockSubsystem:
            groups += ["block", type(sub.block).__name__]
    return list(dict.fromkeys(g for g in groups if g in reference.GROUPS))


def explain(system, algorithm, run_spec) -> str | None:
    """Why this run cannot use the compiled loop (None: it can, given a compiler)."""
    if type(algorithm) not in (GaussSeidel, Jacobi):
        return f"algorithm {getattr(algorithm, 'name', algorithm)!r} has no compiled form"
    reason = _run_reason(run_spec) or _topology_reason(system, run_spec) or \
        _system_reason(system)
    if reason:
        return reason
    try:
        _native_nodes(system)
    except NotCompilable as err:
        return str(err)
    changed = reference.stale(_groups(system, algorithm))
    if changed:
        return (f"{changed} changed since the kernel was written (update cosim/fast and "
                f"its reference digests)")
    return None


def _native_nodes(system) -> list[NativeNode]:
    u, y = system.u, system.y
    for name, arr in (("u", u), ("y", y), ("y_prev", system.y_prev)):
        if arr.dtype != np.float64 or not arr.flags.c_contiguous:
            raise NotCompilable(f"system buffer {name} is not contiguous float64")
    return [native_node(sub, u, y, int(system.in_lo[i]), int(system.out_lo[i]))
            for i, sub in enumerate(system.subsystems)]


def plan(lib: ctypes.CDLL, system, algorithm, run_spec) -> CompiledLoop:
    """The compiled loop for a run that :func:`explain` found compilable."""
    return CompiledLoop(lib, system, algorithm, run_spec, _native_nodes(system))


# -- running -------------------------------------------------------------------------


def _addr(arr: Any) -> int | None:
    if arr is None:
        return None
    if isinstance(arr, np.ndarray):
        return arr.ctypes.data
    return ctypes.addressof(arr)


def _step_times(t0: int, t1: int, h: int, n: int) -> tuple[float, float, float]:
    """(t, dt, now) of macro step n, computed as the Python loop computes them."""
    t = to_seconds(min(t0 + (n - 1) * h, t1))
    now = to_seconds(min(t0 + n * h, t1))
    return t, now - t, now


class CompiledLoop:
    """Macro steps in the kernel, over the coupled system's own buffers."""

    def __init__(self, lib: ctypes.CDLL, system, algorithm, run_spec,
                 nodes: list[NativeNode]):
        self.system, self.nodes = system, nodes
        self.jacobi = type(algorithm) is Jacobi
        self._fn = lib.cosim_fast_run
        self._fn.argtypes = [_ptr, _i64, _i64, _i64, _ptr]
        self._fn.restype = _i64
        conn = {"src": np.ascontiguousarray(system.src, dtype=np.int64),
                "dst": np.ascontiguousarray(system.dst, dtype=np.int64),
                "gain": np.ascontiguousarray(system.gain, dtype=np.float64),
                "offset": np.ascontiguousarray(system.offset, dtype=np.float64),
                "delayed": np.ascontiguousarray(system.delayed, dtype=np.uint8)}
        self.rec = np.ascontiguousarray(system.record_index, dtype=np.int64)
        n_rec = len(self.rec)
        self.capacity = max(16, min(MAX_CHUNK_ROWS, ROW_BUFFER_BYTES // (8 * max(1, n_rec))))
        self.rows = np.zeros((self.capacity, n_rec))
        self.times = np.zeros(self.capacity)
        self.chunk = 64
        self.rate = 1.0  # steps per second, measured (the first chunk checks every step)
        self._c_nodes = (_Node * len(nodes))()
        for i, (node, c) in enumerate(zip(nodes, self._c_nodes, strict=True)):
            self._fill(c, node, i)
        self._conn = conn
        self.ctx = _Ctx(
            nodes=ctypes.addressof(self._c_nodes), n_nodes=len(nodes), jacobi=self.jacobi,
            u=system.u.ctypes.data, y=system.y.ctypes.data, y_prev=system.y_prev.ctypes.data,
            n_y=system.y.size, n_conn=len(conn["src"]), plain=bool(system.plain),
            has_delayed=bool(system.has_delayed), rec=self.rec.ctypes.data, n_rec=n_rec,
            rows=self.rows.ctypes.data, times=self.times.ctypes.data,
            check_finite=not run_spec.allow_nonfinite,
            **{k: v.ctypes.data for k, v in conn.items()})
        self.report = _Report()
        # where the kernel says which node it calls (a supervisor reads it after a crash)
        self.where = beacon.kernel_slots()
        self.ctx.where = self.where.ctypes.data

    def _fill(self, c: _Node, node: NativeNode, i: int) -> None:
        s = self.system
        c.kind = node.kind
        c.n_in, c.n_out = int(s.in_hi[i] - s.in_lo[i]), int(s.out_hi[i] - s.out_lo[i])
        c.in_lo, c.out_lo = int(s.in_lo[i]), int(s.out_lo[i])
        c.c_lo, c.c_hi = int(s.c_lo[i]), int(s.c_hi[i])
        c.comp, c.set, c.get, c.step = node.comp or None, node.set or None, \
            node.get or None, node.step or None
        c.vr_in, c.vr_out = _addr(node.vr_in), _addr(node.vr_out)
        c.event, c.terminate, c.early, c.last_time = (f or None for f in node.flags)
        for name in ("par", "ipar", "state", "bin", "bout", "in_map", "out_map"):
            setattr(c, name, getattr(node, name).ctypes.data)

    # -- the loop ----------------------------------------------------------------------

    def run(self, t0: int, t1: int, h: int, n_from: int, n_to: int, observers) -> None:
        """Macro steps n_from..n_to; rows to ``observers``; errors as the Python loop."""
        if max(abs(t0), abs(t1), abs(t0 + n_to * h)) >= MAX_TICKS:
            raise ValueError("the compiled loop handles times below 2**53 ns only")
        ctx, report = self.ctx, self.report
        ctx.t0, ctx.t1, ctx.h = t0, t1, h
        observers = list(observers)
        record = 1 if observers else 0
        n, last = n_from, n_from - 1
        failed = False
        try:
            while n <= n_to:
                want = min(self.chunk, n_to - n + 1)
                ctx.deadline_ns = time.monotonic_ns() + HANDOVER_NS
                ctx.check_every = max(1, int(self.rate * CLOCK_CHECK_SECONDS))
                clock = time.perf_counter()
                done = self._fn(ctypes.byref(ctx), n, n + want - 1, record,
                                ctypes.byref(report))
                elapsed = time.perf_counter() - clock
                last = n + done - 1
                if done and record:
                    self._hand_over(observers, done)
                if report.code != R_DONE:
                    failed = True
                    break
                n += done
                self._tune(done, elapsed)
        finally:
            self._write_back(t0, t1, h, n_from, last)
        if failed:
            self._raise(t0, t1, h)

    def _tune(self, done: int, elapsed: float) -> None:
        if done and elapsed > 0:
            self.rate = done / elapsed
            self.chunk = int(min(self.capacity, max(16, done * CHUNK_SECONDS / elapsed)))

    def _hand_over(self, observers, done: int) -> None:
        times, rows = self.times[:done], self.rows[:done]
        times.flags.writeable = False
        rows.flags.writeable = False
        for obs in observers:
            obs.stepped_block(times, rows)

    def _write_back(self, t0: int, t1: int, h: int, n_from: int, last: int) -> None:
        """Block state back into the Python objects; subsystem times as after step last."""
        for node in self.nodes:
            node.write_back()
        if last >= n_from:
            t, dt, _ = _step_times(t0, t1, h, last)
            for sub in self.system.subsystems:
                sub.time = t + dt

    # -- errors --------------------------------------------------------------------------

    def _stepped(self, phase: int, i: int) -> range:
        """Nodes before or besides node i that completed a step failing at node i, phase."""
        if self.jacobi:
            return range({PH_SET: 0, PH_STEP: i, PH_GET: len(self.nodes)}[phase])
        return range(i)

    def _raise(self, t0: int, t1: int, h: int) -> None:
        r, system = self.report, self.system
        t, dt, now = _step_times(t0, t1, h, r.step)
        if r.code == R_NONFINITE:
            for sub in system.subsystems:
                sub.time = t + dt
            _raise_nonfinite(system, now)
            raise RuntimeError(f"compiled loop: non-finite output at t={now:g} s not found")
        sub, node = system.subsystems[r.node], self.nodes[r.node]
        for k in self._stepped(r.phase, r.node):
            system.subsystems[k].time = t + dt
        status = int(r.status)
        if r.phase == PH_SET:
            raise sub.fail(node.set_name, status, sub.time)
        step_status = int(r.step_status)
        _replay_step(sub, r.node, step_status - FLAGGED if step_status >= FLAGGED
                     else step_status, t, dt)
        if r.phase == PH_GET:
            raise sub.fail(node.get_name, status, sub.time)
        raise RuntimeError(f"compiled loop: node {sub.name} failed at t={t:g} s with status "
                           f"{status}, but the adapter accepts that step")


def _replay_step(sub, i: int, status: int, t: float, dt: float) -> None:
    """Let the adapter handle the doStep status the kernel saw, as in the Python loop.

    The FMU's doStep already ran in the kernel (for FMI 3 its flags are in the adapter's
    own buffers); here the adapter's ``do_step`` runs with that call replaced by its
    recorded status, so the outcome, the error, the subsystem's time are the adapter's
    own, and :func:`check_outcome` (then :func:`note`) raises what the master raises
    (blocks never fail).
    """
    if not hasattr(sub, "_do_step"):
        return
    real = sub.__dict__.get("_do_step")
    sub._do_step = lambda *args: status
    try:
        outcome = sub.do_step(t, dt)
    finally:
        sub._do_step = real
    if outcome is not STEP_OK and check_outcome(sub, outcome, t, dt):
        note(None, i, outcome, t, dt)


def _raise_nonfinite(system, t: float) -> None:
    """Execution._check_finite, for a system known to hold a non-finite output."""
    bad = system.first_nonfinite()
    if bad is None:
        return
    node, var = bad
    value = system.y[system.out_lo[system.index[node]] +
                     system.subsystems[system.index[node]].outputs.index(var)]
    raise NonFiniteError(f"output is {value} (set run.allow_nonfinite: true to "
                         "accept non-finite values)", node=node, variable=var, time=t)
