"""Study throughput: scenarios per second on each runner, and the fixed cost per scenario.

A Monte Carlo study of ``--n`` short runs (the Decay FMU over ``--stop`` s in 0.01 s
steps, k random; about 10 ms each) runs on: the serial runner, the local process pool
with 1 and 2 workers, and a Dask LocalCluster (loopback) with 1 and 2 workers. Every
repeat runs all of them in turn, in alternating order (so that load from other
processes hits them alike). Rates are the best of the repeats (the least disturbed by
other load; medians are in the JSON). For each runner it reports

* **wall**: the whole ``cosim.studies.sweep`` call, study file included (pool or
  cluster start-up included too);
* **steady rate**: scenarios per second between the first and the last result, from
  the runner itself (start-up excluded);
* **overhead**: per scenario, the steady-state time of a 1-worker runner minus the time
  of a bare ``cosim.run`` of the same scenario in this process.

Every repeat also measures the CPU parallelism the machine offers two processes right
then (a pure-Python loop in two processes vs one: 2.0 on two idle cores). On a shared
machine, speed-ups can only be read against it.

Targets: 2 pool workers >= 1.7x one pool worker; a 2-worker Dask LocalCluster >= 1.5x
one pool worker. Writes ``bench/results/sweep.json``.

    python -m bench sweep [--n 200] [--stop 10] [--repeats 5] [--no-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

RESULTS = Path(__file__).parent / "results"


def make_study(folder: Path, n: int, stop: float = 10.0) -> Path:
    from fmus.build import fmu_path
    (folder / "decay.yaml").write_text(yaml.safe_dump({
        "name": "decay", "run": {"stop": stop, "step": 0.01},
        "nodes": {"d": {"fmu": str(fmu_path("Decay", 2)),
                        "parameters": {"k": 1.0, "x0": 1.0}}}}))
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump({
        "name": "bench", "topology": "decay.yaml",
        "samples": {"method": "montecarlo", "n": n, "seed": 1, "parameters": {
            "d.k": {"distribution": "uniform", "low": 0.5, "high": 1.5}}},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"},
                    "x_int": {"signal": "d.x", "stat": "integral"}}}))
    return path


def _spin(n: int = 3_000_000) -> float:
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - t0


def available_parallelism() -> float:
    """Throughput of a CPU-bound loop in two processes relative to one (2.0: two free
    cores)."""
    import multiprocessing
    # spawn, not forkserver: starting the fork server here would start it without the
    # preload the process pool asks for (it is started once per process)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [1000, 1000])
        one = pool.apply(_spin)
        t0 = time.perf_counter()
        pool.map(_spin, [3_000_000, 3_000_000])
        return 2 * one / (time.perf_counter() - t0)


def bare_seconds(study) -> float:
    """Seconds per scenario of a plain ``cosim.run`` loop in this process."""
    import cosim
    from cosim.studies.sweep import make_job
    from cosim.studies.worker import apply_scenario, prepare
    job, tasks, _ = make_job(study)
    topo = prepare(job).topology
    cosim.run(topo)  # warm caches (model description, shared library)
    t0 = time.perf_counter()
    for task in tasks:
        cosim.run(apply_scenario(topo, task.parameters, task.start))
    return (time.perf_counter() - t0) / len(tasks)


def steady_rate(runner, study) -> tuple[float, float]:
    """(scenarios/s between the first and the last result, seconds to the first result)."""
    from cosim.studies.sweep import make_job
    job, tasks, _ = make_job(study)
    t0 = time.perf_counter()
    stamps = [time.perf_counter() for _ in runner.run(job, tasks)]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), stamps[0] - t0


def sweep_wall(study, folder: Path, **options) -> float:
    import cosim.studies as cs
    t0 = time.perf_counter()
    df = cs.sweep(study, folder / "out.h5", overwrite=True, **options)
    wall = time.perf_counter() - t0
    assert (df["status"] == "completed").all()
    return wall


def cases(no_dask: bool):
    from cosim.studies.runners import ProcessPoolRunner, SerialRunner
    yield "serial", {"workers": 0}, SerialRunner
    yield "pool, 1 worker", {"workers": 1}, lambda: ProcessPoolRunner(1)
    yield "pool, 2 workers", {"workers": 2}, lambda: ProcessPoolRunner(2)
    if no_dask:
        return
    yield "dask LocalCluster, 1 worker", {"dask_local": 1}, 1
    yield "dask LocalCluster, 2 workers", {"dask_local": 2}, 2


def measure_once(options, make, study, folder: Path) -> tuple[float, float, float]:
    """(wall of sweep(), steady rate, seconds to the first result) of one runner."""
    wall = sweep_wall(study, folder, **options)
    if isinstance(make, int):  # a Dask cluster, started outside the timing
        from distributed import Client

        from cosim.studies.dask_runner import DaskRunner, local_cluster
        with local_cluster(make) as cluster, Client(cluster) as client:
            rate, first = steady_rate(DaskRunner(client=client), study)
    else:
        rate, first = steady_rate(make(), study)
    return wall, rate, first


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sweep")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--stop", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args(argv)
    from fmus.build import build
    build(["Decay"])
    import cosim.studies as cs
    todo = list(cases(args.no_dask))
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in todo}
    bares, parallel = [], []
    with tempfile.TemporaryDirectory(prefix="cosim-bench-sweep-") as tmp:
        folder = Path(tmp)
        study = cs.load_study(make_study(folder, args.n, args.stop))
        for i in range(args.repeats):
            parallel.append(available_parallelism())
            bares.append(bare_seconds(study))
            for name, options, make in (todo if i % 2 == 0 else todo[::-1]):
                samples[name].append(measure_once(options, make, study, folder))
    bare = min(bares)
    n = len(study)
    records = []
    for name, values in samples.items():
        wall = min(v[0] for v in values)
        records.append({
            "runner": name, "scenarios": n, "wall_s": wall, "wall_rate": n / wall,
            "steady_rate": max(v[1] for v in values),
            "first_result_s": min(v[2] for v in values),
            "median_wall_rate": n / statistics.median(v[0] for v in values),
            "median_steady_rate": statistics.median(v[1] for v in values)})
    by = {r["runner"]: r for r in records}
    one = by["pool, 1 worker"]
    for r in records:
        r["speedup_vs_1_pool_worker"] = r["steady_rate"] / one["steady_rate"]
        r["wall_speedup_vs_1_pool_worker"] = r["wall_rate"] / one["wall_rate"]
        r["median_speedup_vs_1_pool_worker"] = (r["median_steady_rate"]
                                                / one["median_steady_rate"])
        r["overhead_ms"] = (1 / r["steady_rate"] - bare) * 1e3
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"study of {args.n} short runs (Decay FMU, {args.stop:g} s in 0.01 s steps); "
          f"best of {args.repeats}; bare cosim.run: {bare * 1e3:.2f} ms per scenario; "
          f"load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"{'runner':<30} {'wall s':>7} {'scen/s':>7} {'steady/s':>9} {'1st s':>6} "
          f"{'speed-up':>9} {'overhead ms':>12}")
    for r in records:
        print(f"{r['runner']:<30} {r['wall_s']:>7.2f} {r['wall_rate']:>7.1f} "
              f"{r['steady_rate']:>9.1f} {r['first_result_s']:>6.2f} "
              f"{r['speedup_vs_1_pool_worker']:>8.2f}x {r['overhead_ms']:>12.2f}")
    print("speed-up: steady rate vs 'pool, 1 worker' (medians: "
          + ", ".join(f"{r['runner']} {r['median_speedup_vs_1_pool_worker']:.2f}x"
                      for r in records if r is not one) + ")")
    print("overhead: steady time per scenario minus a bare cosim.run (1-worker runners)")
    print(f"CPU parallelism available to 2 processes: best {max(parallel):.2f}, median "
          f"{statistics.median(parallel):.2f} (2.00 = two idle cores)")
    targets = [("pool, 2 workers", 1.7), ("dask LocalCluster, 2 workers", 1.5)]
    for name, target in targets:
        if name in by:
            got = by[name]["speedup_vs_1_pool_worker"]
            wall = by[name]["wall_speedup_vs_1_pool_worker"]
            print(f"target {name}: >= {target}x -> {got:.2f}x steady "
                  f"({wall:.2f}x by wall) {'OK' if got >= target else 'MISSED'}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sweep.json").write_text(json.dumps(
        {"bare_run_ms": bare * 1e3, "stop_s": args.stop, "repeats": args.repeats,
         "available_parallelism": parallel, "load_average": load, "runners": records},
        indent=2))
    return 0
