"""``python -m bench me`` — model-exchange clusters: right-hand-side evaluations per second.

Sixteen undamped Oscillators (FMI 2, x0 = 1, stiffness k_i = 1 + i/16), 10 s,
communication / output interval 0.01 s, in four ways:

* ``cosim ME cluster``: one cluster of the 16 ME FMUs, CVODE BDF, rtol 1e-6 (atol
  rtol x nominal), one ``cosim.Simulation`` reset and run again;
* ``fmpy ME x16``: ``fmpy.simulate_fmu`` of one Oscillator (model exchange, its CVode,
  rtol 1e-6) sixteen times, one per stiffness;
* ``cosim CS``: the 16 co-simulation FMUs (each integrates itself with RK4, h 1 ms) in
  one topology, cosim's compiled loop;
* ``fmpy CS x16``: ``fmpy.simulate_fmu`` co-simulation, sixteen times.

Right-hand-side evaluations are counted per FMU (one cluster evaluation is sixteen);
fmpy's are counted in a separate, instrumented run (the counts are deterministic) and
the timed runs are plain. A second table times the right-hand side alone: one
evaluation of the cluster (16 FMUs) against what fmpy's CVode callback does for 16
instances (``setTime``, ``setContinuousStates``, ``getDerivatives`` each). Each case runs
in repetitions of at least ``--seconds``
(default 0.5 s), the cases interleaved, ``--repeat`` times (default 5); printed: per
case the median wall time per 16-oscillator run with min-max, RHS evaluations per
second, the largest error of any x against its closed form cos(sqrt(k) t), and the
ratios against ``cosim ME cluster`` per repetition (median, min-max).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import numpy as np

from .repeat import per_call

RESULTS = Path(__file__).resolve().parent / "results"
N, STOP, STEP, RTOL = 16, 10.0, 0.01, 1e-6


def stiffness(i: int) -> float:
    return 1.0 + i / N


def exact(t: np.ndarray, k: float) -> np.ndarray:
    return np.cos(math.sqrt(k) * t)


def topology(interface: str | None):
    import cosim
    from fmus.build import fmu_path
    topo = cosim.Topology(f"oscillators-{interface or 'cs'}", stop=STOP, step=STEP)
    names = [f"o{i:02d}" for i in range(N)]
    for i, name in enumerate(names):
        topo.add_fmu(name, fmu_path("Oscillator", 2), interface=interface,
                     parameters={"k": stiffness(i), "c": 0.0, "x0": 1.0, "v0": 0.0})
    if interface == "model-exchange":
        topo.add_cluster("bank", names, solver="cvode-bdf", rtol=RTOL)
    topo.run.record = [f"{n}.x" for n in names]
    return topo


def error_of(df) -> float:
    t = df.index.to_numpy()
    return max(float(np.max(np.abs(df[f"o{i:02d}.x"].to_numpy() - exact(t, stiffness(i)))))
               for i in range(N))


class CosimCase:
    def __init__(self, interface: str | None):
        import cosim
        self.sim = cosim.Simulation(topology(interface))
        self.cluster = self.sim.system.subsystems[0] if interface else None
        self.rhs_per_run = 0
        self.error = error_of(self.sim.run().df)
        if self.cluster is not None:
            self.rhs_per_run = self.cluster.stats["rhs"] * N
        else:  # RK4 with 1 ms substeps inside every doStep: 4 evaluations per substep
            self.rhs_per_run = N * 4 * round(STOP / 1e-3)

    def __call__(self) -> None:
        self.sim.reset()
        self.sim.run()


class FmpyCase:
    def __init__(self, fmi_type: str):
        from fmpy import extract, read_model_description

        from fmus.build import fmu_path
        self.path = str(fmu_path("Oscillator", 2))
        self.folder = extract(self.path)
        self.md = read_model_description(self.path)
        self.fmi_type = fmi_type
        self.rhs_per_run = self._count() if fmi_type == "ModelExchange" else \
            N * 4 * round(STOP / 1e-3)
        errors = []
        for i in range(N):
            r = self._run(i)
            errors.append(float(np.max(np.abs(r["x"] - exact(r["time"], stiffness(i))))))
        self.error = max(errors)

    def _run(self, i: int):
        from fmpy import simulate_fmu
        return simulate_fmu(self.folder, model_description=self.md,
                            fmi_type=self.fmi_type, stop_time=STOP, output_interval=STEP,
                            step_size=STEP, relative_tolerance=RTOL, output=["x"],
                            start_values={"k": stiffness(i), "c": 0.0, "x0": 1.0, "v0": 0.0})

    def _count(self) -> int:
        """RHS evaluations of the 16 runs, counted by wrapping fmpy's CVode callback."""
        from fmpy import sundials
        original, count = sundials.CVodeSolver.f, [0]

        def counted(solver, *args):
            count[0] += 1
            return original(solver, *args)

        sundials.CVodeSolver.f = counted
        try:
            for i in range(N):
                self._run(i)
        finally:
            sundials.CVodeSolver.f = original
        return count[0]

    def __call__(self) -> None:
        for i in range(N):
            self._run(i)


