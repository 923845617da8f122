"""The compiled fast path for the master loop (see docs/performance.md).

``compile_loop(system, algorithm, run_spec)`` returns an object with
``run(t0, t1, h, n_from, n_to, observers)`` that performs macro steps ``n_from..n_to``
(integer ticks: step n ends at ``min(t0 + n*h, t1)``) natively and hands recorded rows
to observers with ``stepped_block``, bit-identical to
:meth:`cosim.execution.Execution._python_steps`; or ``None`` when the system cannot be
compiled, and the Python loop runs.

The loop compiles when every node is an FMI 2 or FMI 3 co-simulation FMU exchanging
float64 ports, or a built-in block with a native form (``constant``, ``pid``,
``surrogate`` over a ``numpy.polynomial.Polynomial``, ``step``, ``ramp``), the master is
Gauss-Seidel or Jacobi, and the run uses no feature the kernel does not implement
(events, monitors, extrapolation, adaptive steps, ...). :func:`explain` says why a run
does not compile. The kernel (``kernel.c``) is compiled with the machine's C compiler
on first use and cached per user; without a compiler cosim runs the Python loop and
says so once per process (a :class:`FastPathWarning`).
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


def explain(system, algorithm, run_spec) -> str | None:
    """Why this run cannot use the compiled loop, or None if it can (given a compiler)."""
    from .loop import explain as _explain
    return _explain(system, algorithm, run_spec)


def compile_loop(system, algorithm, run_spec):
    from .loop import plan

    reason = explain(system, algorithm, run_spec)
    if reason is not None:
        log.debug("compiled loop not used: %s", reason)
        return None
    try:
        lib = build.kernel()
    except build.KernelUnavailable as err:
        _warn_once(str(err))
        return None
    return plan(lib, system, algorithm, run_spec)


def _warn_once(reason: str) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(f"cosim: the compiled loop is unavailable, running the Python loop "
                  f"instead ({reason})", FastPathWarning, stacklevel=4)
