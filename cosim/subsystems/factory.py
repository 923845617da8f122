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
    topology's parameters and start values (a ``cluster`` node of a contracted
    topology: its members, see :mod:`cosim.topology.contraction`)."""
    data = topology.graph.nodes[name]
    if info.kind == "cluster":
        sub = _cluster(topology, name, info)
        sub.configure(data["parameters"], data["start"])
        return sub
    if info.kind == "fmu":
        cls = FMI2Subsystem if info.fmu.fmi_major == 2 else FMI3Subsystem
        sub = cls(name, info.fmu, info.interface)
        sub.configure(data["parameters"], data["start"])
        return sub
    block, build = _block(topology, name, info, data["parameters"], data.get("where"))
    return BlockSubsystem(name, block, data["start"], factory=build,
                          parameters=data["parameters"])


def _block(topology, name: str, info, parameters: dict, where: str | None):
    """Node ``name``'s block built from ``parameters``, and the factory that built it
    (what the constructor raises: one ConfigError naming the node)."""
    build = block_factory(info.block_class, info.home or topology.base_dir)
    try:
        return build(**parameters), build
    except ConfigError as err:
        raise ConfigError(f"node {name}: {err}", file=where or None) from None


def _cluster(topology, name: str, info) -> Subsystem:
    from ..integrators.base import SolverOptions
    from .me_block import BlockMember
    from .me_cluster import ClusterSubsystem
    from .me_fmu import ME2Member, ME3Member
    plan = info.plan
    params = topology.graph.nodes[name]["parameters"]
    members = {}
    for m in plan.members:
        member = info.members[m]
        if member.kind == "fmu":
            cls = ME2Member if member.fmu.fmi_major == 2 else ME3Member
            members[m] = cls(m, member.fmu)
            continue
        prefix = plan.prefix(m)
        own = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
        block, build = _block(topology, m, member, own, plan.where)
        members[m] = BlockMember(m, block, factory=build, parameters=own)
    return ClusterSubsystem(name, info.interface, members,
                            {m: plan.prefix(m) for m in plan.members}, info.internal,
                            SolverOptions(**plan.solver))
