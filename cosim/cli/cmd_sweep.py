"""``cosim sweep STUDY`` — run every scenario of a study into one HDF5 study file."""

from __future__ import annotations

import time
from pathlib import Path

from . import runner_options
from .argtypes import positive_seconds


def register(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run a parameter study (grid, samples, variants) into one HDF5 file",
        description="Run every scenario of a study file (docs/studies.md). Scenarios that "
        "fail are recorded with their error; the others complete. Results are written as "
        "they arrive, so an interrupted study can be continued with --resume.")
    p.add_argument("study", help="study file (.yaml)")
    p.add_argument("-o", "--output", help="study file to write (default: STUDY-NAME.h5 in "
                   "the current folder)")
    runner_options.add(p)
    p.add_argument("--resume", action="store_true",
                   help="keep the scenarios already in the output file, run the missing ones")
    p.add_argument("--overwrite", action="store_true",
                   help="start again over an existing output file")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--timeout", type=positive_seconds, metavar="S",
                   help="wall-time limit of one scenario (overrides the study's timeout:); "
                   "a scenario that takes longer is recorded as failed")
    p.set_defaults(func=handler)


def handler(args) -> int:
    from ..studies import load_study, sweep
    runner_options.check(args)
    runner_options.check_restart(args)
    study = load_study(args.study)
    output = Path(args.output) if args.output else Path(f"{study.name}.h5")
    runner = runner_options.runner(args)
    print(f"{study.name}: {len(study)} scenarios ({_shape(study)}) on {runner.describe()} "
          f"-> {output}", flush=True)
    clock = time.perf_counter()
    df = sweep(study, output, runner=runner, resume=args.resume, overwrite=args.overwrite,
               progress=not args.no_progress, timeout=args.timeout)
    _summary(df, time.perf_counter() - clock, output)
    return 0


def _shape(study) -> str:
    parts = []
    if study.grid_keys:
        sizes = "x".join(str(len(v)) for v in study.spec.grid.values())
        parts.append(f"grid {sizes}")
    if study.spec.samples is not None:
        parts.append(f"{study.spec.samples.n} {study.spec.samples.method} samples")
    if study.spec.variants:
        parts.append(f"{len(study.spec.variants)} variants")
    return ", ".join(parts) or "one run"


def _summary(df, wall: float, output: Path, limit: int = 10) -> None:
    status = df["status"]
    n_ok, n_failed = int((status == "completed").sum()), int((status == "failed").sum())
    rate = f", {len(df) / wall:.3g} scenarios/s" if wall > 0 else ""
    print(f"{len(df)} scenarios: {n_ok} completed, {n_failed} failed; {wall:.2f} s wall{rate}")
    units = df.attrs.get("units", {})
    ok = df[status == "completed"]
    for name in df.attrs.get("outputs", []):
        if ok.empty:
            break
        unit = f" {units[name]}" if units.get(name) not in (None, "", "1") else ""
        print(f"  {name}: {ok[name].min():.6g} .. {ok[name].max():.6g}{unit}")
    failed = df[status == "failed"]
    for scenario, row in failed.head(limit).iterrows():
        print(f"  failed: scenario {scenario} ({row['variant']}): {row['error']}")
    if len(failed) > limit:
        print(f"  ... and {len(failed) - limit} more failed (see the 'error' column)")
    print(f"results: {output} (cosim plot {output})")
