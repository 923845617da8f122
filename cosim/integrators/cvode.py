"""CVODE (SUNDIALS) for model-exchange clusters: BDF with a dense Newton solver for stiff
problems, Adams-Moulton with fixed-point iteration for non-stiff ones.

The call order follows CVODE's guide (and fmpy's own model-exchange loop, read but not
copied): ``SUNContext_Create``, ``N_VNew_Serial``, ``CVodeCreate``, ``CVodeInit``,
``CVodeSVtolerances``, ``CVodeRootInit`` (the event indicators), the linear solver
(BDF: ``SUNDenseMatrix`` + ``SUNLinSol_Dense`` + ``CVodeSetLinearSolver``; its Jacobian by
CVODE's difference quotients) or the fixed-point nonlinear solver (Adams), then
``CVode`` in normal mode (to an output time, interpolating back) or one-step mode when
every completed step must be reported (FMI step events). ``CVodeReInit`` restarts after
events, rollbacks and input jumps. The right-hand side and root callbacks copy CVODE's
vectors into the integrator's own arrays, call the problem, and never let a Python
exception cross into C: it is kept and re-raised when ``CVode`` returns.
"""

from __future__ import annotations

import contextlib
import ctypes
from ctypes import byref, c_double, c_int, c_long, c_void_p

import numpy as np

from .base import (
    Integrator,
    IntegratorError,
    OdeProblem,
    Reached,
    RecoverableRhs,
    SolverOptions,
    StepDone,
    Stop,
)
from .sundials import (
    CV_ADAMS,
    CV_BDF,
    CV_NORMAL,
    CV_ONE_STEP,
    CV_ROOT_RETURN,
    ERR_FN,
    RHS_FN,
    ROOT_FN,
    flag_name,
    lib,
)

_SIZE = ctypes.sizeof(c_double)
memmove = ctypes.memmove


