"""The figures and numbers of ``docs/calibration.md``, regenerated.

Run ``python topologies/calibration/make_docs.py`` from the repository root with the
FMUs built (about 20 s of simulation on two cores, more on a loaded machine). It

1. runs the flagship calibration (``calibrate.yaml``, two workers) into
   ``out/calibration/calib.h5`` with its HTML report and parameter file, prints what
   ``cosim calibrate`` prints and each estimate against the truth in standard errors;
2. saves the report's figures the walkthrough shows as ``docs/calibration_*.png``;
3. runs the same six parameters against the ordinary day (``calibrate_normal_day.yaml``)
   and prints what the calibration says about tau there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCS = ROOT / "docs"
OUT = ROOT / "out" / "calibration"
sys.path.insert(0, str(HERE))

from make_telemetry import TRUE  # noqa: E402


def flagship():
    import cosim
    from cosim.calibration import plots
    r = cosim.calibrate(HERE / "calibrate.yaml", OUT / "calib.h5", workers=2,
                        overwrite=True, report=OUT / "calib.html",
                        params=OUT / "calib_params.yaml")
    print(r.summary())
    print(f"held-out fit: {r.holdout[['rmse', 'nmbe', 'cv_rmse', 'passed']]}")
    truth = np.array([TRUE[n] for n in r.names])
    d = r.value - truth
    for n, z in zip(r.names, d / r.std_error, strict=True):
        print(f"  {n:15s} (estimate - truth) / standard error = {z:+.2f}")
    print(f"  Mahalanobis distance² of the truth: {d @ np.linalg.solve(r.cov, d):.2f} "
          f"(95 % of chi²(6) below 12.59)")
    print(f"  s² = {r.info['s2']:.4f}, condition number "
          f"{r.identifiability.condition_number:.3g}")
    print(r.correlation.round(2))
    figures = {
        "calibration_fit_power.png": plots.signal_figure(r, r.fit.signals.index(
            "cooler.P_el")),
        "calibration_fit_supply.png": plots.signal_figure(r, r.fit.signals.index(
            "cooler.T_supply")),
        "calibration_intervals.png": plots.intervals_figure(r),
        "calibration_correlation.png": plots.correlation_figure(r),
        "calibration_identifiability.png": plots.identifiability_figure(r),
    }
    for name, fig in figures.items():
        fig.savefig(DOCS / name, dpi=80)
        print(f"wrote docs/{name}")


def normal_day():
    import cosim
    r = cosim.calibrate(HERE / "calibrate_normal_day.yaml", OUT / "normal_day.h5",
                        workers=2, overwrite=True)
    print(r.summary())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    flagship()
    normal_day()


if __name__ == "__main__":
    main()
