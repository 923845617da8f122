"""The flagship twin over one year at a 10 s step, against a C loop doing the same.

    python -m bench flagship [--days 365] [--step 10] [--repeats 5] [--no-check]

``topologies/datacenter.yaml`` (four Rack FMUs, a Cooler FMU, the IT-load table, the
return-air mixer, the fan PID) with a year of telemetry (the shipped day, repeated with
a seasonal swing: 525,600 rows at 1 min) replayed at a 10 s step: 3,153,600 macro steps.
Baseline: ``bench/floor/floor.c`` driving the same FMU binaries (one per FMU file), the
same table (linear interpolation), a C mixer and a C PID in the same Gauss-Seidel order,
exchanging the same ports. Both are timed around their stepping loop only; the cases
take turns, ``--repeats`` times; printed: seconds per year and the per-repetition ratio
(median, min-max). ``--check`` (default) also runs the Python loop over the year once and
compares every recorded signal with the compiled loop's, bit for bit. Target of issue 18:
<= 1.5 x the C loop, bit-identical. Writes ``bench/results/flagship.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from . import floors
from .repeat import Timed, interleaved

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TOPOLOGY = ROOT / "topologies" / "datacenter.yaml"
COLUMNS = ("rack1", "rack2", "rack3", "rack4")


def year_table(folder: Path, days: int) -> Path:
    """The shipped day of IT load repeated ``days`` times, with a seasonal swing of
    +-10 %: an HDF5 group with ``time`` [s] and one dataset per rack [W]."""
    import h5py
    import pandas as pd
    day = pd.read_csv(ROOT / "topologies" / "data" / "it_load.csv")
    one = day[day["time"] < 86400.0]
    n = len(one)
    t = (np.arange(days)[:, None] * 86400.0 + one["time"].to_numpy()[None, :]).ravel()
    t = np.append(t, days * 86400.0)
    season = 1.0 + 0.1 * np.sin(2 * np.pi * t / (365 * 86400.0))
    path = folder / "it_load_year.h5"
    with h5py.File(path, "w") as f:
        f["time"] = t
        for c in COLUMNS:
            values = np.append(np.tile(one[c].to_numpy(), days), one[c].to_numpy()[0])
            f[c] = values * season
    assert len(t) == days * n + 1
    return path


def simulation(table: Path, days: int, step: float, fast: bool = True):
    import cosim
    topo = cosim.load(TOPOLOGY)
    topo.node("load")["parameters"]["file"] = str(table)
    return cosim.Simulation(topo, stop=days * 86400.0, step=step, fast=fast)


def cosim_run(table: Path, days: int, step: float):
    """``run(steps)`` -> the year's stepping loop (wall, CPU) [s] (``steps`` is fixed)."""
    from .overhead import timed_loop

    def run(_steps: int) -> tuple[float, float]:
        with simulation(table, days, step) as sim, timed_loop(True) as seconds:
            sim.run(keep_in_memory=False)
        return seconds[0]
    return run


