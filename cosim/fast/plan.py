"""What the compiled loop can do for a run, and how each node takes part.

:func:`explain` says why a run cannot use the compiled loop at all (``None``: it can);
:func:`node_plan` says, node by node, whether the kernel runs the node natively (its
published :class:`~cosim.protocol.NativeForm`) or calls back into Python for it (with the
node's reason). Runs use the compiled loop with any mix of the two (hybrid execution).
``COSIM_FAST=0`` in the environment keeps every run on the Python loop (as
``fast=False`` does for one Simulation): for comparisons and for the command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..clock import to_ticks
from ..protocol import NativeForm, NotNative

KINDS = {"fmi2": 1, "fmi3": 2, "constant": 3, "pid": 4, "polynomial": 5, "step": 6,
         "ramp": 7, "table": 8, "cfunc": 9, "python": 10, "surrogate": 11}
MASTERS = ("gauss-seidel", "jacobi")
#: run settings that change what the loop computes, which the kernel does not implement
UNSUPPORTED_RUN = {"adaptive": "adaptive steps", "extrapolation": "extrapolation"}
MAX_TICKS = 2 ** 62  # the kernel's to_ticks (int64) and the signals' tick parameters


@dataclass(frozen=True)
class NodePlan:
    """How one node runs in the compiled loop: ``kind`` is its native kind, or
    ``"python"`` with ``reason`` saying why it has no native form."""

    name: str
    kind: str
    reason: str | None = None

    @property
    def native(self) -> bool:
        return self.kind != "python"

    def describe(self) -> str:
        return f"{self.name}: native ({self.kind})" if self.native else \
            f"{self.name}: Python ({self.reason})"


def explain(sim) -> str | None:
    """Why this run cannot use the compiled loop (None: it can, given a compiler)."""
    if os.environ.get("COSIM_FAST", "1").strip() == "0":
        return "COSIM_FAST=0 in the environment"
    reason = _run_reason(sim) or _system_reason(sim.system)
    if reason:
        return reason
    layout = sim.system.layout()
    for name in ("u", "y", "y_prev"):
        arr = getattr(layout, name)
        if arr.dtype != np.float64 or not arr.flags.c_contiguous:
            return f"system buffer {name} is not contiguous float64"
    return None


def _run_reason(sim) -> str | None:
    if sim.algorithm.name not in MASTERS:
        return f"algorithm {sim.algorithm.name!r} has no compiled form"
    run = sim.run_spec
    for name, what in UNSUPPORTED_RUN.items():
        field = type(run).model_fields[name]
        if getattr(run, name) != field.get_default(call_default_factory=True):
            return f"the run uses {what}"
    try:
        ticks = [to_ticks(run.start), to_ticks(run.stop), to_ticks(run.step)]
    except ValueError as err:
        return str(err)
    if max(abs(t) for t in ticks) >= MAX_TICKS:
        return "times beyond 2**62 ns (146 years)"
    return None


def _system_reason(system) -> str | None:
    for attr, what in (("has_loops", "algebraic loops"), ("extrapolating", "extrapolation"),
                       ("multirate", "nodes with their own steps (multirate)"),
                       ("has_maps", "mapping tables on connections")):
        if getattr(system, attr, False):
            return f"the system has {what}"
    if getattr(system, "has_objects", False) or getattr(system, "object_signals", None):
        return "the system exchanges or records strings, binaries or 64-bit integers"
    return None


def forms(system) -> list[NativeForm | str]:
    """Each node's native form, or the reason it has none (a string)."""
    out: list[NativeForm | str] = []
    for sub in system.subsystems:
        try:
            form = sub.native_form()
        except NotNative as err:
            out.append(str(err))
            continue
        out.append(form if form.kind in KINDS and form.kind != "python" else
                   f"node {sub.name}: the kernel has no {form.kind!r} nodes")
    return out


def node_plan(sim) -> list[NodePlan]:
    """How every node runs in the compiled loop (in stepping order)."""
    return [plan_of(sub.name, f)
            for sub, f in zip(sim.system.subsystems, forms(sim.system), strict=True)]


def plan_of(name: str, form: NativeForm | str) -> NodePlan:
    """How node ``name`` takes part, from its native form or the reason it has none."""
    if isinstance(form, NativeForm):
        return NodePlan(name, form.kind)
    return NodePlan(name, "python", node_reason(form, name))


def node_reason(reason: str, node: str) -> str:
    """A NotNative reason without its leading ``node NAME: ``."""
    prefix = f"node {node}: "
    return reason[len(prefix):] if reason.startswith(prefix) else reason


def exact_times(t0: int, h: int, *ends: int) -> bool:
    """True when every communication point ``t0 + n*h`` up to ``ends`` [ticks] is a double
    exactly, so that ``ticks / 1e9`` in C equals Python's ``ticks / 10**9``."""
    def zeros(v: int) -> int:
        return (v & -v).bit_length() - 1 if v else 64

    biggest = max(abs(t0), *(abs(e) for e in ends))
    if biggest >= MAX_TICKS:
        return False
    shift = min(zeros(t0), zeros(h), *(zeros(e) for e in ends))
    return biggest < 2 ** (53 + shift)
