"""``cosim check TOPOLOGY`` — every problem at once, or the order and loose ends."""

from __future__ import annotations

from ..topology import load


def register(sub) -> None:
    p = sub.add_parser("check", help="check a topology without running it")
    p.add_argument("topology")
    p.set_defaults(func=check)


def check(args) -> int:
    topo = load(args.topology)
    report = topo.check()
    report.raise_if_problems()
    print(f"{args.topology}: OK")
    print(f"  nodes ({len(report.order)}, in stepping order): {', '.join(report.order)}")
    print(f"  connections: {topo.graph.number_of_edges()}")
    print(f"  recorded signals: {len(report.recorded)}")
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
    if topo.events or topo.monitors:
        print(f"  events: {len(topo.events)} scheduled, {len(topo.monitors)} monitors")
    if report.unconnected_inputs:
        print("  unconnected inputs (their start values are used):")
        for name in report.unconnected_inputs:
            node, _, var = name.partition(".")
            start = topo.graph.nodes[node]["start"].get(
                var, report.nodes[node].interface[var].start)
            print(f"    {name} = {start}")
    return 0


