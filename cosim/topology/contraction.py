"""The system the master runs: every model-exchange cluster contracted to one node.

The user's topology keeps its nodes (``cosim check``, results and parameters name
them); the run core is built from a *view* of it in which each cluster (see
:mod:`cosim.topology.clusters`) is a single node of kind ``"cluster"``:

* the cluster node is named after the cluster (a lone model-exchange node keeps its
  name); its variables are its members' variables, named ``member.variable`` (a lone
  node's keep their names). A member input driven from inside the cluster is no
  longer a port (causality ``local``); an output depends directly on the cluster inputs
  it reaches through the members' feedthrough and the internal connections;
* connections inside a cluster disappear from the view (the cluster solves them at
  every right-hand-side evaluation), the others are re-attached to the cluster's ports
  with the effective gain and offset the check computed (unit conversion included);
* scheduled events, monitors, recorded and monitored signals, parameters and start
  values are renamed the same way; the order and the algebraic loops are computed
  again on the contracted graph.

Without clusters the view is the topology and report themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from ..variables import INPUT, LOCAL, OUTPUT, Interface
from .analysis import algebraic_loops, gauss_seidel_order
from .checks import CheckReport
from .clusters import ClusterPlan
from .graph import Connection, Topology
from .interfaces import NodeInfo
from .schema import parse_condition


@dataclass
class ClusterInfo(NodeInfo):
    """A cluster node of the view: its plan, its members' infos and the connections
    between members (with their effective gain and offset)."""

    plan: ClusterPlan | None = None
    members: dict[str, NodeInfo] = field(default_factory=dict)
    internal: list[tuple[Connection, float, float]] = field(default_factory=list)


@dataclass
class SystemView:
    """The contracted topology and report, and where each user node went."""

    topology: Topology
    report: CheckReport
    #: user node -> (system node, prefix of its variables there)
    place: dict[str, tuple[str, str]] = field(default_factory=dict)

    def port(self, node: str, variable: str) -> tuple[str, str]:
        """``(system node, variable)`` of the user's ``node.variable``."""
        return _placed(self.place, node, variable)

    def key(self, key: str) -> str:
        """``"mass1.k"`` -> ``"mechanics.mass1.k"`` (keys of parameters and values)."""
        node, _, var = key.partition(".")
        return ".".join(self.port(node, var))

    def keys(self, values: dict[str, Any]) -> dict[str, Any]:
        return {self.key(k): v for k, v in values.items()}


def _placed(place: dict[str, tuple[str, str]], node: str, variable: str) -> tuple[str, str]:
    """``(system node, variable)`` of ``node.variable`` given where each member went."""
    target, prefix = place.get(node, (node, ""))
    return target, prefix + variable


def system_view(topology: Topology, report: CheckReport) -> SystemView:
    """The view the run core is built from (identity without clusters)."""
    if not report.clusters:
        return SystemView(topology, report)
    place = {m: (p.name, p.prefix(m)) for p in report.clusters.values() for m in p.members}
    view = Topology(topology.name, description=topology.graph.graph["description"],
                    base_dir=topology.base_dir, source=topology.source,
                    run=topology.run.model_copy(update={"order": None}))
    infos: dict[str, NodeInfo] = {}
    for name, data in topology.graph.nodes(data=True):
        if name not in place:
            view.graph.add_node(name, **data)
            infos[name] = report.nodes[name]
    for plan in report.clusters.values():
        infos[plan.name] = _add_cluster(view, topology, report, plan)
    gains = _connections(view, topology, report, place)
    _events(view, topology, place)
    vreport = CheckReport(view, infos, gains=gains, display=report.display)
    interfaces = {n: i.interface for n, i in infos.items()}
    result = SystemView(view, vreport, place)
    vreport.recorded = [result.port(n, v) for n, v in report.recorded]
    vreport.monitored = [result.port(n, v) for n, v in report.monitored]
    vreport.unconnected_inputs = [result.key(p) for p in report.unconnected_inputs]
    vreport.loops = algebraic_loops(view, interfaces)
    vreport.cannot_roll_back = sorted({place.get(n, (n, ""))[0]
                                       for n in report.cannot_roll_back})
    vreport.order = _order(topology, view, interfaces, place)
    return result


