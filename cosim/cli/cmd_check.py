"""``cosim check TOPOLOGY`` — every problem at once, or the order and loose ends."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "check", help="check a topology without running it",
        description="Load a topology and check it without running it (model descriptions "
        "are read first; FMUs are loaded, never stepped, only to say how the run would "
        "step): every problem at once, each at file:line with the node "
        "and variable — unknown keys and nodes, bad values, missing FMUs, units, types, "
        "inputs driven twice, algebraic loops. Without problems: the stepping order, "
        "loops, unit conversions, the recorded signals and the unconnected inputs.")
    p.add_argument("topology", help="topology file (.yaml), or an SSP (.ssp/.ssd)")
    p.set_defaults(func=check)


def check(args) -> int:
    from ..topology import load
    topo = load(args.topology)
    report = topo.check()
    report.raise_if_problems()
    step_loop = _step_loop(topo)  # before "OK": what cannot be built cannot run
    _summary(args.topology, topo, report)
    _loose_ends(topo, report)
    for line in step_loop:
        print(f"  {line}")
    return 0


def _summary(path, topo, report) -> None:
    print(f"{path}: OK")
    print(f"  nodes ({len(report.order)}, in stepping order): {', '.join(report.order)}")
    if report.clusters:
        _clusters(topo, report)
    print(f"  connections: {topo.graph.number_of_edges()}")
    print(f"  recorded signals: {len(report.recorded)}{_shown(report)}")
    run = topo.run
    print(f"  run: {run.start:g} to {run.stop:g} s, step {run.step:g} s, {run.algorithm}")
    if report.loops:
        print("  algebraic loops (solved by iteration at every step):")
        for loop in report.loops:
            print(f"    {' -> '.join(loop + [loop[0]])}")
    if report.cannot_roll_back:
        print(f"  cannot roll back: {', '.join(report.cannot_roll_back)} — so adaptive "
              "steps, monitors (state events) and FMU event mode are unavailable; the "
              "fixed-step masters (and loops not through these nodes) work")
    if report.conversions:
        print(f"  unit conversions on connections ({len(report.conversions)}):")
        for (source, target), conversion in report.conversions.items():
            print(f"    {source} -> {target}: {conversion}")
    if topo.events or topo.monitors:
        print(f"  events: {len(topo.events)} scheduled, {len(topo.monitors)} monitors")


def _loose_ends(topo, report) -> None:
    if report.unconnected_inputs:
        print("  unconnected inputs (their start values are used):")
        for name in report.unconnected_inputs:
            node, _, var = name.partition(".")
            variable = report.nodes[node].interface[var]
            start = topo.graph.nodes[node]["start"].get(var, variable.start)
            print(f"    {name} = {_value(start, variable.unit, report.display.get(name))}")
    if report.notes:  # also what an SSP import read but ignored, or interpreted
        print(f"  notes ({len(report.notes)}):")
        for note in report.notes:
            print(f"    {note}")


def _clusters(topo, report) -> None:
    """The model-exchange clusters and the order the master steps them in."""
    from ..topology.contraction import system_view
    fmus = [n for n in report.order if report.nodes[n].kind == "fmu"]
    me = [n for n in fmus if report.nodes[n].model_exchange]
    cs = [n for n in fmus if n not in me]
    print(f"  FMI interfaces: co-simulation: {', '.join(cs) or '-'}; "
          f"model exchange: {', '.join(me)}")
    print(f"  model-exchange clusters ({len(report.clusters)}, each integrated by cosim as "
          "one node):")
    for plan in report.clusters.values():
        infos = [report.nodes[m] for m in plan.members]
        states = sum(i.fmu.description.numberOfContinuousStates or 0 for i in infos
                     if i.kind == "fmu")
        indicators = sum(i.fmu.description.numberOfEventIndicators or 0 for i in infos
                         if i.kind == "fmu")
        print(f"    {plan.describe()}: {states} states, {indicators} event indicators")
    view = system_view(topo, report)
    print(f"  stepped by the master ({len(view.report.order)}): "
          f"{', '.join(view.report.order)}")


def _step_loop(topo) -> list[str]:
    """How a run would step (the FMUs are instantiated to ask them, not run); a
    simulation that cannot be built is a check error, as the run would fail there."""
    from ..errors import ConfigError, CosimError
    from ..simulation import Simulation
    try:
        with Simulation(topo) as sim:
            return sim.step_loop()
    except CosimError as err:
        raise ConfigError(f"the topology passes its checks, but the simulation cannot be "
                          f"built: {err}", file=str(topo.source or "")) from None


def _shown(report) -> str:
    """`` (10 shown in degC)`` for recorded signals with display units."""
    counts: dict[str, int] = {}
    for node, var in report.recorded:
        display = report.display.get(f"{node}.{var}")
        if display is not None:
            counts[display.unit] = counts.get(display.unit, 0) + 1
    if not counts:
        return ""
    return " (" + ", ".join(f"{n} shown in {unit}" for unit, n in counts.items()) + ")"


def _value(value, unit, display) -> str:
    """A start value, in its display unit (and its own) when it has one."""
    if display is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{value}"
    return f"{display.apply(value):.6g} {display.unit} ({value} {unit})"


