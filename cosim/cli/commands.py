"""The CLI commands. Each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import ConfigError
from ..topology import Topology, load


def _parse_params(items: list[str], node: str | None = None) -> dict:
    params = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {item!r} is not of the form name=value")
        value = yaml.safe_load(text) if text else ""
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
    from ..execution import run as run_topology
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


def check(args) -> int:
    topo = load(args.topology)
    report = topo.check()
    report.raise_if_problems()
    print(f"{args.topology}: OK")
    print(f"  nodes ({len(report.order)}, in stepping order): {', '.join(report.order)}")
    print(f"  connections: {topo.graph.number_of_edges()}")
    print(f"  recorded signals: {len(report.recorded)}")
    run = topo.run
    print(f"  run: {run.start:g} to {run.stop:g} s, step {run.step:g} s, {run.algorithm}")
    if report.unconnected_inputs:
        print("  unconnected inputs (their start values are used):")
        for name in report.unconnected_inputs:
            node, _, var = name.partition(".")
            start = topo.graph.nodes[node]["start"].get(
                var, report.nodes[node].interface[var].start)
            print(f"    {name} = {start}")
    return 0


def inspect(args) -> int:
    from ..fmu import description
    info = description.read(args.fmu)
    md = info.description
    caps = info.co_simulation
    print(f"{args.fmu}: {md.modelName} (FMI {md.fmiVersion}), {md.generationTool or ''}")
    print(f"  guid: {info.guid}")
    print(f"  sha256: {info.sha256}")
    if caps is not None:
        flags = ["canHandleVariableCommunicationStepSize", "canGetAndSetFMUstate",
                 "canGetAndSetFMUState", "hasEventMode", "mightReturnEarlyFromDoStep",
                 "providesDirectionalDerivative", "providesDirectionalDerivatives"]
        shown = [f"{f}={getattr(caps, f)}" for f in flags if hasattr(caps, f)]
        print(f"  co-simulation: {', '.join(shown)}")
    print(f"  model exchange: {'yes' if md.modelExchange is not None else 'no'}")
    rows = [("name", "causality", "variability", "type", "unit", "start", "depends on")]
    for v in info.interface.variables.values():
        deps = "" if v.causality != "output" else (
            "(all inputs)" if v.depends_on is None else ", ".join(v.depends_on) or "-")
        rows.append((v.name, v.causality, v.variability, v.fmi_type or v.kind,
                     v.unit or "", "" if v.start is None else str(v.start), deps))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def graph(args) -> int:
    from ..topology.draw import draw
    topo = load(args.topology)
    draw(topo, args.output)
    print(f"graph: {args.output} ({topo.graph.number_of_nodes()} nodes, "
          f"{topo.graph.number_of_edges()} connections)")
    return 0
