"""``cosim run TOPOLOGY|FMU`` — run and print a summary (and final values)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .. import algorithms
from ..errors import ConfigError, TopologyError
from .argtypes import positive_seconds

if TYPE_CHECKING:  # imported where used: `cosim --help` stays quick
    from ..topology import Topology
    from ..topology.parameters import ParameterValue


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="run a topology (or a single .fmu)",
        description="Check and run a topology (a YAML file, an SSP, or a single FMU as a "
        "one-node topology with its default experiment), print a summary and the final "
        "values, and write the results to an HDF5 file (-o). A progress bar runs on "
        "stderr when it is a terminal. The run is supervised: a crashing or hanging FMU "
        "leaves a readable file marked crashed or failed.")
    p.add_argument("topology", help="topology file (.yaml), an SSP (.ssp/.ssd), or an .fmu")
    p.add_argument("-o", "--output", help="HDF5 result file to write")
    p.add_argument("--start", type=float, help="start time [s]")
    p.add_argument("--stop", type=float, help="stop time [s]")
    p.add_argument("--step", type=float, help="communication step [s]")
    p.add_argument("--algorithm", choices=algorithms.names(), help=algorithms.describe())
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a parameter (node.name=value, e.g. rack1.C_cpu=3.03e5; for an "
                   ".fmu just name=value); overrides --params")
    p.add_argument("--params", action="append", default=[], metavar="FILE",
                   help="apply a parameter file (YAML: node.name: value, or {value: 20, "
                   "unit: degC}); later files override earlier ones")
    p.add_argument("--input", metavar="CSV", help="for an .fmu: a CSV whose first column "
                   "is time [s] and whose other columns each drive the input of the same "
                   "name, interpolated linearly between rows and held before the first and "
                   "after the last; a column that names no input is an error")
    p.add_argument("--plot", metavar="PNG", help="save a plot of the results")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--timeout", type=positive_seconds, metavar="S",
                   help="stop the run after S seconds of wall time (status failed, exit 3)")
    p.add_argument("--force", action="store_true",
                   help="let -o replace an existing file that is not a cosim result")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="also say how the run stepped (compiled loop: which nodes run "
                   "natively and why the others do not)")
    p.set_defaults(func=run)


def _parse_params(items: list[str], node: str | None = None) -> list[ParameterValue]:
    """``--param name=value`` options; values read as YAML (``1e-3`` is a number)."""
    from ..topology import parameters, yamlio
    values = []
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {item!r} is not of the form name=value")
        shown = f"--param {item}"
        value = yamlio.load(text, shown)[0] if text.strip() else ""
        key = f"{node}.{name}" if node and "." not in name else name
        values += parameters.from_mapping({key: value}, shown)
    return values


def _apply_params(topo: Topology, files: list[str], items: list[str],
                  node: str | None = None) -> None:
    """``--params`` files in order, then ``--param`` options, over the topology's values.

    Their problems are reported by the run's check, with every other problem.
    """
    from ..topology import parameters
    for file in files:
        try:
            parameters.apply_later(topo, parameters.read_file(file))
        except TopologyError as err:
            topo.graph.graph["problems"].extend(err.problems)
    parameters.apply_later(topo, _parse_params(items, node))


def _add_inputs(topo: Topology, path: Path, input_csv: str) -> None:
    """Drive the FMU's inputs named by the CSV's columns (a ``table`` block)."""
    import pandas as pd

    from ..fmu import description
    name = topo.nodes[0]
    inputs = {v.name for v in description.read(path).interface.inputs}
    try:
        header = pd.read_csv(input_csv, nrows=0).columns
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read the --input CSV: {err}", file=input_csv) from None
    used = [str(c) for c in header[1:]]
    unknown = [c for c in used if c not in inputs]
    if unknown or not used:
        raise ConfigError(_unmatched(unknown, inputs, path.name), file=input_csv)
    topo.add_block("input", "table", parameters={
        "file": str(Path(input_csv).resolve()), "columns": used, "time_column": header[0]})
    for c in used:
        topo.connect(f"input.{c}", f"{name}.{c}", check_units=False)


def _unmatched(unknown: list[str], inputs: set[str], fmu: str) -> str:
    """``--input`` columns that drive nothing, with the nearest input names."""
    import difflib
    have = f"(inputs of {fmu}: {', '.join(sorted(inputs)) or 'none'})"
    if not unknown:
        return f"no input columns after the time column {have}"
    parts = []
    for c in unknown:
        near = difflib.get_close_matches(c, sorted(inputs), n=1)
        parts.append(f"{c!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
    n = len(unknown)
    return (f"{n} column{'s' * (n != 1)} of the --input CSV name{'s' * (n == 1)} no input "
            f"of {fmu}: {', '.join(parts)} {have}; rename or remove "
            f"{'them' if n != 1 else 'it'}")


def run(args) -> int:
    """Load here; claim the output (never an input, never in use, never a stranger's
    file); run in a supervised child process (cosim/supervisor) that inherits both."""
    from ..output_guard import claimed
    from ..supervisor import watch
    from ..topology import load
    path = Path(args.topology)
    if path.suffix.lower() == ".fmu":
        topo = load(path)
        if args.input:
            _add_inputs(topo, path, args.input)
        _apply_params(topo, args.params, args.param, node=topo.nodes[0])
    else:
        if args.input:
            raise ConfigError("--input is for a single .fmu; in a topology, add a 'table' "
                              "block")
        topo = load(path)
        _apply_params(topo, args.params, args.param)
    inputs = [path, *_inputs(topo), *map(Path, args.params),
              *([Path(args.input)] if args.input else [])]
    with claimed(args.output, inputs=inputs, force=args.force, what="output file") as claim:
        if claim is not None:
            claim.hand_over()  # to the run below (in the child, or here)
        if not (getattr(args, "as_program", False) and watch.available()):
            from ..supervisor.deadline import deadline
            with deadline(args.timeout, f"the run took longer than its time limit of "
                          f"{args.timeout or 0:g} s (--timeout) and was stopped"):
                return _run(args, topo)
        from .main import handle
        return watch.supervise(lambda: handle(args, lambda a: _run(a, topo)),
                               output=args.output, timeout=args.timeout)


def _inputs(topo: Topology) -> list[Path]:
    """The files the run reads; the topology's problems are raised here, before any
    output is touched or a process forked."""
    from ..output_guard import topology_inputs
    report = topo.check()
    report.raise_if_problems()
    return topology_inputs(topo, report)


def _run(args, topo: Topology) -> int:
    from ..execution import run as run_topology
    result = run_topology(topo, output=args.output, start=args.start, stop=args.stop,
                          step=args.step, algorithm=args.algorithm,
                          progress=not args.no_progress)
    df = result.df
    info = result.info
    print(f"{result.name}: {len(df)} points from {info.start:g} to {info.stop:g} s, "
          f"{info.algorithm}, step {info.step:g} s, {len(result.info.meta['subsystems'])} "
          f"nodes, {result.wall_time:.2f} s wall")
    if args.verbose:
        print("\n".join(result.stats.get("step_loop", [])))
    if result.termination is not None:
        print(f"terminated: {result.termination.describe()} (status terminated, a normal "
              "end)")
    if args.output:
        print(f"results: {args.output} ({len(df.columns)} signals)")
    if args.plot:
        result.plot(path=args.plot)
        print(f"plot: {args.plot}")
    if result.events:
        print(f"events ({len(result.events)}):")
        shown = None if getattr(args, "verbose", 0) else 10  # -v: every event, every value
        for ev in result.events[:shown]:
            print(f"  {ev.time:>12.6g} s  {ev.kind:<9}  {ev.description}")
        if shown is not None and len(result.events) > shown:
            print(f"  ... and {len(result.events) - 10} more")
    _print_final(df, result.units, result.display_units,
                 limit=len(df.columns) if getattr(args, "verbose", 0) else 12)
    return 0


def _print_final(df, units, display, limit: int = 12) -> None:
    """The last row, each signal in its display unit where it has one."""
    if df.empty:
        return
    print("final values:")
    last = df.iloc[-1]
    width = max(len(c) for c in df.columns[:limit])
    for col in df.columns[:limit]:
        value, unit = last[col], units.get(col) or ""
        if col in display:
            value, unit = display[col].apply(value), display[col].unit
        print(f"  {col:<{width}}  {value:.6g} {unit}".rstrip())
    if len(df.columns) > limit:
        print(f"  ... and {len(df.columns) - limit} more")


