"""The compiled loop: plan a system for the kernel, run chunks of steps, hand back.

:func:`explain` says why a run has no compiled form (None: it has one); :func:`plan`
builds a :class:`CompiledLoop` from what the system publishes — its buffers and
connection tables (:meth:`~cosim.system.CoupledSystem.layout`) and every node's
:class:`~cosim.protocol.NativeForm` — so this package imports no adapter or block
class. :meth:`CompiledLoop.run` calls the kernel for chunks of macro steps (sized to take
about :data:`CHUNK_SECONDS` each) and hands each chunk's rows to the observers with
``stepped_block``. When the kernel stops inside a macro step (a status the kernel leaves
to Python: an FMI discard, a termination request, an error), the node's adapter
interprets the status and the master finishes the macro step in Python
(``algorithm.resume``), exactly as the Python loop would have: errors are the same,
at the same step, after the same rows.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any

import numpy as np

from ..clock import to_seconds, to_ticks
from ..protocol import NativeForm, NotNative

R_DONE, R_CALL, R_NONFINITE = 0, 1, 2
PH_SET, PH_STEP, PH_GET = 1, 2, 3
FLAGGED = 100
KINDS = {"fmi2": 1, "fmi3": 2, "constant": 3, "pid": 4, "polynomial": 5, "step": 6,
         "ramp": 7, "surrogate": 8}
MASTERS = ("gauss-seidel", "jacobi")
#: run settings that change what the loop computes, which the kernel does not implement
UNSUPPORTED_RUN = {"adaptive": "adaptive steps", "extrapolation": "extrapolation"}
MAX_TICKS = 2 ** 53  # ticks / 1e9 is then the same in C as in Python
CHUNK_SECONDS = 0.1  # aim for observer hand-overs this often
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
                ("times", _ptr), ("check_finite", _i64)]


class _Report(ctypes.Structure):  # Report in kernel.c
    _fields_ = [("code", _i64), ("step", _i64), ("node", _i64), ("phase", _i64),
                ("status", _i64), ("step_status", _i64)]


# -- what can be compiled ------------------------------------------------------------


def explain(sim) -> str | None:
    """Why this run cannot use the compiled loop (None: it can, given a compiler)."""
    reason = _run_reason(sim) or _system_reason(sim.system)
    if reason:
        return reason
    try:
        _forms(sim.system)
    except NotNative as err:
        return str(err)
    return None


def _run_reason(sim) -> str | None:
    if sim.algorithm.name not in MASTERS:
        return f"algorithm {sim.algorithm.name!r} has no compiled form"
    run = sim.run_spec
    for name, what in UNSUPPORTED_RUN.items():
        field = type(run).model_fields[name]
        if getattr(run, name) != field.get_default(call_default_factory=True):
            return f"the run uses {what}"
    topo = sim.topology
    for what, items in (("scheduled events", topo.events), ("monitors", topo.monitors)):
        if items:
            return f"the topology has {what}"
    try:
        ticks = [to_ticks(run.start), to_ticks(run.stop), to_ticks(run.step)]
    except ValueError as err:
        return str(err)
    if max(abs(t) for t in ticks) >= MAX_TICKS:
        return "times beyond 2**53 ns (104 days)"
    return None


def _system_reason(system) -> str | None:
    for attr, what in (("has_loops", "algebraic loops"), ("extrapolating", "extrapolation"),
                       ("multirate", "nodes with their own steps (multirate)")):
        if getattr(system, attr, False):
            return f"the system has {what}"
    return None


def _forms(system) -> list[NativeForm]:
    layout = system.layout()
    for name in ("u", "y", "y_prev"):
        arr = getattr(layout, name)
        if arr.dtype != np.float64 or not arr.flags.c_contiguous:
            raise NotNative(f"system buffer {name} is not contiguous float64")
    forms = system.native_forms()
    for sub, form in zip(system.subsystems, forms, strict=True):
        if form.kind not in KINDS:
            raise NotNative(f"node {sub.name}: the kernel has no {form.kind!r} nodes")
    return forms


def plan(lib: ctypes.CDLL, sim) -> CompiledLoop:
    """The compiled loop for a run that :func:`explain` found compilable."""
    return CompiledLoop(lib, sim)


# -- running -------------------------------------------------------------------------


def _addr(arr: Any) -> int | None:
    if arr is None:
        return None
    if isinstance(arr, np.ndarray):
        return arr.ctypes.data
    return ctypes.addressof(arr)


def _step_ticks(t0: int, t1: int, h: int, n: int) -> tuple[int, int]:
    """(start, end) [ticks] of macro step n, as the kernel computes them."""
    return min(t0 + (n - 1) * h, t1), min(t0 + n * h, t1)


class CompiledLoop:
    """Macro steps in the kernel, over the coupled system's own buffers."""

    def __init__(self, lib: ctypes.CDLL, sim):
        self.sim, self.system = sim, sim.system
        self.jacobi = sim.algorithm.name == "jacobi"
        self._fn = lib.cosim_fast_run
        self._fn.argtypes = [_ptr, _i64, _i64, _i64, _ptr]
        self._fn.restype = _i64
        layout = self.system.layout()
        self.layout = layout
        conn = {"src": np.ascontiguousarray(layout.src, dtype=np.int64),
                "dst": np.ascontiguousarray(layout.dst, dtype=np.int64),
                "gain": np.ascontiguousarray(layout.gain, dtype=np.float64),
                "offset": np.ascontiguousarray(layout.offset, dtype=np.float64),
                "delayed": np.ascontiguousarray(layout.delayed, dtype=np.uint8)}
        self.rec = np.ascontiguousarray(layout.record_index, dtype=np.int64)
        n_rec = len(self.rec)
        self.capacity = max(16, min(MAX_CHUNK_ROWS, ROW_BUFFER_BYTES // (8 * max(1, n_rec))))
        self.rows = np.zeros((self.capacity, n_rec))
        self.times = np.zeros(self.capacity)
        self.chunk = 64
        self._conn = conn
        self._c_nodes = (_Node * self.system.n)()
        self.ctx = _Ctx(
            nodes=ctypes.addressof(self._c_nodes), n_nodes=self.system.n, jacobi=self.jacobi,
            u=layout.u.ctypes.data, y=layout.y.ctypes.data, y_prev=layout.y_prev.ctypes.data,
            n_y=layout.y.size, n_conn=len(conn["src"]), plain=bool(layout.plain),
            has_delayed=bool(layout.has_delayed), rec=self.rec.ctypes.data, n_rec=n_rec,
            rows=self.rows.ctypes.data, times=self.times.ctypes.data,
            check_finite=not sim.run_spec.allow_nonfinite,
            **{k: v.ctypes.data for k, v in conn.items()})
        self.report = _Report()
        self.refresh()

    def refresh(self) -> None:
        """Take the native forms that may have changed since the last run: those of
        nodes that say so (blocks: their state; FMUs: only when re-instantiated)."""
        if not hasattr(self, "forms"):
            self.forms = _forms(self.system)
            self._keys = [sub.native_key() for sub in self.system.subsystems]
            for i, (form, c) in enumerate(zip(self.forms, self._c_nodes, strict=True)):
                self._fill(c, form, i)
            return
        for i, sub in enumerate(self.system.subsystems):
            key = sub.native_key()
            if key is None or key != self._keys[i]:
                self.forms[i] = form = sub.native_form()
                self._keys[i] = key
                self._fill(self._c_nodes[i], form, i)

    def _fill(self, c: _Node, form: NativeForm, i: int) -> None:
        lay = self.layout
        c.kind = KINDS[form.kind]
        c.n_in, c.n_out = int(lay.in_hi[i] - lay.in_lo[i]), int(lay.out_hi[i] - lay.out_lo[i])
        c.in_lo, c.out_lo = int(lay.in_lo[i]), int(lay.out_lo[i])
        c.c_lo, c.c_hi = int(lay.c_lo[i]), int(lay.c_hi[i])
        c.comp, c.set, c.get, c.step = form.comp or None, form.set or None, \
            form.get or None, form.step or None
        c.vr_in, c.vr_out = _addr(form.vr_in), _addr(form.vr_out)
        c.event, c.terminate, c.early, c.last_time = (f or None for f in form.flags)
        for name, default in (("par", np.zeros(1)), ("ipar", np.zeros(1, np.int64)),
                              ("state", np.zeros(1)), ("bin", np.zeros(1)),
                              ("bout", np.zeros(1)), ("in_map", np.zeros(1, np.int64)),
                              ("out_map", np.zeros(1, np.int64))):
            arr = getattr(form, name)
            if arr is None:
                arr = default
                setattr(form, name, arr)  # keep it alive as long as the form
            setattr(c, name, arr.ctypes.data)

    # -- the loop ----------------------------------------------------------------------

    def run(self, execution, t_a: int, t_b: int):
        """Macro steps from ``t_a`` (a grid point) to ``t_b`` [ticks]; rows to the
        execution's observers. Returns the MacroStep of a node's termination request,
        else None; raises what the Python loop raises."""
        t0, h = self.sim.t0, self.sim.h
        if max(abs(t0), abs(t_b), abs(t_a)) >= MAX_TICKS:
            raise ValueError("the compiled loop handles times below 2**53 ns only")
        ctx, report = self.ctx, self.report
        ctx.t0, ctx.t1, ctx.h = t0, t_b, h
        observers = list(execution.observers)
        record = 1 if observers else 0
        n, n_to = (t_a - t0) // h + 1, -(-(t_b - t0) // h)
        try:
            while n <= n_to:
                want = min(self.chunk, n_to - n + 1)
                clock = time.perf_counter()
                done = self._fn(ctypes.byref(ctx), n, n + want - 1, record,
                                ctypes.byref(report))
                elapsed = time.perf_counter() - clock
                if done:
                    execution.reached = _step_ticks(t0, t_b, h, n + done - 1)[1]
                    self._set_times(t0, t_b, h, n + done - 1)
                    if record:
                        self._hand_over(observers, done)
                n += done
                if report.code != R_DONE:
                    result = self._resume(execution, t0, t_b, h)
                    if result is not None and result.terminate is not None:
                        return result
                    n += 1  # the macro step finished in Python, its row recorded
                    continue
                self._tune(done, elapsed)
        finally:
            for form in self.forms:
                if form.write_back is not None:
                    form.write_back()
        return None

    def _tune(self, done: int, elapsed: float) -> None:
        if done and elapsed > 0:
            self.chunk = int(min(self.capacity, max(16, done * CHUNK_SECONDS / elapsed)))

    def _hand_over(self, observers, done: int) -> None:
        times, rows = self.times[:done], self.rows[:done]
        times.flags.writeable = False
        rows.flags.writeable = False
        for obs in observers:
            obs.stepped_block(times, rows)

    def _set_times(self, t0: int, t1: int, h: int, last: int) -> None:
        end = to_seconds(_step_ticks(t0, t1, h, last)[1])
        start = to_seconds(_step_ticks(t0, t1, h, last)[0])
        for sub in self.system.subsystems:
            sub.time = start + (end - start)

    # -- a macro step the kernel left to Python ---------------------------------------------

    def _stepped(self, phase: int, i: int) -> range:
        """Nodes before or besides node i that completed a step failing at node i, phase."""
        if self.jacobi:
            return range({PH_SET: 0, PH_STEP: i, PH_GET: self.system.n}[phase])
        return range(i)

    def _resume(self, execution, t0: int, t1: int, h: int):
        """Finish the macro step the kernel stopped in, as the Python loop would."""
        r, system = self.report, self.system
        now, end = _step_ticks(t0, t1, h, r.step)
        t = to_seconds(now)
        dt = to_seconds(end) - t
        for form in self.forms:  # the Python side takes over: block states back
            if form.write_back is not None:
                form.write_back()
        if r.code == R_NONFINITE:
            for sub in system.subsystems:
                sub.time = t + dt
            execution.reached = end
            execution.check_finite(to_seconds(end))
            raise RuntimeError(f"compiled loop: non-finite output at t={to_seconds(end):g} s "
                               "not found")
        sub, form = system.subsystems[r.node], self.forms[r.node]
        system.current = r.node
        for k in self._stepped(r.phase, r.node):
            system.subsystems[k].time = t + dt
        status = int(r.status)
        if r.phase == PH_SET:
            raise sub.fail(form.names["set"], status, sub.time)
        step_status = int(r.step_status)
        step_status = step_status - FLAGGED if step_status >= FLAGGED else step_status
        outcome = sub.step_result(step_status, t, dt)
        if r.phase == PH_GET:
            raise sub.fail(form.names["get"], status, sub.time)
        result = self.sim.algorithm.resume(system, now, end, r.node, outcome)
        if result is not None and result.terminate is not None:
            if not result.cut:
                execution.row(end)
            self.refresh()
            return result
        execution.row(end)
        self.refresh()  # block states changed in Python
        return None
