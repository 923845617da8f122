"""Master algorithms: adaptive vs fixed step at equal accuracy, and the cost of events.

1. Two-mass oscillator over 20 s (closed form by scipy expm): the adaptive master
   (step doubling, rtol = atol = 1e-3) against the fixed step that reaches the same
   global error (found from first-order convergence, confirmed by a run). Prints wall
   time, accepted macro steps and FMU steps of both.
2. Event location: the FMI 2 Ball (3 s, step 0.05 s) with a monitor ``ball.v > 0``
   (bounces located by rollback and bisection to 1 ns) against the same run without
   the monitor. Prints the extra wall time per located event.

    python -m bench masters [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import cosim
from cosim.topology.schema import AdaptiveSpec

RESULTS = Path(__file__).parent / "results"


def _two_mass():
    from fmus.build import fmu_path
    from tests.core.test_two_mass import exact, two_mass
    return (lambda: two_mass(lambda m, v=2: fmu_path(m, v))), exact


def _wall(fn, repeats):
    walls, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), out


def adaptive_vs_fixed(repeats: int) -> dict:
    make, exact = _two_mass()
    cols = ["mass1.x", "mass1.v", "mass2.x", "mass2.v"]

    def err(df):
        return float(np.max(np.abs(df[cols].to_numpy() - exact(df.index.to_numpy()))))

    topo = make()
    topo.run.stop = 20.0
    topo.run.adaptive = AdaptiveSpec(rtol=1e-3, atol=1e-3, min_step=1e-6)
    wall_a, res = _wall(lambda: cosim.run(topo, step=0.01, keep_in_memory=True), repeats)
    e = err(res.df)
    fixed = make()
    fixed.run.stop = 20.0
    h = 0.004 * e / err(cosim.run(fixed, step=0.004).df)
    wall_f, res_f = _wall(lambda: cosim.run(fixed, step=h), repeats)
    wall_fp, _ = _wall(lambda: cosim.run(fixed, step=h, fast=False), repeats)
    return {"global_error": e, "fixed_error": err(res_f.df), "fixed_step": h,
            "adaptive_wall_s": wall_a, "fixed_wall_s": wall_f, "fixed_python_wall_s": wall_fp,
            "adaptive_macro_steps": res.stats["accepted"],
            "adaptive_rejected": res.stats["rejected"],
            "adaptive_fmu_steps_per_node": res.stats["substeps"],
            "fixed_macro_steps": round(20.0 / h),
            "macro_step_ratio": (20.0 / h) / res.stats["accepted"],
            "wall_ratio": wall_f / wall_a}


def event_location(repeats: int) -> dict:
    from fmus.build import fmu_path

    def ball(monitor: bool):
        t = cosim.Topology("ball", stop=3.0, step=0.05)
        t.add_fmu("ball", fmu_path("Ball", 2))
        if monitor:
            t.add_monitor("ball.v > 0", name="bounce")
        return t

    cosim.run(ball(True))  # warm up (imports, caches)
    wall_plain, _ = _wall(lambda: cosim.run(ball(False), fast=False), 4 * repeats)
    wall_mon, res = _wall(lambda: cosim.run(ball(True)), 4 * repeats)
    n = len(res.events)
    return {"events": n, "plain_wall_s": wall_plain, "monitored_wall_s": wall_mon,
            "ms_per_event": 1e3 * (wall_mon - wall_plain) / max(n, 1)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench masters")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    a = adaptive_vs_fixed(args.repeats)
    print("two-mass oscillator, 20 s, equal global error against the closed form")
    print(f"  global error           adaptive {a['global_error']:.3g}   "
          f"fixed {a['fixed_error']:.3g} (step {a['fixed_step']:.3g} s)")
    print(f"  accepted macro steps   adaptive {a['adaptive_macro_steps']} "
          f"(+{a['adaptive_rejected']} rejected)   fixed {a['fixed_macro_steps']}   "
          f"ratio {a['macro_step_ratio']:.1f}x")
    print(f"  FMU steps per node     adaptive {a['adaptive_fmu_steps_per_node']}   "
          f"fixed {a['fixed_macro_steps']}")
    print(f"  wall time              adaptive {a['adaptive_wall_s']:.2f} s (Python loop)   "
          f"fixed {a['fixed_python_wall_s']:.2f} s (Python loop), "
          f"{a['fixed_wall_s']:.3f} s (native fast path)")
    e = event_location(args.repeats)
    print(f"event location: FMI 2 Ball, {e['events']} bounces located to 1 ns by rollback")
    print(f"  wall {e['plain_wall_s'] * 1e3:.1f} ms without the monitor, "
          f"{e['monitored_wall_s'] * 1e3:.1f} ms with it: {e['ms_per_event']:.2f} ms per event")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "masters.json").write_text(json.dumps({"adaptive": a, "events": e}, indent=2))
    return 0
