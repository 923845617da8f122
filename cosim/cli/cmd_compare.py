"""``cosim compare RUN REF`` — judge a result against a reference with the regression tube.

Exit status: 0 every signal passed, 1 a regression, 2 bad input (unreadable file, empty
signal, no overlap in time, bad tolerance file). ``--export-csv`` writes RUN in the FMI
cross-check CSV form (then REF is optional).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .argtypes import positive_int

EXIT_OK, EXIT_REGRESSION = 0, 1


def register(sub) -> None:
    p = sub.add_parser("compare", help="compare a result with a reference (regression tube)",
                       description="Compare RUN with REF signal by signal with csv-compare's "
                       "tube (see docs/regression.md). Files: cosim HDF5 results or FMI "
                       "cross-check CSV (*.csv).")
    p.add_argument("run", metavar="RUN", help="result file (.h5, or .csv)")
    p.add_argument("reference", metavar="REF", nargs="?", help="reference file (.h5 or .csv)")
    p.add_argument("--tolerances", metavar="TOML", help="tolerance file (default: "
                   "tolerances.toml beside REF if there is one, else tol = 0.002)")
    p.add_argument("--exact", action="store_true", help="tol = 0: reproduce REF exactly")
    p.add_argument("--signals", nargs="+", metavar="GLOB", help="compare only these")
    p.add_argument("--report", metavar="OUT", help="write a report: .html (figures of the "
                   "failing signals) or .json")
    p.add_argument("--failed-only", action="store_true", help="list only failing signals")
    p.add_argument("--export-csv", metavar="CSV", help="also write RUN as cross-check CSV")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                   help="split the signals over N processes (HDF5 files only)")
    p.set_defaults(func=compare)


def _tolerances(args) -> str | None:
    if args.tolerances:
        return args.tolerances
    if args.reference:
        beside = Path(args.reference).parent / "tolerances.toml"
        if beside.is_file():
            return str(beside)
    return None


def compare(args) -> int:
    from ..comparison import compare as run_compare
    from ..comparison.csvio import export_csv
    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm", ".json"):
        raise ConfigError(f"--report {args.report}: the file name must end in .html or .json")
    if args.export_csv:
        rows = export_csv(args.run, args.export_csv)
        print(f"wrote {args.export_csv} ({rows} rows)")
        if not args.reference:
            return EXIT_OK
    if not args.reference:
        raise ConfigError("give a reference file REF to compare with (or --export-csv)")
    tolerances = _tolerances(args)
    report = run_compare(args.run, args.reference, tolerances, exact=args.exact,
                         signals=args.signals, jobs=max(1, args.jobs))
    print(f"result:     {report.result}\nreference:  {report.reference}\n"
          f"tolerances: {'exact (tol = 0)' if args.exact else tolerances or 'default (tol = 0.002)'}")
    print(report.table(only_failed=args.failed_only))
    print(report.summary())
    if args.report:
        _write_report(report, args)
    return EXIT_OK if report.passed else EXIT_REGRESSION


def _write_report(report, args) -> None:
    out = Path(args.report)
    if out.suffix.lower() == ".json":
        from ..errors import ResultsError
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(report.to_json(), encoding="utf-8")
        except OSError as err:
            raise ResultsError(f"cannot write the report: {err}", path=str(out)) from err
    else:
        from ..comparison.html import write_html
        write_html(report, out, args.run, args.reference)
    print(f"report: {out}")
