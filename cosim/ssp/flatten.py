"""Nested SSP systems flattened into cosim nodes and connection paths.

Node names
    A component's node name is the path of element names below the root system joined
    by :data:`SEPARATOR` (``-``): component ``pump`` of system ``cooling`` in the root
    is node ``cooling-pump``; components of the root keep their names. Characters a
    node name cannot hold (anything but letters, digits, ``_`` and ``-``; a leading
    digit) become ``_``, with a note. Names are unique: a clash is a problem naming
    both components.

Connections
    Each ``ssd:Connection`` becomes an edge between two *ports* (owner path, connector),
    directed by the connector kinds as SSP's table of allowed connections says (an
    ``output`` of an element to an ``input`` of an element, a system's ``input`` to its
    elements' inputs, an element's output to its system's ``output``, ...). A cosim
    connection is a path of such edges from a component's output, through any number
    of system connectors, to a component's input (:class:`Path`); its transformations
    and unit conversions are composed by :mod:`cosim.ssp.links`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import Problem
from ..topology.schema import NODE_NAME
from ..variables import Interface
from .model import Component, Connection, Connector, Description, System

SEPARATOR = "-"
Port = tuple[tuple[str, ...], str]  # (owner path from the root, connector name)

#: (source owner, source kind, destination owner, destination kind) that SSP allows
#: ("system": the system holding the connection; "element": one of its elements)
ALLOWED = {
    ("system", "input", "element", "input"), ("system", "input", "element", "inout"),
    ("system", "input", "system", "output"), ("system", "input", "system", "local"),
    ("system", "parameter", "element", "parameter"),
    ("system", "parameter", "element", "input"),
    ("system", "parameter", "element", "inout"),
    ("system", "structuralParameter", "element", "structuralParameter"),
    ("system", "structuralParameter", "element", "parameter"),
    ("system", "structuralParameter", "element", "input"),
    ("system", "parameter", "system", "output"),
    ("system", "parameter", "system", "calculatedParameter"),
    ("element", "output", "element", "input"), ("element", "output", "element", "inout"),
    ("element", "local", "element", "input"), ("element", "inout", "element", "input"),
    ("element", "constant", "element", "input"),
    ("element", "constant", "element", "parameter"),
    ("element", "calculatedParameter", "element", "parameter"),
    ("element", "calculatedParameter", "element", "input"),
    ("element", "output", "system", "output"), ("element", "output", "system", "local"),
    ("element", "local", "system", "output"), ("element", "inout", "system", "output"),
    ("element", "constant", "system", "output"),
    ("element", "calculatedParameter", "system", "calculatedParameter"),
    ("element", "calculatedParameter", "system", "output"),
}
#: every connector kind the table names (what an ``unspecified`` connector may be)
_KINDS = {k for _, k, _, _ in ALLOWED} | {k for _, _, _, k in ALLOWED}


@dataclass
class Owner:
    """A component or system at ``path`` with its connectors by name."""

    path: tuple[str, ...]
    element: Component | System
    connectors: dict[str, Connector]
    node: str | None = None  # components: the cosim node name
    interface: Interface | None = None  # components: what the FMU or block exposes

    @property
    def is_system(self) -> bool:
        return isinstance(self.element, System)


@dataclass
class Edge:
    """One connection, as data flows: ``source`` port to ``target`` port."""

    source: Port
    target: Port
    connection: Connection


@dataclass
class Path:
    """A chain of edges from a component's output to a component's input."""

    edges: list[Edge]

    @property
    def source(self) -> Port:
        return self.edges[0].source

    @property
    def target(self) -> Port:
        return self.edges[-1].target

    @property
    def ports(self) -> list[Port]:
        return [self.edges[0].source] + [e.target for e in self.edges]


@dataclass
class Flat:
    """The flattened system: owners by path, edges, problems and notes."""

    owners: dict[tuple[str, ...], Owner] = field(default_factory=dict)
    outgoing: dict[Port, list[Edge]] = field(default_factory=dict)
    incoming: dict[Port, list[Edge]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def components(self) -> list[Owner]:
        return [o for o in self.owners.values() if not o.is_system]


def node_name(path: tuple[str, ...]) -> str:
    """The cosim node name of the component at ``path`` (see the module docstring)."""
    parts = [re.sub(r"[^A-Za-z0-9_\-]", "_", p) or "_" for p in path]
    name = SEPARATOR.join(parts)
    return name if NODE_NAME.match(name) else f"_{name}"


def owners(desc: Description, flat: Flat) -> None:
    """Every component and system, by path, with unique node names for components."""
    taken: dict[str, Component] = {}

    def visit(element, path: tuple[str, ...]) -> None:
        connectors = {c.name: c for c in element.connectors}
        owner = Owner(path, element, connectors)
        flat.owners[path] = owner
        if isinstance(element, System):
            names: set[str] = set()
            for child in element.elements:
                if child.name in names:
                    flat.problems.append(Problem(f"system {element.name!r} has two elements "
                                                 f"named {child.name!r}", child.where))
                    continue
                names.add(child.name)
                visit(child, path + (child.name,))
            return
        owner.node = node_name(path)
        if owner.node in taken:
            flat.problems.append(Problem(
                f"component {'.'.join(path)!r} would be node {owner.node!r}, like the "
                f"component at {taken[owner.node].where}; rename one of them", element.where))
        elif owner.node != SEPARATOR.join(path):
            flat.notes.append(f"{element.where}: component {'.'.join(path)!r} is node "
                              f"{owner.node!r} (node names hold letters, digits, _ and -)")
        taken[owner.node] = element

    visit(desc.system, ())


def edges(flat: Flat, connector_of) -> None:
    """Every connection of every system as an edge directed by data flow.

    ``connector_of(owner, name)`` returns the connector of a component (declared, or
    taken from its FMU) or None; it reports nothing itself.
    """
    for path, owner in list(flat.owners.items()):
        if owner.is_system:
            for c in owner.element.connections:
                edge = _edge(flat, path, c, connector_of)
                if edge is not None:
                    flat.outgoing.setdefault(edge.source, []).append(edge)
                    flat.incoming.setdefault(edge.target, []).append(edge)


def _end(flat: Flat, path, element: str | None, name: str, connector_of):
    """``(port, role, connector)`` of one end of a connection in system ``path``."""
    system = flat.owners[path]
    if element is None:
        conn = system.connectors.get(name)
        if conn is None:
            raise _Bad(f"system {system.element.name!r} has no connector {name!r} "
                       f"(its connectors: {_names(system.connectors)})")
        return (path, name), "system", conn
    owner = flat.owners.get(path + (element,))
    if owner is None:
        elements = [e.name for e in system.element.elements]
        raise _Bad(f"system {system.element.name!r} has no element {element!r} (elements: "
                   f"{', '.join(elements) or 'none'})")
    conn = owner.connectors.get(name) if owner.is_system else connector_of(owner, name)
    if conn is None:
        what = "system" if owner.is_system else "component"
        declared = _names(owner.connectors)
        raise _Bad(f"{what} {element!r} has no connector {name!r} (declared: {declared})")
    return (owner.path, name), "element", conn


class _Bad(ValueError):
    pass


def _names(connectors: dict) -> str:
    return ", ".join(connectors) or "none"


def _edge(flat: Flat, path, c: Connection, connector_of) -> Edge | None:
    try:
        a_port, a_role, a = _end(flat, path, c.start_element, c.start_connector, connector_of)
        b_port, b_role, b = _end(flat, path, c.end_element, c.end_connector, connector_of)
    except _Bad as err:
        flat.problems.append(Problem(f"connection {_show(c)}: {err}", c.where))
        return None
    if _allowed(a_role, a.kind, b_role, b.kind):
        return Edge(a_port, b_port, c)
    if _allowed(b_role, b.kind, a_role, a.kind):
        return Edge(b_port, a_port, c)
    flat.problems.append(Problem(
        f"connection {_show(c)}: SSP does not allow a connection between {article(a.kind)} of "
        f"{'the system' if a_role == 'system' else 'an element'} and {article(b.kind)} of "
        f"{'the system' if b_role == 'system' else 'an element'}", c.where))
    return None


def article(kind: str) -> str:
    """``kind`` with its indefinite article (``an input``, ``a parameter``)."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _allowed(src_role: str, src_kind: str, dst_role: str, dst_kind: str) -> bool:
    sources = _KINDS if src_kind == "unspecified" else {src_kind}
    targets = _KINDS if dst_kind == "unspecified" else {dst_kind}
    return any((src_role, s, dst_role, t) in ALLOWED for s in sources for t in targets)


