"""What a result records about where it came from: the topology, versions, hashes.

Computed once per :class:`~cosim.simulation.Simulation` (the topology's JSON form, its
SHA-256, the node-link graph, library versions); per run only the parameters change.
"""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Any

from ._version import __version__


def versions() -> dict[str, str]:
    """Versions of cosim, Python and the libraries a result depends on."""
    import fmpy
    import h5py
    import networkx
    import numpy
    import scipy
    return {"cosim": __version__, "fmpy": fmpy.__version__, "numpy": numpy.__version__,
            "h5py": h5py.__version__, "scipy": scipy.__version__,
            "networkx": networkx.__version__, "python": platform.python_version()}


def topology_record(topology) -> tuple[dict[str, Any], str]:
    """The topology as JSON-able data (objects given in Python by their repr) and the
    SHA-256 of its canonical JSON."""
    spec = json.loads(json.dumps(topology.to_spec().model_dump(by_alias=True), default=repr))
    text = json.dumps(spec, sort_keys=True)
    return spec, hashlib.sha256(text.encode()).hexdigest()


def node_link(topology) -> dict[str, Any]:
    """The topology's graph as networkx node-link data (JSON-able)."""
    import networkx as nx

    g = nx.MultiDiGraph()
    for n, data in topology.graph.nodes(data=True):
        source = data["source"] if isinstance(data["source"], str) else \
            f"{data['source'].__module__}:{data['source'].__qualname__}"
        g.add_node(n, kind=data["kind"], source=source,
                   parameters=json.loads(json.dumps(data["parameters"], default=str)))
    for u, v, k, data in topology.graph.edges(keys=True, data=True):
        g.add_edge(u, v, key=k, **{a: b for a, b in data.items() if a != "where"})
    return nx.node_link_data(g, edges="edges")