class CVodeIntegrator(Integrator):
    name = "cvode"

    def __init__(self, options: SolverOptions, problem: OdeProblem):
        super().__init__(options, problem)
        self.lmm = CV_ADAMS if options.solver == "cvode-adams" else CV_BDF
        self.nv = max(problem.n, 1)  # CVODE needs a state: a dummy one (der = 0) if none
        self.nz = problem.nz
        self.mem = None
        self._steps_before = 0
        self._nominals = np.ones(0)
        self._xbuf = np.zeros(self.nv)    # x handed to the problem
        self._dxbuf = np.zeros(self.nv)   # dx the problem writes
        self._zbuf = np.zeros(max(self.nz, 1))
        self._xaddr, self._dxaddr = self._xbuf.ctypes.data, self._dxbuf.ctypes.data
        self._zaddr = self._zbuf.ctypes.data
        self._nbytes = self.nv * _SIZE
        self._error: BaseException | None = None
        self._message = ""
        self._tret = c_double()
        self._roots = (c_int * max(self.nz, 1))()
        # keep the callbacks alive as long as CVODE may call them
        self._rhs_cb = RHS_FN(self._rhs)
        self._root_cb = ROOT_FN(self._root)
        self._err_cb = ERR_FN(self._on_error)

    # -- set-up ---------------------------------------------------------------------------

    def _create(self, t0: float) -> None:
        f = lib()
        self.f = f
        ctx = c_void_p()
        self._check(f.SUNContext_Create(0, byref(ctx)), "SUNContext_Create")
        self.ctx = ctx
        f.SUNContext_ClearErrHandlers(ctx)
        f.SUNContext_PushErrHandler(ctx, self._err_cb, None)
        self.y = f.N_VNew_Serial(self.nv, ctx)
        self.abstol = f.N_VNew_Serial(self.nv, ctx)
        self.y_data = f.N_VGetArrayPointer_Serial(self.y)
        self.abstol_data = f.N_VGetArrayPointer_Serial(self.abstol)
        self.mem = f.CVodeCreate(self.lmm, ctx)
        if not self.mem:
            raise IntegratorError("CVodeCreate failed (out of memory?)")
        self._copy_in(self.x)
        self._check(f.CVodeInit(self.mem, self._rhs_cb, t0, self.y), "CVodeInit")
        self._set_tolerances(None)
        if self.nz:
            self._check(f.CVodeRootInit(self.mem, self.nz, self._root_cb), "CVodeRootInit")
            f.CVodeSetNoInactiveRootWarn(self.mem)
        self.A = self.LS = self.NLS = None
        if self.lmm == CV_BDF:
            self.A = f.SUNDenseMatrix(self.nv, self.nv, ctx)
            self.LS = f.SUNLinSol_Dense(self.y, self.A, ctx)
            self._check(f.CVodeSetLinearSolver(self.mem, self.LS, self.A),
                        "CVodeSetLinearSolver")
        else:
            self.NLS = f.SUNNonlinSol_FixedPoint(self.y, 0, ctx)
            self._check(f.CVodeSetNonlinearSolver(self.mem, self.NLS),
                        "CVodeSetNonlinearSolver")
        if self.options.max_step is not None:
            self._check(f.CVodeSetMaxStep(self.mem, self.options.max_step), "CVodeSetMaxStep")
        self._check(f.CVodeSetMaxNumSteps(self.mem, self.options.max_steps),
                    "CVodeSetMaxNumSteps")

    def _set_tolerances(self, nominals: np.ndarray | None) -> None:
        atol = np.full(self.nv, self.options.abs_tol)
        if nominals is not None and self.problem.n:
            atol[:self.problem.n] = self.options.scaled_atol(nominals)
        ctypes.memmove(self.abstol_data, atol.ctypes.data, self.nv * _SIZE)
        self._check(self.f.CVodeSVtolerances(self.mem, self.options.rtol, self.abstol),
                    "CVodeSVtolerances")

    def reset(self, t0: float, x0: np.ndarray, nominals: np.ndarray | None = None) -> None:
        self.x[:self.problem.n] = x0
        self.t = t0
        if self.mem is None:
            self._create(t0)
        else:
            self._steps_before += self._steps()
            self._copy_in(self.x)
            self._check(self.f.CVodeReInit(self.mem, t0, self.y), "CVodeReInit")
        if nominals is not None and not np.array_equal(nominals, self._nominals):
            self._nominals = np.array(nominals, dtype=float)
            self._set_tolerances(self._nominals)
        self.stats.resets += 1

    def _copy_in(self, x: np.ndarray) -> None:
        ctypes.memmove(self.y_data, x.ctypes.data, self.nv * _SIZE)

    def _copy_out(self) -> None:
        ctypes.memmove(self.x.ctypes.data, self.y_data, self.nv * _SIZE)

    # -- callbacks (never raise into C) -----------------------------------------------------

    def _rhs(self, t, y, ydot, _user) -> int:
        try:
            data = self.f.N_VGetArrayPointer_Serial
            if self.problem.n:
                memmove(self._xaddr, data(y), self._nbytes)
                self.problem.rhs(t, self._xbuf, self._dxbuf)
            else:
                self._dxbuf[0] = 0.0
            memmove(data(ydot), self._dxaddr, self._nbytes)
            return 0
        except RecoverableRhs:
            return 1
        except BaseException as err:  # noqa: BLE001 - re-raised after CVode returns
            self._error = err
            return -1

    def _root(self, t, y, gout, _user) -> int:
        try:
            memmove(self._xaddr, self.f.N_VGetArrayPointer_Serial(y), self._nbytes)
            self.problem.indicators(t, self._xbuf[:self.problem.n], self._zbuf)
            memmove(gout, self._zaddr, self.nz * _SIZE)
            return 0
        except BaseException as err:  # noqa: BLE001 - re-raised after CVode returns
            self._error = err
            return -1

    def _on_error(self, line, func, file, msg, code, _user, _ctx) -> None:
        self._message = (msg or b"").decode("utf-8", "replace")

    # -- stepping --------------------------------------------------------------------------

    def advance(self, t_end: float, *, t_stop: float | None = None,
                step_done: StepDone | None = None) -> Reached:
        f, mem = self.f, self.mem
        if t_stop is not None:
            f.CVodeSetStopTime(mem, t_stop)
        if step_done is None:
            flag = f.CVode(mem, t_end, self.y, byref(self._tret), CV_NORMAL)
            return self._returned(flag, t_end)
        f.CVodeSetStopTime(mem, min(t_end, t_stop) if t_stop is not None else t_end)
        while True:
            flag = f.CVode(mem, t_end, self.y, byref(self._tret), CV_ONE_STEP)
            reached = self._returned(flag, t_end)
            if reached.why is Stop.ROOT:
                return reached
            if step_done(reached.t, self.x[:self.problem.n]):
                return Reached(reached.t, Stop.STEP)
            if reached.t >= t_end:
                return reached

    def _returned(self, flag: int, t_end: float) -> Reached:
        if flag < 0:
            self._fail(flag)
        self._copy_out()
        self.t = self._tret.value
        self.stats.steps = self._steps_before + self._steps()
        if flag == CV_ROOT_RETURN:
            self.stats.roots += 1
            return Reached(self.t, Stop.ROOT)
        return Reached(min(self.t, t_end), Stop.END)

    def _fail(self, flag: int) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error
        raise IntegratorError(f"CVODE ({self.options.solver}) failed with "
                              f"{flag_name(flag)}: {self._message or 'no message'}; try a "
                              "larger rtol/atol, a max_step, or another solver",
                              time=self.t)

    def _check(self, flag: int, function: str) -> None:
        if flag != 0:
            raise IntegratorError(f"{function} failed with {flag_name(flag)}: "
                                  f"{self._message or 'no message'}", time=self.t)

    def _steps(self) -> int:
        steps = c_long()
        self.f.CVodeGetNumSteps(self.mem, byref(steps))
        return steps.value

    def close(self) -> None:
        """Free CVODE's memory, the solvers, vectors and context (idempotent)."""
        if self.mem is None:
            return
        f, mem = self.f, c_void_p(self.mem)
        self.mem = None
        f.CVodeFree(byref(mem))
        for free, obj in ((f.SUNLinSolFree, self.LS), (f.SUNNonlinSolFree, self.NLS),
                          (f.SUNMatDestroy, self.A), (f.N_VDestroy, self.y),
                          (f.N_VDestroy, self.abstol)):
            if obj:
                free(obj)
        f.SUNContext_Free(byref(self.ctx))

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown
            self.close()
