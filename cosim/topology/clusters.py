"""Model-exchange clusters: which nodes cosim integrates together, checked.

A cluster is a set of model-exchange FMU nodes (and Python blocks, evaluated as
algebraic maps) integrated as one state vector; connections between its members are
solved at every evaluation of the right-hand side, so they have no coupling delay. A
model-exchange node that no cluster lists is a cluster of its own, named after it. To
the master every cluster is one co-simulation node (see
:mod:`cosim.topology.contraction` and :mod:`cosim.subsystems.me_cluster`).

What is checked (every problem at once, each at ``file:line``): clusters naming unknown
nodes or nodes listed twice, members that cannot run as model exchange (co-simulation
only, ``interface: co-simulation``, the stateful ``pid`` block), solver keys or own steps
on members (they belong to the cluster), solver keys or ``interface`` where they mean
nothing, ``delayed`` connections inside a cluster, and algebraic loops inside a cluster
(the members are evaluated in dependency order once per evaluation, never iterated).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from .interfaces import NodeInfo

STATEFUL_BLOCKS = ("pid",)  # built-in blocks whose outputs depend on their past


@dataclass(frozen=True)
class ClusterPlan:
    """One cluster: its members (in the order listed), solver keys, step [s], where it
    is defined; ``implicit``: a lone model-exchange node, the cluster named after it."""

    name: str
    members: tuple[str, ...]
    solver: dict[str, Any] = field(default_factory=dict)
    step: float | None = None
    where: str = ""
    implicit: bool = False

    def prefix(self, member: str) -> str:
        """How the cluster names ``member``'s variables: ``"member."`` (none when
        implicit: the cluster has the member's name and variables)."""
        return "" if self.implicit else f"{member}."

    def describe(self) -> str:
        keys = {"solver": "cvode-bdf", **self.solver}
        settings = ", ".join(f"{k} {v}" for k, v in keys.items())
        return f"{self.name}: {', '.join(self.members)} ({settings})"


def plan_clusters(topology, infos: dict[str, NodeInfo]
                  ) -> tuple[dict[str, ClusterPlan], list[Problem]]:
    """The clusters of a topology (explicit ones, then one per lone model-exchange
    node, by name) and the problems found."""
    problems: list[Problem] = []
    graph = topology.graph
    plans: dict[str, ClusterPlan] = {}
    owner: dict[str, str] = {}
    for name, (spec, where) in graph.graph.get("clusters", {}).items():
        if name in graph:
            problems.append(Problem(f"cluster {name}: a node has this name; name the "
                                    "cluster differently", where, name))
        ratio = (spec.step or topology.run.step) / topology.run.step
        if abs(ratio - round(ratio)) > 1e-9 * ratio or round(ratio) < 1:
            problems.append(Problem(f"cluster {name}: its step {spec.step} s must be an "
                                    f"integer multiple of run.step ({topology.run.step} s)",
                                    where, name))
        members = _members(topology, name, spec, where, owner, problems)
        problems.extend(_member_problems(topology, name, members, infos, where))
        plans[name] = ClusterPlan(name, tuple(members), spec.solver_options(), spec.step,
                                  where)
    for node, data in sorted(graph.nodes(data=True)):
        info = infos.get(node)
        if node in owner or info is None:
            continue
        where = data.get("where", "")
        if info.model_exchange:
            plans[node] = ClusterPlan(node, (node,), dict(data.get("solver", {})),
                                      data.get("step"), where, implicit=True)
            continue
        if data.get("solver"):
            keys = ", ".join(data["solver"])
            problems.append(Problem(f"{keys}: solver settings are for model-exchange "
                                    "nodes (interface: model-exchange) and clusters", where,
                                    node))
        if data.get("interface") is not None and data["kind"] != "fmu":
            problems.append(Problem("interface: is for FMU nodes; a block has no FMI "
                                    "interface", where, node))
    problems.extend(_internal_connections(topology, plans))
    return dict(sorted(plans.items())), problems


def _members(topology, name, spec, where, owner, problems) -> list[str]:
    members = []
    for node in spec.nodes:
        if node not in topology.graph:
            close = difflib.get_close_matches(node, list(topology.graph.nodes), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(f"cluster {name} lists unknown node {node!r}{hint}",
                                    where, name))
        elif node in owner:
            problems.append(Problem(f"is listed by clusters {owner[node]} and {name}; a "
                                    "node belongs to one cluster", where, node))
        elif node in members:
            problems.append(Problem(f"cluster {name} lists it twice", where, node))
        else:
            owner[node] = name
            members.append(node)
    return members


def _member_problems(topology, name, members, infos, where) -> list[Problem]:
    out = []
    fmus = 0
    for node in members:
        data, info = topology.graph.nodes[node], infos.get(node)
        at = data.get("where") or where
        if data.get("interface") == "co-simulation":
            out.append(Problem(f"cluster {name} lists it, but it says interface: "
                               "co-simulation (cluster members run as model exchange)",
                               at, node))
        if data.get("solver"):
            out.append(Problem(f"{', '.join(data['solver'])}: set solver settings on "
                               f"cluster {name}, which integrates all its members", at,
                               node))
        if data.get("step") is not None:
            out.append(Problem(f"step: a cluster's members share its step; set step on "
                               f"cluster {name}", at, node))
        if data["kind"] == "block" and data["source"] in STATEFUL_BLOCKS:
            out.append(Problem(f"the {data['source']} block has state; a block in a "
                               "cluster is evaluated as an algebraic map at every "
                               "right-hand-side evaluation and never advances: keep it "
                               "outside the cluster", at, node))
        fmus += bool(info is not None and info.kind == "fmu")
    if members and not fmus and all(n in infos for n in members):
        out.append(Problem(f"cluster {name} has no model-exchange FMU: nothing to "
                           "integrate", where, name))
    return out


def _internal_connections(topology, plans: dict[str, ClusterPlan]) -> list[Problem]:
    of = {m: p.name for p in plans.values() for m in p.members}
    out = []
    for c in topology.connections():
        cluster = of.get(c.source_node)
        if c.delayed and cluster is not None and of.get(c.target_node) == cluster:
            out.append(Problem(f"delayed: connections inside cluster {cluster} are solved "
                               "at every right-hand-side evaluation, without delay; remove "
                               "'delayed' or move a node out of the cluster", c.where,
                               c.target_node, c.target_var))
    return out


def split_loops(loops: list[list[str]], plans: dict[str, ClusterPlan], topology
                ) -> tuple[list[list[str]], list[Problem]]:
    """Algebraic loops the master solves (not inside one cluster) and a problem for
    each loop inside a cluster."""
    of = {m: p.name for p in plans.values() for m in p.members}
    kept, problems = [], []
    for loop in loops:
        clusters = {of.get(port.partition(".")[0]) for port in loop}
        if len(clusters) == 1 and None not in clusters:
            name = clusters.pop()
            path = " -> ".join(loop + [loop[0]])
            problems.append(Problem(
                f"algebraic loop inside cluster {name}: {path}; a cluster evaluates its "
                "members in dependency order and cannot iterate: move one of these nodes "
                "out of the cluster (the master then solves the loop) or break it in a "
                "model", plans[name].where, name))
        else:
            kept.append(loop)
    return kept, problems
