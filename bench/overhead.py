"""Master overhead: ns per subsystem-step of cosim's loops against a C floor, interleaved.

    python -m bench overhead [--quick | --full] [--n 1 16 256] [--repeats 5]
                             [--seconds 0.5] [--topologies ...] [--systems ...]

Topologies of the project's FMUs (FMI 2.0 co-simulation):

``gain-chain``          N ``Gain`` FMUs in a chain (y = k*u + b)
``decay-chain``         N ``Decay`` FMUs in a chain (an integrator inside every step)
``gain-fan``            one ``Gain`` feeding N - 1 others
``gain-chain-blocks``   the gain chain with a built-in ``pid`` and a polynomial
                        ``surrogate`` in the middle (N counts them, N >= 4)
``gain-chain-python``   the gain chain of N with one user Python block in the middle
                        (its own ``step`` timed alone too)
``gain-chain-events``   the gain chain with a scheduled event every 10,000 steps and a
                        monitor (rollback checkpoints), against the bare chain

Every case runs ``--repeats`` times for at least ``--seconds`` each, each time right
after its baseline (interleaved: background load hits both alike); the table gives
the median ns per subsystem-step (one set, one doStep, one get of one node in one macro
step) and the median and min–max of the per-repetition ratio. Baselines: the C floor
with one binary shared by an FMU's instances (``floor-shared``, as cosim loads them);
the floor with one copy per instance (``floor-copies``) is a case against it. Systems:
``cosim-gauss-seidel`` / ``cosim-jacobi`` (the compiled loop; bare, and recording every
output to HDF5 — its final flush and close included), ``cosim-python-*`` (the Python
loop, ``fast=False``), ``fmpy`` (a plain ``FMU2Slave`` loop), ``libcosim`` and ``ecos``
where installed (``pip install cosim[bench]``). Only the stepping loop is timed (set-up
excluded). Writes ``bench/results/overhead.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import cosim
from cosim.observers.base import Observer
from cosim.observers.hdf5 import HDF5Recorder

from . import floors, others
from .repeat import Result, Timed, interleaved

RESULTS = Path(__file__).parent / "results"
STEP = floors.STEP
PID_PARAMETERS = {"kp": 0.5, "ki": 2.0, "kd": 0.01, "derivative_filter": 0.05,
                  "u_min": -5.0, "u_max": 5.0}
PID_SETPOINT = 0.5
POLY_COEF = (0.1, 0.9, -0.05)
POLY_DOMAIN = (-5.0, 5.0)
EVENT_EVERY = 10_000  # steps between scheduled events (gain-chain-events)


# -- topologies ------------------------------------------------------------------------


@dataclass
class NodeDef:
    name: str
    kind: str  # "fmu" | "pid" | "poly" | "python"
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
    events: bool = False

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


def _with_middle(n: int, name: str, middle: list[NodeDef], ports: dict) -> BenchTopology:
    before = n // 2
    names = [f"g{i}" for i in range(before)] + [m.name for m in middle] + \
        [f"g{i}" for i in range(before, n)]
    nodes = _gains([m for m in names if m.startswith("g")])
    nodes[before:before] = middle
    conns = [ConnDef(f"{a}.{ports.get(a, ('y', 'u'))[0]}", f"{b}.{ports.get(b, ('y', 'u'))[1]}")
             for a, b in zip(names, names[1:], strict=False)]
    return BenchTopology(name, n, nodes, conns)


def gain_chain_blocks(n: int) -> BenchTopology:
    if n < 4:
        raise ValueError("gain-chain-blocks needs n >= 4")
    bt = _with_middle(n - 2, "gain-chain-blocks", [
        NodeDef("pid", "pid", parameters=dict(PID_PARAMETERS), start={"setpoint": PID_SETPOINT}),
        NodeDef("poly", "poly")], {"pid": ("u", "measurement"), "poly": ("y", "x")})
    bt.n = n
    return bt


def gain_chain_python(n: int) -> BenchTopology:
    """N Gain FMUs and one user Python block (a first-order lag) in the middle."""
    bt = _with_middle(n, "gain-chain-python", [NodeDef("lag", "python")], {})
    bt.n = n + 1
    return bt


def gain_chain_events(n: int) -> BenchTopology:
    bt = gain_chain(n)
    bt.name, bt.events = "gain-chain-events", True
    return bt


TOPOLOGIES: dict[str, Callable[[int], BenchTopology]] = {
    "gain-chain": gain_chain, "decay-chain": decay_chain, "gain-fan": gain_fan,
    "gain-chain-blocks": gain_chain_blocks,
}
SPECIAL: dict[str, Callable[[int], BenchTopology]] = {
    "gain-chain-python": gain_chain_python, "gain-chain-events": gain_chain_events,
}


class Lag(cosim.Block):
    """A user block: first-order lag, tau * dy/dt = u - y (explicit Euler)."""

    inputs = {"u": cosim.Port()}
    outputs = {"y": cosim.Port()}
    parameters = {"tau": cosim.Param(0.05, unit="s")}
    feedthrough = {"y": []}

    def reset(self, t0):
        self.x = 0.0

    def step(self, t, dt, inputs):
        self.x += dt / self.tau * (inputs["u"] - self.x)
        return {"y": self.x}


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
        elif node.kind == "python":
            topo.add_block(node.name, Lag)
        else:
            model = workdir / "poly.pkl"
            model.write_bytes(pickle.dumps(polynomial()))
            topo.add_block(node.name, "surrogate", parameters={
                "model": str(model), "inputs": ["x"], "outputs": ["y"]})
    for c in bt.connections:
        topo.connect(c.source, c.target, gain=c.gain, check_units=c.check_units)
    if bt.events:
        for k in range(1, steps // EVENT_EVERY + 1):
            topo.add_event(k * EVENT_EVERY * step, "g0.u", 1.0 + (k % 2), name=f"e{k}")
        topo.add_monitor(f"g{bt.n - 1}.y > 1e9", name="never")
    return topo


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
def timed_loop(fast: bool) -> Iterator[list[tuple[float, float]]]:
    """Time the stepping loop of the next runs: the compiled loop's ``run`` (fast), the
    event loop's ``run`` (events), or ``Execution._plain_steps``. Yields a list that
    receives (wall, CPU) seconds."""
    import cosim.eventloop
    import cosim.execution
    seconds: list[tuple[float, float]] = []
    targets = [(cosim.eventloop.EventLoop, "run"), (cosim.execution.Execution, "_plain_steps")]
    if fast:
        import cosim.fast.loop
        targets.append((cosim.fast.loop.CompiledLoop, "run"))
    originals = [(cls, name, getattr(cls, name)) for cls, name in targets]

    def wrap(original):
        def timed(*args, **kwargs):
            if getattr(_depth, "n", 0):
                return original(*args, **kwargs)
            _depth.n = 1
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                _depth.n = 0
                seconds.append((time.perf_counter() - wall, time.process_time() - cpu))
        return timed

    for cls, name, original in originals:
        setattr(cls, name, wrap(original))
    try:
        yield seconds
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


class _Depth:
    n = 0


_depth = _Depth()


def cosim_timed(bt: BenchTopology, algorithm: str, record: bool | str, workdir: Path,
                fast: bool = True) -> Callable[[int], tuple[float, float]]:
    """``run(steps)`` of cosim on ``bt``: the stepping loop's (wall, CPU) seconds.
    ``record``: False, True or "hdf5" (every output to an HDF5 file), "memory" (the
    in-memory recorder)."""
    def run(steps: int) -> tuple[float, float]:
        topo = to_cosim(bt, steps, workdir)
        hdf5 = record is True or record == "hdf5"
        observers = [_TimedRecorder(workdir / "run.h5")] if hdf5 else []
        with timed_loop(fast) as seconds:
            cosim.run(topo, algorithm=algorithm, keep_in_memory=record == "memory",
                      observers=observers, fast=fast)
        wall = sum(s[0] for s in seconds)
        cpu = sum(s[1] for s in seconds)
        extra = observers[0].finish_seconds if hdf5 else 0.0
        return wall + extra, cpu + extra
    return run


def block_alone(seconds: float = 0.2) -> tuple[float, float]:
    """(wall, CPU) seconds per call of the Python block's own ``step`` (called in a
    tight loop)."""
    block = Lag()
    block.reset(0.0)
    inputs = {"u": 1.0}
    n, clock, cpu = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - clock < seconds:
        for i in range(1000):
            block.step(i * STEP, STEP, inputs)
        n += 1000
    return (time.perf_counter() - clock) / n, (time.thread_time() - cpu) / n


# -- the C floor ---------------------------------------------------------------------------


def floor_nodes(bt: BenchTopology) -> list[floors.FloorNode]:
    from fmus.build import fmu_path
    inputs: dict[str, list[str]] = {n.name: [] for n in bt.nodes}
    for c in bt.connections:
        node, var = c.target.split(".")
        inputs[node].append(var)
    out = []
    for node in bt.nodes:
        if node.kind == "fmu":
            out.append(floors.FloorNode(node.name, "fmu2", fmu_path(node.model, 2),
                                        {**node.parameters, **node.start},
                                        inputs[node.name]))
        elif node.kind == "pid":
            p = node.parameters
            out.append(floors.FloorNode(
                node.name, "pid", inputs=["measurement"], outputs=["u"],
                line=f"pid {p['kp']!r} {p['ki']!r} {p['kd']!r} {p['derivative_filter']!r} "
                     f"{p['u_min']!r} {p['u_max']!r} 0 {node.start['setpoint']!r}"))
        else:
            from numpy.polynomial import polyutils as pu
            poly = polynomial()
            off, scl = pu.mapparms(poly.domain, poly.window)
            out.append(floors.FloorNode(
                node.name, "poly", inputs=["x"], outputs=["y"],
                line=f"poly {float(off)!r} {float(scl)!r} {len(poly.coef)} "
                     + " ".join(repr(float(c)) for c in poly.coef)))
    return out


def floor_timed(exe: Path, bt: BenchTopology, algorithm: str, workdir: Path, shared: bool
                ) -> Callable[[int], tuple[float, float]]:
    floor = floors.write_spec(exe, floor_nodes(bt), [(c.source, c.target, c.gain)
                                                     for c in bt.connections],
                              algorithm, workdir / "floor", shared)
    return floor.run


# -- the cases --------------------------------------------------------------------------


ALGORITHMS = ("gauss-seidel", "jacobi")


def _short(alg: str) -> str:
    return "GS" if alg == "gauss-seidel" else "J"


def pairs_for(bt: BenchTopology, args, workdir: Path, exe: Path | None,
              skipped: dict[str, str]) -> list[tuple[Timed, Timed]]:
    """(case, baseline) pairs of one topology and size."""
    wanted, pairs = set(args.systems), []
    width = bt.n if bt.name != "gain-chain-python" else bt.n
    for alg in ALGORITHMS:
        base = _baseline(bt, alg, workdir, exe, width)
        if base is None:
            continue
        if exe is not None and "floor" in wanted and bt.name in TOPOLOGIES:
            pairs.append((Timed(f"floor-copies {_short(alg)}", floor_timed(
                exe, bt, alg, workdir / f"copies-{alg}", shared=False), width), base))
        if f"cosim-{alg}" in wanted:
            pairs.append((Timed(f"cosim {_short(alg)}", cosim_timed(bt, alg, False, workdir),
                                width), base))
            if bt.name in ("gain-chain", "gain-fan", "decay-chain", "gain-chain-blocks") \
                    and not args.no_hdf5:
                pairs.append((Timed(f"cosim {_short(alg)} + HDF5", cosim_timed(
                    bt, alg, "hdf5", workdir), width), base))
                if bt.name == "gain-chain":
                    pairs.append((Timed(f"cosim {_short(alg)} + memory", cosim_timed(
                        bt, alg, "memory", workdir), width), base))
        if f"cosim-python-{alg}" in wanted and bt.name == "gain-chain" and bt.n == 16:
            pairs.append((Timed(f"cosim-python {_short(alg)}", cosim_timed(
                bt, alg, False, workdir, fast=False), width, max_steps=200_000), base))
    if bt.name == "gain-chain" and bt.fmu_only:
        pairs += others.pairs(bt, wanted, skipped, pairs)
    return pairs


def _baseline(bt, alg, workdir, exe, width) -> Timed | None:
    """The floor (shared binary) for the FMU topologies; the bare compiled gain chain
    for gain-chain-python and gain-chain-events (their question is the extra cost)."""
    if bt.name in SPECIAL:
        n = bt.n - (bt.name == "gain-chain-python")
        return Timed(f"cosim {_short(alg)} chain of {n}",
                     cosim_timed(gain_chain(n), alg, False, workdir), 1)
    if exe is None:
        return None
    return Timed(f"floor-shared {_short(alg)}", floor_timed(
        exe, bt, alg, workdir / f"shared-{alg}", shared=True), width)


# -- running and printing -----------------------------------------------------------------


def measure(bt: BenchTopology, args, exe: Path | None, skipped: dict[str, str]
            ) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{bt.name}-{bt.n}-") as tmp:
        pairs = pairs_for(bt, args, Path(tmp), exe, skipped)
        if bt.name in SPECIAL:  # ratios of costs per macro step
            for case, _ in pairs:
                case.width = 1
        results = interleaved(pairs, args.repeats, args.seconds)
        alone = block_alone() if bt.name == "gain-chain-python" else None
    return [_record(bt, r, alone) for r in results]


def _record(bt: BenchTopology, r: Result, alone: tuple[float, float] | None) -> dict:
    out = {"topology": bt.name, "n": bt.n, "case": r.case, "baseline": r.baseline,
           "steps": r.steps, "repeats": len(r.ratio.values),
           "ns_per_subsystem_step": r.ns.as_dict(), "baseline_ns": r.base_ns.as_dict(),
           "ratio": r.ratio.as_dict(), "cpu_ratio": r.cpu_ratio.as_dict(),
           "cpu_ns": r.cpu_ns.as_dict(), "baseline_cpu_ns": r.base_cpu_ns.as_dict()}
    if alone is not None:  # per macro step: case - chain - the block's own step
        for key, case, base, own in (("extra_ns", r.ns, r.base_ns, alone[0]),
                                     ("extra_cpu_ns", r.cpu_ns, r.base_cpu_ns, alone[1])):
            extra = [c - b - own * 1e9 for c, b in zip(case.values, base.values,
                                                       strict=True)]
            out[key] = {"median": float(np.median(extra)) if extra else None,
                        "min": min(extra, default=None), "max": max(extra, default=None),
                        "values": extra}
        out["block_alone_ns"], out["block_alone_cpu_ns"] = alone[0] * 1e9, alone[1] * 1e9
    return out


def print_table(records: list[dict]) -> None:
    print(f"{'topology':<18} {'N':>4} {'case':<22} {'ns/sub-step':>10} {'baseline':<28}"
          f" {'x baseline (min-max)':>21} {'cpu x':>6}")
    for r in records:
        ns, ratio, cpu = r["ns_per_subsystem_step"], r["ratio"], r["cpu_ratio"]
        base = f"{r['baseline']} {r['baseline_ns']['median']:.1f}"
        print(f"{r['topology']:<18} {r['n']:>4} {r['case']:<22} {ns['median']:>10.1f} "
              f"{base:<28} {ratio['median']:>6.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"
              + (f"  {cpu['median']:>6.2f}" if cpu["values"] else ""))
        if "extra_ns" in r:
            e, c = r["extra_ns"], r["extra_cpu_ns"]
            print(f"{'':<24} per macro step beyond the chain and the block's own step "
                  f"({r['block_alone_ns']:.0f} ns): {e['median']:.0f} ns "
                  f"({e['min']:.0f}-{e['max']:.0f}) wall")
            if c["median"] is not None:
                print(f"{'':<24} in CPU time (block alone {r['block_alone_cpu_ns']:.0f} "
                      f"ns): {c['median']:.0f} ns ({c['min']:.0f}-{c['max']:.0f})")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cc = shutil.which("gcc") or "cc"
    version = subprocess.run([cc, "-dumpversion"], capture_output=True, text=True).stdout
    return (f"{os.cpu_count()} cores, {cpu}, gcc {version.strip()}, Python "
            f"{platform.python_version()}, numpy {np.__version__}; load average "
            f"{load:.1f} at the start")


SYSTEMS = ("cosim-gauss-seidel", "cosim-jacobi", "cosim-python-gauss-seidel",
           "cosim-python-jacobi", "fmpy", "libcosim", "ecos", "floor")


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(prog="python -m bench overhead")
    parser.add_argument("--quick", action="store_true",
                        help="N = 16 only, 3 repetitions of >= 0.3 s")
    parser.add_argument("--full", action="store_true",
                        help="N = 1, 4, 16, 64, 256 on every topology")
    parser.add_argument("--n", type=int, nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None,
                        help="minimum length of one timed run (default 0.5 s)")
    parser.add_argument("--topologies", nargs="+", default=None,
                        choices=list(TOPOLOGIES) + list(SPECIAL))
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--no-hdf5", action="store_true", help="skip the recording cases")
    parser.add_argument("--memory-steps", type=int, default=0,
                        help="also measure RSS over a recorded run of this many steps")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.seconds = args.seconds or (0.3 if args.quick else 0.5)
    return args


def plan(args) -> list[BenchTopology]:
    """The (topology, N) list to measure."""
    if args.topologies is None:
        args.topologies = ["gain-chain", "gain-chain-blocks", "gain-chain-python",
                           "gain-chain-events"] + (["decay-chain", "gain-fan"]
                                                   if args.full else [])
    sizes = args.n or ([16] if args.quick else [1, 4, 16, 64, 256] if args.full
                       else [1, 16, 256])
    out = []
    for name in args.topologies:
        make = {**TOPOLOGIES, **SPECIAL}[name]
        ns = sizes if name == "gain-chain" or args.full or args.n else [16]
        out += [make(n) for n in ns if not (name == "gain-chain-blocks" and n < 4)]
    return out


def main(argv: list[str]) -> int:
    args = parse(argv)
    from fmus.build import build
    build(["Gain", "Decay"])
    from cosim.fast import build as kernel_build
    kernel_build.kernel()
    print(f"machine: {machine()}")
    print(f"{args.repeats} interleaved repetitions of >= {args.seconds} s per case")
    skipped = {s: why for s in ("libcosim", "ecos") if (why := others.probe(s))}
    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        try:
            exe = floors.build(Path(tmp)) if "floor" in args.systems else None
        except (RuntimeError, subprocess.CalledProcessError) as err:
            print(f"floor skipped: {err}")
            exe = None
        for bt in plan(args):
            rows = measure(bt, args, exe, skipped)
            records += rows
            print_table(rows)
    for system, why in skipped.items():
        print(f"{system} skipped: {why}")
    summary = {"machine": machine(), "repeats": args.repeats, "seconds": args.seconds,
               "records": records}
    if args.memory_steps:
        summary["memory"] = measure_memory(args.memory_steps)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "overhead.json").write_text(json.dumps(summary, indent=2))
    print(f"wrote {RESULTS / 'overhead.json'}")
    return 0


# -- memory ---------------------------------------------------------------------------------


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
    """RSS over a long recorded run: gain chain of 16, every output to HDF5 (sampled at
    every block of rows handed over; flatness judged over the second half)."""
    bt = gain_chain(16)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        topo = to_cosim(bt, steps, Path(tmp))
        rss = _RSSProbe()
        before = _rss()
        cosim.run(topo, keep_in_memory=False, output=Path(tmp) / "long.h5", observers=[rss])
        size = (Path(tmp) / "long.h5").stat().st_size
    s = rss.samples
    mid = s[len(s) // 2]
    out = {"steps": steps, "rss_before_mb": before / 2**20, "rss_mid_mb": mid / 2**20,
           "rss_end_mb": s[-1] / 2**20, "growth_second_half_mb": (s[-1] - mid) / 2**20,
           "file_mb": size / 2**20}
    print(f"memory, gain chain of 16 to HDF5 over {steps:,} steps: RSS "
          f"{out['rss_before_mb']:.1f} MB before, {out['rss_mid_mb']:.1f} MB half-way, "
          f"{out['rss_end_mb']:.1f} MB at the end: second half "
          f"{out['growth_second_half_mb']:+.2f} MB")
    return out
