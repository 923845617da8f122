"""Calibration: wall time and simulations for the flagship, and coverage of its intervals.

**Speed.** The flagship calibration (``topologies/calibration/calibrate.yaml``: six
parameters from the models' defaults, least squares) on a local process pool of 1 and
of 2 workers, ``--repeats`` times each, interleaved (1, 2, 2, 1, ...). Both follow the
same path (results are identical on any runner), so they use the same number of
simulations; the wall times differ. Each repeat also measures the CPU parallelism two
processes get right then (a pure-Python loop in two processes vs one; 2.0 on two idle
cores): on a shared machine the 2-worker speed-up can only be read against it.

**Coverage.** ``--coverage N`` noise realisations of the flagship's telemetry: the true
model's outputs plus the generator's noise (σ_T = 0.2 K, 1 % of the electrical power),
each calibrated (least squares, ``noise: iid``; from the true values with ``--start
truth``, the default, to save simulations — the optimum does not depend on the start —
or from the defaults with ``--start initial``) on one 2-worker session; the fraction
of nominal 95 % intervals holding the truth, per parameter and pooled, with its
binomial standard error. ``--ar1 N``: the same on the Decay model with AR(1) noise
(ρ = 0.8), with ``noise: iid`` and ``noise: ar1`` side by side.

    python -m bench calibrate [--repeats 5] [--coverage 400] [--ar1 400]
                              [--start truth|initial] [--no-speed]

Writes ``bench/results/calibrate.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "topologies" / "calibration"
RESULTS = Path(__file__).parent / "results"


def _spin(n: int = 2_000_000) -> float:
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - t0


def parallelism() -> float:
    from concurrent.futures import ProcessPoolExecutor
    one = _spin()
    with ProcessPoolExecutor(2) as ex:
        t0 = time.perf_counter()
        list(ex.map(_spin, [2_000_000, 2_000_000]))
        two = time.perf_counter() - t0
    return 2 * one / two


def speed(repeats: int) -> dict:
    import cosim
    times: dict[int, list[float]] = {1: [], 2: []}
    sims: dict[int, list[int]] = {1: [], 2: []}
    par = []
    values = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            par.append(parallelism())
            for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                t0 = time.perf_counter()
                res = cosim.calibrate(CALIBRATION / "calibrate.yaml", Path(tmp) / "c.h5",
                                      workers=w, overwrite=True)
                times[w].append(time.perf_counter() - t0)
                sims[w].append(res.n_simulations)
                values[w] = res.value.tolist()
                print(f"  repeat {r + 1}: {w} worker(s) {times[w][-1]:.1f} s, "
                      f"{res.n_simulations} simulations", flush=True)
    ratios = [a / b for a, b in zip(times[1], times[2], strict=True)]
    return {"wall_1": times[1], "wall_2": times[2], "simulations_1": sims[1],
            "simulations_2": sims[2], "speedup_median": statistics.median(ratios),
            "speedup_min": min(ratios), "speedup_max": max(ratios), "parallelism": par,
            "identical_estimates": values[1] == values[2]}


def _truth_predictions(problem, truth, session):
    from cosim.studies.worker import Task
    (o,) = list(session.run([Task(0, problem.parameters.overrides(truth), {}, trace=True)]))
    t, sig = o.trace
    keep = np.r_[t[1:] != t[:-1], True]
    return np.vstack([np.asarray(sig[s])[keep] for s in problem.observations.signals])


def flagship_coverage(n: int, start: str, seed: int = 1) -> dict:
    from dataclasses import replace

    from cosim.calibration import load_calibration
    from cosim.calibration.api import job_for_problem, run_problem
    from cosim.studies.runners import ProcessPoolRunner
    sys.path.insert(0, str(CALIBRATION))
    from make_telemetry import POWER_NOISE, SIGMA_T, TRUE
    problem = load_calibration(CALIBRATION / "calibrate.yaml")
    names = problem.parameters.names
    truth = np.array([TRUE[k] for k in names])
    if start == "truth":
        items = [replace(p, initial=float(v)) for p, v in zip(problem.parameters, truth,
                                                               strict=True)]
        problem.parameters.items[:] = items
    power = np.array([u == "W" for u in problem.observations.units])[:, None]
    rng = np.random.default_rng(seed)
    hits, z, used = [], [], []
    clock = time.perf_counter()
    with ProcessPoolRunner(2).session(job_for_problem(problem)[0]) as session:
        P = _truth_predictions(problem, truth, session)
        for k in range(n):
            e = rng.standard_normal(P.shape)
            y = P + np.where(power, POWER_NOISE * P * e, SIGMA_T * e)
            r = run_problem(problem.with_measured(y), session)
            hits.append((r.ci_low <= truth) & (truth <= r.ci_high))
            z.append((r.value - truth) / r.std_error)
            used.append(r.n_simulations)
            if (k + 1) % 20 == 0:
                c = np.mean(hits)
                print(f"  {k + 1} realisations: coverage {c:.3f} "
                      f"({time.perf_counter() - clock:.0f} s)", flush=True)
    return _coverage_summary(names, np.array(hits), np.array(z), used,
                             time.perf_counter() - clock)


def _coverage_summary(names, hits, z, used, wall) -> dict:
    pooled = float(hits.mean())
    return {"parameters": names, "coverage": hits.mean(axis=0).tolist(), "pooled": pooled,
            "pooled_se": float(np.sqrt(0.95 * 0.05 / hits.size)),
            "mean_z": z.mean(axis=0).tolist(), "sd_z": z.std(axis=0).tolist(),
            "realisations": int(hits.shape[0]), "simulations_mean": float(np.mean(used)),
            "wall": wall}


def ar1_coverage(n: int, seed: int = 2) -> dict:
    import yaml

    from cosim.calibration import load_calibration
    from cosim.calibration.api import job_for_problem, run_problem
    from cosim.studies.runners import SerialRunner
    from fmus.build import fmu_path
    truth = np.array([0.7, 2.0])
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "decay.yaml").write_text(yaml.safe_dump({
            "name": "decay", "run": {"stop": 5.0, "step": 0.01},
            "nodes": {"d": {"fmu": str(fmu_path("Decay", 2)),
                            "parameters": {"k": 1.0, "x0": 1.0}}}}))
        t = np.round(np.arange(0, 5.0 + 1e-9, 0.01), 10)
        np.savetxt(folder / "tel.csv", np.column_stack([t, np.zeros_like(t)]), delimiter=",",
                   header="time,x", comments="")
        for model in ("iid", "ar1"):
            spec = {"topology": "decay.yaml",
                    "telemetry": {"file": "tel.csv", "signals": {"d.x": "x"}},
                    "parameters": {"k": {"targets": "d.k", "initial": 1.0,
                                         "bounds": [0.01, 10], "scale": "log"},
                                   "x0": {"targets": "d.x0", "initial": 1.0,
                                          "bounds": [0.1, 10]}},
                    "budget": 200, "noise": model}
            problem = load_calibration(spec, base_dir=folder)
            rng = np.random.default_rng(seed)
            hits, z, used = [], [], []
            clock = time.perf_counter()
            with SerialRunner().session(job_for_problem(problem)[0]) as session:
                for _ in range(n):
                    e = np.empty(t.size)
                    e[0] = rng.standard_normal()
                    innovations = rng.standard_normal(t.size) * np.sqrt(1 - 0.64)
                    for i in range(1, t.size):
                        e[i] = 0.8 * e[i - 1] + innovations[i]
                    y = truth[1] * np.exp(-truth[0] * t) + 0.02 * e
                    r = run_problem(problem.with_measured(y[None, :]), session)
                    hits.append((r.ci_low <= truth) & (truth <= r.ci_high))
                    z.append((r.value - truth) / r.std_error)
                    used.append(r.n_simulations)
            out[model] = _coverage_summary(["k", "x0"], np.array(hits), np.array(z), used,
                                           time.perf_counter() - clock)
            print(f"  Decay, AR(1) noise rho 0.8, noise: {model}: coverage "
                  f"{out[model]['coverage']}", flush=True)
    return out


def _print_coverage(title: str, c: dict) -> None:
    print(f"{title}: {c['realisations']} realisations, {c['simulations_mean']:.1f} "
          f"simulations each on average, {c['wall']:.0f} s")
    for name, cov, mz, sz in zip(c["parameters"], c["coverage"], c["mean_z"], c["sd_z"],
                                 strict=True):
        print(f"  {name:16s} coverage {100 * cov:5.1f} %   mean z {mz:+.2f}   sd z {sz:.2f}")
    print(f"  pooled           coverage {100 * c['pooled']:5.1f} % "
          f"(± {100 * c['pooled_se']:.1f} % binomial s.e. at 95 %)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench calibrate")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--coverage", type=int, default=400, help="flagship realisations "
                    "(0: none)")
    ap.add_argument("--ar1", type=int, default=400, help="Decay realisations with AR(1) "
                    "noise, per noise model (0: none)")
    ap.add_argument("--start", choices=("truth", "initial"), default="truth")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args(argv)
    report: dict = {"start": args.start}
    if not args.no_speed:
        print(f"flagship calibration, 1 vs 2 pool workers, {args.repeats} repeats:")
        s = speed(args.repeats)
        report["speed"] = s
        print(f"  1 worker : median {statistics.median(s['wall_1']):.1f} s "
              f"(min {min(s['wall_1']):.1f}, max {max(s['wall_1']):.1f}), "
              f"{s['simulations_1'][0]} simulations")
        print(f"  2 workers: median {statistics.median(s['wall_2']):.1f} s "
              f"(min {min(s['wall_2']):.1f}, max {max(s['wall_2']):.1f}), "
              f"{s['simulations_2'][0]} simulations")
        print(f"  speed-up 2 vs 1: median {s['speedup_median']:.2f} (min "
              f"{s['speedup_min']:.2f}, max {s['speedup_max']:.2f}); CPU parallelism "
              f"available: median {statistics.median(s['parallelism']):.2f}; identical "
              f"estimates: {s['identical_estimates']}")
    if args.ar1:
        report["ar1"] = ar1_coverage(args.ar1)
        for model in ("iid", "ar1"):
            _print_coverage(f"Decay with AR(1) noise (rho 0.8), noise: {model}",
                            report["ar1"][model])
    if args.coverage:
        print(f"flagship coverage, {args.coverage} realisations (start: {args.start}):")
        report["coverage"] = flagship_coverage(args.coverage, args.start)
        _print_coverage("flagship, noise: iid", report["coverage"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "calibrate.json").write_text(json.dumps(report, indent=2))
    return 0
