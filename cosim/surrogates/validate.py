"""Closed-loop validation: the topology with the original nodes, and with surrogates.

:func:`closed_loop` runs a topology as it is (the reference; or reads a reference run's
file) and again with ``nodes`` replaced by the artifact (as ``replace:`` does: the FMU
stays the fallback), and compares every signal both record, by the validation metrics
(:mod:`cosim.validation.metrics`; NRMSE is the RMSE over the reference's range). It also
measures the wall time of both runs and the cost of one node step: the original FMU
stepped alone through the inputs it held in the reference run (recorded by exact name),
against the surrogate block stepped through the same inputs.
"""

from __future__ import annotations

import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..topology import Topology
from ..topology import load as load_topology
from ..validation.metrics import point_metrics
from .artifact import Artifact, load
from .block import DynamicSurrogate

MIN_SECONDS = 0.5


def replaced(topology: Topology, nodes: list[str], artifact: str | Path,
             on_extrapolation: str = "warn") -> Topology:
    """A copy of ``topology`` with FMU ``nodes`` replaced by the surrogate ``artifact``."""
    topo = topology.copy()
    path = str(Path(artifact).resolve())
    topo._replace({n: path for n in nodes}, lambda *loc: "")
    problems = topo.graph.graph["problems"]
    if problems:
        raise ConfigError("; ".join(str(p) for p in problems))
    for n in nodes:
        topo.graph.nodes[n]["parameters"]["on_extrapolation"] = on_extrapolation
    return topo


def closed_loop(artifact: str | Path, topology: str | Path | Topology, nodes: list[str], *,
                reference: str | Path | None = None, repeats: int = 5) -> dict[str, Any]:
    """Run and compare (see the module docstring); returns the report section."""
    import cosim
    art = load(artifact)
    topo = load_topology(topology) if not isinstance(topology, Topology) else topology.copy()
    _check_nodes(topo, nodes, art)
    sur_topo = replaced(topo, nodes, artifact)
    ins = [f"{n}.{p}" for n in nodes for p in art.input_names]  # FMU inputs, by exact name
    outs = [f"{n}.{o}" for n in nodes for o in art.output_names]
    record = topo.run.record if topo.run.record != "all" else None
    topo.run = topo.run.model_copy(update={"record": list(dict.fromkeys(
        [*(record or ["*"]), *ins, *outs]))})
    if record is not None:
        sur_topo.run = sur_topo.run.model_copy(update={"record": list(dict.fromkeys(
            [*record, *outs]))})
    clock = time.perf_counter()
    ref = cosim.read(reference) if reference is not None else cosim.run(topo)
    ref_wall = time.perf_counter() - clock if reference is None else None
    clock = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sur = cosim.run(sur_topo)
    sur_wall = time.perf_counter() - clock
    signals = _compare(ref.df, sur.df)
    speed = node_speed(art, topo, nodes[0], ref.df, repeats)
    speed.update({"original_s": ref_wall, "surrogate_s": sur_wall,
                  "speedup": ref_wall / sur_wall if ref_wall else None})
    flagged = {n: int(np.sum(sur.df[f"{n}.out_of_envelope"].to_numpy() > 0))
               for n in nodes if f"{n}.out_of_envelope" in sur.df}
    return {"topology": _shown(topo), "replaced": nodes,
            "description": f"{len(ref.df)} rows; every signal both runs record",
            "signals": signals, "speed": speed, "out_of_envelope_steps": flagged,
            "warnings": len(caught)}


def _shown(topo: Topology) -> str:
    """The topology's file relative to the current folder when inside it (reports move)."""
    source = str(topo.source or topo.name)
    path = Path(source)
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return source
    return source


def _check_nodes(topo: Topology, nodes: list[str], art: Artifact) -> None:
    if not nodes:
        raise ConfigError("name the nodes to replace (--replace rack1,rack2)")
    for n in nodes:
        if n not in topo.graph or topo.graph.nodes[n]["kind"] != "fmu":
            raise ConfigError(f"{n} is not an FMU node of the topology")
    if abs(topo.run.step - art.step) > 1e-9 * art.step:
        raise ConfigError(f"the topology steps {topo.run.step:g} s, the surrogate was trained "
                          f"at {art.step:g} s")


def _compare(ref, sur) -> dict[str, dict[str, float]]:
    out = {}
    if len(ref) != len(sur) or not np.array_equal(ref.index.to_numpy(), sur.index.to_numpy()):
        raise ConfigError("the runs with and without the surrogate have different time grids "
                          "(events at other times?): cannot compare them row by row")
    for col in ref.columns:
        if col not in sur.columns:
            continue
        a, b = ref[col].to_numpy(dtype=float), sur[col].to_numpy(dtype=float)
        if np.ptp(a) == 0:
            continue
        m = point_metrics(b, a).values
        out[col] = {k: float(m[k]) for k in ("nrmse_range", "rmse", "max_abs_error", "bias")}
    return out


def node_speed(art: Artifact, topo: Topology, node: str, ref_df, repeats: int = 5
               ) -> dict[str, float]:
    """Median cost [µs] of one step of the original FMU and of the surrogate block, both
    through the inputs ``node`` held in the reference run, interleaved ``repeats`` times
    (each at least :data:`MIN_SECONDS`)."""
    from .fallback import FmuFallback
    cols = [f"{node}.{p}" for p in art.input_names]
    missing = [c for c in cols if c not in ref_df]
    if missing:
        return {"note": f"the reference did not record {', '.join(missing)}"}
    u = ref_df[cols].to_numpy(dtype=float)[1:]
    h = art.step
    fmu = FmuFallback(topo.fmu_path(node), node, art.input_names, art.output_names,
                      dict(topo.graph.nodes[node]["parameters"]), {})
    block = DynamicSurrogate(artifact=str(art.path), base_dir=Path.cwd())
    orig, surr = [], []
    try:
        for _ in range(repeats):
            orig.append(_per_step(lambda k: fmu.step(k * h, h, u[k % len(u)]),
                                  lambda: fmu.start(0.0)))
            surr.append(_per_step(lambda k: block.step(k * h, h, dict(zip(
                art.input_names, u[k % len(u)], strict=True))), lambda: block.reset(0.0)))
    finally:
        fmu.close()
    ratios = [o / s for o, s in zip(orig, surr, strict=True)]
    return {"original_node_us": statistics.median(orig) * 1e6,
            "surrogate_node_us": statistics.median(surr) * 1e6,
            "node_speedup": statistics.median(ratios), "node_speedup_min": min(ratios),
            "node_speedup_max": max(ratios), "repeats": repeats}


def _per_step(step, restart) -> float:
    """Seconds per step, stepping (from a restart) for at least MIN_SECONDS."""
    restart()
    n, clock = 0, time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while (elapsed := time.perf_counter() - clock) < MIN_SECONDS:
            step(n)
            n += 1
    return elapsed / n
