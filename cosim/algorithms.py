"""The registry of master algorithms, by name (read by the topology schema, the CLI and
studies; resolved to classes by :func:`cosim.master.make_algorithm`).

A leaf module: names and where each implementation lives, nothing imported. Adding an
algorithm is one line here and one class under :mod:`cosim.master`.
"""

from __future__ import annotations

#: name -> (``module:Class`` of the implementation, one-line description)
ALGORITHMS: dict[str, tuple[str, str]] = {
    "gauss-seidel": ("cosim.master.gauss_seidel:GaussSeidel",
                     "stages step one after another, each from the freshest outputs"),
    "jacobi": ("cosim.master.jacobi:Jacobi",
               "every node steps from the outputs of the last communication point"),
}

DEFAULT = "gauss-seidel"


def names() -> tuple[str, ...]:
    """The algorithm names a topology, the CLI or a study may use."""
    return tuple(ALGORITHMS)


def describe() -> str:
    """One line per algorithm, for ``--help`` texts."""
    return "; ".join(f"{name}: {text}" for name, (_, text) in ALGORITHMS.items())
