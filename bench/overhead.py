"""Master overhead: ns per subsystem-step for cosim and other masters, against a C floor.

    python -m bench overhead [--quick] [--n 1 4 16 64] [--steps 100000] [--repeats 5]
                             [--topologies ...] [--systems ...] [--memory-steps 1000000]

Topologies of the project's FMUs (FMI 2.0 co-simulation binaries, one copy per instance):

``gain-chain``         N ``Gain`` FMUs in a chain (y = k*u + b)
``decay-chain``        N ``Decay`` FMUs in a chain (an integrator inside every step)
``gain-fan``           one ``Gain`` feeding N - 1 others (a small graph)
``gain-chain-blocks``  the gain chain with a built-in ``pid`` block and a ``surrogate``
                       block (a numpy Polynomial) in the middle; N counts them (N >= 4)

Systems: ``cosim-gauss-seidel`` and ``cosim-jacobi`` (the compiled loop; without
recording, and recording every output to HDF5), ``cosim-python-*`` (the Python loop,
``fast=False``, for reference), ``fmpy`` (a plain loop of ``FMU2Slave`` setReal /
doStep / getReal), ``libcosim`` (libcosimpy) and ``ecos`` (ecospy) where installed
(``pip install cosim[bench]``; ecos needs Debian's libtbb12), and ``floor``: a C driver
(``bench/floor/floor.c``, compiled with gcc here) that dlopens the same binaries and runs
the same loop with nothing else. libcosim and ecos step all FMUs from the previous
outputs, so they are compared with the Jacobi floor; fmpy with the Gauss-Seidel one.

Only the stepping loop is timed (set-up excluded): cosim's compiled loop by wrapping
its ``run`` (with recording, plus the recorder's final flush and close), the floor by
its own clock around its loop, the others around their step calls. Systems take turns
within each repeat, so background load hits them alike; the table gives medians.
Writes ``bench/results/overhead.json`` (one record per system, topology, N, recording)
and ``bench/results/overhead_memory.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import cosim
from cosim.observers.base import Observer
from cosim.observers.hdf5 import HDF5Recorder

RESULTS = Path(__file__).parent / "results"
FLOOR_SOURCE = Path(__file__).parent / "floor" / "floor.c"
STEP = 1e-3
H_TICKS = 1_000_000
PID_PARAMETERS = {"kp": 0.5, "ki": 2.0, "kd": 0.01, "derivative_filter": 0.05,
                  "u_min": -5.0, "u_max": 5.0}
PID_SETPOINT = 0.5
POLY_COEF = (0.1, 0.9, -0.05)
POLY_DOMAIN = (-5.0, 5.0)
MIN_SUBSYSTEM_STEPS = 1_600_000  # small N get more steps, so the loop takes a while


# -- topologies ------------------------------------------------------------------------


@dataclass
class NodeDef:
    name: str
    kind: str  # "fmu" | "pid" | "poly"
    model: str = ""
    parameters: dict = field(default_factory=dict)
    start: dict = field(default_factory=dict)


@dataclass
class ConnDef:
    source: str
    target: str
    gain: float = 1.0
    check_units: bool = True


@dataclass
class BenchTopology:
    name: str
    n: int
    nodes: list[NodeDef]
    connections: list[ConnDef]

    @property
    def fmu_only(self) -> bool:
        return all(node.kind == "fmu" for node in self.nodes)


def _gains(names: list[str]) -> list[NodeDef]:
    nodes = [NodeDef(name, "fmu", "Gain", {"k": 1.0, "b": 1e-3}) for name in names]
    nodes[0].start = {"u": 1.0}
    return nodes


def gain_chain(n: int) -> BenchTopology:
    names = [f"g{i}" for i in range(n)]
    conns = [ConnDef(f"{a}.y", f"{b}.u") for a, b in zip(names, names[1:], strict=False)]
    return BenchTopology("gain-chain", n, _gains(names), conns)


def decay_chain(n: int) -> BenchTopology:
    nodes = [NodeDef(f"d{i}", "fmu", "Decay", {"k": 1.0 + 0.1 * i, "x0": 0.0})
             for i in range(n)]
    nodes[0].start = {"u": 1.0}
    conns = [ConnDef(f"d{i - 1}.x", f"d{i}.u", check_units=False) for i in range(1, n)]
    return BenchTopology("decay-chain", n, nodes, conns)


def gain_fan(n: int) -> BenchTopology:
    names = [f"g{i}" for i in range(n)]
    conns = [ConnDef("g0.y", f"{b}.u") for b in names[1:]]
    return BenchTopology("gain-fan", n, _gains(names), conns)


def gain_chain_blocks(n: int) -> BenchTopology:
    if n < 4:
        raise ValueError("gain-chain-blocks needs n >= 4")
    before = (n - 2) // 2
    names = [f"g{i}" for i in range(before)] + ["pid", "poly"] + \
        [f"g{i}" for i in range(before + 2, n)]
    nodes = _gains([m for m in names if m.startswith("g")])
    nodes[before:before] = [NodeDef("pid", "pid", parameters=dict(PID_PARAMETERS),
                                    start={"setpoint": PID_SETPOINT}),
                            NodeDef("poly", "poly")]
    ports = {"pid": ("u", "measurement"), "poly": ("y", "x")}
    conns = [ConnDef(f"{a}.{ports.get(a, ('y', 'u'))[0]}", f"{b}.{ports.get(b, ('y', 'u'))[1]}")
             for a, b in zip(names, names[1:], strict=False)]
    return BenchTopology("gain-chain-blocks", n, nodes, conns)


TOPOLOGIES: dict[str, Callable[[int], BenchTopology]] = {
    "gain-chain": gain_chain, "decay-chain": decay_chain, "gain-fan": gain_fan,
    "gain-chain-blocks": gain_chain_blocks,
}


def polynomial():
    from numpy.polynomial import Polynomial
    return Polynomial(POLY_COEF, domain=POLY_DOMAIN)


def to_cosim(bt: BenchTopology, steps: int, workdir: Path, step: float = STEP
             ) -> cosim.Topology:
    """The benchmark topology as a cosim Topology (the surrogate's model is pickled into
    ``workdir``)."""
    from fmus.build import fmu_path
    topo = cosim.Topology(f"{bt.name}-{bt.n}", stop=steps * step, step=step)
    for node in bt.nodes:
        if node.kind == "fmu":
            topo.add_fmu(node.name, fmu_path(node.model, 2), parameters=node.parameters,
                         start=node.start)
        elif node.kind == "pid":
            topo.add_block(node.name, "pid", parameters=node.parameters, start=node.start)
        else:
            model = workdir / "poly.pkl"
            model.write_bytes(pickle.dumps(polynomial()))
            topo.add_block(node.name, "surrogate", parameters={
                "model": str(model), "inputs": ["x"], "outputs": ["y"]})
    for c in bt.connections:
        topo.connect(c.source, c.target, gain=c.gain, check_units=c.check_units)
    return topo


# -- shared FMU facts ----------------------------------------------------------------------


@dataclass
class FMUFacts:
    path: Path
    guid: str
    model_id: str
    vr: dict[str, int]
    outputs: list[str]


_FACTS: dict[str, FMUFacts] = {}


def facts(model: str) -> FMUFacts:
    if model not in _FACTS:
        from fmpy import read_model_description

        from fmus.build import fmu_path
        path = fmu_path(model, 2)
        md = read_model_description(str(path))
        _FACTS[model] = FMUFacts(
            path, md.guid, md.coSimulation.modelIdentifier,
            {v.name: v.valueReference for v in md.modelVariables},
            [v.name for v in md.modelVariables if v.causality == "output"])
    return _FACTS[model]


def extract(model: str, folder: Path) -> Path:
    """Unzip one copy of the FMU (one per instance, as cosim does); the binary's path."""
    f = facts(model)
    with zipfile.ZipFile(f.path) as z:
        z.extractall(folder)
    return folder / "binaries" / "linux64" / f"{f.model_id}.so"


