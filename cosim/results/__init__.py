"""Reading and plotting cosim result files (see docs/results-format.md)."""

from .plot import plot
from .reader import RunData, read

__all__ = ["RunData", "plot", "read"]
