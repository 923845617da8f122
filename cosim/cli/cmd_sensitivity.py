"""``cosim sensitivity STUDY`` — global sensitivity indices (SALib) of a topology.

Runs the method's design through the study runners into one study file, then prints the
indices, the convergence check (N/2 vs N), and writes plots and a report on request.
Exit status: 0 done, 2 bad input, 3 runs failed (the indices need every run).
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import ConfigError
from . import runner_options


def register(sub) -> None:
    p = sub.add_parser(
        "sensitivity", help="global sensitivity analysis (Sobol', Morris, RBD-FAST, PAWN)",
        description="Run a sensitivity file (docs/sensitivity.md): the method's design "
        "through the study runners into one study file, then the indices with SALib.")
    p.add_argument("study", help="sensitivity file (.yaml)")
    p.add_argument("-o", "--output", help="study file to write (default: NAME.h5 in the "
                   "current folder)")
    runner_options.add(p)
    p.add_argument("--resume", action="store_true", help="continue an interrupted analysis")
    p.add_argument("--overwrite", action="store_true", help="start again over OUTPUT")
    p.add_argument("--plot", metavar="PNG", help="plots: PNG gets the bars; a Morris "
                   "analysis also PNG_morris, time-resolved indices PNG_heatmap")
    p.add_argument("--report", metavar="OUT", help="a report: .html or .json")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=handler)


def handler(args) -> int:
    from ..sensitivity import load_plan, sensitivity
    runner_options.check(args)
    runner_options.check_restart(args)
    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm", ".json"):
        raise ConfigError(f"--report {args.report}: the file name must end in .html or .json")
    plan = load_plan(args.study)
    output = Path(args.output) if args.output else Path(f"{plan.name}.h5")
    runner = runner_options.runner(args)
    print(f"{plan.name}: {plan.spec.method}, {len(plan.factors)} factors, "
          f"{len(plan.study)} runs on {runner.describe()} -> {output}", flush=True)
    clock = time.perf_counter()
    result = sensitivity(plan, output, runner=runner, resume=args.resume,
                         overwrite=args.overwrite, progress=not args.no_progress)
    print(f"{result.n_runs} runs in {time.perf_counter() - clock:.1f} s")
    print(result.text())
    if args.plot:
        _plots(result, Path(args.plot))
    if args.report:
        print(f"report: {result.report(args.report)}")
    print(f"results: {output}")
    return 0


def _plots(result, base: Path) -> None:
    kinds = ["bars"]
    if result.method == "morris":
        kinds.append("morris")
    if result.time_resolved is not None and not result.time_resolved.empty:
        kinds.append("heatmap")
    for kind in kinds:
        out = base if kind == "bars" else base.with_name(f"{base.stem}_{kind}{base.suffix}")
        result.plot(kind, out)
        print(f"{kind}: {out}")