def _show(c: Connection) -> str:
    a = f"{c.start_element}.{c.start_connector}" if c.start_element else c.start_connector
    b = f"{c.end_element}.{c.end_connector}" if c.end_element else c.end_connector
    return f"{a} -- {b}"


def paths(flat: Flat) -> list[Path]:
    """Every chain of edges from a component's output port to a component's port,
    through system connectors (deterministic order: by source, then document order)."""
    found: list[Path] = []
    for port, out in list(flat.outgoing.items()):
        if not flat.owners[port[0]].is_system:
            for edge in out:
                _walk(flat, [edge], found)
    return found


def _walk(flat: Flat, chain: list[Edge], found: list[Path]) -> None:
    target = chain[-1].target
    if not flat.owners[target[0]].is_system:
        found.append(Path(list(chain)))
        return
    for edge in flat.outgoing.get(target, []):
        if any(e.target == edge.target for e in chain):
            flat.problems.append(Problem("connections through system connectors form a "
                                         "cycle", edge.connection.where))
            continue
        _walk(flat, chain + [edge], found)


def downstream(flat: Flat, port: Port) -> list[Path]:
    """Chains from ``port`` (a system connector) to component ports."""
    found: list[Path] = []
    for edge in flat.outgoing.get(port, []):
        _walk(flat, [edge], found)
    return found
