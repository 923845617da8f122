"""What each node exposes, learned without instantiating any FMU.

FMU nodes: the model description (read safely, cached). Block nodes: the block class
is resolved and constructed with its parameters (pure Python, cheap), and asked for
its interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, CosimError, Problem
from ..fmu import archive, description
from ..variables import Interface


@dataclass
class NodeInfo:
    """A node's kind, interface and where it comes from."""

    name: str
    kind: str  # "fmu" | "block"
    interface: Interface
    fmu: description.FMUInfo | None = None
    block_class: type | None = None


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
    description.check_binary(info)
    with archive.open_archive(info.path) as zf:
        archive.check_entries(zf, info.path)
    params = topology.graph.nodes[name]["parameters"]
    return NodeInfo(name, "fmu", description.resized(info.interface, params), fmu=info)


def block_class(topology, source: Any) -> type:
    """Resolve a block spec (short name, ``module:Class``, ``file.py:Class``) or class."""
    from ..blocks.registry import resolve_block
    if isinstance(source, type):
        return source
    return resolve_block(source, [topology.base_dir])


def _describe_block(topology, name: str, data: dict) -> NodeInfo:
    cls = block_class(topology, data["source"])
    block = construct_block(cls, topology.base_dir, data["parameters"])
    try:
        iface = block.interface()
    except CosimError:
        raise
    except Exception as err:  # noqa: BLE001 - user code: report it, never a traceback
        raise ConfigError(f"{cls.__name__}.interface() raised {type(err).__name__}: "
                          f"{err}") from err
    return NodeInfo(name, "block", iface, block_class=cls)


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
