"""Per-run cost of a short run through a reused Simulation, against cosim.run.

A Decay FMU (FMI 2), 10 steps, in-memory results, a different parameter every run:
``cosim.run`` (loads, checks, extracts and instantiates every time) against one
``cosim.Simulation`` reset and run again. Each case runs in repetitions of at least
``--seconds`` (default 0.5 s), interleaved with the other, ``--repeat`` times
(default 5); printed: the median per-run time with its min-max, and the ratio per
repetition (median, min-max). Target of issue 10: <= 0.2 ms per reused run.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from .repeat import per_call

RESULTS = Path(__file__).resolve().parent / "results"


def topology():
    import cosim
    from fmus.build import fmu_path
    topo = cosim.Topology("decay-10", stop=0.1, step=0.01)
    topo.add_fmu("d", fmu_path("Decay", 2), parameters={"k": 1.0, "x0": 1.0})
    return topo


def main(argv: list[str]) -> int:
    import cosim
    parser = argparse.ArgumentParser(prog="python -m bench reuse")
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    topo = topology()
    with cosim.Simulation(topo) as sim:
        sim.run()

        def reused(i: int) -> None:
            sim.reset(parameters={"d.k": 1.0 + 1e-4 * i})
            sim.run()

        def fresh(i: int) -> None:
            cosim.run(topo, parameters={"d.k": 1.0 + 1e-4 * i})

        rows = []
        for _ in range(args.repeat):
            a = per_call(reused, args.seconds, batch=20)
            b = per_call(fresh, args.seconds, batch=20)
            rows.append((a, b, b / a))
    reuse_ms = [1e3 * r[0] for r in rows]
    fresh_ms = [1e3 * r[1] for r in rows]
    ratios = [r[2] for r in rows]
    print(f"Decay FMU, 10 steps, {args.repeat} interleaved repetitions of >= "
          f"{args.seconds} s each")
    print(f"{'case':<28}{'median':>10}{'min':>10}{'max':>10}")
    for name, values in (("Simulation reset + run [ms]", reuse_ms),
                         ("cosim.run [ms]", fresh_ms)):
        print(f"{name:<28}{statistics.median(values):>10.4f}{min(values):>10.4f}"
              f"{max(values):>10.4f}")
    print(f"{'speed-up (per repetition)':<28}{statistics.median(ratios):>10.1f}"
          f"{min(ratios):>10.1f}{max(ratios):>10.1f}")
    target = statistics.median(reuse_ms) <= 0.2
    print(f"target <= 0.2 ms per reused run: {'met' if target else 'NOT met'}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reuse.json").write_text(json.dumps(
        {"reuse_ms": reuse_ms, "fresh_ms": fresh_ms, "ratios": ratios}, indent=2))
    return 0
