"""Graph analysis: the port-level dependency graph, algebraic loops, stepping order.

The *port graph* has one vertex per ``node.variable``; an edge for every connection
(except ``delayed`` ones) and, inside each node, an edge from an input to every
output that depends on it directly. A cycle in it is an algebraic loop.

The Gauss-Seidel order is derived from the graph, never from the order of a file:
strongly connected components of the node graph in topological order (ties broken by
node name); inside a component, nodes are ordered so that direct-feedthrough paths are
up to date within the step (edges out of outputs with no direct feedthrough are
ignored there, and any remaining tie is broken by name).
"""

from __future__ import annotations

import networkx as nx

from ..variables import Interface, split_element


def port_graph(topology, interfaces: dict[str, Interface]) -> nx.DiGraph:
    g = nx.DiGraph()
    for c in topology.connections():
        if not c.delayed:  # array elements count as their whole variable
            g.add_edge(f"{c.source_node}.{split_element(c.source_var)[0]}",
                       f"{c.target_node}.{split_element(c.target_var)[0]}", connection=c)
    for node, iface in interfaces.items():
        for out in iface.outputs:
            for inp in iface.direct_dependencies(out.name):
                g.add_edge(f"{node}.{inp}", f"{node}.{out.name}")
    return g


def algebraic_loops(topology, interfaces: dict[str, Interface]) -> list[list[str]]:
    """Each algebraic loop as a cycle of ports ``[a.y, b.u, b.y, a.u]`` (deterministic)."""
    g = port_graph(topology, interfaces)
    loops = []
    for comp in sorted((sorted(c) for c in nx.strongly_connected_components(g)
                        if len(c) > 1), key=lambda c: c[0]):
        sub = g.subgraph(comp)
        # start at the first output feeding a connection, so the path reads a.y -> b.u ...
        sources = sorted(u for u, v, d in sub.edges(data=True) if "connection" in d)
        cycle = [u for u, _ in nx.find_cycle(sub, source=sources[0] if sources else comp[0])]
        if sources and sources[0] in cycle:
            k = cycle.index(sources[0])
            cycle = cycle[k:] + cycle[:k]
        loops.append(cycle)
    return loops


def gauss_seidel_order(topology, interfaces: dict[str, Interface]) -> list[str]:
    """The order in which Gauss-Seidel steps the nodes (see module docstring)."""
    g = nx.DiGraph()
    g.add_nodes_from(topology.nodes)
    for c in topology.connections():
        if not c.delayed and c.source_node != c.target_node:
            g.add_edge(c.source_node, c.target_node)
    cond = nx.condensation(g)
    members = cond.graph["mapping"]
    groups: dict[int, list[str]] = {}
    for node, comp in members.items():
        groups.setdefault(comp, []).append(node)
    order: list[str] = []
    for comp in nx.lexicographical_topological_sort(cond, key=lambda c: min(groups[c])):
        order.extend(_order_component(sorted(groups[comp]), topology, interfaces))
    return order


def _order_component(nodes: list[str], topology, interfaces) -> list[str]:
    if len(nodes) == 1:
        return nodes
    inside = set(nodes)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for c in topology.connections():
        if c.delayed or c.source_node not in inside or c.target_node not in inside:
            continue
        iface = interfaces.get(c.source_node)
        var = split_element(c.source_var)[0]
        if iface is not None and var in iface and iface.direct_dependencies(
                var) and c.source_node != c.target_node:
            g.add_edge(c.source_node, c.target_node)
    order: list[str] = []
    cond = nx.condensation(g)
    groups: dict[int, list[str]] = {}
    for node, comp in cond.graph["mapping"].items():
        groups.setdefault(comp, []).append(node)
    for comp in nx.lexicographical_topological_sort(cond, key=lambda c: min(groups[c])):
        order.extend(sorted(groups[comp]))
    return order
