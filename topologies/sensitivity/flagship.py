"""Sensitivity of the flagship twin: Morris screening, then Sobol' on the top factors.

Run from the repository root (FMUs built): ``python topologies/sensitivity/flagship.py``.
Writes ``out/dc_morris.h5`` and ``out/dc_sobol.h5`` (the study files with their
``/sensitivity`` records), the plots in ``docs/`` and prints the tables that
``docs/sensitivity.md`` shows. Takes a few minutes on two cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCS = ROOT / "docs"
TOP = 4          # factors kept for Sobol'
SOBOL_N = 256    # base samples: 256 x (4 + 2) = 1536 runs


def main() -> int:
    from cosim.sensitivity import load_plan, plan_from_spec, sensitivity
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    plan = load_plan(HERE / "datacenter_morris.yaml")
    clock = time.perf_counter()
    morris = sensitivity(plan, out / "dc_morris.h5", overwrite=True, progress=True)
    print(f"Morris: {morris.n_runs} runs in {time.perf_counter() - clock:.0f} s")
    print(morris.text())
    morris.plot("morris", DOCS / "sensitivity_morris.png")
    morris.plot("heatmap", DOCS / "sensitivity_morris_hourly.png")
    top = _top(morris)
    print(f"Sobol' on {', '.join(top)}")
    spec = plan.spec.model_dump(exclude_none=True)
    spec.update(method="sobol", n=SOBOL_N, seed=12, resamples=1000,
                factors={k: v for k, v in spec["factors"].items() if k in top},
                topology=str(plan.topology_path), name="datacenter_sobol")
    spec.pop("levels", None)
    clock = time.perf_counter()
    sobol = sensitivity(plan_from_spec(spec, HERE), out / "dc_sobol.h5", overwrite=True,
                        progress=True)
    print(f"Sobol': {sobol.n_runs} runs in {time.perf_counter() - clock:.0f} s")
    print(sobol.text())
    sobol.plot("bars", DOCS / "sensitivity_sobol.png")
    sobol.plot("heatmap", DOCS / "sensitivity_sobol_hourly.png")
    return 0


def _top(result) -> list[str]:
    """The factors with the largest mu* (normalised per output), best first."""
    score = {}
    for out in result.outputs:
        t = result.table(out)["mu_star"]
        for name, value in (t / t.max()).items():
            score[name] = max(score.get(name, 0.0), float(value))
    return sorted(score, key=score.get, reverse=True)[:TOP]


if __name__ == "__main__":
    sys.exit(main())
