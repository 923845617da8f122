"""``cosim run TOPOLOGY|FMU`` — run and print a summary (and final values)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError
from ..topology import Topology, load, yamlio
from .argtypes import positive_seconds


def register(sub) -> None:
    p = sub.add_parser("run", help="run a topology (or a single .fmu)")
    p.add_argument("topology", help="topology file (.yaml) or an .fmu")
    p.add_argument("-o", "--output", help="HDF5 result file to write")
    p.add_argument("--start", type=float, help="start time [s]")
    p.add_argument("--stop", type=float, help="stop time [s]")
    p.add_argument("--step", type=float, help="communication step [s]")
    p.add_argument("--algorithm", choices=["gauss-seidel", "jacobi"])
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a parameter (node.name=value; for an .fmu just name=value)")
    p.add_argument("--input", metavar="CSV", help="for an .fmu: a CSV whose columns drive "
                   "inputs of the same name (first column: time [s])")
    p.add_argument("--plot", metavar="PNG", help="save a plot of the results")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--timeout", type=positive_seconds, metavar="S",
                   help="stop the run after S seconds of wall time (status failed, exit 3)")
    p.add_argument("--force", action="store_true",
                   help="let -o replace an existing file that is not a cosim result")
    p.set_defaults(func=run)


def _parse_params(items: list[str], node: str | None = None) -> dict:
    params = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {item!r} is not of the form name=value")
        value = yamlio.load(text, f"--param {name}")[0] if text else ""
        params[f"{node}.{name}" if node and "." not in name else name] = value
    return params


def _fmu_topology(path: Path, input_csv: str | None) -> Topology:
    """A one-node topology around an FMU (and a table block for ``--input``)."""
    from ..fmu import description
    info = description.read(path)
    md = info.description
    exp = md.defaultExperiment
    start = float(exp.startTime) if exp and exp.startTime else 0.0
    stop = float(exp.stopTime) if exp and exp.stopTime else start + 1.0
    step = float(exp.stepSize) if exp and exp.stepSize else (stop - start) / 500
    name = re.sub(r"[^A-Za-z0-9_]", "_", md.modelName or path.stem) or "model"
    topo = Topology(name, base_dir=Path.cwd(), start=start, stop=stop, step=step)
    topo.add_fmu(name, path.resolve())
    if input_csv:
        import pandas as pd
        columns = [c for c in pd.read_csv(input_csv, nrows=0).columns[1:]]
        inputs = {v.name for v in info.interface.inputs}
        used = [c for c in columns if c in inputs]
        if not used:
            raise ConfigError(f"no column of {input_csv} names an input of {path.name} "
                              f"(inputs: {', '.join(sorted(inputs)) or 'none'})",
                              file=input_csv)
        time_column = pd.read_csv(input_csv, nrows=0).columns[0]
        topo.add_block("input", "table", parameters={
            "file": str(Path(input_csv).resolve()), "columns": used,
            "time_column": time_column})
        for c in used:
            topo.connect(f"input.{c}", f"{name}.{c}", check_units=False)
    return topo


def run(args) -> int:
    """Load here; claim the output (never an input, never in use, never a stranger's
    file); run in a supervised child process (cosim/supervisor) that inherits both."""
    from ..output_guard import claimed
    from ..supervisor import watch
    path = Path(args.topology)
    if path.suffix.lower() == ".fmu":
        topo = _fmu_topology(path, args.input)
        params = _parse_params(args.param, node=topo.nodes[0])
    else:
        if args.input:
            raise ConfigError("--input is for a single .fmu; in a topology, add a 'table' "
                              "block")
        topo = load(path)
        params = _parse_params(args.param)
    inputs = [path, *_inputs(topo, params)]
    with claimed(args.output, inputs=inputs, force=args.force, what="output file") as claim:
        if claim is not None:
            claim.hand_over()  # to the cosim.run below (in the child, or here)
        if not (getattr(args, "as_program", False) and watch.available()):
            from ..supervisor.deadline import deadline
            with deadline(args.timeout, f"the run took longer than its time limit of "
                          f"{args.timeout or 0:g} s (--timeout) and was stopped"):
                return _run(args, topo, params)
        from .main import handle
        return watch.supervise(lambda: handle(args, lambda a: _run(a, topo, params)),
                               output=args.output, timeout=args.timeout)


def _inputs(topo: Topology, params: dict) -> list[Path]:
    """The files the run reads (with the --param overrides applied)."""
    from ..execution import _apply_parameters
    from ..output_guard import topology_inputs
    applied = topo.copy()
    _apply_parameters(applied, params)
    report = applied.check()
    report.raise_if_problems()  # here, before any output is touched or process forked
    return topology_inputs(applied, report)


def _run(args, topo: Topology, params: dict) -> int:
    from ..execution import run as run_topology
    result = run_topology(topo, output=args.output, start=args.start, stop=args.stop,
                          step=args.step, algorithm=args.algorithm, parameters=params,
                          progress=not args.no_progress)
    df = result.df
    info = result.info
    print(f"{result.name}: {len(df)} points from {info.start:g} to {info.stop:g} s, "
          f"{info.algorithm}, step {info.step:g} s, {len(result.info.meta['subsystems'])} "
          f"nodes, {result.wall_time:.2f} s wall")
    if args.output:
        print(f"results: {args.output} ({len(df.columns)} signals)")
    if args.plot:
        result.plot(path=args.plot)
        print(f"plot: {args.plot}")
    if result.events:
        print(f"events ({len(result.events)}):")
        for ev in result.events[:10]:
            print(f"  {ev.time:>12.6g} s  {ev.kind:<9}  {ev.description}")
        if len(result.events) > 10:
            print(f"  ... and {len(result.events) - 10} more")
    _print_final(df, result.units)
    return 0


def _print_final(df, units, limit: int = 12) -> None:
    if df.empty:
        return
    print("final values:")
    last = df.iloc[-1]
    width = max(len(c) for c in df.columns[:limit])
    for col in df.columns[:limit]:
        unit = units.get(col) or ""
        print(f"  {col:<{width}}  {last[col]:.6g} {unit}".rstrip())
    if len(df.columns) > limit:
        print(f"  ... and {len(df.columns) - limit} more")