def _add_cluster(view: Topology, topology: Topology, report: CheckReport,
                 plan: ClusterPlan) -> ClusterInfo:
    members = {m: report.nodes[m] for m in plan.members}
    internal = [(c, *report.gain_offset(c)) for c in topology.connections()
                if c.source_node in members and c.target_node in members]
    params, start, located = {}, {}, {}
    for m in plan.members:
        data, prefix = topology.graph.nodes[m], plan.prefix(m)
        params.update({prefix + k: v for k, v in data["parameters"].items()})
        start.update({prefix + k: v for k, v in data["start"].items()})
        where = data.get("param_where", {})
        located.update({prefix + k: where.get(k) or data.get("where", "")
                        for k in data["parameters"]})
    where = plan.where or topology.graph.nodes[plan.members[0]].get("where", "")
    view.graph.add_node(plan.name, kind="cluster", source=plan, parameters=params,
                        start=start, step=plan.step, description="", where=where,
                        param_where=located, interface=None, solver=dict(plan.solver))
    interface = cluster_interface(plan, members, [c for c, _, _ in internal])
    return ClusterInfo(plan.name, "cluster", interface, plan=plan, members=members,
                       internal=internal)


def cluster_interface(plan: ClusterPlan, members: dict[str, NodeInfo],
                      internal: list[Connection]) -> Interface:
    """The cluster's variables (see the module docstring)."""
    driven = {c.target for c in internal}
    graph = nx.DiGraph()
    for c in internal:
        graph.add_edge(c.source, c.target)
    for m, info in members.items():
        for out in info.interface.outputs:
            for inp in info.interface.direct_dependencies(out.name):
                graph.add_edge(f"{m}.{inp}", f"{m}.{out.name}")
    variables = []
    for m, info in members.items():
        prefix = plan.prefix(m)
        for v in info.interface.variables.values():
            port = f"{m}.{v.name}"
            if v.causality == INPUT and port in driven:
                variables.append(replace(v, name=prefix + v.name, causality=LOCAL))
            elif v.causality == OUTPUT:
                reach = nx.ancestors(graph, port) if port in graph else set()
                deps = sorted(plan.prefix(p.partition(".")[0]) + p.partition(".")[2]
                              for p in reach if p not in driven and _is_input(p, members))
                variables.append(replace(v, name=prefix + v.name, depends_on=tuple(deps)))
            else:
                variables.append(replace(v, name=prefix + v.name))
    return Interface.of(variables)


def _is_input(port: str, members: dict[str, NodeInfo]) -> bool:
    node, _, var = port.partition(".")
    v = members[node].interface.get(var)
    return v is not None and v.causality == INPUT


def _connections(view: Topology, topology: Topology, report: CheckReport, place
                 ) -> dict[tuple[str, str], tuple[float, float]]:
    """External connections re-attached to cluster ports; their effective gains."""
    gains = {}
    for c in topology.connections():
        src, dst = place.get(c.source_node), place.get(c.target_node)
        if src is not None and dst is not None and src[0] == dst[0]:
            continue  # inside a cluster
        s_node, s_var = _placed(place, c.source_node, c.source_var)
        d_node, d_var = _placed(place, c.target_node, c.target_var)
        view.connect(f"{s_node}.{s_var}", f"{d_node}.{d_var}", gain=c.gain, offset=c.offset,
                     delayed=c.delayed, check_units=c.check_units,
                     extrapolation=c.extrapolation, where=c.where)
        gains[(f"{s_node}.{s_var}", f"{d_node}.{d_var}")] = report.gain_offset(c)
    return gains


def _events(view: Topology, topology: Topology, place) -> None:
    def rename(port: str) -> str:
        node, _, var = port.partition(".")
        return ".".join(_placed(place, node, var))

    events = []
    for spec, where in topology.graph.graph["events"]:
        name = spec.name or f"{spec.set} = {spec.value}"
        events.append((spec.model_copy(update={"set": rename(spec.set), "name": name}),
                       where))
    monitors = []
    for spec, where in topology.graph.graph["monitors"]:
        port, op, threshold = parse_condition(spec.when)
        update = {"when": f"{rename(port)} {op} {threshold!r}",
                  "name": spec.name or spec.when}
        if spec.set is not None:
            update["set"] = rename(spec.set)
        monitors.append((spec.model_copy(update=update), where))
    view.graph.graph["events"] = events
    view.graph.graph["monitors"] = monitors


def _order(topology: Topology, view: Topology, interfaces, place) -> list[str]:
    """The stepping order: the user's ``run.order`` with each member replaced by its
    cluster (at its first member), else computed on the contracted graph."""
    if topology.run.order is None:
        return gauss_seidel_order(view, interfaces)
    order: list[str] = []
    for node in topology.run.order:
        name = place.get(node, (node, ""))[0]
        if name not in order:
            order.append(name)
    return order
