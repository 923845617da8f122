"""The compiled fast path for the master loop (see docs/performance.md).

``compile_loop(sim)`` returns a :class:`~cosim.fast.loop.CompiledLoop` whose
``run(execution, t_a, t_b)`` performs the macro steps natively and hands recorded rows
to observers with ``stepped_block``, bit-identical to the Python loop
(:meth:`cosim.execution.Execution._plain_steps`); or ``None`` when the run cannot be
compiled, and the Python loop runs. The event loop runs its stretches between events in
it too (:mod:`cosim.fast.segments`).

The kernel is a plug-in: every node publishes its compiled form
(:meth:`~cosim.subsystems.base.Subsystem.native_form`: FMU call tables, blocks'
parameters and state, a user block's C step) and the system its buffers; this package
imports no adapter or block class, and the differential tests in ``tests/fast`` hold the
kernel and the Python code to bit-identity. A node without a compiled form runs its own
Python code, called from the kernel when its turn comes (hybrid execution):
:func:`node_plan` says which nodes run natively and why the others do not. The loop
compiles when the master is Gauss-Seidel or Jacobi and the run uses no feature the kernel
does not implement (extrapolation, adaptive steps, multirate, algebraic loops, object
ports); :func:`explain` says why a run does not compile. The kernel (``kernel.c``) is
compiled with the machine's C compiler on first use and cached per user; without a
compiler cosim runs the Python loop and says so once per process (a
:class:`FastPathWarning`).
"""

from __future__ import annotations

import logging
import warnings

from . import build
from .plan import NodePlan, explain, node_plan

__all__ = ["FastPathWarning", "NodePlan", "compile_loop", "explain", "node_plan", "summary"]

log = logging.getLogger(__name__)
_warned = False


class FastPathWarning(RuntimeWarning):
    """The compiled loop is unavailable; cosim runs the (slower) Python loop."""


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


def summary(sim) -> list[str]:
    """Lines saying how runs of ``sim`` step: the compiled loop (node by node: native,
    or called in Python and why) or the Python loop (and why)."""
    if not sim.fast:
        return ["step loop: Python (fast=False or trace=True)"]
    reason = explain(sim)
    if reason is None and getattr(sim, "_compiled", None) is False:
        reason = build.failure() or "no compiled loop"
    if reason is not None:
        return [f"step loop: Python ({reason})"]
    compiled = getattr(sim, "_compiled", None)
    plans = compiled.plans() if compiled else node_plan(sim)
    native = sum(p.native for p in plans)
    head = f"step loop: compiled, {native} of {len(plans)} nodes native"
    if native < len(plans):
        head += ", the others called in Python"
    from ..execution import no_event_loop_reason
    events = no_event_loop_reason(sim)
    if events:
        head += f"; with {events}: the stretches between events"
    return [head] + [f"  {p.describe()}" for p in plans]


def _warn_once(reason: str) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(f"cosim: the compiled loop is unavailable, running the Python loop "
                  f"instead ({reason})", FastPathWarning, stacklevel=4)
