"""Reading and plotting cosim result files (see docs/results-format.md).

``cosim.results.read(path)`` -> :class:`RunData`; ``cosim.results.plot(data)``. The
submodules are imported on first use, so importing the layout alone stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunData", "plot", "read"]


def __getattr__(name: str) -> Any:
    if name in ("RunData", "read"):
        from . import reader
        return getattr(reader, name)
    if name == "plot":
        from .plots import plot
        return plot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
