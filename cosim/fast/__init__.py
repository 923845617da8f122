"""The compiled fast path for the master loop (see the fast-path issue).

``compile_loop(system, algorithm, run_spec)`` returns an object with
``run(t0, t1, h, n_from, n_to, observers)`` that performs macro steps ``n_from..n_to``
(integer ticks: step n ends at ``min(t0 + n*h, t1)``) natively and hands recorded rows
to observers with ``stepped_block``, bit-identical to
:meth:`cosim.execution.Execution._python_steps`; or ``None`` when the system cannot be
compiled, and the Python loop runs.
"""

from __future__ import annotations


def compile_loop(system, algorithm, run_spec):
    return None
