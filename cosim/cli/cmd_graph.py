"""``cosim graph TOPOLOGY -o topology.png`` — draw the system."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("graph", help="draw a topology as a PNG")
    p.add_argument("topology")
    p.add_argument("-o", "--output", default="topology.png")
    p.set_defaults(func=graph)


def graph(args) -> int:
    from ..topology import load
    from ..topology.draw import draw
    topo = load(args.topology)
    draw(topo, args.output)
    print(f"graph: {args.output} ({topo.graph.number_of_nodes()} nodes, "
          f"{topo.graph.number_of_edges()} connections)")
    return 0
