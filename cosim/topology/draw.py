"""Draw a topology with matplotlib: FMUs as squares, blocks as circles, one arrow per
node pair labelled with the connected ports."""

from __future__ import annotations

from pathlib import Path


def draw(topology, path: str | Path | None = None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    g = topology.graph
    simple = nx.DiGraph()
    simple.add_nodes_from(g.nodes)
    labels: dict[tuple[str, str], list[str]] = {}
    for c in topology.connections():
        simple.add_edge(c.source_node, c.target_node)
        labels.setdefault((c.source_node, c.target_node), []).append(
            f"{c.source_var}→{c.target_var}")
    try:
        pos = nx.kamada_kawai_layout(simple) if len(simple) > 2 else nx.circular_layout(simple)
    except Exception:  # noqa: BLE001 - layout needs scipy; fall back
        pos = nx.circular_layout(simple)
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(simple)), max(4, 1.0 * len(simple))))
    for kind, shape, color in (("fmu", "s", "#8fb8de"), ("block", "o", "#f6c28b")):
        nodes = [n for n in g.nodes if g.nodes[n]["kind"] == kind]
        nx.draw_networkx_nodes(simple, pos, nodelist=nodes, node_shape=shape,
                               node_color=color, node_size=1800, ax=ax, label=kind)
    nx.draw_networkx_labels(simple, pos, font_size=9, ax=ax)
    nx.draw_networkx_edges(simple, pos, ax=ax, arrows=True, arrowsize=15, node_size=1800,
                           connectionstyle="arc3,rad=0.08")
    nx.draw_networkx_edge_labels(simple, pos, {k: "\n".join(v) for k, v in labels.items()},
                                 font_size=7, ax=ax)
    ax.set_title(f"{topology.name}: {len(simple)} nodes, {g.number_of_edges()} connections")
    ax.legend(loc="lower right", markerscale=0.4)
    ax.axis("off")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