def floor_run(exe: Path, table: Path, days: int, step: float, folder: Path):
    """The C loop over the same nodes, ports and order as cosim's system."""
    import h5py
    with simulation(table, days, step) as sim:
        system, report = sim.system, sim.report
        plan = [(sub.name, sub.kind, list(sub.inputs), list(sub.outputs))
                for sub in system.subsystems]
        conns = [(c.source, c.target, report.gain_offset(c)[0])
                 for c in sim.topology.connections()]
        assert all(report.gain_offset(c)[1] == 0.0 for c in sim.topology.connections())
        times = sim.system.subsystems[system.index["load"]].block.table.times
        data = sim.system.subsystems[system.index["load"]].block.table.data
        pid = sim.system.subsystems[system.index["fan_ctrl"]].block
    binary = folder / "table.bin"
    np.concatenate([times, data.ravel()]).astype(np.float64).tofile(binary)
    del h5py
    nodes = []
    for name, kind, inputs, outputs in plan:
        if kind == "fmu":
            path = Path(sim.topology.fmu_path(name))
            start = {k: float(v) for k, v in sim.topology.node(name)["start"].items()}
            nodes.append(floors.FloorNode(name, "fmu2", path, start, inputs, outputs))
        elif name == "load":
            nodes.append(floors.FloorNode(name, "table", outputs=list(COLUMNS), line=(
                f"table {len(times)} {data.shape[1]} {binary}")))
        elif name == "mixer":
            nodes.append(floors.FloorNode(name, "mixer", inputs=[
                *(f"T_out_{i}" for i in range(1, 5)), *(f"T_cpu_{i}" for i in range(1, 5))],
                outputs=["T_return", "T_cpu_max"], line="mixer 4"))
        else:
            nodes.append(floors.FloorNode(name, "pid", inputs=["measurement"], outputs=["u"],
                                          line=f"pid {pid.kp!r} {pid.ki!r} {pid.kd!r} "
                                          f"{pid.derivative_filter!r} {pid._lo!r} "
                                          f"{pid._hi!r} 1 {323.15!r}"))
    floor = floors.write_spec(exe, nodes, conns, "gauss-seidel", folder, shared=True,
                              h_ticks=round(step * 1e9))
    steps = round(days * 86400.0 / step)
    return lambda _steps: floor.run(steps)


def check(table: Path, days: int, step: float) -> tuple[bool, int, float]:
    """(bit-identical, rows, seconds of the Python loop): every recorded signal of the
    compiled and the Python loop over the whole run."""
    frames, python_seconds = [], 0.0
    for fast in (True, False):
        with simulation(table, days, step, fast=fast) as sim:
            clock = time.perf_counter()
            frames.append(sim.run().df)
            if not fast:
                python_seconds = time.perf_counter() - clock
    a, b = frames
    same = list(a.columns) == list(b.columns) and a.index.to_numpy().tobytes() == \
        b.index.to_numpy().tobytes() and all(
            a[c].to_numpy().tobytes() == b[c].to_numpy().tobytes() for c in a.columns)
    return same, len(a), python_seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench flagship")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--step", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-check", action="store_true",
                        help="skip the Python-loop run (bit-identity over the whole run)")
    args = parser.parse_args(argv)
    from fmus.build import build

    from .overhead import machine
    build(["Rack", "Cooler"])
    steps = round(args.days * 86400.0 / args.step)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-flagship-") as tmp:
        folder = Path(tmp)
        table = year_table(folder, args.days)
        exe = floors.build(folder)
        case = Timed("cosim (compiled loop)", cosim_run(table, args.days, args.step), 1, steps)
        base = Timed("C loop", floor_run(exe, table, args.days, args.step, folder), 1, steps)
        [result] = interleaved([(case, base)], args.repeats, 0.0)
        identical = check(table, args.days, args.step) if not args.no_check else None
    per_year = 365 * 86400.0 / (args.days * 86400.0)
    print(f"flagship, {args.days} days at {args.step:g} s ({steps:,} macro steps), "
          f"{args.repeats} interleaved repetitions")
    print(f"  C loop:   {np.median(result.base_ns.values) * steps * 1e-9 * per_year:.2f} s "
          "per simulated year")
    print(f"  cosim:    {np.median(result.ns.values) * steps * 1e-9 * per_year:.2f} s per "
          f"simulated year; {result.ratio.text(suffix=' x')} the C loop "
          f"(target <= 1.5 x: {'met' if result.ratio.median <= 1.5 else 'NOT met'})")
    if identical is not None:
        same, rows, seconds = identical
        print(f"  Python loop: {seconds:.1f} s; {rows:,} rows of every recorded signal "
              f"{'bit-identical' if same else 'DIFFER'} to the compiled loop's")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "flagship.json").write_text(json.dumps({
        "days": args.days, "step": args.step, "steps": steps, "machine": machine(),
        "cosim_ns_per_step": result.ns.as_dict(), "c_ns_per_step": result.base_ns.as_dict(),
        "ratio": result.ratio.as_dict(),
        "identical": None if identical is None else identical[0]}, indent=2))
    return 0 if identical is None or identical[0] else 1
