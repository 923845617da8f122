"""Regression cases: ``reference_results/<case>/`` = case.yaml + reference.h5 + tolerances.toml.

``case.yaml``::

    topology: ../../topologies/two_mass.yaml   # relative to this folder (or absolute)
    description: the two-mass benchmark       # optional
    run: {stop: 10, step: 0.01}                # optional: start, stop, step, algorithm
    record: [mass*.x, mass*.v, spring.F]       # optional: what the reference keeps
    parameters: {mass1.c: 0.1}                 # optional: node.parameter overrides

:func:`check_case` runs the case into a temporary file and compares it with
``reference.h5`` under ``tolerances.toml``; :func:`update_case` rewrites
``reference.h5`` from a fresh run, recording why, when, from which commit and with
which master algorithm (``/meta/reference``, and ``/meta/reference_history``).
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py

from ..comparison.report import Report
from ..comparison.tolerances import Tolerances
from ..errors import ConfigError, CosimError, ResultsError

CASE_FILE, REFERENCE_FILE, TOLERANCE_FILE = "case.yaml", "reference.h5", "tolerances.toml"
_CASE_KEYS = {"topology", "description", "run", "record", "parameters"}
_RUN_KEYS = {"start", "stop", "step", "algorithm"}
DEFAULT_TOLERANCES = """\
# Tube sizes for this case (see docs/regression.md).
[defaults]
tol = 0.002
"""

PASSED, REGRESSION, BAD_INPUT = "pass", "fail", "error"


@dataclass
class Case:
    name: str
    folder: Path
    topology: Path
    run: dict[str, Any] = field(default_factory=dict)
    record: list[str] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_where: dict[str, str] = field(default_factory=dict)  # key -> case.yaml:line
    description: str = ""
    topology_given: str = ""  # as written in case.yaml

    @property
    def reference(self) -> Path:
        return self.folder / REFERENCE_FILE

    @property
    def tolerances(self) -> Path:
        return self.folder / TOLERANCE_FILE


@dataclass
class CaseResult:
    """What happened to one case: ``status`` pass | fail (regression) | error (bad input)."""

    case: str
    status: str
    report: Report | None = None
    message: str = ""
    wall: float = 0.0
    updated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "status": self.status, "message": self.message,
                "wall": self.wall, "updated": self.updated,
                "report": self.report.to_dict() if self.report else None}


def load_case(folder: str | Path) -> Case:
    """Read ``folder/case.yaml``; ConfigError (exit 2) naming the file if invalid."""
    from ..topology import yamlio
    folder = Path(folder)
    path = folder / CASE_FILE
    if not path.is_file():
        raise ConfigError("no case.yaml: not a regression case folder", file=str(path))
    data, _, where, _ = yamlio.read_mapping(path, "case file", "'topology: <path>'")
    if not isinstance(data.get("topology"), str):
        raise ConfigError("a case file needs 'topology: <path of the topology file>'",
                          file=str(path))
    unknown = sorted(set(data) - _CASE_KEYS)
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} (allowed: {sorted(_CASE_KEYS)})",
                          file=str(path))
    run = data.get("run") or {}
    if not isinstance(run, dict) or set(run) - _RUN_KEYS:
        raise ConfigError(f"'run' may set only {sorted(_RUN_KEYS)}", file=str(path))
    record = data.get("record")
    if record is not None and (not isinstance(record, list)
                               or not all(isinstance(r, str) for r in record)):
        raise ConfigError("'record' must be a list of globs like rack*.T_cpu", file=str(path))
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ConfigError("'parameters' must map node.parameter to a value", file=str(path))
    return Case(name=folder.name, folder=folder, topology=_topology_path(folder, data),
                run=dict(run), record=record, parameters=dict(parameters),
                parameter_where={k: where("parameters", k) for k in parameters},
                description=str(data.get("description", "")),
                topology_given=str(data["topology"]))


def _topology_path(folder: Path, data: dict[str, Any]) -> Path:
    given = Path(data["topology"]).expanduser()
    for candidate in ([given] if given.is_absolute() else [folder / given, Path.cwd() / given]):
        if candidate.is_file():
            return candidate.resolve()
    raise ConfigError(f"topology {data['topology']!r} not found (relative to the case folder "
                      f"{folder} or the current directory)", file=str(folder / CASE_FILE))


def find_cases(path: str | Path) -> list[Path]:
    """Case folders: ``path`` itself if it holds case.yaml, else its subfolders that do."""
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"no such folder: {root}")
    if (root / CASE_FILE).is_file():
        return [root]
    if not root.is_dir():
        raise ConfigError(f"{root} is neither a case folder nor a folder of cases")
    cases = sorted(p.parent for p in root.glob(f"*/{CASE_FILE}"))
    if not cases:
        raise ConfigError(f"no regression case in {root} (a case is a folder with "
                          f"{CASE_FILE}, {REFERENCE_FILE} and {TOLERANCE_FILE})")
    return cases


def select(cases: list[Path], names: list[str]) -> list[Path]:
    """The cases matching ``names`` (names or globs); ConfigError for an unknown one."""
    chosen: list[Path] = []
    for name in names:
        hits = [c for c in cases if fnmatch.fnmatchcase(c.name, name)]
        if not hits:
            raise ConfigError(f"no case {name!r} (cases: {', '.join(c.name for c in cases)})")
        chosen += [c for c in hits if c not in chosen]
    return chosen


def run_case(case: Case, output: Path) -> Any:
    """Run the case's topology into ``output`` (HDF5) and return the cosim Result."""
    from ..execution import run as run_topology
    from ..topology import load, parameters
    topo = load(case.topology)
    if case.record is not None:
        spec = topo.run.model_dump()
        spec["record"] = list(case.record)
        topo.run = type(topo.run).model_validate(spec)
    for key, value in case.parameters.items():  # each error names case.yaml:line
        parameters.apply_later(topo, parameters.from_mapping(
            {key: value}, case.parameter_where.get(key, str(case.folder / CASE_FILE))))
    return run_topology(topo, output=output, progress=False, keep_in_memory=False,
                        **case.run)


