"""Results: what a run returns, and reading and plotting result files.

``cosim.results`` is the one public name for results (docs/results-format.md)::

    cosim.results.Result        what cosim.run / Simulation.run return (also cosim.Result)
    cosim.results.Termination   a node asked to end the run (Result.termination)
    cosim.results.read(path)    -> RunData: an HDF5 result file (also cosim.read)
    cosim.results.RunData       signals, units, parameters, provenance of a file
    cosim.results.plot(run)     quick-look plot of a Result's data or a file

The submodules are imported on first use, so importing the layout alone stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Result", "RunData", "Termination", "plot", "read"]  # imported lazily


def __getattr__(name: str) -> Any:
    # plain imports (not importlib), so readers and tools see what this package uses
    if name in ("RunData", "read"):
        from . import reader
        return getattr(reader, name)
    if name == "plot":
        from .plots import plot
        return plot
    if name in ("Result", "Termination"):
        from .. import result
        return getattr(result, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
