"""A topology: the coupled system as a ``networkx.MultiDiGraph``.

The graph *is* the data model. Nodes are subsystems, edges are connections::

    graph.nodes["rack1"] == {"kind": "fmu", "source": "../fmus/build/fmi2/Rack.fmu",
                             "parameters": {...}, "start": {...}, "step": None,
                             "description": "", "where": "topologies/dc.yaml:12",
                             "param_where": {"C_cpu": "topologies/dc.yaml:13"},
                             "interface": None, "solver": {}}
    graph.edges["mixer", "cooler", "mixer.T_return->cooler.T_return"] == {
        "source_var": "T_return", "target_var": "T_return", "gain": 1.0, "offset": 0.0,
        "delayed": False, "check_units": True, "where": "topologies/dc.yaml:40"}

``graph.graph`` holds ``name``, ``description``, ``run`` (a :class:`RunSpec`),
``base_dir`` (the folder relative paths are resolved against) and ``source`` (the
file it was loaded from, if any); ``display_where`` maps each ``run.display_units``
pattern to its ``file:line``; ``clusters`` maps each model-exchange cluster's name to
``(ClusterSpec, where)``. A node's ``interface`` is the FMI interface the topology asks
for (None: the default), ``solver`` its solver keys (model exchange). Build one in Python or load one with
:func:`cosim.load`; analyse it with networkx as you like.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from ..errors import ConfigError, Problem, TopologyError
from .schema import (
    ClusterSpec,
    ConnectionSpec,
    EventSpec,
    MonitorSpec,
    NodeSpec,
    RunSpec,
    TopologySpec,
    split_port,
)


@dataclass(frozen=True)
class Connection:
    """One edge: ``target = gain * source + offset``; or, with ``mapping`` (integer and
    boolean values), ``target = mapping.get(source, source)`` as ``(source, target)``
    pairs."""

    source_node: str
    source_var: str
    target_node: str
    target_var: str
    gain: float = 1.0
    offset: float = 0.0
    delayed: bool = False
    check_units: bool = True
    where: str = ""
    extrapolation: str | None = None
    mapping: tuple[tuple[Any, Any], ...] | None = None

    @property
    def source(self) -> str:
        return f"{self.source_node}.{self.source_var}"

    @property
    def target(self) -> str:
        return f"{self.target_node}.{self.target_var}"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


class Topology:
    """A coupled system of FMUs and Python blocks, wired output -> input.

    Example::

        topo = Topology("decay_chain", stop=5.0, step=0.01)
        topo.add_fmu("a", "fmus/build/fmi2/Decay.fmu", parameters={"k": 2.0})
        topo.add_block("src", "constant", parameters={"value": 1.0})
        topo.connect("src.y", "a.u")
        result = cosim.run(topo)
    """

    def __init__(self, name: str = "topology", *, description: str = "",
                 base_dir: str | Path | None = None, source: str | Path | None = None,
                 run: RunSpec | None = None, **run_settings: Any):
        if run is not None and run_settings:
            raise TypeError("give either run=RunSpec(...) or run settings, not both")
        self.graph = nx.MultiDiGraph()
        self.graph.graph.update(
            name=name, description=description,
            run=run if run is not None else RunSpec(**run_settings),
            base_dir=Path(base_dir) if base_dir is not None else Path.cwd(),
            source=str(source) if source is not None else None,
            problems=[],
            events=[],   # [(EventSpec, where)]
            monitors=[],  # [(MonitorSpec, where)]
            clusters={},  # {name: (ClusterSpec, where)}
        )

    # -- properties ------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.graph.graph["name"]

    @property
    def run(self) -> RunSpec:
        """Run settings (start, stop, step in seconds; algorithm; record; ...)."""
        return self.graph.graph["run"]

    @run.setter
    def run(self, value: RunSpec) -> None:
        self.graph.graph["run"] = value

    @property
    def base_dir(self) -> Path:
        return self.graph.graph["base_dir"]

    @property
    def source(self) -> str | None:
        return self.graph.graph["source"]

    @property
    def nodes(self) -> list[str]:
        return list(self.graph.nodes)

    def node(self, name: str) -> dict[str, Any]:
        return self.graph.nodes[name]

    def connections(self) -> Iterator[Connection]:
        for src, dst, data in self.graph.edges(data=True):
            mapping = data.get("map")
            yield Connection(src, data["source_var"], dst, data["target_var"], data["gain"],
                             data["offset"], data["delayed"], data["check_units"],
                             data["where"], data.get("extrapolation"),
                             tuple(mapping.items()) if mapping is not None else None)

    @property
    def events(self) -> list[EventSpec]:
        """Scheduled events (set or ramp a value at a time), in the order given."""
        return [e for e, _ in self.graph.graph["events"]]

    @property
    def monitors(self) -> list[MonitorSpec]:
        """State events: conditions on signals, located by rollback when they turn true."""
        return [m for m, _ in self.graph.graph["monitors"]]

    @property
    def clusters(self) -> dict[str, ClusterSpec]:
        """Model-exchange clusters by name (nodes integrated together)."""
        return {name: spec for name, (spec, _) in self.graph.graph["clusters"].items()}

    def cluster_of(self, node: str) -> str | None:
        """The cluster listing ``node`` (the first, if several do: a checked problem)."""
        return next((name for name, spec in self.clusters.items() if node in spec.nodes),
                    None)

    def node_dir(self, node: str) -> Path:
        """The folder a node's relative paths resolve from: the folder of the file that
        wrote the node (a base file's, for a node ``extends:`` took over unchanged), else
        ``base_dir``. A block's data files and ``file.py:Class`` modules are found there."""
        home = self.graph.nodes[node].get("home")
        return Path(home) if home is not None else self.base_dir

    def fmu_path(self, node: str) -> Path:
        """The FMU file of an FMU node, resolved against ``base_dir``."""
        p = Path(self.graph.nodes[node]["source"])
        return p if p.is_absolute() else (self.base_dir / p)

    # -- building --------------------------------------------------------------------

    def add_fmu(self, name: str, path: str | Path, *, parameters: dict | None = None,
                start: dict | None = None, step: float | None = None, description: str = "",
                where: str = "", interface: str | None = None, **solver: Any) -> Topology:
        """Add an FMU node; ``path`` is relative to ``base_dir`` unless absolute.

        ``interface="model-exchange"`` integrates it in cosim (an FMU with both
        interfaces runs as co-simulation by default); ``solver``, ``rtol``, ``atol``,
        ``max_step`` choose how (see :class:`~cosim.topology.schema.NodeSpec`)."""
        self._add(name, "fmu", str(path), parameters, start, step, description, where,
                  interface=interface, **solver)
        return self

    def add_block(self, name: str, block: str | type, *, parameters: dict | None = None,
                  start: dict | None = None, step: float | None = None, description: str = "",
                  where: str = "") -> Topology:
        """Add a Python block: a built-in name (``"pid"``), ``"module:Class"``, or a class."""
        self._add(name, "block", block, parameters, start, step, description, where)
        return self

    def add_surrogate(self, name: str, path: str | Path, *, parameters: dict | None = None,
                      start: dict | None = None, description: str = "",
                      where: str = "") -> Topology:
        """Add a dynamic surrogate node from a ``.surrogate`` file (relative to
        ``base_dir``); ``parameters``: ``on_extrapolation``, ``fallback``, ``intervals``
        (see :mod:`cosim.surrogates.block`)."""
        params = {"artifact": str(path), **(parameters or {})}
        self._add(name, "block", SURROGATE_BLOCK, params, start, None, description, where)
        self.graph.nodes[name]["surrogate"] = True
        return self

    def _add(self, name, kind, source, parameters, start, step, description, where,
             **options):
        spec = NodeSpec(**{kind: source if isinstance(source, str) else "<class>"},
                        parameters=parameters or {}, start=start or {}, step=step,
                        description=description, **options)
        if name in self.graph or name in self.graph.graph["clusters"]:
            raise ConfigError(f"node {name!r} already exists")
        TopologySpec(nodes={name: spec})  # validates the name
        self.graph.add_node(name, kind=kind, source=source, parameters=dict(spec.parameters),
                            start=dict(spec.start), step=step, description=description,
                            where=where, interface=spec.interface,
                            solver=spec.solver_options())

    def add_cluster(self, name: str, nodes: list[str], *, step: float | None = None,
                    description: str = "", where: str = "", **solver: Any) -> Topology:
        """Integrate the model-exchange FMU nodes (and blocks) ``nodes`` together as one
        state vector (see :class:`~cosim.topology.schema.ClusterSpec`); ``solver``,
        ``rtol``, ``atol``, ``max_step`` choose the integrator."""
        spec = ClusterSpec(nodes=list(nodes), step=step, description=description, **solver)
        if name in self.graph or name in self.graph.graph["clusters"]:
            raise ConfigError(f"cluster {name!r}: the name is taken by a node or cluster")
        TopologySpec(nodes={}, clusters={name: spec})  # validates the name
        self.graph.graph["clusters"][name] = (spec, where)
        return self

    def add_event(self, at: float, set: str, value, *, until: float | None = None,
                  name: str | None = None, where: str = "") -> Topology:
        """At ``at`` [s] set ``set`` (node.variable) to ``value`` (ramp it with ``until``)."""
        spec = EventSpec(at=at, set=set, value=value, until=until, name=name)
        self.graph.graph["events"].append((spec, where))
        return self

    def add_monitor(self, when: str, *, action: str = "log", set: str | None = None,
                    value=None, name: str | None = None, where: str = "") -> Topology:
        """Watch ``when`` (e.g. ``"rack1.T_cpu > 358.15"``); see :class:`MonitorSpec`."""
        spec = MonitorSpec(when=when, action=action, set=set, value=value, name=name)
        self.graph.graph["monitors"].append((spec, where))
        return self

    def connect(self, source: str, target: str, *, gain: float = 1.0, offset: float = 0.0,
                delayed: bool = False, check_units: bool = True,
                extrapolation: str | None = None, mapping: dict | None = None,
                where: str = "") -> Topology:
        """Connect ``node.output`` to ``node.input``: ``target = gain * source + offset``.

        ``mapping`` (integer and boolean connections): ``{source value: target value}``,
        applied instead of gain and offset; values not in it pass unchanged.
        Unknown nodes are an error at once; unknown variables are reported by
        :meth:`check`, with every other problem.
        """
        spec = ConnectionSpec(**{"from": source, "to": target}, gain=gain, offset=offset,
                              delayed=delayed, check_units=check_units,
                              extrapolation=extrapolation, map=mapping)
        src, svar = split_port(spec.source)
        dst, dvar = split_port(spec.target)
        missing = [n for n in (src, dst) if n not in self.graph]
        if missing:
            known = ", ".join(sorted(self.graph.nodes)) or "none"
            raise TopologyError([Problem(f"connection {source} -> {target} names unknown "
                                         f"node {m!r} (known nodes: {known})", where, m)
                                 for m in missing])
        self.graph.add_edge(src, dst, key=f"{spec.source}->{spec.target}", source_var=svar,
                            target_var=dvar, gain=float(gain), offset=float(offset),
                            delayed=bool(delayed), check_units=bool(check_units), where=where,
                            extrapolation=extrapolation, map=spec.mapping)
        return self

    def copy(self) -> Topology:
        """An independent copy (node parameters and start values copied too)."""
        other = Topology.__new__(Topology)
        other.graph = self.graph.copy()
        for _, data in other.graph.nodes(data=True):
            data["parameters"] = dict(data["parameters"])
            data["start"] = dict(data["start"])
            data["param_where"] = dict(data.get("param_where", {}))
        other.graph.graph["run"] = self.run.model_copy()
        other.graph.graph["problems"] = list(self.graph.graph.get("problems", []))
        other.graph.graph["events"] = list(self.graph.graph["events"])
        other.graph.graph["monitors"] = list(self.graph.graph["monitors"])
        other.graph.graph["clusters"] = dict(self.graph.graph.get("clusters", {}))
        return other

    # -- checking --------------------------------------------------------------------

    def check(self):
        """Check everything that can be checked without instantiating an FMU.

        Returns a :class:`~cosim.topology.checks.CheckReport`; call its
        ``raise_if_problems()`` to get a :class:`TopologyError` listing all problems.
        """
        from .checks import check
        return check(self)

    # -- files -----------------------------------------------------------------------

    def to_spec(self, relative_to: Path | None = None, *, keep_homes: bool = False
                ) -> TopologySpec:
        """The topology as its file model; FMU paths made relative to ``relative_to``, and
        so are the file paths of blocks that have a folder of their own
        (:meth:`node_dir`), unless ``keep_homes`` (the caller keeps their folders)."""
        nodes = {}
        for name, data in self.graph.nodes(data=True):
            source, params = data["source"], data["parameters"]
            if data["kind"] == "fmu" and relative_to is not None:
                source = os.path.relpath(self.fmu_path(name), relative_to)
            elif data["kind"] == "block" and not isinstance(source, str):
                source = f"{source.__module__}:{source.__qualname__}"
            elif data.get("home") is not None and relative_to is not None and not keep_homes:
                source, params = self._rebased_block(name, source, params, relative_to)
            if data.get("surrogate"):
                nodes[name] = self._surrogate_spec(name, data, relative_to)
                continue
            nodes[name] = NodeSpec(**{data["kind"]: str(source)}, parameters=params,
                                   start=data["start"], step=data["step"],
                                   description=data["description"],
                                   interface=data.get("interface"),
                                   **data.get("solver", {}))
        conns = [ConnectionSpec(**{"from": c.source, "to": c.target}, gain=c.gain,
                                offset=c.offset, delayed=c.delayed, check_units=c.check_units,
                                extrapolation=c.extrapolation,
                                map=dict(c.mapping) if c.mapping is not None else None)
                 for c in self.connections()]
        return TopologySpec(name=self.name, description=self.graph.graph["description"],
                            run=self.run, nodes=nodes, clusters=self.clusters,
                            connections=conns, events=self.events, monitors=self.monitors)

    def _rebased_block(self, name: str, source: str, params: dict, relative_to: Path
                       ) -> tuple[str, dict]:
        """A block's ``file.py:Class`` and parameters naming files in its own folder,
        made relative to ``relative_to`` (a ``module:Class`` is found on the path)."""
        home = self.node_dir(name)

        def rebase(value: str) -> str:
            return os.path.relpath(home / value, relative_to)

        where, sep, cls = source.rpartition(":")
        if sep and (where.endswith(".py") or "/" in where) and not Path(where).is_absolute():
            source = f"{rebase(where)}:{cls}"
        params = {k: rebase(v) if isinstance(v, str) and v and "\n" not in v
                  and not Path(v).is_absolute() and (home / v).is_file() else v
                  for k, v in params.items()}
        return source, params

    def _surrogate_spec(self, name: str, data: dict, relative_to: Path | None) -> NodeSpec:
        """A surrogate node as written: its file (and fallback FMU) rebased."""
        params = dict(data["parameters"])
        for key in ("artifact", "fallback"):
            value = params.get(key)
            if relative_to is not None and isinstance(value, str) \
                    and not Path(value).is_absolute():
                params[key] = os.path.relpath(self.node_dir(name) / value, relative_to)
        artifact = params.pop("artifact")
        return NodeSpec(surrogate=str(artifact), parameters=params, start=data["start"],
                        step=data["step"], description=data["description"])

    def save(self, path: str | Path) -> Path:
        """Write the topology as YAML; FMU paths are rewritten relative to the new file."""
        p = Path(path)
        spec = self.to_spec(relative_to=p.resolve().parent)
        data = spec.model_dump(by_alias=True, exclude_defaults=True)
        run = spec.run.model_dump(exclude_defaults=True)
        data["run"] = {**{k: getattr(spec.run, k) for k in ("start", "stop", "step",
                                                           "algorithm")}, **run}
        data["connections"] = [_compact(c) for c in data.get("connections", [])]
        p.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None))
        return p

    @classmethod
    def from_spec(cls, spec: TopologySpec, *, base_dir: Path | None = None,
                  source: str | None = None, where=lambda *loc: "") -> Topology:
        """Build the graph from a validated file model; ``where(*loc)`` gives file:line."""
        topo = cls(spec.name or (Path(source).stem if source else "topology"),
                   description=spec.description, base_dir=base_dir, source=source, run=spec.run)
        topo.graph.graph["display_where"] = {
            p: where("run", "display_units", p) for p in spec.run.display_units}
        for name, node in spec.nodes.items():
            kind = "fmu" if node.fmu is not None else "block"
            params = dict(node.parameters)
            if node.surrogate is not None:
                params = {"artifact": node.surrogate, **params}
            topo.graph.add_node(name, kind=kind,
                                source=node.fmu or node.block or SURROGATE_BLOCK,
                                parameters=params, start=dict(node.start),
                                step=node.step, description=node.description,
                                where=where("nodes", name), interface=node.interface,
                                solver=node.solver_options(),
                                param_where={k: where("nodes", name, "parameters", k)
                                             for k in node.parameters})
            if node.surrogate is not None:
                topo.graph.nodes[name]["surrogate"] = True
        topo.graph.graph["clusters"] = {name: (c, where("clusters", name))
                                         for name, c in spec.clusters.items()}
        topo._replace(spec.replace, where)
        for i, c in enumerate(spec.connections):
            try:
                topo.connect(c.source, c.target, gain=c.gain, offset=c.offset,
                             delayed=c.delayed, check_units=c.check_units,
                             extrapolation=c.extrapolation, mapping=c.mapping,
                             where=where("connections", i))
            except TopologyError as err:
                topo.graph.graph["problems"].extend(err.problems)
        topo.graph.graph["events"] = [(e, where("events", i))
                                      for i, e in enumerate(spec.events)]
        topo.graph.graph["monitors"] = [(m, where("monitors", i))
                                        for i, m in enumerate(spec.monitors)]
        return topo

    def _replace(self, replace: dict[str, str], where) -> None:
        """``replace: {node: file.surrogate}``: FMU nodes become surrogate nodes, their
        FMU the fallback and their parameters those the surrogate must have been
        trained with."""
        for name, artifact in replace.items():
            data = self.graph.nodes.get(name)
            if data is None or data["kind"] != "fmu":
                what = "no such node" if data is None else f"a {data['kind']} node"
                self.graph.graph["problems"].append(Problem(
                    f"replace: {name!r} is {what}; only FMU nodes can be replaced by a "
                    "surrogate", where("replace", name), name))
                continue
            params = {"artifact": artifact, "fallback": str(data["source"])}
            if data["parameters"]:
                params["source_parameters"] = dict(data["parameters"])
            data.update(kind="block", source=SURROGATE_BLOCK, parameters=params,
                        surrogate=True, where=where("replace", name),
                        param_where={k: where("replace", name) for k in params})

    def __repr__(self) -> str:
        return (f"<Topology {self.name!r}: {self.graph.number_of_nodes()} nodes, "
                f"{self.graph.number_of_edges()} connections>")


#: the block class of ``surrogate:`` nodes (imported when the node is checked or built)
SURROGATE_BLOCK = "cosim.surrogates.block:DynamicSurrogate"


def _compact(conn: dict) -> Any:
    """A connection with default options is written as the ``a.y -> b.u`` shorthand."""
    if set(conn) == {"from", "to"}:
        return f"{conn['from']} -> {conn['to']}"
    return conn
