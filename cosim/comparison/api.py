"""``compare(run, reference, tolerances)``: the tube rule, signal by signal."""

from __future__ import annotations

import fnmatch
import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ResultsError
from .engine import BLOCK_ROWS, SignalJob, run_jobs, signal_report
from .report import MISSING, NEW, Report, SignalReport
from .sources import HDF5Source, Source, is_discrete, open_source
from .tolerances import Tolerances, as_tolerances

ResultLike = Any  # a path (.h5 / .csv), RunData, cosim.Result or DataFrame (index: time)


def compare(run: ResultLike, reference: ResultLike,
            tolerances: Tolerances | Mapping[str, Any] | str | Path | None = None, *,
            exact: bool = False, signals: str | Sequence[str] | None = None,
            jobs: int = 1, block_rows: int = BLOCK_ROWS) -> Report:
    """Compare ``run`` with ``reference`` with the regression tube (docs/regression.md).

    Both may be result files (HDF5, or CSV in the FMI cross-check convention), RunData,
    a :class:`cosim.Result` or DataFrames indexed by time [s]. ``tolerances``: a
    :class:`Tolerances`, the dict of a TOML tolerance file, or its path; None is
    csv-compare's default (tol = 0.002). ``exact=True`` is tol = 0. ``signals``: globs
    restricting the comparison. ``jobs > 1`` splits the signals of two HDF5 files over
    that many processes.

    Returns a :class:`Report` (``report.passed``); a failed comparison is not an error.
    Raises :class:`~cosim.errors.ResultsError` / :class:`~cosim.errors.ConfigError`
    (exit status 2) for unusable input: unreadable files, empty results, decreasing time,
    no overlap in time.
    """
    tols = Tolerances.exact() if exact else as_tolerances(tolerances)
    res = open_source(run, "result")
    try:
        ref = open_source(reference, "reference")
    except BaseException:
        res.close()
        raise
    with res, ref:
        return _compare(res, ref, tols, signals, jobs, block_rows, exact)


def _select(names: list[str], patterns: Sequence[str] | None) -> list[str]:
    if patterns is None:
        return names
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def _compare(res: Source, ref: Source, tols: Tolerances, signals: str | Sequence[str] | None,
             jobs: int, block_rows: int, exact: bool) -> Report:
    patterns = [signals] if isinstance(signals, str) else (list(signals) if signals else None)
    ref_names, res_names = _select(ref.signals, patterns), _select(res.signals, patterns)
    if patterns and not ref_names and not res_names:
        raise ConfigError(f"no signal matches {patterns} in {res.label} or {ref.label}")
    res_span, ref_span = res.first_last(), ref.first_last()
    if res_span[1] < ref_span[0] or res_span[0] > ref_span[1]:
        raise ResultsError(
            f"no overlap in time with the reference {ref.label}: the result covers "
            f"{res_span[0]:g}..{res_span[1]:g} s, the reference {ref_span[0]:g}..{ref_span[1]:g} s",
            path=res.label)
    have = set(res_names)
    common = [n for n in ref_names if n in have]
    job_list = [_job(name, res, ref, tols, ref_span) for name in common]
    done = {j.name: signal_report(j, res_span, ref_span)
            for j in _run(res, ref, job_list, ref_span, jobs, block_rows)}
    reports: list[SignalReport] = []
    for name in ref_names:
        if name in done:
            reports.append(done[name])
        else:
            reports.append(SignalReport(name=name, status=MISSING, unit=ref.unit(name),
                                        problems=[f"missing in the result {res.label}"]))
    in_ref = set(ref_names)
    reports += [SignalReport(name=n, status=NEW, unit=res.unit(n),
                             problems=[f"not in the reference {ref.label}"])
                for n in res_names if n not in in_ref]
    return Report(result=res.label, reference=ref.label, signals=reports,
                  start=res_span[0], stop=res_span[1], reference_start=ref_span[0],
                  reference_stop=ref_span[1], tolerances=tols.source, exact=exact,
                  parameter_differences=parameter_differences(res, ref))


def parameter_differences(res: Source, ref: Source) -> list[dict[str, Any]] | None:
    """Parameters set differently in the run and in the reference (or set in only one):
    a first place to look when signals leave their tube."""
    mine, theirs = res.parameters(), ref.parameters()
    if mine is None or theirs is None:
        return None
    out = []
    for name in sorted(set(mine) | set(theirs)):
        a, b = mine.get(name, (None, None)), theirs.get(name, (None, None))
        if not _same(a[0], b[0]):
            out.append({"name": name, "result": _plain(a[0]), "reference": _plain(b[0]),
                        "unit": a[1] or b[1]})
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) or (a != a and b != b)  # NaN equals NaN here
    except (TypeError, ValueError):  # arrays
        import numpy as np
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def _plain(value: Any) -> Any:
    """A JSON-able value: numpy scalars and arrays as Python numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _job(name: str, res: Source, ref: Source, tols: Tolerances,
         ref_span: tuple[float, float]) -> SignalJob:
    rule = tols.resolve(name)
    if rule.discrete is not None:
        discrete = rule.discrete
    elif ref.kind(name):
        discrete = is_discrete(ref, name)
    else:
        discrete = is_discrete(res, name)
    nominal = ref.nominal(name)
    if nominal is None:
        nominal = res.nominal(name)
    return SignalJob(name=name, discrete=discrete, rule=rule, x=rule.x(*ref_span),
                     nominal=nominal, unit=ref.unit(name) or res.unit(name))


def _run(res: Source, ref: Source, job_list: list[SignalJob], span: tuple[float, float],
         jobs: int, block_rows: int) -> list[SignalJob]:
    parallel = (jobs > 1 and len(job_list) > 1 and isinstance(res, HDF5Source)
                and isinstance(ref, HDF5Source))
    if not parallel:
        run_jobs(res, ref, job_list, span, block_rows)
        return job_list
    groups = [job_list[i::jobs] for i in range(min(jobs, len(job_list)))]
    # The workers open the files themselves. Fork (cheap) only with no HDF5 file open in
    # this process: a forked child must not share open HDF5 handles; else spawn.
    res.close()
    ref.close()
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and \
        _no_open_hdf5() else "spawn"
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=ctx) as pool:
        futures = [pool.submit(_worker, str(res.path), str(ref.path), g, span, block_rows)
                   for g in groups]
        done = [j for f in futures for j in f.result()]
    order = {j.name: i for i, j in enumerate(job_list)}
    return sorted(done, key=lambda j: order[j.name])


def _no_open_hdf5() -> bool:
    import h5py
    try:
        return h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE) == 0
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - older h5py
        return False


def _worker(res_path: str, ref_path: str, job_list: list[SignalJob],
            span: tuple[float, float], block_rows: int) -> list[SignalJob]:
    with HDF5Source(res_path) as res, HDF5Source(ref_path) as ref:
        run_jobs(res, ref, job_list, span, block_rows)
    return job_list


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def matching(names: Iterable[str], pattern: str) -> list[str]:
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]
