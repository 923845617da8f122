"""The compiled fast path for the master loop (see docs/performance.md).

``compile_loop(sim)`` returns a :class:`~cosim.fast.loop.CompiledLoop` whose
``run(execution, t_a, t_b)`` performs the macro steps natively and hands recorded rows
to observers with ``stepped_block``, bit-identical to the Python loop
(:meth:`cosim.execution.Execution._plain_steps`); or ``None`` when the run cannot be
compiled, and the Python loop runs.

The kernel is a plug-in: every node publishes its compiled form
(:meth:`~cosim.subsystems.base.Subsystem.native_form`: FMU call tables, built-in blocks'
parameters and state) and the system its buffers; this package imports no adapter or
block class, and the differential tests in ``tests/fast`` hold the kernel and the Python
code to bit-identity. The loop compiles when every node has a native form, the master
is Gauss-Seidel or Jacobi, and the run uses no feature the kernel does not implement
(events, monitors, extrapolation, adaptive steps, multirate, algebraic loops).
:func:`explain` says why a run does not compile. The kernel (``kernel.c``) is compiled
with the machine's C compiler on first use and cached per user; without a compiler cosim
runs the Python loop and says so once per process (a :class:`FastPathWarning`).
"""

from __future__ import annotations

import logging
import warnings

from . import build

__all__ = ["FastPathWarning", "compile_loop", "explain"]

log = logging.getLogger(__name__)
_warned = False


class FastPathWarning(RuntimeWarning):
    """The compiled loop is unavailable; cosim runs the (slower) Python loop."""


def explain(sim) -> str | None:
    """Why this simulation cannot use the compiled loop, or None if it can (given a
    compiler)."""
    from .loop import explain as _explain
    return _explain(sim)


def compile_loop(sim):
    from .loop import plan

    reason = explain(sim)
    if reason is not None:
        log.debug("compiled loop not used: %s", reason)
        return None
    try:
        lib = build.kernel()
    except build.KernelUnavailable as err:
        _warn_once(str(err))
        return None
    return plan(lib, sim)


def _warn_once(reason: str) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(f"cosim: the compiled loop is unavailable, running the Python loop "
                  f"instead ({reason})", FastPathWarning, stacklevel=4)
