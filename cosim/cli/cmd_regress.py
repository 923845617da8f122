"""``cosim regress [PATH]`` — run every regression case and compare with its reference.

A case is a folder ``reference_results/<case>/`` with ``case.yaml``, ``reference.h5``
and ``tolerances.toml``. Exit status: 0 all passed, 1 a regression (a signal outside
its tube, or a run that failed), 2 bad input (a broken case folder, a missing or
unreadable reference). ``--update CASE... --why TEXT`` rewrites those references.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError, ResultsError
from .argtypes import positive_int

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_PATH = "reference_results"


def register(sub) -> None:
    p = sub.add_parser("regress", help="run the regression cases against their references",
                       description="Run each case in PATH (default reference_results/) and "
                       "compare it with its reference (see docs/regression.md).")
    p.add_argument("path", metavar="PATH", nargs="?", help="a folder of cases, or one case "
                   "folder (default: reference_results/)")
    p.add_argument("--update", nargs="+", metavar="CASE", help="rewrite these references "
                   "(names or globs) from fresh runs instead of comparing")
    p.add_argument("--why", metavar="TEXT", help="why the references change (required "
                   "with --update; stored in the reference file)")
    p.add_argument("--jobs", type=positive_int, metavar="N", help="cases run in parallel "
                   "(default: all cores)")
    p.add_argument("--report", metavar="JSON", help="write every case's report as JSON")
    p.set_defaults(func=regress)


def _root(path: str | None) -> Path:
    if path:
        return Path(path)
    here = Path(DEFAULT_PATH)
    if here.is_dir():
        return here
    repo = Path(__file__).resolve().parents[2] / DEFAULT_PATH
    if repo.is_dir():
        return repo
    raise ConfigError(f"no {DEFAULT_PATH}/ folder here: give PATH")


def _map(func, items: list, jobs: int) -> list:
    if jobs <= 1 or len(items) <= 1:
        return [func(*i) for i in items]
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(max_workers=min(jobs, len(items))) as pool:
        futures = [pool.submit(func, *i) for i in items]
        return [f.result() for f in futures]


def regress(args) -> int:
    from ..comparison.api import default_jobs
    from ..studies import regress as lib
    if args.update and not (args.why or "").strip():
        raise ConfigError("--update needs --why 'the reason the references change'")
    if args.why and not args.update:
        raise ConfigError("--why goes with --update")
    cases = lib.find_cases(_root(args.path))
    jobs = args.jobs if args.jobs else default_jobs()
    if args.update:
        chosen = lib.select(cases, args.update)
        results = _map(lib.update_case, [(c, args.why.strip()) for c in chosen], jobs)
    else:
        results = _map(lib.check_case, [(c,) for c in cases], jobs)
    _print(results)
    if args.report:
        out = Path(args.report)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps([r.to_dict() for r in results], indent=2), "utf-8")
        except OSError as err:
            raise ResultsError(f"cannot write the report: {err}", path=str(out)) from err
        print(f"report: {out}")
    if any(r.status == lib.BAD_INPUT for r in results):
        return EXIT_BAD_INPUT
    return EXIT_REGRESSION if any(r.status == lib.REGRESSION for r in results) else EXIT_OK


def _print(results) -> None:
    width = max([4, *(len(r.case) for r in results)])
    print(f"{'case':<{width}}  {'status':<7} {'signals':>9}  {'wall [s]':>8}  details")
    for r in results:
        rep = r.report
        counted = "-" if rep is None else f"{len(rep.signals) - len(rep.failed)}/{len(rep.signals)}"
        status = "UPDATED" if r.updated else {"pass": "PASS", "fail": "FAIL",
                                              "error": "ERROR"}[r.status]
        detail = r.message.splitlines()[0] if r.message else ""
        if rep is not None and not rep.passed and not r.updated:
            detail = "failing: " + ", ".join(s.name for s in rep.failed)
        print(f"{r.case:<{width}}  {status:<7} {counted:>9}  {r.wall:>8.2f}  {detail}")
    for r in results:
        if r.report is not None and not r.report.passed and not r.updated:
            print(f"\n{r.case}: {r.report.summary()}")
            print(r.report.table(only_failed=True))
        elif r.status != "pass" and r.message:
            print(f"\n{r.case}: {r.message}")
    n_bad = sum(r.status != "pass" for r in results)
    verb = "updated" if any(r.updated for r in results) else "passed"
    print(f"\n{len(results) - n_bad} {verb}, {n_bad} failed" if n_bad else
          f"\nall {len(results)} {verb}")
