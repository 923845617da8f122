"""Checks run before anything is instantiated; every problem is reported at once.

Each problem names the file and line (for topologies loaded from a file), the node and
the variable. What is checked: nodes that cannot be read (missing or corrupt FMU,
unknown block); connections to unknown variables, not output -> input, with mismatched
types or units of different dimensions (compatible units are converted: see
:mod:`cosim.topology.unitchecks`); inputs driven twice; parameters and start values that do not exist
or have the wrong type; algebraic loops (with the cycle); record patterns that match
nothing; the run settings. Unconnected inputs are allowed and listed.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

from ..errors import Problem, TopologyError
from ..variables import (
    BINARY,
    BOOLEAN,
    INPUT,
    INTEGER,
    OUTPUT,
    REAL,
    STRUCTURAL_PARAMETER,
    Interface,
)
from . import ports
from .analysis import algebraic_loops, gauss_seidel_order, port_graph
from .clusters import ClusterPlan, plan_clusters, split_loops
from .interfaces import NodeInfo, describe
from .schema import parse_condition
from .unitchecks import Conversion, connection_units, display_units, effective_gain

PARAMETER_CAUSALITIES = ("parameter", STRUCTURAL_PARAMETER)


@dataclass
class CheckReport:
    """The outcome of :func:`check`: problems, unconnected inputs, order, recording."""

    topology: object
    nodes: dict[str, NodeInfo]
    problems: list[Problem] = field(default_factory=list)
    unconnected_inputs: list[str] = field(default_factory=list)
    #: what the run will do differently from what one might expect (recorded locals,
    #: variables left out, FMU features cosim does not support), one line each
    notes: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    recorded: list[tuple[str, str]] = field(default_factory=list)
    loops: list[list[str]] = field(default_factory=list)
    cannot_roll_back: list[str] = field(default_factory=list)
    monitored: list[tuple[str, str]] = field(default_factory=list)
    #: unit conversions on connections, by (source, target) port names
    conversions: dict[tuple[str, str], Conversion] = field(default_factory=dict)
    #: (gain, offset) each connection applies to its source value: unit conversion first,
    #: then the connection's own gain and offset; by (source, target) port names
    gains: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    #: display unit of each input and output that has one, by "node.variable"
    display: dict[str, object] = field(default_factory=dict)
    #: model-exchange clusters by name (lone model-exchange nodes included)
    clusters: dict[str, ClusterPlan] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def gain_offset(self, connection) -> tuple[float, float]:
        """The effective ``(gain, offset)`` of a connection (its own when not checked)."""
        return self.gains.get((connection.source, connection.target),
                              (connection.gain, connection.offset))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise TopologyError(self.problems)

    def __repr__(self) -> str:
        from ..reprs import check_report_repr
        return check_report_repr(self)

    def _repr_html_(self) -> str:
        from ..reprs import check_report_html
        return check_report_html(self)


def check(topology) -> CheckReport:
    infos, problems = describe(topology)
    problems = list(topology.graph.graph.get("problems", [])) + problems
    report = CheckReport(topology, infos, problems)
    interfaces = {n: i.interface for n, i in infos.items()}
    _check_run(topology, report)
    _check_fixed_steps(topology, infos, report)
    _check_time_ranges(topology, infos, report)
    report.clusters, problems = plan_clusters(topology, infos)
    report.problems.extend(problems)
    _check_connections(topology, interfaces, report)
    for name, info in infos.items():
        _check_values(topology, name, info, report)
    report.cannot_roll_back = sorted(n for n, i in infos.items() if not _can_roll_back(i))
    report.loops, problems = split_loops(algebraic_loops(topology, interfaces),
                                         report.clusters, topology)
    report.problems.extend(problems)
    for loop in report.loops:
        stuck = sorted({p.partition(".")[0] for p in loop} & set(report.cannot_roll_back))
        if stuck:
            first = loop[0].partition(".")[0]
            path = " -> ".join(loop + [loop[0]])
            report.problems.append(Problem(
                f"algebraic loop: {path}; it is solved by iteration with rollback, but "
                f"{', '.join(stuck)} cannot save and restore its state; mark one of the "
                "loop's connections 'delayed: true' to break it with a one-step delay",
                topology.graph.nodes[first].get("where", ""), first))
    _mapped_loops(topology, interfaces, report)
    _check_events(topology, interfaces, report)
    report.order = _order(topology, interfaces, report)
    kinds = {n: i.kind for n, i in infos.items()}
    report.recorded, problems, notes = ports.recorded(topology, interfaces, kinds)
    report.problems.extend(problems)
    report.notes = list(topology.graph.graph.get("notes") or []) + notes + \
        ports.feature_notes(topology, interfaces, infos)
    report.unconnected_inputs = _unconnected(topology, interfaces)
    report.display, problems = display_units(topology, interfaces)
    report.problems.extend(problems)
    return report


def _can_roll_back(info: NodeInfo) -> bool:
    return info.can_roll_back  # of the FMI interface the node uses


def _settable(iface: Interface, var: str, driven: set[str], node: str) -> str | None:
    """Why ``node.var`` cannot be set by an event (None when it can)."""
    v = iface.get(var)
    if v is None:
        return "unknown variable"
    if v.causality == INPUT:
        return "is driven by a connection" if f"{node}.{var}" in driven else None
    if v.causality in PARAMETER_CAUSALITIES and v.variability in ("tunable", "continuous",
                                                                   "discrete"):
        return None
    if v.causality in PARAMETER_CAUSALITIES:
        return f"is a {v.variability} parameter; only tunable parameters change during a run"
    return f"is {_a(v.causality)}; events set inputs and tunable parameters"


def _check_events(topology, interfaces, report: CheckReport) -> None:
    run = topology.run
    driven = {c.target for c in topology.connections()}
    for spec, where in topology.graph.graph["events"]:
        node, _, var = spec.set.partition(".")
        if node not in interfaces:
            report.problems.append(Problem("event sets a variable of an unknown node", where,
                                           node, var))
            continue
        why = _settable(interfaces[node], var, driven, node)
        if why:
            report.problems.append(Problem(f"event cannot set it: {why}", where, node, var))
        if not run.start <= spec.at <= run.stop:
            report.problems.append(Problem(f"event at {spec.at} s is outside the run "
                                           f"({run.start} to {run.stop} s)", where, node, var))
    for spec, where in topology.graph.graph["monitors"]:
        port = parse_condition(spec.when)[0]
        node, _, var = port.partition(".")
        iface = interfaces.get(node)
        if iface is None:
            report.problems.append(Problem("monitor watches an unknown node", where, node, var))
        elif var not in iface or iface[var].causality != OUTPUT:
            report.problems.append(Problem("a monitor watches an output; this is not one "
                                           "of the node's outputs", where, node, var))
        else:
            report.monitored.append((node, var))
        if spec.action == "set":
            tnode, _, tvar = spec.set.partition(".")
            why = _settable(interfaces[tnode], tvar, driven, tnode) if tnode in interfaces \
                else "unknown node"
            if why:
                report.problems.append(Problem(f"monitor action cannot set it: {why}", where,
                                               tnode, tvar))
    needs = [what for what, on in (("monitors (state events)",
                                    topology.graph.graph["monitors"]),
                                   ("adaptive steps", run.adaptive)) if on]
    if needs and report.cannot_roll_back:
        report.problems.append(Problem(
            f"{' and '.join(needs)} need every node to save and restore its state, but "
            f"{', '.join(report.cannot_roll_back)} cannot (canGetAndSetFMUstate is false); "
            "fixed-step Jacobi and Gauss-Seidel work without it", topology.source or ""))


def _check_run(topology, report: CheckReport) -> None:
    run = topology.run
    where = topology.source or ""
    multirate = False
    for name, data in topology.graph.nodes(data=True):
        step = data.get("step")
        if step is None:
            continue
        ratio = step / run.step
        if abs(ratio - round(ratio)) > 1e-9 * ratio or round(ratio) < 1:
            report.problems.append(Problem(
                f"its step {step} s must be an integer multiple of run.step ({run.step} s)",
                data.get("where", where), name))
        multirate = multirate or round(ratio) != 1
    if multirate and run.adaptive is not None:
        report.problems.append(Problem("adaptive steps need one step for all nodes; remove "
                                       "the nodes' own steps or run.adaptive", where))


def _check_fixed_steps(topology, infos: dict[str, NodeInfo], report: CheckReport) -> None:
    """A block that can take one step only (a surrogate) gets that step every time."""
    run = topology.run
    for name, info in infos.items():
        h = info.fixed_step
        if h is None:
            continue
        data = topology.graph.nodes[name]
        where = data.get("where") or topology.source or ""
        step = data.get("step") or run.step
        why, cluster = None, topology.cluster_of(name)
        if cluster is not None:
            why = f"cluster {cluster} integrates it with variable steps"
        elif not math.isclose(step, h, rel_tol=1e-9, abs_tol=1e-9):
            why = f"its step is {step:g} s"
        elif run.adaptive is not None:
            why = "run.adaptive changes the steps"
        elif not _on_grid(run.stop - run.start, h):
            why = (f"the run from {run.start:g} to {run.stop:g} s ends with a shorter "
                   f"step (not a multiple of {h:g} s)")
        elif topology.monitors:
            why = "a monitor locates its crossings with shorter steps"
        else:
            off = [t for e in topology.events for t in (e.at, e.until)
                   if t is not None and not _on_grid(t - run.start, h)]
            if off:
                why = f"a scheduled event at {off[0]:g} s cuts a step short"
        if why:
            report.problems.append(Problem(
                f"it can only step {h:g} s (the step it was trained at), but {why}; run "
                f"it at {h:g} s", where, name))


def _check_time_ranges(topology, infos: dict[str, NodeInfo], report: CheckReport) -> None:
    """A block that answers only for some times (a table with extrapolation: error) must
    cover the whole run."""
    run = topology.run
    for name, info in infos.items():
        span = info.time_range
        if span is None or (span[0] <= run.start and run.stop <= span[1]):
            continue
        data = topology.graph.nodes[name]
        report.problems.append(Problem(
            f"it answers from {span[0]:g} to {span[1]:g} s only (extrapolation: error), but "
            f"the run goes from {run.start:g} to {run.stop:g} s", data.get("where") or
            topology.source or "", name))


def _on_grid(span: float, h: float) -> bool:
    k = round(span / h)
    return math.isclose(k * h, span, rel_tol=1e-12, abs_tol=1e-9)


def _unknown(node: str, var: str, iface: Interface, where: str, role: str) -> Problem:
    close = difflib.get_close_matches(var, list(iface.variables), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return Problem(f"unknown {role} variable{hint}", where, node, var)


def _check_connections(topology, interfaces: dict[str, Interface], report) -> None:
    drivers: dict[str, list] = {}
    for c in topology.connections():
        src, dst = interfaces.get(c.source_node), interfaces.get(c.target_node)
        if src is None or dst is None:
            continue  # the node itself is already reported
        problems, s_var, d_var = _connection_problems(c, src, dst)
        problems = problems or _mapping_problems(c, src, dst)
        report.problems.extend(problems)
        if d_var is not None:
            for key in ports.element_keys(c.target_node, d_var, dst.port(c.target_var)[1]):
                drivers.setdefault(key, []).append(c)
        if not problems and c.mapping is not None:
            report.gains[(c.source, c.target)] = (1.0, 0.0)  # the table, no unit conversion
        elif not problems:
            conversion, problem = connection_units(c, s_var, d_var)
            if problem is not None:
                report.problems.append(problem)
            elif conversion is not None:
                report.conversions[(c.source, c.target)] = conversion
            report.gains[(c.source, c.target)] = effective_gain(c, conversion)
    seen: set[tuple[str, ...]] = set()
    for target, conns in drivers.items():
        key = tuple(c.target for c in conns)
        if len(conns) > 1 and key not in seen:
            seen.add(key)
            node, _, var = target.partition(".")
            sources = ", ".join(f"{c.source} ({c.where})" if c.where else c.source
                                for c in conns)
            report.problems.append(Problem(f"input is driven by {len(conns)} connections: "
                                           f"{sources}", conns[1].where, node, var))


def _connection_problems(c, src: Interface, dst: Interface):
    """(problems, source variable, target variable) of one connection."""
    out: list[Problem] = []
    s, s_el, why_s = ports.resolve(src, c.source_var)
    d, d_el, why_d = ports.resolve(dst, c.target_var)
    if s is None:
        out.append(Problem(why_s, c.where, c.source_node, c.source_var) if why_s
                   else _unknown(c.source_node, c.source_var, src, c.where, "source"))
    elif s.causality != OUTPUT:
        out.append(Problem(f"is {_a(s.causality)}, not an output: a connection goes from an "
                           f"output to an input ({c})", c.where, c.source_node, c.source_var))
    if d is None:
        out.append(Problem(why_d, c.where, c.target_node, c.target_var) if why_d
                   else _unknown(c.target_node, c.target_var, dst, c.where, "target"))
    elif d.causality != INPUT:
        hint = " (set parameters under 'parameters:')" if "arameter" in d.causality else ""
        out.append(Problem(f"is {_a(d.causality)}, not an input{hint} ({c})", c.where,
                           c.target_node, c.target_var))
    if s is None or d is None or out:
        return out, s, d if d is not None and d.causality == INPUT else None
    return ports.connection_rules(c, s, s_el, d, d_el), s, d


def _mapping_problems(c, src: Interface, dst: Interface) -> list[Problem]:
    """A mapping table needs integer or boolean ends and no gain or offset."""
    if c.mapping is None:
        return []
    kinds = (src[c.source_var].kind, dst[c.target_var].kind)
    if not all(k in (INTEGER, BOOLEAN) for k in kinds):
        return [Problem(f"a mapping table ('map') applies to integer and boolean values, but "
                        f"{c.source} is {kinds[0]} and {c.target} is {kinds[1]}; use gain and "
                        "offset for real values", c.where, c.target_node, c.target_var)]
    if c.gain != 1.0 or c.offset != 0.0:
        return [Problem(f"{c} has both a mapping table and gain/offset; give one of them",
                        c.where, c.target_node, c.target_var)]
    return []


def _mapped_loops(topology, interfaces, report: CheckReport) -> None:
    """A mapping table on a connection inside an algebraic loop is a problem (the loop
    solver iterates on real values)."""
    mapped = [c for c in topology.connections() if c.mapping and not c.delayed]
    if not mapped or not report.loops:
        return
    import networkx as nx
    component = {}
    for k, members in enumerate(nx.strongly_connected_components(
            port_graph(topology, interfaces))):
        component.update(dict.fromkeys(members, k))
    for c in mapped:
        if c.source in component and component[c.source] == component.get(c.target):
            report.problems.append(Problem(
                f"{c} has a mapping table and lies in an algebraic loop; mark it "
                "'delayed: true' (or break the loop elsewhere)", c.where, c.target_node,
                c.target_var))


def _a(causality: str) -> str:
    return f"an {causality}" if causality[0] in "aeiou" else f"a {causality}"


def _check_values(topology, name: str, info: NodeInfo, report: CheckReport) -> None:
    data = topology.graph.nodes[name]
    report.problems.extend(check_values(name, info, data["parameters"], data["start"],
                                        data.get("where", ""), data.get("param_where", {})))


def check_values(name: str, info: NodeInfo, parameters: dict, start: dict, where: str,
                 located: dict | None = None) -> list[Problem]:
    """Problems with parameter and start values given to node ``name``; ``located``
    says where a parameter was set when not at ``where`` (a parameter file, ...)."""
    problems: list[Problem] = []
    iface = info.interface
    located = located or {}
    if info.kind == "fmu":
        for var, value in parameters.items():
            v, at = iface.get(var), located.get(var) or where
            if v is None:
                problems.append(_unknown(name, var, iface, at, "parameter"))
            elif v.causality not in PARAMETER_CAUSALITIES:
                problems.append(Problem(
                    f"is {_a(v.causality)}, not a parameter (set start values under "
                    "'start:')", at, name, var))
            else:
                problems.extend(_check_type(value, v, name, at))
    for var, value in start.items():
        v = iface.get(var)
        if v is None:
            problems.append(_unknown(name, var, iface, where, "start"))
        elif v.causality in PARAMETER_CAUSALITIES or v.variability == "constant":
            problems.append(Problem(
                f"is {_a(v.causality)}; set it under 'parameters:'", where, name, var))
        elif info.kind == "block" and v.causality != INPUT:
            problems.append(Problem("blocks take start values for inputs only", where,
                                    name, var))
        else:
            problems.extend(_check_type(value, v, name, where))
    return problems


def _check_type(value, v, node: str, where: str) -> list[Problem]:
    if v.shape:  # an array: a (nested) list of its elements, row-major
        flat = list(_flatten(value))
        if len(flat) != v.size:
            return [Problem(f"value has {len(flat)} element(s) but {v.name} has shape "
                            f"{list(v.shape)} ({v.size} elements, row-major)", where, node,
                            v.name)]
        bad = [x for x in flat if not _fits(x, v.kind)]
        return [Problem(f"element {bad[0]!r} does not fit its type {v.kind}", where, node,
                        v.name)] if bad else []
    if not _fits(value, v.kind):
        return [Problem(f"value {value!r} does not fit its type {v.kind}", where, node,
                        v.name)]
    return []


def _fits(value, kind: str) -> bool:
    if kind == REAL:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BOOLEAN:
        return isinstance(value, bool) or value in (0, 1)
    if kind == BINARY:
        return isinstance(value, bytes) or (isinstance(value, str) and _is_hex(value))
    return isinstance(value, str)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def _order(topology, interfaces, report: CheckReport) -> list[str]:
    explicit = topology.run.order
    if explicit is None:
        return gauss_seidel_order(topology, interfaces)
    if sorted(explicit) != sorted(topology.nodes):
        report.problems.append(Problem(
            f"run.order must list every node exactly once; nodes: {sorted(topology.nodes)}",
            topology.source or ""))
    return list(explicit)


def _unconnected(topology, interfaces) -> list[str]:
    driven = {c.target for c in topology.connections()}
    return [f"{n}.{v.name}" for n in topology.nodes if n in interfaces
            for v in interfaces[n].inputs
            if f"{n}.{v.name}" not in driven and v.kind != "clock"]
