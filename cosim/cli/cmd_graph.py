"""``cosim graph TOPOLOGY -o topology.png`` — draw the system (or write it as DOT)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "graph", help="draw a topology (PNG, SVG, PDF, or Graphviz DOT)",
        description="Draw the nodes of a topology and the connections between them: FMUs "
        "as squares, Python blocks as circles, each arrow labelled with the ports it "
        "connects. The output's suffix picks the format; .dot writes Graphviz text "
        "(render it with: dot -Tsvg topology.dot -o topology.svg).")
    p.add_argument("topology", help="topology file (.yaml), or an .ssp/.ssd")
    p.add_argument("-o", "--output", default="topology.png", metavar="FILE",
                   help="file to write: .png (default topology.png), .svg, .pdf, or "
                   ".dot/.gv; its folder is created if missing")
    p.set_defaults(func=graph)


def graph(args) -> int:
    from ..topology import load
    from ..topology.draw import draw
    topo = load(args.topology)
    draw(topo, args.output)
    print(f"graph: {args.output} ({topo.graph.number_of_nodes()} nodes, "
          f"{topo.graph.number_of_edges()} connections)")
    return 0