def check_case(folder: str | Path) -> CaseResult:
    """Run one case and compare it with its reference (never raises)."""
    clock = time.perf_counter()
    name = Path(folder).name
    try:
        result = _check(Path(folder))
    except ConfigError as err:  # the case itself is broken: bad input
        result = CaseResult(name, BAD_INPUT, message=str(err))
    except ResultsError as err:
        result = CaseResult(name, BAD_INPUT, message=str(err))
    except CosimError as err:  # the run failed: the code regressed
        result = CaseResult(name, REGRESSION, message=f"run failed: {err}")
    except Exception as err:  # noqa: BLE001 - report, don't kill the other cases
        result = CaseResult(name, REGRESSION, message=f"{type(err).__name__}: {err}\n"
                            f"{traceback.format_exc(limit=3)}")
    result.wall = time.perf_counter() - clock
    return result


def _check(folder: Path) -> CaseResult:
    from ..comparison.api import compare
    case = load_case(folder)
    if not case.reference.is_file():
        raise ConfigError(f"no {REFERENCE_FILE}: create it with cosim regress --update "
                          f"{case.name} --why '...'", file=str(case.folder))
    tolerances = Tolerances.load(case.tolerances) if case.tolerances.is_file() else \
        Tolerances.from_dict({}, source="default (no tolerances.toml)")
    with tempfile.TemporaryDirectory(prefix=f"cosim-regress-{case.name}-") as tmp:
        out = Path(tmp) / "run.h5"
        run_case(case, out)
        report = compare(out, case.reference, tolerances)
        report.result = f"{case.name} (fresh run)"
    return CaseResult(case.name, PASSED if report.passed else REGRESSION, report=report)


def update_case(folder: str | Path, why: str) -> CaseResult:
    """Run the case and make that run its reference (reports what changed, never raises)."""
    clock = time.perf_counter()
    name = Path(folder).name
    try:
        result = _update(Path(folder), why)
    except CosimError as err:
        result = CaseResult(name, BAD_INPUT, message=str(err))
    result.wall = time.perf_counter() - clock
    return result


