"""Topologies: pure data (schema, loading with file:line errors, graph analysis)."""

from .graph import Connection, Topology
from .loader import load
from .schema import RunSpec

__all__ = ["Connection", "RunSpec", "Topology", "load"]
