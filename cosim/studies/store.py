"""The study file: one HDF5 file per study, written as results arrive (layout version 1).

::

    /                         attrs: cosim_study_version=1, name, created, status
                                     (running | completed | interrupted), n_scenarios,
                                     and when finished: finished, n_completed, n_failed
    /design/scenario          int64 [N]      scenario numbers 0..N-1
    /design/variant           string [N]
    /design/<key>             [N]            one column per override key (node.param or
                                             start.node.var); attrs kind, node, variable,
                                             units, encoding ("boolean" | "json" | "")
    /results/scenario         int64 [m]      the commit marker: a row exists once this has it
    /results/status           string [m]     completed | failed
    /results/error            string [m]     why it failed ("" if it did not)
    /results/wall_time        float64 [m]    seconds on the worker
    /results/attempts         int64 [m]      runs needed (> 1: a worker died)
    /results/worker           string [m]     which worker ran it
    /results/outputs/<name>   float64 [m]    one per output; attrs units, signal, stat, ...
    /traces/scenario          int64 [k]      scenarios whose full traces are kept
    /traces/rows              int64 [k]      rows written per trace (0: not yet); commit marker
    /traces/time              float64 [k, n] time [s]
    /traces/<signal>          float64 [k, n] attrs units
    /meta/<key>               string         study (the YAML), topology (JSON), assets
                                             (file -> SHA-256), identity, versions (JSON)

Rows of ``/results`` are in the order scenarios finished. Like a run's result file, the
file is created with every dataset, then switched to SWMR mode; results are appended in
batches (every ``flush_seconds``), outputs first and ``/results/scenario`` last, then
flushed. A reader (``read_study``) takes ``len(/results/scenario)`` rows, so after a
crash it sees every batch flushed before it. Resuming rewrites the file with what it
holds, then appends.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..errors import ConfigError, ResultsError
from ..results.layout import LIBVER, utc_now
from .study import Study
from .worker import COMPLETED, FAILED, Outcome

STUDY_LAYOUT_VERSION = 1
STR = h5py.string_dtype()
RESULT_COLUMNS = ("status", "error", "wall_time", "attempts", "worker")
_KINDS = {"status": STR, "error": STR, "wall_time": np.float64, "attempts": np.int64,
          "worker": STR}


def _series(group: h5py.Group, name: str, dtype, chunk: int = 256) -> h5py.Dataset:
    return group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype,
                                chunks=(chunk,))


# -- identity: is this file the result of this study? ----------------------------------------


def identity(study: Study, assets: dict[str, str]) -> dict[str, str]:
    """SHA-256 of each part that determines the results: change one, results change."""
    def h(obj: Any) -> str:
        text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    design = study.design()
    try:
        topology = study.topology.to_spec().model_dump(mode="json", by_alias=True)
    except Exception:  # noqa: BLE001 - a topology that cannot be written as a file
        topology = repr(study.topology)
    if isinstance(topology, dict):
        topology.pop("run", None)  # hashed on its own, with the study's overrides applied
    return {
        "design": h([design.columns.tolist(), design.reset_index().values.tolist(),
                     [sorted(s.applied) for s in study.scenarios],
                     [s.events for s in study.scenarios]]),
        "run": h(study.topology.run.model_dump(mode="json")),
        "outputs": h([_output_identity(o) for o in study.outputs]),
        "traces": h([study.trace_signals, study.trace_ids]),
        "topology": h(topology),
        "files": h(sorted(assets.values())),
    }


def _output_identity(output) -> dict[str, Any]:
    """An output's fields; ``window`` only when set (files written before it existed
    keep their identity)."""
    fields = dict(vars(output))
    if fields.get("window") is None:
        fields.pop("window", None)
    return fields


def versions() -> dict[str, str]:
    import platform

    import scipy

    from .._version import __version__
    return {"cosim": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "h5py": h5py.__version__, "pandas": pd.__version__,
            "python": platform.python_version()}


# -- design columns ----------------------------------------------------------------------------


def _encode_column(values: list[Any]) -> tuple[np.ndarray, str]:
    if all(isinstance(v, bool | np.bool_) for v in values):
        return np.array(values, dtype=np.int8), "boolean"
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64), ""
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64), ""
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=object), ""
    return np.array([json.dumps(v, default=str) for v in values], dtype=object), "json"


def _decode_column(ds: h5py.Dataset) -> list[Any] | np.ndarray:
    data = ds[()]
    encoding = ds.attrs.get("encoding", "")
    if ds.dtype.kind == "O":
        data = [v.decode() if isinstance(v, bytes) else v for v in data]
        return [json.loads(v) for v in data] if encoding == "json" else data
    if encoding == "boolean":
        return data.astype(bool)
    return data


# -- writing -----------------------------------------------------------------------------------


class StudyWriter:
    """Streams outcomes into the study file; see the module docstring for the layout."""

    def __init__(self, path: str | Path, study: Study, assets: dict[str, str], *,
                 resume: bool = False, overwrite: bool = False, flush_seconds: float = 1.0):
        self.path = Path(path)
        self.study = study
        self.assets = assets
        self.identity = identity(study, assets)
        self.flush_seconds = float(flush_seconds)
        self.outputs = [o.name for o in study.outputs]
        self._buffer: list[Outcome] = []
        self._last = time.monotonic()
        self.done: dict[int, str] = {}  # scenario -> status, of the rows in the file
        self.n_rows = 0
        self._trace_row = {sid: j for j, sid in enumerate(study.trace_ids)}
        previous = None
        if self.path.exists() and self.path.stat().st_size > 0:  # empty: just claimed
            if resume:
                previous = _read_for_resume(self.path, self.identity)
            elif not overwrite:
                raise ConfigError(f"{self.path} exists: add --resume to continue that study, "
                                  "or --overwrite to start it again", file=str(self.path))
        self._create(previous)

    # -- creating ------------------------------------------------------------------------------

    def _create(self, previous: dict | None) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with h5py.File(tmp, "w", libver=LIBVER, track_order=True) as f:
                self._layout(f)
                if previous is not None:
                    self._copy_previous(f, previous)
            os.replace(tmp, self.path)
            self.file = h5py.File(self.path, "r+", libver=LIBVER)
            self.file.swmr_mode = True
        except (OSError, ValueError, RuntimeError, TypeError) as err:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise ResultsError(f"cannot create the study file: {err}",
                               path=str(self.path)) from err
        self._bind()

    def _layout(self, f: h5py.File) -> None:
        study = self.study
        f.attrs.update({"cosim_study_version": np.int64(STUDY_LAYOUT_VERSION),
                        "name": study.name, "created": utc_now(), "status": "running",
                        "n_scenarios": np.int64(len(study))})
        self._design(f.create_group("design", track_order=True))
        results = f.create_group("results", track_order=True)
        ds = _series(results, "scenario", np.int64)
        ds.attrs["description"] = "scenario number; a row exists once this column has it"
        for name in RESULT_COLUMNS:
            _series(results, name, _KINDS[name])
        results["wall_time"].attrs["units"] = "s"
        outs = results.create_group("outputs", track_order=True)
        for o in study.outputs:
            ds = _series(outs, o.name, np.float64)
            ds.attrs.update({"units": o.unit or "", "signal": o.signal_pattern,
                             "signals": json.dumps(list(o.signals)), "stat": o.stat,
                             "threshold": np.nan if o.threshold is None else o.threshold,
                             "combine": o.combine or "", "scale": o.scale,
                             "divisor": o.divisor, "offset": o.offset, "description": o.description})
            if o.window is not None:
                ds.attrs["window"] = np.asarray(o.window, dtype=np.float64)
        self._traces_layout(f)
        meta = f.create_group("meta", track_order=True)
        topology_json = ""
        with contextlib.suppress(Exception):
            topology_json = json.dumps(study.topology.to_spec().model_dump(
                mode="json", by_alias=True))
        for key, value in {
            "study": study.text, "study_file": str(study.path or ""),
            "study_json": study.spec.model_dump_json(), "topology": topology_json,
            "topology_file": study.topology.source or "", "assets": json.dumps(self.assets),
            "identity": json.dumps(self.identity), "versions": json.dumps(versions()),
            "grid": json.dumps(study.grid_keys), "samples": json.dumps(study.sample_keys),
            "variants": json.dumps(study.variants),
        }.items():
            meta.create_dataset(key, data=value, dtype=STR)

    def _design(self, g: h5py.Group) -> None:
        study = self.study
        g.create_dataset("scenario", data=np.array([s.id for s in study.scenarios], np.int64))
        g.create_dataset("variant", data=np.array([s.variant for s in study.scenarios],
                                                  dtype=object), dtype=STR)
        for text, key in study.keys.items():
            data, encoding = _encode_column([s.values[text] for s in study.scenarios])
            ds = g.create_dataset(text, data=data, dtype=STR if data.dtype == object else None)
            ds.attrs.update({"kind": key.kind, "node": key.node, "variable": key.variable,
                             "units": key.unit or "", "encoding": encoding})

    def _traces_layout(self, f: h5py.File) -> None:
        study = self.study
        if not study.trace_ids:
            return
        g = f.create_group("traces", track_order=True)
        k = len(study.trace_ids)
        g.create_dataset("scenario", data=np.array(study.trace_ids, dtype=np.int64))
        g.create_dataset("rows", data=np.zeros(k, dtype=np.int64))
        run = study.topology.run
        n = max(1, math.ceil(round((run.stop - run.start) / run.step, 9)) + 1)
        for name in ("time", *study.trace_signals):
            ds = g.create_dataset(name, shape=(k, n), maxshape=(k, None), dtype=np.float64,
                                  chunks=(1, min(n, 8192)), fillvalue=np.nan,
                                  compression="gzip", shuffle=True)
            ds.attrs["units"] = "s" if name == "time" else (study.signal_units.get(name) or "")

    def _copy_previous(self, f: h5py.File, previous: dict) -> None:
        rows = previous["rows"]
        n = len(rows["scenario"])
        results = f["results"]
        for name, values in rows.items():
            ds = results[name] if name in results else results["outputs"].get(name)
            if ds is None:
                continue
            ds.resize((n,))
            if n:
                ds[:] = values
        for sid, (t, signals) in previous["traces"].items():
            j = self._trace_row.get(sid)
            if j is not None:
                _write_trace(f["traces"], j, t, signals)

    def _bind(self) -> None:
        f = self.file
        self._results = f["results"]
        self._outs = self._results["outputs"]
        ids = self._results["scenario"][()]
        status = self._results["status"][()]
        self.done = {int(i): (s.decode() if isinstance(s, bytes) else s)
                     for i, s in zip(ids, status, strict=True)}
        self.n_rows = len(ids)

    # -- appending -----------------------------------------------------------------------------

    def add(self, outcome: Outcome) -> None:
        self._buffer.append(outcome)
        if time.monotonic() - self._last >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        batch = [o for o in self._buffer if o.id not in self.done]
        self._buffer = []
        if not batch:
            return
        old, new = self.n_rows, self.n_rows + len(batch)
        columns: dict[str, list] = {
            "status": [o.status for o in batch], "error": [o.error for o in batch],
            "wall_time": [o.wall_time for o in batch], "attempts": [o.attempts for o in batch],
            "worker": [o.worker for o in batch]}
        try:
            for name, values in columns.items():
                _append(self._results[name], old, new, values)
            for name in self.outputs:
                _append(self._outs[name], old, new,
                        [o.outputs.get(name, math.nan) for o in batch])
            traces = self.file.get("traces")
            for o in batch:
                if o.trace is not None and o.id in self._trace_row:
                    _write_trace(traces, self._trace_row[o.id], *o.trace)
            _append(self._results["scenario"], old, new, [o.id for o in batch])  # commit
            self.file.flush()
        except (OSError, ValueError, RuntimeError, TypeError) as err:
            raise ResultsError(f"cannot write results: {err}", path=str(self.path)) from err
        self.n_rows = new
        self.done.update((o.id, o.status) for o in batch)

    def close(self, status: str = "completed") -> None:
        """Write what is buffered, close, and record how the study ended."""
        if self.file is None:
            return
        try:
            self.flush()
        finally:
            with contextlib.suppress(Exception):
                self.file.close()
            self.file = None
        counts = list(self.done.values())
        try:
            with h5py.File(self.path, "r+", libver=LIBVER) as f:
                f.attrs["status"] = status
                f.attrs["finished"] = utc_now()
                f.attrs["n_completed"] = np.int64(counts.count(COMPLETED))
                f.attrs["n_failed"] = np.int64(counts.count(FAILED))
        except (OSError, ValueError, RuntimeError) as err:
            raise ResultsError(f"cannot set the final status: {err}",
                               path=str(self.path)) from err


def _append(ds: h5py.Dataset, old: int, new: int, values: list) -> None:
    ds.resize((new,))
    if ds.dtype.kind == "O":
        ds[old:new] = np.array(values, dtype=object)
    else:
        ds[old:new] = np.asarray(values, dtype=ds.dtype)


def _write_trace(g: h5py.Group, j: int, t: np.ndarray, signals: dict[str, np.ndarray]) -> None:
    n = len(t)
    time_ds = g["time"]
    if n > time_ds.shape[1]:
        for name in g:
            ds = g[name]
            if ds.ndim == 2:
                ds.resize((ds.shape[0], n))
    time_ds[j, :n] = t
    for name, values in signals.items():
        if name in g:
            g[name][j, :n] = values
    g["rows"][j] = n  # commit marker of this trace


# -- reading -----------------------------------------------------------------------------------


def open_file(path: str | Path) -> h5py.File:
    """Open a study (or run) file for reading: plainly, or in SWMR mode while it is
    marked as being written (by a live or killed writer)."""
    p = Path(path)
    if not p.is_file():
        raise ResultsError("no such file", path=str(p))
    try:
        if not h5py.is_hdf5(p):
            raise ResultsError("not an HDF5 file", path=str(p))
        return h5py.File(p, "r")
    except OSError as err:
        if "already open" not in str(err):
            raise ResultsError(f"corrupt or truncated HDF5 file ({err})", path=str(p)) from err
    try:
        return h5py.File(p, "r", swmr=True)
    except OSError as err:
        raise ResultsError(f"cannot open in SWMR mode ({err})", path=str(p)) from err


@contextlib.contextmanager
def replaced_group(path: Path, name: str, what: str) -> Iterator[h5py.Group]:
    """A new, empty group ``/name`` in the finished file ``path`` (replacing any old one),
    for a record written after the study (bands, sensitivity indices); any failure is a
    ResultsError "cannot write ``what``" naming the file."""
    try:
        with h5py.File(path, "r+", libver=LIBVER) as f:
            if name in f:
                del f[name]
            yield f.create_group(name, track_order=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise ResultsError(f"cannot write {what}: {err}", path=str(path)) from err


def _check(f: h5py.File, p: Path) -> None:
    if "cosim_study_version" not in f.attrs:
        raise ResultsError("no cosim_study_version attribute: not a cosim study file",
                           path=str(p))
    version = int(f.attrs["cosim_study_version"])
    if version != STUDY_LAYOUT_VERSION:
        raise ResultsError(f"study layout version {version} not supported (this cosim reads "
                           f"{STUDY_LAYOUT_VERSION}): upgrade cosim", path=str(p))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _meta(f: h5py.File, key: str, default: Any = None) -> Any:
    g = f.get("meta")
    if g is None or key not in g:
        return default
    text = _text(g[key][()])
    if key in ("study", "study_file", "topology_file"):
        return text
    try:
        return json.loads(text) if text else default
    except json.JSONDecodeError:
        return default


def _result_rows(f: h5py.File) -> dict[str, np.ndarray | list]:
    g = f["results"]
    n = g["scenario"].shape[0]
    rows: dict[str, Any] = {"scenario": g["scenario"][:n]}
    for name in RESULT_COLUMNS:
        data = g[name][:n]
        rows[name] = [_text(v) for v in data] if g[name].dtype.kind == "O" else data
    for name, ds in g["outputs"].items():
        rows[name] = ds[:n]
    return rows


def _traces(f: h5py.File, ids: Iterable[int] | None = None) -> dict[int, tuple]:
    g = f.get("traces")
    if g is None:
        return {}
    out = {}
    wanted = None if ids is None else set(ids)
    names = [n for n in g if g[n].ndim == 2 and n != "time"]
    for j, (sid, n) in enumerate(zip(g["scenario"][()], g["rows"][()], strict=True)):
        if n <= 0 or (wanted is not None and int(sid) not in wanted):
            continue
        out[int(sid)] = (g["time"][j, :n], {name: g[name][j, :n] for name in names})
    return out


def _read_for_resume(path: Path, ident: dict[str, str]) -> dict:
    with open_file(path) as f:
        _check(f, path)
        stored = _meta(f, "identity", {}) or {}
        changed = [k for k in ident if stored.get(k) != ident[k]]
        if changed:
            raise ConfigError(
                f"{path} holds results of a different study: its {', '.join(changed)} "
                "changed since; write to a new file (-o) or start again with --overwrite",
                file=str(path))
        rows = _result_rows(f)
        ids = np.asarray(rows["scenario"])
        _, last = np.unique(ids[::-1], return_index=True)  # keep each scenario's last row
        keep = np.sort(len(ids) - 1 - last)
        rows = {k: (np.asarray(v)[keep] if not isinstance(v, list) else [v[i] for i in keep])
                for k, v in rows.items()}
        return {"rows": rows, "traces": _traces(f)}


def read_study(path: str | Path, format: str = "pandas") -> Any:  # noqa: A002
    """A study file as a DataFrame (one row per scenario) or an xarray Dataset.

    Columns: ``variant``, the override keys, ``status`` (``completed``, ``failed``, or
    ``pending`` for scenarios not run yet), ``error``, the outputs, ``wall_time``,
    ``attempts``, ``worker``. ``df.attrs`` holds ``units``, ``outputs`` (and their
    ``descriptions``), ``parameters``,
    ``grid``, ``samples``, ``name`` and ``status`` (of the study).

    ``format="xarray"``: a Dataset; for a grid study its dimensions are ``variant`` and
    the grid keys (handy for heat maps), otherwise ``scenario``.
    """
    p = Path(path)
    f = open_file(p)
    try:
        with f:
            _check(f, p)
            df = _frame(f)
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ResultsError(f"corrupt or truncated study file: {err}", path=str(p)) from err
    if format == "pandas":
        return df
    if format == "xarray":
        return to_xarray(df)
    raise ValueError(f"format must be 'pandas' or 'xarray', got {format!r}")


def _frame(f: h5py.File) -> pd.DataFrame:
    g = f["design"]
    index = pd.Index(g["scenario"][()], name="scenario")
    design = {"variant": [_text(v) for v in g["variant"][()]]}
    units: dict[str, str | None] = {}
    for name in g:
        if name not in ("scenario", "variant"):
            design[name] = _decode_column(g[name])
            units[name] = _text(g[name].attrs.get("units", "")) or None
    outputs = list(f["results"]["outputs"])
    for name in outputs:
        units[name] = _text(f["results"]["outputs"][name].attrs.get("units", "")) or None
    rows = _result_rows(f)
    results = pd.DataFrame({k: v for k, v in rows.items() if k != "scenario"},
                           index=pd.Index(rows["scenario"], name="scenario"))
    descriptions = {name: _text(f["results"]["outputs"][name].attrs.get("description", ""))
                    for name in outputs}
    return assemble(pd.DataFrame(design, index=index), results, outputs, units, {
        "descriptions": {k: v for k, v in descriptions.items() if v},
        "display": _design_display(_meta(f, "topology", {}), units),
        "grid": _meta(f, "grid", []), "samples": _meta(f, "samples", []),
        "variants": _meta(f, "variants", []), "name": _text(f.attrs.get("name", "")),
        "status": _text(f.attrs.get("status", "running"))})


def _design_display(topology: Any, units: dict[str, str | None]) -> dict[str, dict]:
    """Design keys (``start.cooler.T_setpoint``) with a display unit from the topology's
    ``run.display_units``: ``{key: Display.to_dict()}``, for plots."""
    import fnmatch

    from ..units import Display, UnitError, display_conversion
    globs = ((topology or {}).get("run") or {}).get("display_units") or {} \
        if isinstance(topology, dict) else {}
    out = {}
    for key, unit in units.items():
        name = key.removeprefix("start.")
        shown = next((u for g, u in globs.items() if fnmatch.fnmatchcase(name, g)), None)
        if unit and shown and shown != unit:
            try:
                scale, offset = display_conversion(unit, shown)
            except (UnitError, ValueError):
                continue
            out[key] = Display(shown, scale, offset).to_dict()
    return out


def assemble(design: pd.DataFrame, results: pd.DataFrame, outputs: list[str],
             units: dict[str, str | None], attrs: dict[str, Any]) -> pd.DataFrame:
    """The study DataFrame: the design joined with the results (last row per scenario)."""
    params = [c for c in design.columns if c != "variant"]
    results = results[~results.index.duplicated(keep="last")]
    df = design.join(results, how="left")
    df["status"] = df["status"].fillna("pending")
    df["error"] = df["error"].fillna("")
    df["worker"] = df["worker"].fillna("")
    df["attempts"] = df["attempts"].fillna(0).astype(np.int64)
    df = df[["variant", *params, "status", "error", *outputs, "wall_time", "attempts",
             "worker"]]
    df.attrs.update({"units": {**units, "wall_time": "s"}, "outputs": list(outputs),
                     "parameters": params, **attrs})
    return df


def to_xarray(df: pd.DataFrame) -> Any:
    """A study DataFrame as an xarray Dataset (grid studies: one dimension per grid key)."""
    grid = list(df.attrs.get("grid", []))
    samples = list(df.attrs.get("samples", []))
    units = df.attrs.get("units", {})
    if grid and not samples:
        ds = df.reset_index().set_index(["variant", *grid]).to_xarray()
    else:
        ds = df.to_xarray()
    for name, unit in units.items():
        if name in ds and unit:
            ds[name].attrs["units"] = unit
    ds.attrs.update({k: v for k, v in df.attrs.items() if isinstance(v, str)})
    return ds


def read_trace(path: str | Path, scenario: int) -> pd.DataFrame:
    """The full trace of one scenario (index ``time`` [s], one column per signal)."""
    p = Path(path)
    with open_file(p) as f:
        _check(f, p)
        traces = _traces(f, [scenario])
        if scenario not in traces:
            kept = [int(i) for i in f["traces"]["scenario"][()]] if "traces" in f else []
            raise ResultsError(f"no trace of scenario {scenario} (traces are kept for "
                               f"{'scenarios ' + _ranges(kept) if kept else 'no scenario'}"
                               "; see 'traces' in the study file)", path=str(p))
        units = {n: _text(ds.attrs.get("units", "")) or None
                 for n, ds in f["traces"].items() if ds.ndim == 2 and n != "time"}
    t, signals = traces[scenario]
    df = pd.DataFrame(signals, index=pd.Index(t, name="time"))
    df.attrs["units"] = units
    return df


def _ranges(ids: list[int]) -> str:
    if len(ids) <= 8:
        return ", ".join(map(str, ids))
    return f"{', '.join(map(str, ids[:6]))}, ... ({len(ids)} in all)"
