"""Other masters on the same FMUs, for ``python -m bench overhead``: a plain fmpy loop,
libcosim (libcosimpy) and ecos (ecospy) where installed (``pip install cosim[bench]``;
ecos needs Debian's libtbb12). libcosim and ecos step every FMU from the previous
outputs, so they are compared with the Jacobi floor; fmpy with the Gauss-Seidel one.
Each is timed around its step calls only (set-up excluded)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from . import floors
from .repeat import Timed

STEP, H_TICKS = floors.STEP, floors.H_TICKS


def _facts(model: str) -> floors.FMUFacts:
    from fmus.build import fmu_path
    return floors.facts(fmu_path(model, 2))


def inputs_of(bt) -> dict[str, list[tuple[str, str, float]]]:
    """node -> [(input, source node.var, gain)], in connection order."""
    ins: dict[str, list[tuple[str, str, float]]] = {n.name: [] for n in bt.nodes}
    for c in bt.connections:
        node, var = c.target.split(".")
        ins[node].append((var, c.source, c.gain))
    return ins


def pairs(bt, wanted: set[str], skipped: dict[str, str], existing) -> list[tuple[Timed, Timed]]:
    """(case, floor-shared baseline) pairs of the other masters that can run here."""
    base = {b.name: b for _, b in existing}
    out = []
    if "fmpy" in wanted and "floor-shared GS" in base:
        out.append((Timed("fmpy GS", _fmpy(bt), bt.n, max_steps=100_000),
                    base["floor-shared GS"]))
    for system, fn in (("libcosim", time_libcosim), ("ecos", time_ecos)):
        if system in wanted and system not in skipped and "floor-shared J" in base:
            out.append((Timed(f"{system} J", lambda s, f=fn: (f(bt, s), 0.0), bt.n),
                        base["floor-shared J"]))
    return out


def _fmpy(bt):
    def run(steps: int) -> tuple[float, float]:
        with tempfile.TemporaryDirectory(prefix="bench-fmpy-") as tmp:
            return time_fmpy(bt, steps, Path(tmp)), 0.0
    return run


def time_fmpy(bt, steps: int, folder: Path) -> float:
    """A plain fmpy loop in Gauss-Seidel order: setReal, doStep, getReal per FMU."""
    from fmpy.fmi2 import FMU2Slave
    ins = inputs_of(bt)
    model = {node.name: node.model for node in bt.nodes}
    fmus, plan = {}, []
    for i, node in enumerate(bt.nodes):
        f = _facts(node.model)
        floors.extract(f.path, folder / f"f{i}")
        fmu = FMU2Slave(guid=f.guid, unzipDirectory=str(folder / f"f{i}"),
                        modelIdentifier=f.model_id, instanceName=node.name)
        fmu.instantiate()
        fmu.setupExperiment(startTime=0.0)
        values = {**node.parameters, **node.start}
        fmu.setReal([f.vr[k] for k in values], [float(v) for v in values.values()])
        fmu.enterInitializationMode()
        fmu.exitInitializationMode()
        fmus[node.name] = fmu
        plan.append((node.name, fmu, [f.vr[v] for v, _, _ in ins[node.name]],
                     [(src, _facts(model[src]).outputs.index(var), g)
                      for _, (src, var), g in ((v, s.split("."), g) for v, s, g in ins[node.name])],
                     [f.vr[o] for o in f.outputs]))
    y = {name: fmu.getReal(plan[k][4]) for k, (name, fmu) in enumerate(fmus.items())}
    clock = time.perf_counter()
    for k in range(steps):
        t = k * STEP
        for name, fmu, vin, sources, vout in plan:
            if vin:
                fmu.setReal(vin, [g * y[s][j] for s, j, g in sources])
            fmu.doStep(t, STEP)
            y[name] = fmu.getReal(vout)
    seconds = time.perf_counter() - clock
    for fmu in fmus.values():
        fmu.terminate()
        fmu.freeInstance()
    return seconds


def time_libcosim(bt, steps: int) -> float:
    from libcosimpy.CosimExecution import CosimExecution
    from libcosimpy.CosimLogging import CosimLogLevel, log_output_level
    from libcosimpy.CosimSlave import CosimLocalSlave
    log_output_level(CosimLogLevel.FATAL)
    ex = CosimExecution.from_step_size(step_size=H_TICKS)
    index, keep = {}, []
    for node in bt.nodes:
        f = _facts(node.model)
        slave = CosimLocalSlave(fmu_path=str(f.path), instance_name=node.name)
        keep.append(slave)
        index[node.name] = ex.add_local_slave(local_slave=slave)
        for k, v in {**node.parameters, **node.start}.items():
            ex.real_initial_value(index[node.name], f.vr[k], float(v))
    model = {node.name: node.model for node in bt.nodes}
    for c in bt.connections:
        (sn, sv), (dn, dv) = c.source.split("."), c.target.split(".")
        ex.connect_real_variables(index[sn], _facts(model[sn]).vr[sv], index[dn],
                                  _facts(model[dn]).vr[dv])
    ex.step(1)
    clock = time.perf_counter()
    ex.step(steps)
    return time.perf_counter() - clock


def time_ecos(bt, steps: int) -> float:
    from ecospy import EcosLib, EcosSimulation, EcosSimulationStructure
    EcosLib.set_log_level("err")
    ss = EcosSimulationStructure()
    params = {}
    for node in bt.nodes:
        ss.add_model(node.name, str(_facts(node.model).path))
        params.update({f"{node.name}::{k}": float(v)
                       for k, v in {**node.parameters, **node.start}.items()})
    for c in bt.connections:
        ss.make_real_connection(c.source.replace(".", "::"), c.target.replace(".", "::"))
    ss.add_parameter_set("initial", params)
    sim = EcosSimulation(structure=ss, step_size=STEP)
    if not sim.init(parameter_set="initial"):
        raise RuntimeError(f"ecos init failed: {EcosLib.get_last_error()}")
    sim.step(1)
    clock = time.perf_counter()
    sim.step(steps)
    seconds = time.perf_counter() - clock
    sim.terminate()
    return seconds


def probe(system: str) -> str | None:
    """Why an external system cannot run here (None: it can)."""
    try:
        if system == "libcosim":
            import libcosimpy.CosimExecution  # noqa: F401
        elif system == "ecos":
            import ecospy  # noqa: F401
    except Exception as err:  # noqa: BLE001 - a missing wheel, or a missing libtbb12
        hint = " (pip install 'cosim[bench]'" + ("; apt-get install libtbb12)"
                                                  if system == "ecos" else ")")
        return f"{type(err).__name__}: {err}{hint}"
    return None


# -- the benchmark -------------------------------------------------------------------------
