"""Port-level rules: what a connection may join, what a run records, what cosim says it
does not do.

A *port* is a variable (``rack1.T_out``) or an element of an FMI 3 array (``ss.y[2]``,
1-based, row-major). A connection joins ports of compatible kinds and equal sizes
(whole arrays element by element); numbers (reals, integers, booleans) convert into each
other as the checks allow; strings join strings and binaries join binaries, without gain
or offset; 64-bit integers join any integer or real (exactly, as Python integers, when
both ends are 64-bit). Clocks are never exchanged.

What is recorded (``run.record``): ``"all"`` records every output that can be recorded;
a node with no outputs at all records its local variables (its states) instead, and the
check report says so. Patterns (globs over ``node.variable``) match the outputs and local
variables (states) of FMUs and the outputs of blocks; a name without wildcards may name
any variable of an FMU, parameters and inputs included (``cooler.*`` records what it
always did; ``cooler.COP`` records a parameter as a signal). Binary and clock variables
are never recorded: the report lists those left out.
"""

from __future__ import annotations

import fnmatch

from ..errors import Problem
from ..variables import (
    BINARY,
    BOOLEAN,
    CLOCK,
    INDEPENDENT,
    INTEGER,
    LOCAL,
    OUTPUT,
    REAL,
    STRING,
    Interface,
    Variable,
)

RECORDABLE = (REAL, INTEGER, BOOLEAN, STRING)


def resolve(iface: Interface, port: str) -> tuple[Variable | None, int | None, str | None]:
    """``(variable, flat element index or None, problem text or None)`` of a port."""
    try:
        found = iface.port(port)
    except IndexError as err:
        return None, None, str(err)
    if found is None:
        return None, None, None
    return found[0], found[1], None


def size_of(var: Variable, element: int | None) -> int:
    return 1 if element is not None else var.size


def kinds_compatible(src: Variable, dst: Variable) -> bool:
    """Whether values of ``src``'s kind may drive an input of ``dst``'s kind."""
    a, b = src.kind, dst.kind
    if CLOCK in (a, b):
        return False
    if a in (STRING, BINARY) or b in (STRING, BINARY):
        return a == b
    if a == b:
        return True
    return (a, b) in {(INTEGER, REAL), (BOOLEAN, INTEGER), (BOOLEAN, REAL)}


def connection_rules(c, s: Variable, s_el: int | None, d: Variable, d_el: int | None
                     ) -> list[Problem]:
    """Problems with a connection between two known ports of the right causalities."""
    out: list[Problem] = []
    if CLOCK in (s.kind, d.kind):
        return [Problem("clocks cannot be connected: cosim does not support FMI 3 clocks "
                        f"({c})", c.where, c.target_node, c.target_var)]
    if not kinds_compatible(s, d):
        out.append(Problem(f"type mismatch: {c.source} is {s.kind} ({s.fmi_type or s.kind}) "
                           f"but {c.target} is {d.kind} ({d.fmi_type or d.kind})", c.where,
                           c.target_node, c.target_var))
    n_s, n_d = size_of(s, s_el), size_of(d, d_el)
    if n_s != n_d:
        out.append(Problem(f"size mismatch: {c.source} has {n_s} element(s) "
                           f"{list(s.shape) if s_el is None and s.shape else ''} but "
                           f"{c.target} has {n_d}; connect whole arrays of the same size, "
                           "or elements such as y[2]", c.where, c.target_node, c.target_var))
    if s.kind in (STRING, BINARY) and (c.gain != 1.0 or c.offset != 0.0):
        out.append(Problem(f"gain and offset apply to numbers only; {c.source} is "
                           f"{s.kind}", c.where, c.target_node, c.target_var))
    return out


def element_keys(node: str, var: Variable, element: int | None) -> list[str]:
    """The elements a port covers, as ``node.name[i]`` keys (``node.name`` for scalars),
    to find inputs driven twice."""
    names = var.element_names()
    chosen = names if element is None else [names[element]]
    return [f"{node}.{name}" for name in chosen]


