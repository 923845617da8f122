"""Draw a topology: as an image with matplotlib (FMUs as squares, blocks as circles, one
arrow per node pair labelled with the connected ports), or as Graphviz DOT text
(``.dot``/``.gv``: one edge per connection, for ``dot -Tsvg``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError

#: Image formats :func:`draw` writes (matplotlib's Agg, SVG and PDF back-ends).
IMAGE_FORMATS = (".png", ".svg", ".pdf")
DOT_FORMATS = (".dot", ".gv")


def draw(topology, path: str | Path | None = None):
    """The topology as a matplotlib Figure; saved to ``path`` (``.png``, ``.svg``,
    ``.pdf``; ``.dot``/``.gv`` writes DOT text instead and returns None). The folder of
    ``path`` is created if missing."""
    suffix = Path(path).suffix.lower() if path is not None else ".png"
    if suffix not in IMAGE_FORMATS + DOT_FORMATS:
        raise ConfigError(f"cannot draw a topology as {suffix or 'a file without suffix'}: "
                          f"name the output *.png, *.svg, *.pdf (an image) or *.dot "
                          f"(Graphviz text)", file=str(path))
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if suffix in DOT_FORMATS:
        Path(path).write_text(to_dot(topology), encoding="utf-8")
        return None
    fig = _figure(topology)
    if path is not None:
        fig.savefig(path, dpi=110, format=suffix[1:])
    return fig


def to_dot(topology) -> str:
    """Graphviz DOT text: FMUs as boxes, blocks as ellipses, one edge per connection
    labelled ``output -> input``."""
    g = topology.graph
    lines = [f"digraph {_quote(topology.name or 'topology')} {{", "  rankdir=LR;"]
    for node in g.nodes:
        shape = "box" if g.nodes[node]["kind"] == "fmu" else "ellipse"
        lines.append(f"  {_quote(node)} [shape={shape}];")
    for c in topology.connections():
        label = f"{c.source_var} -> {c.target_var}"
        lines.append(f"  {_quote(c.source_node)} -> {_quote(c.target_node)} "
                     f"[label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _figure(topology):
    import networkx as nx
    from matplotlib.figure import Figure

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
    except ImportError:  # the layout needs scipy
        pos = nx.circular_layout(simple)
    fig = Figure(figsize=(max(6, 1.4 * len(simple)), max(4, 1.0 * len(simple))),
                 layout="tight")
    ax = fig.subplots()
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
    return fig