def _update(folder: Path, why: str) -> CaseResult:
    from ..comparison.api import compare
    case = load_case(folder)
    if not case.tolerances.is_file():
        case.tolerances.write_text(DEFAULT_TOLERANCES, encoding="utf-8")
    tolerances = Tolerances.load(case.tolerances)
    with tempfile.TemporaryDirectory(prefix=f"cosim-regress-{case.name}-") as tmp:
        out = Path(tmp) / "run.h5"
        run_case(case, out)
        report = None
        history: list[dict[str, Any]] = []
        if case.reference.is_file():
            try:
                report = compare(out, case.reference, tolerances)
                report.result = f"{case.name} (fresh run)"
                history = _history(case.reference)
            except CosimError:
                report = None  # an unreadable old reference is simply replaced
        entry = provenance(case, out, why)
        new = Path(tmp) / REFERENCE_FILE
        write_reference(out, new, [*history, entry])
        shutil.move(str(new), case.reference)
    change = "" if report is None else (" (it matched the old reference)" if report.passed
                                        else f" (it differs from the old reference: "
                                             f"{', '.join(s.name for s in report.failed)})")
    return CaseResult(case.name, PASSED, report=report, updated=True,
                      message=f"reference rewritten{change}")


def git_commit(where: Path) -> str:
    """``git rev-parse HEAD`` (with ``-dirty`` if the work tree has changes), or unknown."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(case: Case, run_file: Path, why: str) -> dict[str, Any]:
    from .._version import __version__
    with h5py.File(run_file, "r") as f:
        algorithm = _str(f.attrs.get("algorithm", ""))
        settings = _str(f["meta/algorithm"][()]) if "meta/algorithm" in f else "{}"
    try:
        settings_obj = json.loads(settings)
    except ValueError:
        settings_obj = settings
    return {"why": why, "when": datetime.now(UTC).isoformat(timespec="seconds")
            .replace("+00:00", "Z"), "commit": git_commit(case.folder),
            "algorithm": algorithm, "algorithm_settings": settings_obj,
            "cosim_version": __version__, "case": case.name,
            "topology": case.topology_given or str(case.topology), "run": case.run, "record": case.record,
            "parameters": case.parameters}


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _history(reference: Path) -> list[dict[str, Any]]:
    try:
        with h5py.File(reference, "r") as f:
            if "meta/reference_history" in f:
                return list(json.loads(_str(f["meta/reference_history"][()])))
    except (OSError, ValueError, KeyError):
        pass
    return []


def write_reference(run_file: Path, dest: Path, history: list[dict[str, Any]]) -> None:
    """A compact copy of a result file (same layout, gzip 9) with the provenance.

    ``/meta/reference`` holds the latest entry of ``history`` (why, when, commit,
    algorithm, ...), ``/meta/reference_history`` all of them; the root attributes
    ``reference_why``, ``reference_when``, ``reference_commit`` and
    ``reference_algorithm`` repeat the latest for h5dump readers.
    """
    latest = history[-1]
    with h5py.File(run_file, "r") as src, \
            h5py.File(dest, "w", libver=("v110", "v110"), track_order=True) as dst:
        n = int(src["time"].shape[0])
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        dst.attrs.update({f"reference_{k}": str(latest[k])
                          for k in ("why", "when", "commit", "algorithm")})
        chunk = (max(1, min(n, 4096)),)
        kw = {"chunks": chunk, "maxshape": (None,), "compression": "gzip",
              "compression_opts": 9, "shuffle": True}
        tds = dst.create_dataset("time", data=src["time"][:n], **kw)
        tds.attrs["units"] = "s"
        tds.make_scale("time")
        for name, obj in src.items():
            if name == "time" or not isinstance(obj, h5py.Dataset):
                continue
            ds = dst.create_dataset(name, data=obj[:n], **kw)
            for key, value in obj.attrs.items():
                if key not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
                    ds.attrs[key] = value
            ds.dims[0].attach_scale(tds)
        for group in ("parameters", "meta"):
            if group in src:
                src.copy(src[group], dst, name=group)
        meta = dst.require_group("meta")
        for key, value in (("reference", latest), ("reference_history", history)):
            if key in meta:
                del meta[key]
            ds = meta.create_dataset(key, data=json.dumps(value, default=str),
                                     dtype=h5py.string_dtype())
            ds.attrs["encoding"] = "json"


def reference_info(path: str | Path) -> dict[str, Any]:
    """The provenance of a reference file (``/meta/reference``), or {}."""
    try:
        with h5py.File(path, "r") as f:
            return dict(json.loads(_str(f["meta/reference"][()])))
    except (OSError, KeyError, ValueError):
        return {}
