"""``cosim validate RUN TELEMETRY`` — a run (or an ensemble's bands) against telemetry.

Exit status (as ``cosim compare``): 0 every criterion holds (or none was given), 1 a
criterion failed, 2 bad input (unreadable file, no overlap in time, unit mismatch, a
signal missing, an undefined metric under a criterion, too few samples for the
bootstrap block).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError

EXIT_OK, EXIT_FAILED = 0, 1


def register(sub) -> None:
    p = sub.add_parser(
        "validate", help="validate a run against telemetry (metrics, intervals, criteria)",
        description="Validate RUN (a result file, or a study file with prediction bands) "
        "against TELEMETRY (a telemetry spec .yaml, or a CSV/HDF5/Parquet file with "
        "columns named like the signals); see docs/validation.md.")
    p.add_argument("run", metavar="RUN", help="result file (.h5) or study file with bands")
    p.add_argument("telemetry", metavar="TELEMETRY", help="telemetry spec (.yaml) or data file")
    p.add_argument("--signals", nargs="+", metavar="MAP",
                   help="signals to validate: a YAML file mapping signal: column (or "
                   "{column, unit}), or SIGNAL=COLUMN pairs, or signal names")
    p.add_argument("--criteria", metavar="YAML",
                   help="criteria file, or a preset: ashrae14-hourly, ashrae14-monthly")
    p.add_argument("--report", metavar="OUT", help="write a report: .html or .json")
    p.add_argument("--parameters", type=int, metavar="P",
                   help="p of Guideline 14's n - p: parameters calibrated on these data")
    p.add_argument("--window", choices=["window", "holdout", "all"], default="window",
                   help="which part of the telemetry (default: its 'window', else all)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="moving-block bootstrap replicates (0: no intervals)")
    p.add_argument("--block", default="auto", metavar="L",
                   help="bootstrap block length in samples (default auto: Politis-White)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level")
    p.set_defaults(func=handler)


def _signals(items: list[str] | None):
    if not items:
        return None
    if len(items) == 1 and Path(items[0]).suffix.lower() in (".yaml", ".yml"):
        from ..topology import yamlio
        data, _, _, _ = yamlio.read_mapping(Path(items[0]), "signal map", "signal: column")
        return data.get("signals", data)
    if all("=" in item for item in items):
        return dict(item.split("=", 1) for item in items)
    if any("=" in item for item in items):
        raise ConfigError("--signals: give either SIGNAL=COLUMN pairs or signal names, "
                          "not both")
    return list(items)


def handler(args) -> int:
    from ..validation import validate
    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm", ".json"):
        raise ConfigError(f"--report {args.report}: the file name must end in .html or .json")
    if args.bootstrap < 0:
        raise ConfigError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    if not 0 < args.level < 1:
        raise ConfigError(f"--level must be between 0 and 1, got {args.level}")
    block = args.block
    if block != "auto":
        try:
            block = int(block)
        except ValueError:
            raise ConfigError(f"--block must be a whole number of samples or 'auto', got "
                              f"{args.block!r}") from None
        if block < 1:
            raise ConfigError(f"--block must be >= 1, got {block}")
    result = validate(args.run, args.telemetry, signals=_signals(args.signals),
                      criteria=args.criteria, parameters=args.parameters, window=args.window,
                      bootstrap=args.bootstrap, block=block, level=args.level)
    print(f"run:        {result.run}\ntelemetry:  {result.telemetry}\n"
          f"window:     {result.window} ({result.span[0]:g}..{result.span[1]:g} s)")
    for note in result.notes:
        print(f"note: {note}")
    print(result.table())
    if result.verdicts is not None:
        print()
        print(result.verdict_table())
    print(result.summary())
    if args.report:
        out = result.report(args.report)
        print(f"report: {out}")
    return EXIT_FAILED if result.passed is False else EXIT_OK
