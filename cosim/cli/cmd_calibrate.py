"""``cosim calibrate CALIB`` — estimate parameters of a topology from telemetry.

Every simulation goes through the study runners and is journaled in the calibration
file, so ``--resume`` continues an interrupted calibration without running a finished
simulation again. Prints the estimates with their intervals, identifiability warnings
and the held-out fit. Exit status: 0 done, 2 bad input, 3 the model failed where the
calibration cannot go on (at its initial values, or on both sides of a difference).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import runner_options


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="estimate parameters from telemetry, with uncertainty",
        description="Run a calibration file (docs/calibration.md): fit parameters of a "
        "topology to telemetry by least squares, global search or MCMC; write the "
        "estimates, covariance, every evaluation and the fit into an HDF5 file.")
    p.add_argument("calibration", help="calibration file (.yaml)")
    p.add_argument("-o", "--output", help="calibration file to write (default: NAME.h5 "
                   "in the current folder)")
    p.add_argument("--report", metavar="HTML", help="write an HTML report")
    p.add_argument("--params", metavar="YAML", help="write the estimates as a parameter "
                   "file (default: OUTPUT's name with _params.yaml)")
    runner_options.add(p)
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted calibration (finished simulations reused)")
    p.add_argument("--overwrite", action="store_true", help="start again over OUTPUT")
    p.add_argument("--no-progress", action="store_true", help="no progress line")
    p.set_defaults(func=handler)


def handler(args) -> int:
    from ..calibration import calibrate, load_calibration
    runner_options.check(args)
    runner_options.check_restart(args)
    problem = load_calibration(args.calibration)
    output = Path(args.output) if args.output else Path(f"{problem.name}.h5")
    params = Path(args.params) if args.params else \
        output.with_name(f"{output.stem}_params.yaml")
    runner = runner_options.runner(args)
    spec = problem.spec
    print(f"{problem.name}: {spec.method.name}, {len(problem.parameters)} parameters, "
          f"{len(problem.observations.signals)} signals, budget {spec.budget} simulations, "
          f"on {runner.describe()} -> {output}", flush=True)
    clock = time.perf_counter()
    result = calibrate(problem, output, runner=runner, resume=args.resume,
                       overwrite=args.overwrite, progress=not args.no_progress,
                       report=args.report, params=params)
    if not args.no_progress and sys.stderr.isatty():
        print(file=sys.stderr)  # ends the progress line redrawn on the terminal
    info = result.info
    print(f"{info['n_simulations']} simulations ({info['n_reused']} reused) in "
          f"{time.perf_counter() - clock:.1f} s")
    print(result.summary())
    hold = result.holdout
    if len(hold):
        verdict = "pass" if hold["passed"].all() else "FAIL"
        failed = ", ".join(hold.index[~hold["passed"]]) or "none"
        print(f"held-out fit (ASHRAE Guideline 14 hourly): {verdict}; failing: {failed}")
    if args.report:
        print(f"report: {args.report}")
    print(f"parameters: {params}")
    print(f"results: {output}")
    return 0