class ClusterRhs:
    """One right-hand-side evaluation of the 16-FMU cluster, called directly."""

    def __init__(self):
        import cosim
        self.sim = cosim.Simulation(topology("model-exchange"))
        self.sim.run(until=1.0)  # paused: the FMUs in Continuous-Time Mode
        self.cluster = self.sim.system.subsystems[0]
        self.x = self.cluster.layout.states()
        self.dx = np.zeros_like(self.x)

    def __call__(self) -> None:
        for _ in range(100):
            self.cluster.rhs(0.5, self.x, self.dx)


class FmpyRhs:
    """What fmpy's CVodeSolver.f does per evaluation, for 16 FMU2Model instances."""

    def __init__(self):
        from ctypes import POINTER, c_double

        from fmpy import extract, read_model_description
        from fmpy.fmi2 import FMU2Model

        from fmus.build import fmu_path
        path = str(fmu_path("Oscillator", 2))
        md = read_model_description(path)
        folder = extract(path)
        self.fmus = []
        for i in range(N):
            fmu = FMU2Model(guid=md.guid, unzipDirectory=folder,
                            modelIdentifier=md.modelExchange.modelIdentifier,
                            instanceName=f"o{i}")
            fmu.instantiate()
            fmu.setupExperiment(startTime=0.0)
            fmu.enterInitializationMode()
            fmu.exitInitializationMode()
            fmu.newDiscreteStates()
            fmu.enterContinuousTimeMode()
            self.fmus.append(fmu)
        self.x, self.dx = np.array([1.0, 0.0]), np.zeros(2)
        self.px = self.x.ctypes.data_as(POINTER(c_double))
        self.pdx = self.dx.ctypes.data_as(POINTER(c_double))

    def __call__(self) -> None:
        for _ in range(100):
            for fmu in self.fmus:
                fmu.setTime(0.5)
                fmu.setContinuousStates(self.px, 2)
                fmu.getDerivatives(self.pdx, 2)


def per_run(body, seconds: float) -> float:
    """Seconds per call of ``body()``, over at least ``seconds`` of wall time."""
    return per_call(lambda _: body(), seconds)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench me")
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    cases = {"cosim ME cluster": CosimCase("model-exchange"),
             "fmpy ME x16": FmpyCase("ModelExchange"),
             "cosim CS (compiled loop)": CosimCase(None),
             "fmpy CS x16": FmpyCase("CoSimulation")}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, case in cases.items():
            times[name].append(per_run(case, args.seconds))
    base = times["cosim ME cluster"]
    print(f"{N} Oscillators, {STOP:g} s, output every {STEP:g} s; {args.repeat} interleaved "
          f"repetitions of >= {args.seconds} s each (medians, min-max)")
    header = (f"{'case':<26}{'ms/run':>9}{'min':>9}{'max':>9}{'RHS/run':>10}"
              f"{'RHS/s':>12}{'max |x err|':>13}{'x cosim ME':>12}")
    print(header)
    record = {}
    for name, case in cases.items():
        ms = [1e3 * t for t in times[name]]
        rate = case.rhs_per_run / statistics.median(times[name])
        ratio = statistics.median([t / b for t, b in zip(times[name], base, strict=True)])
        print(f"{name:<26}{statistics.median(ms):>9.1f}{min(ms):>9.1f}{max(ms):>9.1f}"
              f"{case.rhs_per_run:>10d}{rate:>12.3g}{case.error:>13.2e}{ratio:>12.2f}")
        record[name] = {"ms": ms, "rhs_per_run": case.rhs_per_run, "rhs_per_s": rate,
                        "max_error": case.error, "time_ratio_median": ratio}
    print("RHS: right-hand-side evaluations of one FMU (a cluster evaluation counts 16); "
          "CS FMUs evaluate theirs in C (RK4, 4 per 1 ms substep)")
    rhs = {"cosim cluster.rhs (16 FMUs)": ClusterRhs(),
           "fmpy CVode callback x16": FmpyRhs()}
    rhs_times: dict[str, list[float]] = {name: [] for name in rhs}
    for _ in range(args.repeat):
        for name, body in rhs.items():
            rhs_times[name].append(per_run(body, args.seconds) / 100)
    print()
    print(f"the right-hand side alone (16 FMUs per evaluation; medians of {args.repeat})")
    print(f"{'case':<30}{'us/eval':>10}{'min':>9}{'max':>9}{'FMU RHS/s':>12}")
    first = rhs_times["cosim cluster.rhs (16 FMUs)"]
    for name, values in rhs_times.items():
        us = [1e6 * v for v in values]
        ratio = statistics.median([v / f for v, f in zip(values, first, strict=True)])
        print(f"{name:<30}{statistics.median(us):>10.1f}{min(us):>9.1f}{max(us):>9.1f}"
              f"{N / statistics.median(values):>12.3g}   x{ratio:.2f}")
        record[name] = {"us_per_evaluation": us, "time_ratio_median": ratio}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "me.json").write_text(json.dumps(record, indent=2))
    return 0
