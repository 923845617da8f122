"""Training data from a study file: one node's input and output trajectories per scenario.

The study's topology (stored in the study file) says which signals drive the node's
inputs; the traces hold those signals and the node's outputs at every communication
point. With the Jacobi master (what ``cosim surrogate excite`` uses) the input a node
holds over step ``k`` (``[t_k, t_k+1)``) is its source's value recorded at ``t_k``, times
the connection's gain plus offset; so a trace of ``n + 1`` rows gives ``y``
``(n + 1, n_out)`` and ``u`` ``(n, n_in)``. Other masters are refused (under
Gauss-Seidel the held value depends on the stepping order, which the file does not keep).

The data set records SHA-256 digests of the study file and of the arrays it used, so an
artifact names exactly the data it was trained on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ResultsError
from ..fmu.archive import sha256 as file_sha256


@dataclass
class Port:
    """A port of the node: name, unit and start value."""

    name: str
    unit: str | None = None
    start: float | None = None

    def manifest(self) -> dict:
        return {"name": self.name, "unit": self.unit, "start": self.start}


@dataclass
class Dataset:
    """Trajectories of one node: ``y[i]`` ``(n_i + 1, n_out)``, ``u[i]`` ``(n_i, n_in)``."""

    node: str
    inputs: list[Port]
    outputs: list[Port]
    step: float
    y: list[np.ndarray]
    u: list[np.ndarray]
    scenarios: list[int]
    source: dict = field(default_factory=dict)   # the node's FMU: file, sha256, parameters
    provenance: dict = field(default_factory=dict)

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [p.name for p in self.outputs]

    def __len__(self) -> int:
        return len(self.y)

    def stacked(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(y, u)`` of trajectories ``ids`` as arrays (all must have one length)."""
        lengths = {len(self.u[i]) for i in ids}
        if len(lengths) != 1:
            raise ValueError(f"trajectories of different lengths {sorted(lengths)}")
        return np.stack([self.y[i] for i in ids]), np.stack([self.u[i] for i in ids])

    def digest(self) -> str:
        """SHA-256 over the arrays used (in order), independent of the file's layout."""
        h = hashlib.sha256()
        for y, u in zip(self.y, self.u, strict=True):
            h.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
            h.update(np.ascontiguousarray(u, dtype="<f8").tobytes())
        return h.hexdigest()


def from_study(path: str | Path, node: str, outputs: list[str] | None = None) -> Dataset:
    """The trajectories of ``node`` in a study file (see the module docstring).

    ``outputs``: the node's outputs to learn (default: every traced real output of the
    node). Failed scenarios and scenarios without a trace are left out.
    """
    from ..studies.store import _check, _meta, _traces, open_file
    p = Path(path)
    with open_file(p) as f:
        _check(f, p)
        spec = _meta(f, "topology", None)
        excitation = _meta(f, "surrogate_excitation", None)
        traces = _traces(f)
    if not spec:
        raise ResultsError("the study file keeps no topology (meta/topology)", path=str(p))
    topo = spec if isinstance(spec, dict) else json.loads(spec)
    nodes = topo.get("nodes", {})
    if node not in nodes:
        raise ConfigError(f"{p}: the study's topology has no node {node!r} (nodes: "
                          f"{', '.join(sorted(nodes))})")
    run = topo.get("run", {})
    if run.get("algorithm", "gauss-seidel") != "jacobi":
        raise ConfigError(f"{p}: the study ran with the {run.get('algorithm')!r} master; "
                          "fitting needs the Jacobi master (the input a node holds over a "
                          "step is then its source's value at the step's start). Make the "
                          "data with 'cosim surrogate excite'")
    drivers = _drivers(topo, node)
    if not traces:
        raise ResultsError("the study file keeps no traces: fitting needs the time series "
                           "(traces: signals: [...]) of the node's inputs and outputs",
                           path=str(p))
    some = next(iter(traces.values()))[1]
    outs = outputs or sorted(s.split(".", 1)[1] for s in some
                             if s.startswith(node + "."))
    missing = [f"{node}.{o}" for o in outs if f"{node}.{o}" not in some]
    missing += [src for src, _, _ in drivers.values() if src not in some]
    if missing or not outs:
        raise ConfigError(f"{p}: the traces lack {', '.join(missing) or 'any output of ' + node}"
                          f" (traced: {', '.join(sorted(some))})")
    data = _trajectories(traces, node, outs, drivers)
    meta = excitation if isinstance(excitation, dict) else json.loads(excitation or "{}")
    units = meta.get("units", {})
    starts = meta.get("start", {})
    inputs = [Port(n, units.get(n), starts.get(n)) for n in drivers]
    out_ports = [Port(n, units.get(n), starts.get(n)) for n in outs]
    ds = Dataset(node, inputs, out_ports, float(run.get("step", 0.0)), *data,
                 source=meta.get("source", {}))
    ds.provenance = {"study_file": str(p), "study_sha256": file_sha256(p),
                     "data_sha256": ds.digest(), "trajectories": len(ds),
                     "scenarios": ds.scenarios}
    return ds


def _drivers(topo: dict, node: str) -> dict[str, tuple[str, float, float]]:
    """Input name -> (source signal, gain, offset) for every connected input of ``node``."""
    out = {}
    for c in topo.get("connections", []):
        if isinstance(c, str):
            src, _, dst = (s.strip() for s in c.partition("->"))
            gain, offset = 1.0, 0.0
        else:
            src, dst = c["from"], c["to"]
            gain, offset = float(c.get("gain", 1.0)), float(c.get("offset", 0.0))
        n, _, var = dst.partition(".")
        if n == node:
            out[var] = (src, gain, offset)
    if not out:
        raise ConfigError(f"node {node!r} has no connected inputs in the study's topology")
    return dict(sorted(out.items()))


def _trajectories(traces: dict, node: str, outs: list[str],
                  drivers: dict[str, tuple[str, float, float]]):
    ys, us, ids = [], [], []
    for sid in sorted(traces):
        t, sig = traces[sid]
        if len(t) < 2 or np.any(np.diff(t) <= 0):
            continue  # too short, or rows at events (repeated times): not a plain grid
        y = np.column_stack([np.asarray(sig[f"{node}.{o}"], dtype=np.float64) for o in outs])
        u = np.column_stack([gain * np.asarray(sig[src], dtype=np.float64)[:-1] + offset
                             for src, gain, offset in drivers.values()])
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(u))):
            continue
        ys.append(y)
        us.append(u)
        ids.append(int(sid))
    if not ys:
        raise ConfigError("no usable trajectory in the study (every scenario failed, or "
                          "their traces hold events or non-finite values)")
    return ys, us, ids
