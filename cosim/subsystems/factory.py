"""Make the subsystem for a topology node (FMU adapter by FMI version, or a block)."""

from __future__ import annotations

from ..errors import ConfigError
from ..topology.interfaces import NodeInfo, construct_block
from .base import Subsystem
from .block import BlockSubsystem
from .fmi2 import FMI2Subsystem
from .fmi3 import FMI3Subsystem


def make_subsystem(topology, name: str, info: NodeInfo) -> Subsystem:
    data = topology.graph.nodes[name]
    if info.kind == "fmu":
        cls = FMI2Subsystem if info.fmu.fmi_major == 2 else FMI3Subsystem
        return cls(name, info.fmu, data["parameters"], data["start"])
    try:
        block = construct_block(info.block_class, topology.base_dir, data["parameters"])
    except ConfigError as err:
        raise ConfigError(f"node {name}: {err}", file=data.get("where") or None) from None
    return BlockSubsystem(name, block, data["start"])
