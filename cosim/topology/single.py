"""A one-node topology around a single FMU (``cosim run model.fmu``, ``cosim.load``).

The node is named after the model (letters, digits and ``_``); the run settings come from
the FMU's default experiment (start 0, stop start + 1 s and 500 steps where it has
none).
"""

from __future__ import annotations

import re
from pathlib import Path

from .graph import Topology


def around_fmu(path: str | Path) -> Topology:
    """The topology of one FMU node, run as its default experiment says."""
    from ..fmu import description
    p = Path(path)
    info = description.read(p)
    md = info.description
    exp = md.defaultExperiment
    start = float(exp.startTime) if exp and exp.startTime else 0.0
    stop = float(exp.stopTime) if exp and exp.stopTime else start + 1.0
    step = float(exp.stepSize) if exp and exp.stepSize else (stop - start) / 500
    name = re.sub(r"[^A-Za-z0-9_]", "_", md.modelName or p.stem) or "model"
    if not re.match(r"[A-Za-z_]", name):
        name = f"_{name}"
    topo = Topology(name, base_dir=Path.cwd(), source=str(path), start=start, stop=stop,
                    step=step)
    topo.add_fmu(name, p.resolve())
    return topo
