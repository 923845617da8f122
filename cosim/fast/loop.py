"""The compiled loop: the kernel over the system's buffers, chunks of steps, hand-backs.

:class:`CompiledLoop` is built from what the system publishes — its buffers and
connection tables (:meth:`~cosim.system.CoupledSystem.layout`) and every node's
:class:`~cosim.protocol.NativeForm` — so this package imports no adapter or block class.
Nodes without a native form take part through a callback: the kernel calls
:meth:`CompiledLoop._python_turn` when their turn comes, which runs the node's own Python
code (hybrid execution). :meth:`CompiledLoop.run` calls the kernel for chunks of macro
steps (sized to take about :data:`CHUNK_SECONDS` each) and hands each chunk's rows to
the observers with ``stepped_block``. When the kernel stops inside a macro step (a status
it leaves to Python: an FMI discard, a termination request, an error, a Python node's
outcome or exception), the node's adapter interprets the status and the master finishes
the macro step in Python (``algorithm.resume``), exactly as the Python loop would have:
errors are the same, at the same step, after the same rows. The event loop runs its
quiet stretches here too (:mod:`cosim.fast.segments`).

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

from ..clock import to_seconds
from ..protocol import STEP_OK, NativeForm, NotNative
from ..supervisor import beacon
from .plan import KINDS, exact_times, forms, plan_of

R_DONE, R_CALL, R_NONFINITE, R_PYTHON, R_MONITOR = 0, 1, 2, 3, 4
PH_SET, PH_STEP, PH_GET, PH_ALL = 1, 2, 3, 4
FLAGGED, REDO = 100, 1000
TURN_OUTCOME, TURN_RAISED = 1, 2
CHUNK_SECONDS = 0.1  # aim for observer hand-overs this often
HANDOVER_NS = 500_000_000  # and hand rows over at the latest after this (wall time)
CLOCK_CHECK_SECONDS = 0.01  # the kernel looks at the clock about this often
MAX_CHUNK_ROWS = 65536
ROW_BUFFER_BYTES = 8 * 1024 * 1024

_i64, _ptr = ctypes.c_int64, ctypes.c_void_p
_PyTurn = ctypes.CFUNCTYPE(ctypes.c_int, _i64, _i64, _i64, _i64)


class _Node(ctypes.Structure):  # Node in kernel.c
    _fields_ = [("kind", _i64), ("n_in", _i64), ("n_out", _i64), ("in_lo", _i64),
                ("out_lo", _i64), ("c_lo", _i64), ("c_hi", _i64), ("comp", _ptr),
                ("set", _ptr), ("get", _ptr), ("step", _ptr), ("vr_in", _ptr),
                ("vr_out", _ptr), ("event", _ptr), ("terminate", _ptr), ("early", _ptr),
                ("last_time", _ptr), ("par", _ptr), ("ipar", _ptr), ("state", _ptr),
                ("bin", _ptr), ("bout", _ptr), ("in_map", _ptr), ("out_map", _ptr),
                ("step_status", _i64), ("index", _i64), ("whole", _i64), ("n_state", _i64),
                ("n_bout", _i64), ("backup", _ptr)]


class _Ctx(ctypes.Structure):  # Ctx in kernel.c
    _fields_ = [("nodes", _ptr), ("n_nodes", _i64), ("jacobi", _i64), ("u", _ptr),
                ("y", _ptr), ("y_prev", _ptr), ("n_y", _i64), ("src", _ptr), ("dst", _ptr),
                ("gain", _ptr), ("offset", _ptr), ("delayed", _ptr), ("n_conn", _i64),
                ("plain", _i64), ("has_delayed", _i64), ("t0", _i64), ("t1", _i64),
                ("h", _i64), ("rec", _ptr), ("n_rec", _i64), ("rows", _ptr),
                ("times", _ptr), ("check_finite", _i64), ("stop_on_flags", _i64),
                ("n_mon", _i64), ("mon_index", _ptr), ("mon_op", _ptr),
                ("mon_threshold", _ptr), ("mon_was", _ptr), ("where", _ptr),
                ("deadline_ns", _i64), ("check_every", _i64)]


class _Report(ctypes.Structure):  # Report in kernel.c
    _fields_ = [("code", _i64), ("step", _i64), ("node", _i64), ("phase", _i64),
                ("status", _i64), ("step_status", _i64)]


def plan(lib: ctypes.CDLL, sim) -> CompiledLoop:
    """The compiled loop for a run that :func:`~cosim.fast.plan.explain` found
    compilable."""
    return CompiledLoop(lib, sim)


def _addr(arr: Any) -> int | None:
    if arr is None:
        return None
    if isinstance(arr, np.ndarray):
        return arr.ctypes.data
    return ctypes.addressof(arr)


def step_ticks(t0: int, t1: int, h: int, n: int, first: int) -> tuple[int, int]:
    """(start, end) [ticks] of step n of a kernel call from ``first`` (the steps end at
    ``min(t0 + n*h, t1)``; the first one starts at ``first``)."""
    return max(first, min(t0 + (n - 1) * h, t1)), min(t0 + n * h, t1)


class CompiledLoop:
    """Macro steps in the kernel, over the coupled system's own buffers."""

    def __init__(self, lib: ctypes.CDLL, sim):
        self.sim, self.system = sim, sim.system
        self.algorithm = sim.algorithm
        self.jacobi = sim.algorithm.name == "jacobi"
        self._lib = lib
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
        self.plan_version = 0  # counts nodes moved to Python since planned
        self.rate = 1.0  # steps per second, measured (the first chunk checks every step)
        self.first = 0  # ticks: where the last kernel call started
        self._conn = conn
        self._c_nodes = (_Node * self.system.n)()
        self._turns: dict[int, Any] = {}  # node -> its callback, kept alive with the loop
        self._outcome: Any = None
        self._raised: BaseException | None = None
        system = self.system
        self.ctx = _Ctx(
            nodes=ctypes.addressof(self._c_nodes), n_nodes=system.n, jacobi=self.jacobi,
            u=layout.u.ctypes.data, y=layout.y.ctypes.data, y_prev=layout.y_prev.ctypes.data,
            n_y=layout.y.size, n_conn=len(conn["src"]), plain=bool(layout.plain),
            has_delayed=bool(layout.has_delayed), rec=self.rec.ctypes.data, n_rec=n_rec,
            rows=self.rows.ctypes.data, times=self.times.ctypes.data,
            check_finite=not sim.run_spec.allow_nonfinite,
            **{k: v.ctypes.data for k, v in conn.items()})
        self.report = _Report()
        # where the kernel says which node it calls (a supervisor reads it after a crash)
        self.where = beacon.kernel_slots()
        self.ctx.where = self.where.ctypes.data
        self._plan_forms()

    # -- the nodes' forms ----------------------------------------------------------------

    @property
    def python_nodes(self) -> list[int]:
        return [i for i, f in enumerate(self.forms) if f is None]

    def plans(self) -> list:
        """How each node takes part (:class:`~cosim.fast.plan.NodePlan`)."""
        return [plan_of(name, form if form is not None else reason)
                for name, form, reason in zip(self.system.names, self.forms, self.reasons,
                                              strict=True)]

    def _plan_forms(self) -> None:
        """Every node's native form (None: a Python node, with its reason), into the
        kernel's node table."""
        self.forms: list[NativeForm | None] = []
        self.reasons: list[str | None] = []
        for form in forms(self.system):
            native = isinstance(form, NativeForm)
            self.forms.append(form if native else None)
            self.reasons.append(None if native else form)
        self._keys = [sub.native_key() for sub in self.system.subsystems]
        for i, form in enumerate(self.forms):
            self._fill(self._c_nodes[i], form, i)
        self._pick_function()

    def refresh(self) -> None:
        """Take the native forms that may have changed since the last run: those of
        nodes that say so (blocks: their state; FMUs: only when re-instantiated)."""
        for i, sub in enumerate(self.system.subsystems):
            if self.forms[i] is None:
                continue
            key = sub.native_key()
            if key is None or key != self._keys[i]:
                try:
                    form = sub.native_form()
                except NotNative as err:  # e.g. a block's method replaced since
                    self.forms[i], self.reasons[i] = None, str(err)
                    self.plan_version += 1
                    self._fill(self._c_nodes[i], None, i)
                    self._pick_function()
                    continue
                self.forms[i], self._keys[i] = form, key
                self._fill(self._c_nodes[i], form, i)

    def _pick_function(self) -> None:
        """With Python nodes the kernel keeps the GIL (a callback then costs no GIL
        hand-over); without, it releases it (the HDF5 writer's thread runs meanwhile)."""
        lib = ctypes.PyDLL(self._lib._name) if self.python_nodes else self._lib
        self._fn = lib.cosim_fast_run
        self._fn.argtypes = [_ptr, _i64, _i64, _i64, _i64, _ptr]
        self._fn.restype = _i64

    def _fill(self, c: _Node, form: NativeForm | None, i: int) -> None:
        lay = self.layout
        c.index = i
        c.n_in, c.n_out = int(lay.in_hi[i] - lay.in_lo[i]), int(lay.out_hi[i] - lay.out_lo[i])
        c.in_lo, c.out_lo = int(lay.in_lo[i]), int(lay.out_lo[i])
        c.c_lo, c.c_hi = int(lay.c_lo[i]), int(lay.c_hi[i])
        if form is None:
            if i not in self._turns:
                self._turns[i] = _PyTurn(self._python_turn(i))
            c.kind = KINDS["python"]
            c.step = ctypes.cast(self._turns[i], ctypes.c_void_p).value
            c.whole = bool(getattr(self.system.subsystems[i], "copies_io", False))
            return
        c.whole = 0
        c.kind = KINDS[form.kind]
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
        c.n_state, c.n_bout = form.state.size, form.bout.size
        form.backup = np.zeros(c.n_state + c.n_bout + 1)
        c.backup = form.backup.ctypes.data

    def write_back(self) -> None:
        """Put the kernel's block states back into the Python objects."""
        for form in self.forms:
            if form is not None and form.write_back is not None:
                form.write_back()

    # -- Python nodes ---------------------------------------------------------------------

    def _python_turn(self, i: int):
        """The kernel's callback for node ``i``: its turn in ``phase`` of the step from
        ``now`` to ``limit`` [ticks], run by the node's own Python code, as the masters
        call it (:meth:`~cosim.system.CoupledSystem.step_node` and the phases of
        Jacobi). Never raises: an exception is kept for :meth:`finish_step`."""
        system, sub = self.system, self.system.subsystems[i]
        fused = getattr(sub, "kernel_turn", None)
        if fused is not None and getattr(sub, "copies_io", False):
            return fused  # a block: its whole turn in one call, always STEP_OK
        set_inputs, step, get_outputs = sub.set_inputs, sub.step, sub.get_outputs
        ok, all_, step_only, set_only = STEP_OK, PH_ALL, PH_STEP, PH_SET

        def turn(_node: int, phase: int, now: int, limit: int) -> int:
            try:
                if phase == all_:
                    system.current = i
                    set_inputs()
                    outcome = step(now, limit)
                    get_outputs()
                elif phase == step_only:
                    system.current = i
                    outcome = step(now, limit)
                elif phase == set_only:
                    set_inputs()
                    return 0
                else:
                    get_outputs()
                    return 0
            except BaseException as err:  # noqa: BLE001 - raised again outside the kernel
                self._raised = err
                return TURN_RAISED
            if outcome is ok:
                return 0
            self._outcome = outcome
            return TURN_OUTCOME

        return turn

    # -- the loop ----------------------------------------------------------------------

    def span(self, n: int) -> tuple[int, int]:
        """(start, end) [ticks] of step ``n`` of the last kernel call."""
        ctx = self.ctx
        return step_ticks(ctx.t0, ctx.t1, ctx.h, n, self.first)

    def call(self, t_first: int, n_from: int, n_to: int, record: bool,
             deadline: bool = True) -> tuple[int, float]:
        """Kernel steps ``n_from..n_to`` from ``t_first`` [ticks] (in step ``n_from``);
        (steps done, seconds). With ``deadline`` it returns early (between steps, code
        R_DONE) once :data:`HANDOVER_NS` have passed."""
        self.first = t_first
        ctx = self.ctx
        ctx.deadline_ns = time.monotonic_ns() + HANDOVER_NS if deadline else 0
        ctx.check_every = max(1, int(self.rate * CLOCK_CHECK_SECONDS))
        clock = time.perf_counter()
        done = self._fn(ctypes.byref(self.ctx), t_first, n_from, n_to, 1 if record else 0,
                        ctypes.byref(self.report))
        return done, time.perf_counter() - clock

    def run(self, execution, t_a: int, t_b: int):
        """Macro steps from ``t_a`` to ``t_b`` [ticks]; rows to the execution's observers.
        Returns the MacroStep of a node's termination request, else None; raises what the
        Python loop raises."""
        t0, h = self.sim.t0, self.sim.h
        if not exact_times(t0, h, t_a, t_b):
            execution._plain_steps(t_a, t_b)  # times a double cannot hold exactly
            return None
        ctx, report = self.ctx, self.report
        ctx.t0, ctx.t1, ctx.h = t0, t_b, h
        ctx.stop_on_flags, ctx.n_mon = 0, 0
        observers = list(execution.observers)
        n, n_to = (t_a - t0) // h + 1, -(-(t_b - t0) // h)
        t = t_a
        try:
            while n <= n_to:
                t, done, elapsed = self.chunk_of_steps(execution, t, n, n_to, observers)
                n += done
                if report.code != R_DONE:
                    end, result = self.finish_step(execution)
                    if result is not None and result.terminate is not None:
                        if not result.cut:
                            execution.row(end)
                        return result
                    execution.row(end)
                    t = end
                    n += 1
                    continue
                self.tune(done, elapsed)
        finally:
            self.write_back()
        return None

    def chunk_of_steps(self, execution, t: int, n: int, n_to: int, observers: list,
                       recorded_by_caller: int | None = None) -> tuple[int, int, float]:
        """Kernel steps ``n``.. (a chunk at most, up to ``n_to``) from ``t`` [ticks], their
        rows handed to ``observers`` (but for the row at ``recorded_by_caller``);
        returns (time reached [ticks], steps done, seconds)."""
        want = min(self.chunk, n_to - n + 1)
        done, elapsed = self.call(t, n, n + want - 1, bool(observers))
        if done:
            t = self.span(n + done - 1)[1]
            execution.reached = t
            self.set_times(n + done - 1)
            rows = done - 1 if t == recorded_by_caller else done
            if observers and rows:
                self.hand_over(observers, rows)
        return t, done, elapsed

    def tune(self, done: int, elapsed: float, seconds: float = CHUNK_SECONDS) -> None:
        if done and elapsed > 0:
            self.rate = done / elapsed
            self.chunk = int(min(self.capacity, max(16, done * seconds / elapsed)))

    def hand_over(self, observers, done: int) -> None:
        times, rows = self.times[:done], self.rows[:done]
        times.flags.writeable = False
        rows.flags.writeable = False
        for obs in observers:
            obs.stepped_block(times, rows)

    def set_times(self, last: int) -> None:
        """Native nodes' times after step ``last`` (Python nodes keep their own)."""
        start, end = (to_seconds(x) for x in self.span(last))
        reached = start + (end - start)  # t + dt, as the nodes compute their time
        for sub, form in zip(self.system.subsystems, self.forms, strict=True):
            if form is not None:
                sub.time = reached

    # -- a macro step the kernel left to Python ---------------------------------------------

    def _stepped(self, phase: int, i: int) -> range:
        """Nodes before or besides node i that completed a step failing at node i, phase."""
        if self.jacobi:
            return range({PH_SET: 0, PH_STEP: i, PH_GET: self.system.n}[phase])
        return range(i)

    def finish_step(self, execution):
        """Finish the macro step the kernel stopped in, as the Python loop would: raise its
        error, or return (its end [ticks], the master's MacroStep or None). The caller
        records the row."""
        r, system = self.report, self.system
        now, end = self.span(r.step)
        t = to_seconds(now)
        dt = to_seconds(end) - t
        self.write_back()  # the Python side takes over: block states back
        if r.code == R_NONFINITE:
            self.set_times(r.step)
            execution.reached = end
            execution.check_finite(to_seconds(end))
            raise RuntimeError(f"compiled loop: non-finite output at t={to_seconds(end):g} s "
                               "not found")
        i, status = r.node, int(r.status)
        for k in self._stepped(PH_STEP if r.phase == PH_ALL else r.phase, i):
            if self.forms[k] is not None:
                system.subsystems[k].time = t + dt
        if r.code == R_PYTHON:
            system.current = i
            outcome = self._python_outcome(status, system.subsystems[i])
        else:
            outcome = self._native_outcome(i, now, end, t, dt)
        result = self.algorithm.resume(system, now, end, i, outcome)
        self.refresh()  # block states changed in Python
        return end, result

    def _python_outcome(self, code: int, sub):
        if code == TURN_RAISED:
            err = getattr(sub, "kernel_error", None)
            if err is not None:
                sub.kernel_error = None
            else:
                err, self._raised = self._raised, None
            raise err
        outcome, self._outcome = self._outcome, None
        return outcome

    def _native_outcome(self, i: int, now: int, end: int, t: float, dt: float):
        """The outcome of node i's step as its adapter builds it from the status the
        kernel saw (or raises as it does); a block asking for REDO steps in Python."""
        r, system = self.report, self.system
        sub, form = system.subsystems[i], self.forms[i]
        system.current = i
        status = int(r.status)
        if r.phase == PH_SET:
            raise sub.fail(form.names["set"], status, sub.time)
        if status == REDO:
            return system.step(i, now, end) if self.jacobi else \
                system.step_node(i, now, end)
        step_status = int(r.step_status)
        step_status = step_status - FLAGGED if step_status >= FLAGGED else step_status
        outcome = sub.step_result(step_status, t, dt)
        if r.phase == PH_GET:
            raise sub.fail(form.names["get"], status, sub.time)
        return outcome
