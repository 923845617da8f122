"""Make the subsystem for a topology node (FMU adapter by FMI version, or a block)."""

from __future__ import annotations

from ..errors import ConfigError
from ..topology.interfaces import NodeInfo
from .base import Subsystem
from .block import BlockSubsystem, block_factory
from .fmi2 import FMI2Subsystem
from .fmi3 import FMI3Subsystem


def make_subsystem(topology, name: str, info: NodeInfo) -> Subsystem:
    """The (not yet instantiated) subsystem of node ``name``, configured with the
    topology's parameters and start values."""
    data = topology.graph.nodes[name]
    if info.kind == "fmu":
        cls = FMI2Subsystem if info.fmu.fmi_major == 2 else FMI3Subsystem
        sub = cls(name, info.fmu, info.interface)
        sub.configure(data["parameters"], data["start"])
        return sub
    build = block_factory(info.block_class, topology.base_dir)
    try:
        block = build(**data["parameters"])
    except ConfigError as err:
        raise ConfigError(f"node {name}: {err}", file=data.get("where") or None) from None
    return BlockSubsystem(name, block, data["start"], factory=build,
                          parameters=data["parameters"])