# -- recording ---------------------------------------------------------------------------


def recorded(topology, interfaces: dict[str, Interface], kinds: dict[str, str]
             ) -> tuple[list[tuple[str, str]], list[Problem], list[str]]:
    """``(node, variable)`` pairs to record, problems with ``run.record`` patterns, and
    notes (nodes recorded by their locals, variables left out). ``kinds``: node -> "fmu"
    or "block"."""
    patterns = topology.run.record
    where = topology.source or ""
    notes: list[str] = []
    if patterns == "all":
        chosen = []
        for node in topology.nodes:
            iface = interfaces.get(node)
            if iface is None:
                continue
            outputs = iface.outputs
            if not outputs and kinds.get(node) == "fmu":
                locals_ = [v for v in iface.variables.values() if v.causality == LOCAL]
                outputs = locals_
                if locals_:
                    notes.append(f"{node} has no outputs: recording its local variables "
                                 f"{', '.join(v.name for v in locals_)}")
            chosen += _keep(node, outputs, notes)
        return chosen, [], notes
    problems, chosen, seen = [], [], set()
    for pattern in patterns:
        exact = not any(ch in pattern for ch in "*?")
        hits = [(node, v) for node in topology.nodes if node in interfaces
                for v in _candidates(interfaces[node], kinds.get(node), exact)
                if fnmatch.fnmatchcase(f"{node}.{v.name}", pattern)]
        if not hits:
            problems.append(Problem(f"run.record pattern {pattern!r} matches no variable "
                                    "(patterns match outputs and locals; name a parameter "
                                    "or an input in full)", where))
        for node, var in hits:
            for pair in _keep(node, [var], notes):
                if pair not in seen:
                    seen.add(pair)
                    chosen.append(pair)
    return chosen, problems, notes


def _candidates(iface: Interface, kind: str | None, exact: bool) -> list[Variable]:
    if kind == "block":
        return iface.outputs
    if exact:
        return [v for v in iface.variables.values() if v.causality != INDEPENDENT]
    return [v for v in iface.variables.values() if v.causality in (OUTPUT, LOCAL)]


def _keep(node: str, variables: list[Variable], notes: list[str]) -> list[tuple[str, str]]:
    kept, left = [], []
    for v in variables:
        (kept if v.kind in RECORDABLE else left).append(v)
    if left:
        notes.append(f"{node}: not recorded (binary and clock variables cannot be): "
                     f"{', '.join(v.name for v in left)}")
    return [(node, v.name) for v in kept]


# -- what cosim does not do, said before the run ------------------------------------------


def feature_notes(topology, interfaces: dict[str, Interface], infos) -> list[str]:
    """Notes on FMU features cosim leaves to the FMU or cannot honour, by node."""
    notes = []
    has_events = bool(topology.events or topology.monitors)
    for node, iface in interfaces.items():
        info = infos.get(node)
        if info is None or info.kind != "fmu":
            continue
        clocks = [v.name for v in iface.variables.values() if v.kind == CLOCK]
        clocked = [v.name for v in iface.variables.values() if v.clocks]
        if clocks:
            text = (f"{node}: clocks are not supported ({', '.join(clocks)}): the FMU runs "
                    "without event mode and handles its clock ticks inside doStep")
            if clocked:
                text += f"; its clocked variables ({', '.join(clocked)}) are read at " \
                    "communication points"
            notes.append(text)
        if has_events and info.fmu.fmi_major == 3:
            direct = [v.name for v in iface.outputs if iface.direct_dependencies(v.name)]
            if direct:
                notes.append(f"{node}: FMI 3 forbids reading outputs after setting inputs "
                             "in Step Mode, so at an event its direct-feedthrough outputs "
                             f"({', '.join(direct)}) keep their values in the right-limit "
                             "row until its next step")
    return notes

