"""Master overhead on a chain of N ``Gain`` FMUs (FMI 2.0 co-simulation).

Prints ns per subsystem-step (one set, one doStep, one get per FMU per macro step) for
cosim's Gauss-Seidel and Jacobi masters on the Python loop (with recording in memory and
without) and on the compiled fast path, beside a plain fmpy loop (``FMU2Slave``
setReal/doStep/getReal) measured in the same run. ``python -m bench overhead`` is the
full comparison (C floor, libcosim, ecos).
Set-up (extraction, instantiation) is excluded by subtracting a 1-step run.
Medians of ``--repeats`` runs. Writes ``bench/results/chain.json``.

    python -m bench chain [--n 16] [--steps 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import cosim

RESULTS = Path(__file__).parent / "results"


def gain_chain(n: int, steps: int, step: float = 1e-3) -> cosim.Topology:
    from fmus.build import fmu_path
    gain = fmu_path("Gain", 2)
    topo = cosim.Topology(f"gain-chain-{n}", stop=steps * step, step=step)
    for i in range(n):
        topo.add_fmu(f"g{i}", gain, parameters={"k": 1.0, "b": 1e-3}, start=(
            {"u": 1.0} if i == 0 else {}))
    for i in range(1, n):
        topo.connect(f"g{i - 1}.y", f"g{i}.u")
    return topo


def time_cosim(topo: cosim.Topology, algorithm: str, steps: int, record: bool,
               fast: bool = False) -> float:
    """Seconds for ``steps`` macro steps, set-up excluded."""
    def wall(n_steps: int) -> float:
        t0 = time.perf_counter()
        cosim.run(topo, algorithm=algorithm, stop=n_steps * topo.run.step,
                  keep_in_memory=record, fast=fast)
        return time.perf_counter() - t0
    return wall(steps) - wall(1)


def time_fmpy(n: int, steps: int, step: float = 1e-3) -> float:
    from fmpy import extract, read_model_description
    from fmpy.fmi2 import FMU2Slave

    from fmus.build import fmu_path
    path = str(fmu_path("Gain", 2))
    md = read_model_description(path)
    vr = {v.name: v.valueReference for v in md.modelVariables}
    folders, fmus = [], []
    for i in range(n):
        folder = extract(path)
        folders.append(folder)
        fmu = FMU2Slave(guid=md.guid, unzipDirectory=folder,
                        modelIdentifier=md.coSimulation.modelIdentifier, instanceName=f"g{i}")
        fmu.instantiate()
        fmu.setupExperiment(startTime=0.0)
        fmu.setReal([vr["k"], vr["b"]], [1.0, 1e-3])
        fmu.enterInitializationMode()
        fmu.exitInitializationMode()
        fmus.append(fmu)
    u, y = [vr["u"]], [vr["y"]]
    t0 = time.perf_counter()
    t = 0.0
    for k in range(steps):
        value = 1.0
        t = k * step
        for fmu in fmus:
            fmu.setReal(u, [value])
            fmu.doStep(t, step)
            value = fmu.getReal(y)[0]
    wall = time.perf_counter() - t0
    for fmu, folder in zip(fmus, folders, strict=True):
        fmu.terminate()
        fmu.freeInstance()
        shutil.rmtree(folder, ignore_errors=True)
    return wall


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench chain")
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    from fmus.build import build
    build(["Gain"])
    n, steps = args.n, args.steps
    per = n * steps * 1e-9
    topo = gain_chain(n, steps)
    cases = {
        "fmpy loop": lambda: time_fmpy(n, steps),
        "cosim gauss-seidel, python loop": lambda: time_cosim(topo, "gauss-seidel", steps,
                                                              False),
        "cosim jacobi, python loop": lambda: time_cosim(topo, "jacobi", steps, False),
        "cosim gauss-seidel, python loop + memory": lambda: time_cosim(
            topo, "gauss-seidel", steps, True),
        "cosim gauss-seidel, fast path": lambda: time_cosim(topo, "gauss-seidel", steps,
                                                            False, fast=True),
        "cosim jacobi, fast path": lambda: time_cosim(topo, "jacobi", steps, False,
                                                      fast=True),
    }
    records = []
    for name, fn in cases.items():
        walls = [fn() for _ in range(args.repeats)]
        records.append({"system": name, "n": n, "steps": steps,
                        "ns_per_subsystem_step": statistics.median(walls) / per})
    base = records[0]["ns_per_subsystem_step"]
    print(f"chain of {n} Gain FMUs (FMI 2.0 CS), {steps} steps, median of {args.repeats}")
    print(f"{'system':<40} {'ns/subsystem-step':>18} {'vs fmpy loop':>13}")
    for r in records:
        r["ratio_to_fmpy"] = r["ns_per_subsystem_step"] / base
        print(f"{r['system']:<40} {r['ns_per_subsystem_step']:>18.0f} "
              f"{r['ratio_to_fmpy']:>12.2f}x")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chain.json").write_text(json.dumps(records, indent=2))
    return 0
