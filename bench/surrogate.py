"""Dynamic surrogates: node step cost of RackDetailed, Rack and each surrogate kind (Python
and compiled loop), and the end-to-end Monte Carlo speed-up with its output distribution.

Node step cost: a topology of three constant sources (8 kW, 18 °C, 0.6 kg/s) driving the
node at the flagship's 60 s step, run for at least 0.5 s, minus the same topology without
the node (per step, same loop); ``--repeats`` interleaved repetitions, medians with
min-max. Surrogates: the flagship's (topologies/surrogates/rack_detailed.surrogate) and one
of every other kind fitted on 60 trajectories of the cached excitation study
(out/surrogates/rack_excitation.h5, made by topologies/surrogates/make_rack_surrogate.py),
cached in out/surrogates/bench/.

Studies: topologies/surrogates/mc_detailed.yaml (the flagship with RackDetailed, 20 Latin
hypercube samples of 24 h) and mc_surrogate.yaml (the same with the surrogates), on
``--workers`` local processes. Speed: the first ``--scenarios`` samples of each, run
alternately ``--study-repeats`` times in memory, the ratio taken per repetition.
Accuracy: the 20-sample studies; the RackDetailed one (about 10 minutes on two idle
cores) is reused from out/surrogates/mc_detailed.h5 when complete (``--rerun-detailed``
runs it again). Compares the peak CPU temperature quantiles (paired by scenario) with
the surrogate's stated T_cpu error (its 90 % interval half-width) and draws
docs/surrogates_mc.png.

    python -m bench surrogate [--repeats 5] [--workers 2] [--study-repeats 5]
                              [--scenarios 4] [--no-study] [--rerun-detailed]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
OUT = ROOT / "out" / "surrogates"
ARTIFACT = ROOT / "topologies" / "surrogates" / "rack_detailed.surrogate"
MIN_SECONDS = 0.5
H = 60.0
INPUTS = {"P_it": 8000.0, "T_supply": 291.15, "m_flow": 0.6}
KINDS = {"linear": ("linear", 2, 2, {}), "polynomial_deg3": ("polynomial", 2, 2, {"degree": 3}),
         "lss": ("lss", 2, 2, {"max_nfev": 5}), "gp": ("gp", 2, 2, {"n_train": 1000}),
         "boosting": ("boosting", 2, 2, {"max_iter": 200}),
         "mlp": ("mlp", 2, 2, {"hidden": [64, 64]})}


# -- node step cost ---------------------------------------------------------------------------


def topology(node: tuple[str, str] | None):
    """Constant sources, and ``node`` = ("fmu"|"surrogate", path) driven by them."""
    import cosim
    t = cosim.Topology("bench", stop=H, step=H, base_dir=ROOT)
    t.run = t.run.model_copy(update={"record": [f"{n}.y" for n in INPUTS][:1]})
    for name, value in INPUTS.items():
        t.add_block(name, "constant", parameters={"value": value})
    if node is not None:
        kind, path = node
        if kind == "fmu":
            t.add_fmu("n", path)
        else:
            t.add_surrogate("n", path)
        for name in INPUTS:
            t.connect(f"{name}.y", f"n.{name}")
    return t


class Config:
    """A node in a loop; ``per_step()`` seconds per step of the whole topology."""

    def __init__(self, label: str, node, fast: bool, n_steps: int):
        import cosim
        self.label, self.fast = label, fast
        t = topology(node)
        t.run = t.run.model_copy(update={"stop": H * n_steps})
        self.sim = cosim.Simulation(t, fast=fast)
        self.n = n_steps
        self.per_step()  # warm up (compile, extract, first allocations)

    def per_step(self) -> float:
        total, steps = 0.0, 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while total < MIN_SECONDS:
                self.sim.reset()
                clock = time.perf_counter()
                self.sim.run()
                total += time.perf_counter() - clock
                steps += self.n
        return total / steps


def kind_artifacts() -> dict[str, Path]:
    """One artifact of every other kind, fitted on 60 excitation trajectories (cached)."""
    from cosim.surrogates.api import artifact_of
    from cosim.surrogates.dataset import from_study
    from cosim.surrogates.training import Candidate, FitOptions, fit
    folder = OUT / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    out = {"polynomial (flagship's)": ARTIFACT}
    data = None
    for label, (kind, ny, nu, opts) in KINDS.items():
        path = folder / f"{label}.surrogate"
        if not path.exists():
            if data is None:
                full = from_study(OUT / "rack_excitation.h5", "rack1")
                keep = list(range(60))
                full.y, full.u = [full.y[i] for i in keep], [full.u[i] for i in keep]
                full.scenarios = [full.scenarios[i] for i in keep]
                data = full
            fitted = fit(data, FitOptions(candidates=[Candidate.make(kind, ny, nu, **opts)],
                                          folds=2))
            artifact_of(data, fitted).save(path)
        out[label] = path
    return out


def node_costs(repeats: int) -> list[dict]:
    from fmus.build import fmu_path
    configs = {}
    for fast in (False, True):
        loop = "compiled" if fast else "Python"
        configs[("baseline", loop)] = Config("sources only", None, fast, 2000 if fast else 500)
        configs[("Rack", loop)] = Config("Rack", ("fmu", str(fmu_path("Rack", 2))), fast,
                                         2000 if fast else 500)
        configs[("RackDetailed", loop)] = Config(
            "RackDetailed", ("fmu", str(fmu_path("RackDetailed", 2))), fast, 20)
    for label, path in kind_artifacts().items():
        for fast in (False, True):
            cfg = Config(label, ("surrogate", str(path)), fast, 500)
            if fast and not _compiled(cfg.sim):
                continue
            configs[(f"surrogate {label}", "compiled" if fast else "Python")] = cfg
    times: dict = {k: [] for k in configs}
    for _ in range(repeats):
        for key, cfg in configs.items():
            times[key].append(cfg.per_step())
    rows = []
    for (label, loop), ts in times.items():
        if label == "baseline":
            continue
        base = times[("baseline", loop)]
        net = [t - b for t, b in zip(ts, base, strict=True)]
        detailed = [d - b for d, b in zip(times[("RackDetailed", loop)], base, strict=True)]
        ratios = [d / n for d, n in zip(detailed, net, strict=True)]
        rows.append({"node": label, "loop": loop, "us_per_step": statistics.median(net) * 1e6,
                     "us_min": min(net) * 1e6, "us_max": max(net) * 1e6,
                     "rackdetailed_over_this": statistics.median(ratios),
                     "ratio_min": min(ratios), "ratio_max": max(ratios)})
    return rows


def _compiled(sim) -> bool:
    """The run compiles and the node runs natively in it (not called back in Python)."""
    from cosim.fast.plan import explain, node_plan
    return explain(sim) is None and all(p.native for p in node_plan(sim))


# -- the Monte Carlo study -------------------------------------------------------------------


def study_wall(path: Path) -> float | None:
    import h5py
    with h5py.File(path, "r") as f:
        a = f.attrs
        if a.get("status") != "completed" or "finished" not in a:
            return None
        t0 = datetime.fromisoformat(str(a["created"]))
        t1 = datetime.fromisoformat(str(a["finished"]))
    return (t1 - t0).total_seconds()


STUDIES = ROOT / "topologies" / "surrogates"


def _first(name: str, k: int):
    """The study ``name`` (mc_detailed / mc_surrogate) with its first ``k`` samples."""
    import yaml

    import cosim.studies as cs
    data = yaml.safe_load((STUDIES / f"{name}.yaml").read_text())
    data["samples"]["n"] = k
    return cs.study_from_spec(data, base_dir=STUDIES)


def study_speed(workers: int, repeats: int, scenarios: int) -> dict:
    """Interleaved: the RackDetailed study, then the surrogate study, ``repeats`` times,
    each on the first ``scenarios`` samples, in memory; ratio per repetition."""
    import cosim.studies as cs
    detailed, surrogate = _first("mc_detailed", scenarios), _first("mc_surrogate", scenarios)
    walls: dict[str, list[float]] = {"detailed": [], "surrogate": []}
    for _ in range(repeats):
        for key, study in (("detailed", detailed), ("surrogate", surrogate)):
            clock = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = cs.sweep(study, workers=workers)
            walls[key].append(time.perf_counter() - clock)
            assert (df["status"] == "completed").all(), df["error"]
    ratios = [d / s for d, s in zip(walls["detailed"], walls["surrogate"], strict=True)]
    return {"scenarios": scenarios, "repeats": repeats, "detailed_wall_s": walls["detailed"],
            "surrogate_wall_s": walls["surrogate"], "speedup_median": statistics.median(ratios),
            "speedup_min": min(ratios), "speedup_max": max(ratios)}


def monte_carlo(workers: int, rerun: bool) -> dict:
    """The 20-scenario studies compared (peak CPU quantiles); the RackDetailed one is
    reused from its file when complete."""
    import cosim.studies as cs
    from cosim.surrogates.artifact import load
    detailed_file = OUT / "mc_detailed.h5"
    if rerun or not detailed_file.exists() or study_wall(detailed_file) is None:
        cs.sweep(STUDIES / "mc_detailed.yaml", detailed_file, workers=workers,
                 overwrite=True, progress=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs.sweep(STUDIES / "mc_surrogate.yaml", OUT / "mc_surrogate.h5", workers=workers,
                 overwrite=True)
    det = cs.read_study(detailed_file)
    sur = cs.read_study(OUT / "mc_surrogate.h5")
    art = load(ARTIFACT)
    stated = float(art.intervals.half_width[art.output_names.index("T_cpu")])
    a, b = det["peak_cpu"].to_numpy(), sur["peak_cpu"].to_numpy()
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    qa, qb = np.quantile(a, qs), np.quantile(b, qs)
    _figure(a, b, qs, qa, qb, stated)
    return {"workers": workers, "scenarios": len(det),
            "completed": [int((det.status == "completed").sum()),
                          int((sur.status == "completed").sum())],
            "quantiles": qs, "peak_cpu_detailed_degC": qa.tolist(),
            "peak_cpu_surrogate_degC": qb.tolist(),
            "max_quantile_difference_K": float(np.max(np.abs(qa - qb))),
            "max_paired_difference_K": float(np.max(np.abs(a - b))),
            "stated_T_cpu_error_K": stated,
            "within_stated_error": bool(np.max(np.abs(qa - qb)) <= stated)}


def _figure(a, b, qs, qa, qb, stated) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    ax.scatter(a, b, s=18)
    lo, hi = min(a.min(), b.min()) - 0.3, max(a.max(), b.max()) + 0.3
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.fill_between([lo, hi], [lo - stated, hi - stated], [lo + stated, hi + stated],
                    color="C1", alpha=0.2, label=f"± stated error ({stated:.2f} K)")
    ax.set_xlabel("peak CPU temperature, RackDetailed [°C]")
    ax.set_ylabel("peak CPU temperature, surrogates [°C]")
    ax.legend(fontsize=8)
    ax = axes[1]
    for x, label in ((a, "RackDetailed"), (b, "surrogates")):
        ax.step(np.sort(x), np.arange(1, len(x) + 1) / len(x), where="post", label=label)
    ax.plot(qa, qs, "o", color="C0", ms=4)
    ax.plot(qb, qs, "x", color="C1", ms=6)
    ax.set_xlabel("peak CPU temperature [°C]")
    ax.set_ylabel("empirical CDF")
    ax.legend(fontsize=8)
    fig.suptitle(f"Monte Carlo of the flagship ({len(a)} Latin hypercube samples of 24 h)")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "surrogates_mc.png", dpi=110)
    plt.close(fig)


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench surrogate")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--study-repeats", type=int, default=5,
                   help="interleaved repetitions of the timed studies")
    p.add_argument("--scenarios", type=int, default=4,
                   help="scenarios of each timed study (the first of the 20)")
    p.add_argument("--no-study", action="store_true")
    p.add_argument("--rerun-detailed", action="store_true")
    args = p.parse_args(argv)
    if not ARTIFACT.exists() or not (OUT / "rack_excitation.h5").exists():
        print("make the surrogate first: python topologies/surrogates/make_rack_surrogate.py")
        return 2
    result: dict = {"repeats": args.repeats, "step_s": H, "min_seconds": MIN_SECONDS}
    rows = node_costs(args.repeats)
    result["nodes"] = rows
    print(f"node step cost at a {H:g} s step ({args.repeats} interleaved repetitions of >= "
          f"{MIN_SECONDS} s; medians, min-max; the loop's own cost subtracted)")
    print(f"  {'node':<34}{'loop':<10}{'us/step':>12}   {'RackDetailed / this':>22}")
    for r in rows:
        print(f"  {r['node']:<34}{r['loop']:<10}{r['us_per_step']:>12.2f}   "
              f"{r['rackdetailed_over_this']:>10.0f}x ({r['ratio_min']:.0f}-{r['ratio_max']:.0f})")
    if not args.no_study:
        speed = study_speed(args.workers, args.study_repeats, args.scenarios)
        result["study_speed"] = speed
        print(f"Monte Carlo speed: {speed['scenarios']} scenarios of 24 h on {args.workers} "
              f"workers, {speed['repeats']} interleaved repetitions (medians, min-max):")
        for key, name in (("detailed_wall_s", "RackDetailed"), ("surrogate_wall_s",
                                                                "surrogates")):
            w = speed[key]
            print(f"  {name:<13}{statistics.median(w):10.2f} s ({min(w):.2f}-{max(w):.2f})")
        print(f"  speed-up     {speed['speedup_median']:10.1f} x ({speed['speedup_min']:.1f}-"
              f"{speed['speedup_max']:.1f}, per repetition)")
        mc = monte_carlo(args.workers, args.rerun_detailed)
        result["study"] = mc
        print(f"Monte Carlo accuracy, {mc['scenarios']} scenarios of 24 h:")
        print("  peak CPU quantiles [degC]   " + "  ".join(f"{q:>6.0%}" for q in mc["quantiles"]))
        for key, name in (("peak_cpu_detailed_degC", "RackDetailed"),
                          ("peak_cpu_surrogate_degC", "surrogates")):
            print(f"    {name:<26}" + "  ".join(f"{v:6.2f}" for v in mc[key]))
        print(f"  largest quantile difference {mc['max_quantile_difference_K']:.3f} K, largest "
              f"paired difference {mc['max_paired_difference_K']:.3f} K; stated T_cpu error "
              f"(90 % half-width) {mc['stated_T_cpu_error_K']:.3f} K: "
              f"{'within' if mc['within_stated_error'] else 'NOT within'}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "surrogate.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0
