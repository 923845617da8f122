"""Make the RackDetailed surrogate of docs/surrogates.md, step by step, with caches.

    PYTHONPATH=. python topologies/surrogates/make_rack_surrogate.py [--workers 2]

1. excitation: 300 runs of RackDetailed (rack_excitation.yaml) into
   out/surrogates/rack_excitation.h5 (resumed if interrupted; about an hour on 2 cores);
2. fit: every model kind, chosen by free-run error, into
   topologies/surrogates/rack_detailed.surrogate (+ .report.html/.json);
3. closed loop: the flagship with RackDetailed (datacenter_detailed.yaml; the run is
   cached in out/surrogates/datacenter_detailed.h5) against the flagship with the four
   racks replaced (datacenter_surrogate.yaml), added to the report, and a figure
   docs/surrogates_flagship.png.

Each step is skipped when its output exists (``--refit`` fits again).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OUT = ROOT / "out" / "surrogates"
STUDY = OUT / "rack_excitation.h5"
ARTIFACT = HERE / "rack_detailed.surrogate"
REFERENCE = OUT / "datacenter_detailed.h5"
RACKS = ["rack1", "rack2", "rack3", "rack4"]


def candidates():
    """The default candidates, with the scikit-learn ones at these sizes."""
    from cosim.surrogates.training import DEFAULT_CANDIDATES, Candidate
    sizes = {"gp": {"n_train": 1500}, "boosting": {"max_iter": 300},
             "mlp": {"hidden": [64, 64]}}
    return [Candidate.make(c.kind, c.ny, c.nu, **dict(c.options), **sizes.get(c.kind, {}))
            for c in DEFAULT_CANDIDATES]


def excite(workers: int | None) -> None:
    from cosim.surrogates.excite import excite as run
    OUT.mkdir(parents=True, exist_ok=True)
    df = run(HERE / "rack_excitation.yaml", STUDY, workers=workers, resume=STUDY.exists(),
             progress=True)
    print(f"excitation: {(df.status == 'completed').sum()} of {len(df)} runs in {STUDY}")


def fit() -> None:
    from cosim.surrogates.api import fit_study
    from cosim.surrogates.training import FitOptions
    options = FitOptions(candidates=candidates(), seed=0,
                         progress=lambda text: print(f"  {text}", flush=True))
    study = os.path.relpath(STUDY)  # recorded in the artifact: keep it free of this machine
    art, fitted = fit_study(study, "rack1", ARTIFACT, options)
    print(f"chosen {fitted.candidate.label}: {art.describe()}")
    print(json.dumps(fitted.test, indent=1))


def closed_loop() -> dict:
    import cosim
    from cosim.surrogates.report import add_closed_loop
    from cosim.surrogates.validate import closed_loop as run
    topo = cosim.load(ROOT / "topologies" / "datacenter_detailed.yaml")
    if not REFERENCE.exists():
        topo_rec = topo.copy()
        ins = [f"{r}.{p}" for r in RACKS for p in ("P_it", "T_supply", "m_flow")]
        topo_rec.run = topo_rec.run.model_copy(update={"record": [*topo.run.record, *ins]})
        cosim.run(topo_rec, output=REFERENCE)
    result = run(ARTIFACT, topo, RACKS, reference=REFERENCE)
    add_closed_loop(ARTIFACT, result)
    for name, m in result["signals"].items():
        print(f"  {name:<18} NRMSE {m['nrmse_range']:.3%}")
    print(json.dumps(result["speed"], indent=1))
    return result


def figure() -> None:
    import matplotlib.pyplot as plt

    import cosim
    ref = cosim.read(REFERENCE).df
    sur = cosim.run(cosim.load(ROOT / "topologies" / "datacenter_surrogate.yaml")).df
    h = ref.index.to_numpy() / 3600
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    ax = axes[0]
    for r, color in (("rack1", "C0"), ("rack4", "C3")):
        ax.plot(h, ref[f"{r}.T_cpu"] - 273.15, color=color, lw=2.5, alpha=0.4,
                label=f"{r}.T_cpu RackDetailed")
        ax.plot(h, sur[f"{r}.T_cpu"] - 273.15, color=color, lw=1, label=f"{r}.T_cpu surrogate")
        ax.fill_between(h, sur[f"{r}.T_cpu_lo"] - 273.15, sur[f"{r}.T_cpu_hi"] - 273.15,
                        color=color, alpha=0.15, lw=0)
    ax.set_ylabel("°C")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    for r, color in (("rack1", "C0"), ("rack4", "C3")):
        ax.plot(h, ref[f"{r}.T_out"] - 273.15, color=color, lw=2.5, alpha=0.4,
                label=f"{r}.T_out RackDetailed")
        ax.plot(h, sur[f"{r}.T_out"] - 273.15, color=color, lw=1, label=f"{r}.T_out surrogate")
    ax.set_ylabel("°C")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[2]
    ax.plot(h, ref["fan_ctrl.u"], color="k", lw=2.5, alpha=0.4, label="fan command, RackDetailed")
    ax.plot(h, sur["fan_ctrl.u"], color="k", lw=1, label="fan command, surrogates")
    ax.set_ylabel("1")
    ax.set_xlabel("time [h]")
    ax.legend(fontsize=7)
    fig.suptitle("Flagship, 24 h: four RackDetailed FMUs vs four surrogates (90 % band)")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "surrogates_flagship.png", dpi=110)
    print("figure: docs/surrogates_flagship.png")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--refit", action="store_true")
    args = p.parse_args(argv)
    if not STUDY.exists() or _pending():
        excite(args.workers)
    if args.refit or not ARTIFACT.exists():
        fit()
    closed_loop()
    figure()
    return 0


def _pending() -> bool:
    from cosim.studies import read_study
    return bool((read_study(STUDY)["status"] == "pending").any())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