def inputs_of(bt: BenchTopology) -> dict[str, list[tuple[str, str, float]]]:
    """node -> [(input, source node.var, gain)], in connection order."""
    ins: dict[str, list[tuple[str, str, float]]] = {n.name: [] for n in bt.nodes}
    for c in bt.connections:
        node, var = c.target.split(".")
        ins[node].append((var, c.source, c.gain))
    return ins


# -- timing cosim --------------------------------------------------------------------------


class _TimedRecorder(HDF5Recorder):
    """An HDF5 recorder that also times its final flush and close."""

    finish_seconds = 0.0

    def finished(self, error):
        clock = time.perf_counter()
        try:
            super().finished(error)
        finally:
            self.finish_seconds = time.perf_counter() - clock


@contextlib.contextmanager
def timed_loop(fast: bool) -> Iterator[list[float]]:
    """Time the stepping loop of the next run: the compiled loop's ``run`` (fast) or
    ``Execution._plain_steps``. Yields a list that receives the seconds."""
    import cosim.execution
    import cosim.fast
    seconds: list[float] = []
    if fast:
        original = cosim.fast.compile_loop

        def compile_loop(sim):
            loop = original(sim)
            if loop is None:
                raise RuntimeError(f"no compiled loop: {cosim.fast.explain(sim)}")
            run = loop.run

            def timed(*args):
                clock = time.perf_counter()
                result = run(*args)
                seconds.append(time.perf_counter() - clock)
                return result
            loop.run = timed
            return loop

        cosim.fast.compile_loop = compile_loop
        try:
            yield seconds
        finally:
            cosim.fast.compile_loop = original
        return
    original_steps = cosim.execution.Execution._plain_steps

    def python_steps(self, *args):
        clock = time.perf_counter()
        result = original_steps(self, *args)
        seconds.append(time.perf_counter() - clock)
        return result

    cosim.execution.Execution._plain_steps = python_steps
    try:
        yield seconds
    finally:
        cosim.execution.Execution._plain_steps = original_steps


