"""What each node exposes, learned without instantiating any FMU.

FMU nodes: the model description (read safely, cached). Block nodes: the block class
is resolved and constructed with its parameters (pure Python, cheap), and asked for
its interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, CosimError, FMUError, Problem
from ..fmu import archive, description
from ..variables import Interface

CO_SIMULATION, MODEL_EXCHANGE = "co-simulation", "model-exchange"


@dataclass
class NodeInfo:
    """A node's kind, interface and where it comes from. ``fmi_interface``: which FMI
    interface an FMU node uses ("co-simulation" or "model-exchange")."""

    name: str
    kind: str  # "fmu" | "block"
    interface: Interface
    fmu: description.FMUInfo | None = None
    block_class: type | None = None
    fmi_interface: str | None = None
    home: Path | None = None  # a block's folder for relative paths (Topology.node_dir)
    fixed_step: float | None = None  # [s] the only step a block can take (Block.fixed_step)
    time_range: tuple[float, float] | None = None  # [s] the times it can run (Block.time_range)

    @property
    def model_exchange(self) -> bool:
        return self.fmi_interface == MODEL_EXCHANGE

    @property
    def can_roll_back(self) -> bool:
        """Blocks always; FMUs when the interface they use can get and set FMU state."""
        if self.kind != "fmu":
            return True
        element = self.fmu.model_exchange if self.model_exchange else self.fmu.co_simulation
        return bool(getattr(element, "canGetAndSetFMUstate", False)
                    or getattr(element, "canGetAndSetFMUState", False))


def describe(topology) -> tuple[dict[str, NodeInfo], list[Problem]]:
    """Interfaces of every node that can be read, and a problem for each that cannot."""
    infos: dict[str, NodeInfo] = {}
    problems: list[Problem] = []
    for name, data in topology.graph.nodes(data=True):
        try:
            if data["kind"] == "fmu":
                infos[name] = _describe_fmu(topology, name)
            else:
                infos[name] = _describe_block(topology, name, data)
        except CosimError as err:
            problems.append(Problem(str(err), data.get("where", ""), name))
    return infos, problems


def _describe_fmu(topology, name: str) -> NodeInfo:
    info = description.read(topology.fmu_path(name))
    used = fmi_interface(topology, name, info)
    description.check_binary(info, used)
    with archive.open_archive(info.path) as zf:
        archive.check_entries(zf, info.path)
    params = topology.graph.nodes[name]["parameters"]
    return NodeInfo(name, "fmu", description.resized(info.interface, params), fmu=info,
                    fmi_interface=used)


def fmi_interface(topology, name: str, info: description.FMUInfo) -> str:
    """The FMI interface node ``name`` uses: the one its ``interface:`` asks for, model
    exchange when a cluster lists it, else co-simulation when the FMU has it."""
    asked = topology.graph.nodes[name].get("interface")
    if asked is None and topology.cluster_of(name) is not None:
        asked = MODEL_EXCHANGE
    has = {CO_SIMULATION: info.co_simulation is not None,
           MODEL_EXCHANGE: info.model_exchange is not None}
    if asked is None:
        return CO_SIMULATION if has[CO_SIMULATION] else MODEL_EXCHANGE
    if not has[asked]:
        why = "a cluster lists it" if topology.graph.nodes[name].get("interface") is None \
            else f"interface: {asked}"
        other = [k for k, v in has.items() if v]
        raise FMUError(f"{info.path.name} has no {asked} interface ({why}); it has: "
                       f"{', '.join(other) or 'none'}")
    return asked


def block_class(topology, source: Any, node: str | None = None) -> type:
    """Resolve a block spec (short name, ``module:Class``, ``file.py:Class``) or class;
    from ``node``'s folder first (:meth:`~cosim.topology.graph.Topology.node_dir`)."""
    from ..blocks.registry import resolve_block
    if isinstance(source, type):
        return source
    first = topology.node_dir(node) if node is not None else topology.base_dir
    return resolve_block(source, list(dict.fromkeys([first, topology.base_dir])))


def _describe_block(topology, name: str, data: dict) -> NodeInfo:
    cls = block_class(topology, data["source"], name)
    home = topology.node_dir(name)
    block = construct_block(cls, home, data["parameters"])
    try:
        iface = block.interface()
    except CosimError:
        raise
    except Exception as err:  # noqa: BLE001 - user code: report it, never a traceback
        raise ConfigError(f"{cls.__name__}.interface() raised {type(err).__name__}: "
                          f"{err}") from err
    return NodeInfo(name, "block", iface, block_class=cls, home=home,
                    fixed_step=block.fixed_step(), time_range=block.time_range())


def construct_block(cls: type, base_dir, parameters: dict):
    """``cls(base_dir=..., **parameters)``; anything the constructor raises (user code)
    becomes one ConfigError naming the class and the error, never a traceback."""
    try:
        return cls(base_dir=base_dir, **parameters)
    except CosimError:
        raise
    except (Exception, SystemExit) as err:  # noqa: BLE001 - user code
        what = f"sys.exit({err.code!r})" if isinstance(err, SystemExit) else \
            f"{type(err).__name__}: {err}"
        raise ConfigError(f"creating block {cls.__name__} with its parameters failed: "
                          f"{what}") from None