def time_cosim(topo: cosim.Topology, algorithm: str, record: bool, workdir: Path,
               fast: bool = True) -> float:
    observers = [_TimedRecorder(workdir / "run.h5")] if record else []
    with timed_loop(fast) as seconds:
        cosim.run(topo, algorithm=algorithm, keep_in_memory=False, observers=observers,
                  fast=fast)
    return seconds[0] + (observers[0].finish_seconds if record else 0.0)


# -- the other systems ----------------------------------------------------------------------


def build_floor(folder: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler (gcc) for the floor driver")
    exe = folder / "floor"
    subprocess.run([cc, "-O2", "-std=c11", "-o", str(exe), str(FLOOR_SOURCE), "-ldl"],
                   check=True, capture_output=True, text=True)
    return exe


def floor_spec(bt: BenchTopology, algorithm: str, steps: int, folder: Path) -> Path:
    ins = inputs_of(bt)
    index = {node.name: i for i, node in enumerate(bt.nodes)}
    outputs: dict[str, list[str]] = {}
    lines = [f"algorithm {'jacobi' if algorithm == 'jacobi' else 'gs'}", f"steps {steps}",
             f"h_ticks {H_TICKS}", f"nodes {len(bt.nodes)}"]
    for i, node in enumerate(bt.nodes):
        if node.kind == "fmu":
            f = facts(node.model)
            so = extract(node.model, folder / f"n{i}")
            values = {**node.parameters, **node.start}
            pars = " ".join(f"{f.vr[k]} {float(v)!r}" for k, v in values.items())
            vin = [f.vr[var] for var, _, _ in ins[node.name]]
            outputs[node.name] = f.outputs
            lines.append(f"fmu2 {so} {f.model_id} {f.guid} {(folder / f'n{i}').as_uri()}"
                         f"/resources {node.name} {len(values)} {pars} {len(vin)} "
                         f"{' '.join(map(str, vin))} {len(f.outputs)} "
                         f"{' '.join(str(f.vr[o]) for o in f.outputs)}")
        elif node.kind == "pid":
            p = node.parameters
            outputs[node.name] = ["u"]
            lines.append(f"pid {p['kp']!r} {p['ki']!r} {p['kd']!r} {p['derivative_filter']!r} "
                         f"{p['u_min']!r} {p['u_max']!r} 0 {node.start['setpoint']!r}")
        else:
            from numpy.polynomial import polyutils as pu
            poly = polynomial()
            off, scl = pu.mapparms(poly.domain, poly.window)
            outputs[node.name] = ["y"]
            lines.append(f"poly {float(off)!r} {float(scl)!r} {len(poly.coef)} "
                         + " ".join(repr(float(c)) for c in poly.coef))
    conns = sorted(bt.connections, key=lambda c: index[c.target.split(".")[0]])
    lines.append(f"conns {len(conns)}")
    for c in conns:
        (sn, sv), (dn, dv) = c.source.split("."), c.target.split(".")
        di = [var for var, _, _ in ins[dn]].index(dv)
        lines.append(f"{index[sn]} {outputs[sn].index(sv)} {index[dn]} {di} {c.gain!r} 0.0")
    spec = folder / "spec.txt"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def time_floor(exe: Path, spec: Path) -> float:
    out = subprocess.run([str(exe), str(spec)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[1]) * 1e-9


def time_fmpy(bt: BenchTopology, steps: int, folder: Path) -> float:
    """A plain fmpy loop in Gauss-Seidel order: setReal, doStep, getReal per FMU."""
    from fmpy.fmi2 import FMU2Slave
    ins = inputs_of(bt)
    model = {node.name: node.model for node in bt.nodes}
    fmus, plan = {}, []
    for i, node in enumerate(bt.nodes):
        f = facts(node.model)
        extract(node.model, folder / f"f{i}")
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
                     [(src, facts(model[src]).outputs.index(var), g)
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


def time_libcosim(bt: BenchTopology, steps: int) -> float:
    from libcosimpy.CosimExecution import CosimExecution
    from libcosimpy.CosimLogging import CosimLogLevel, log_output_level
    from libcosimpy.CosimSlave import CosimLocalSlave
    log_output_level(CosimLogLevel.FATAL)
    ex = CosimExecution.from_step_size(step_size=H_TICKS)
    index, keep = {}, []
    for node in bt.nodes:
        f = facts(node.model)
        slave = CosimLocalSlave(fmu_path=str(f.path), instance_name=node.name)
        keep.append(slave)
        index[node.name] = ex.add_local_slave(local_slave=slave)
        for k, v in {**node.parameters, **node.start}.items():
            ex.real_initial_value(index[node.name], f.vr[k], float(v))
    model = {node.name: node.model for node in bt.nodes}
    for c in bt.connections:
        (sn, sv), (dn, dv) = c.source.split("."), c.target.split(".")
        ex.connect_real_variables(index[sn], facts(model[sn]).vr[sv], index[dn],
                                  facts(model[dn]).vr[dv])
    ex.step(1)
    clock = time.perf_counter()
    ex.step(steps)
    return time.perf_counter() - clock


def time_ecos(bt: BenchTopology, steps: int) -> float:
    from ecospy import EcosLib, EcosSimulation, EcosSimulationStructure
    EcosLib.set_log_level("err")
    ss = EcosSimulationStructure()
    params = {}
    for node in bt.nodes:
        ss.add_model(node.name, str(facts(node.model).path))
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


@dataclass
class Case:
    system: str
    algorithm: str
    recording: bool
    run: Callable[[], float]
    steps: int


def cases(bt: BenchTopology, args, workdir: Path, floor: Path | None,
          skipped: dict[str, str]) -> list[Case]:
    steps = max(args.steps, MIN_SUBSYSTEM_STEPS // bt.n) if not args.quick else args.steps
    topo = to_cosim(bt, steps, workdir)
    out: list[Case] = []
    wanted = set(args.systems)
    for alg in ("gauss-seidel", "jacobi"):
        for rec in (False, True):
            if f"cosim-{alg}" in wanted:
                out.append(Case(f"cosim-{alg}", alg, rec, lambda a=alg, r=rec: time_cosim(
                    topo, a, r, workdir), steps))
        if f"cosim-python-{alg}" in wanted and bt.n == 16 and bt.name == "gain-chain":
            few = max(2000, steps // 20)
            small = to_cosim(bt, few, workdir)
            out.append(Case(f"cosim-python-{alg}", alg, False, lambda a=alg, s=small:
                            time_cosim(s, a, False, workdir, fast=False), few))
        if floor is not None and "floor" in wanted:
            spec = floor_spec(bt, alg, steps, workdir / f"floor-{alg}")
            out.append(Case("floor", alg, False, lambda s=spec: time_floor(floor, s), steps))
    if not bt.fmu_only:
        return out
    if "fmpy" in wanted and (bt.name == "gain-chain" or args.all):
        few = args.fmpy_steps or steps
        out.append(Case("fmpy", "gauss-seidel", False,
                        lambda: time_fmpy(bt, few, Path(tempfile.mkdtemp(dir=workdir))), few))
    for system, fn in (("libcosim", time_libcosim), ("ecos", time_ecos)):
        if system in wanted and system not in skipped:
            out.append(Case(system, "jacobi", False, lambda f=fn: f(bt, steps), steps))
    return out


def measure(bt: BenchTopology, args, floor: Path | None, skipped: dict[str, str]
            ) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{bt.name}-{bt.n}-") as tmp:
        workdir = Path(tmp)
        todo = cases(bt, args, workdir, floor, skipped)
        walls: dict[int, list[float]] = {k: [] for k in range(len(todo))}
        for _ in range(args.repeats):
            for k, case in enumerate(todo):
                if case.system in skipped:
                    continue
                try:
                    walls[k].append(case.run())
                except Exception as err:  # noqa: BLE001 - an external tool failing
                    if case.system in ("libcosim", "ecos", "fmpy"):
                        skipped[case.system] = f"{type(err).__name__}: {err}"
                        continue
                    raise
    records = []
    for k, case in enumerate(todo):
        if not walls[k]:
            continue
        records.append({
            "system": case.system, "topology": bt.name, "n": bt.n,
            "recording": case.recording, "algorithm": case.algorithm, "steps": case.steps,
            "repeats": len(walls[k]),
            "ns_per_subsystem_step": statistics.median(walls[k]) / (case.steps * bt.n) * 1e9,
        })
    floors = {r["algorithm"]: r["ns_per_subsystem_step"] for r in records
              if r["system"] == "floor"}
    for r in records:
        base = floors.get(r["algorithm"])
        r["ratio_to_floor"] = r["ns_per_subsystem_step"] / base if base else None
    return records


class _RSSProbe(Observer):
    """Resident set size [bytes] at every block of rows the compiled loop hands over."""

    def __init__(self):
        self.samples: list[int] = []

    def stepped_block(self, times, values) -> None:
        self.samples.append(_rss())


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_memory(steps: int) -> dict:
    """RSS over a long recorded run: gain chain of 16, every output to HDF5.

    Sampled at every block of rows the compiled loop hands over; the buffers fill in the
    first few blocks, so flatness is judged from the middle of the run to its end.
    """
    bt = gain_chain(16)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        topo = to_cosim(bt, steps, Path(tmp))
        rss = _RSSProbe()
        before = _rss()
        cosim.run(topo, keep_in_memory=False, output=Path(tmp) / "long.h5", observers=[rss])
        after = _rss()
        size = (Path(tmp) / "long.h5").stat().st_size
    s = rss.samples
    mid = s[len(s) // 2]
    return {"topology": "gain-chain", "n": 16, "steps": steps, "signals": 16,
            "rss_before_mb": before / 2**20, "rss_mid_mb": mid / 2**20,
            "rss_max_mb": max(s) / 2**20, "rss_end_mb": s[-1] / 2**20,
            "rss_after_mb": after / 2**20, "warm_up_mb": (mid - before) / 2**20,
            "growth_second_half_mb": (s[-1] - mid) / 2**20, "file_mb": size / 2**20,
            "hand_overs": len(s)}


def print_table(records: list[dict]) -> None:
    print(f"{'topology':<18} {'N':>3} {'system':<26} {'alg':<6} {'rec':<4} "
          f"{'ns/sub-step':>11} {'x floor':>8}")
    for r in records:
        ratio = f"{r['ratio_to_floor']:.2f}" if r["ratio_to_floor"] else "-"
        print(f"{r['topology']:<18} {r['n']:>3} {r['system']:<26} "
              f"{'GS' if r['algorithm'] == 'gauss-seidel' else 'J':<6} "
              f"{'h5' if r['recording'] else '':<4} {r['ns_per_subsystem_step']:>11.1f} "
              f"{ratio:>8}")


SYSTEMS = ("cosim-gauss-seidel", "cosim-jacobi", "cosim-python-gauss-seidel",
           "cosim-python-jacobi", "fmpy", "libcosim", "ecos", "floor")


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(prog="python -m bench overhead")
    parser.add_argument("--quick", action="store_true",
                        help="N = 1, 16; 20,000 steps; memory over 200,000 steps")
    parser.add_argument("--n", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None,
                        help="macro steps (default 100,000; small N run more, so that "
                             f"N * steps >= {MIN_SUBSYSTEM_STEPS:,})")
    parser.add_argument("--fmpy-steps", type=int, default=None,
                        help="macro steps of the (slow) fmpy loop (default: as --steps)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--topologies", nargs="+", default=list(TOPOLOGIES),
                        choices=list(TOPOLOGIES))
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--all", action="store_true", help="fmpy on every FMU topology "
                        "(default: on the gain chain only)")
    parser.add_argument("--memory-steps", type=int, default=None)
    args = parser.parse_args(argv)
    args.n = args.n or ([1, 16] if args.quick else [1, 4, 16, 64])
    args.steps = args.steps or (20_000 if args.quick else 100_000)
    args.memory_steps = args.memory_steps or (200_000 if args.quick else 1_000_000)
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    from fmus.build import build
    build(["Gain", "Decay"])
    from cosim.fast import build as kernel_build
    clock = time.perf_counter()
    kernel_build.kernel()
    print(f"compiled loop kernel ready in {time.perf_counter() - clock:.3f} s "
          f"(compile: {kernel_build.compile_seconds or 0:.3f} s, 0 = cached)")
    skipped = {s: why for s in ("libcosim", "ecos") if (why := probe(s))}
    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        try:
            floor = build_floor(Path(tmp)) if "floor" in args.systems else None
        except (RuntimeError, subprocess.CalledProcessError) as err:
            print(f"floor skipped: {err}")
            floor = None
        for name in args.topologies:
            for n in args.n:
                if name == "gain-chain-blocks" and n < 4:
                    continue
                records += measure(TOPOLOGIES[name](n), args, floor, skipped)
                print_table([r for r in records if r["topology"] == name and r["n"] == n])
    for system, why in skipped.items():
        print(f"{system} skipped: {why}")
    memory = measure_memory(args.memory_steps)
    print(f"memory, gain chain of 16 recording 16 signals to HDF5 over "
          f"{memory['steps']:,} steps: RSS {memory['rss_before_mb']:.1f} MB before, "
          f"{memory['rss_mid_mb']:.1f} MB at half-way, {memory['rss_end_mb']:.1f} MB at the "
          f"end (max {memory['rss_max_mb']:.1f} MB): second half "
          f"{memory['growth_second_half_mb']:+.2f} MB, warm-up "
          f"{memory['warm_up_mb']:+.1f} MB; file {memory['file_mb']:.1f} MB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "overhead.json").write_text(json.dumps(records, indent=2))
    (RESULTS / "overhead_memory.json").write_text(json.dumps(
        {**memory, "skipped": skipped, "numpy": np.__version__}, indent=2))
    print(f"wrote {RESULTS / 'overhead.json'}")
    return 0
