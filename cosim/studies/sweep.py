"""Running a study: the job, the tasks, a runner, the study file and the progress bar."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import math
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..fmu.archive import sha256
from ..output_guard import claimed
from .runners import Runner, make_runner
from .store import StudyWriter, assemble, read_study
from .study import FILE_PARAMETERS, Study, load_study
from .worker import FAILED, AssetRef, Job, Outcome, Task


def sweep(study: Study | str | Path, output: str | Path | None = None, *,
          runner: Runner | str | None = None, workers: int | None = None,
          dask: str | None = None, dask_local: int | None = None, resume: bool = False,
          overwrite: bool = False, progress: bool = False,
          flush_seconds: float = 1.0, timeout: float | None = None) -> pd.DataFrame:
    """Run every scenario of a study; return one row per scenario (see :func:`read_study`).

    ``study``: a study file or a loaded :class:`Study`. ``output``: the HDF5 study file,
    written as results arrive (without it, results are kept in memory only).
    Where scenarios run: ``runner`` (``"serial"``, ``"processes"``, ``"dask"`` or a
    :class:`Runner`); or ``workers`` (local processes, default one per core; 0 runs them
    serially in this process), ``dask`` (the address of an existing Dask scheduler) or
    ``dask_local`` (start a local Dask cluster of that many workers).
    ``resume``: keep the scenarios already in ``output`` and run only the missing ones;
    ``overwrite``: start again over an existing ``output``. ``timeout`` [s]: wall-time
    limit of one scenario (overrides the study file's ``timeout:``); a scenario that
    takes longer is recorded as failed, the others go on.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    if resume and output is None:
        raise ConfigError("resume needs the study file to resume (output)")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise ConfigError(f"timeout must be a finite number of seconds > 0, got {timeout}")
    chosen = make_runner(runner, workers=workers, dask=dask, dask_local=dask_local)
    job, tasks, assets = make_job(study)
    if timeout is not None:
        job.timeout = float(timeout)
    with claimed(output, inputs=_inputs(study), what="study file") as claim:
        store: StudyWriter | MemoryStore
        if output is not None:
            store = StudyWriter(output, study, assets, resume=resume, overwrite=overwrite,
                                flush_seconds=flush_seconds)
            claim.follow()  # the writer replaced the file (a new inode): lock that one
        else:
            store = MemoryStore(study)
        todo = [t for t in tasks if t.id not in store.done]
        _execute(chosen, job, todo, store, len(tasks), progress)
        bands = _bands(study, output, store)
    df = read_study(output) if output is not None else store.dataframe()
    if bands is not None:
        df.attrs["bands"] = bands
    return df


def _bands(study: Study, output: str | Path | None, store) -> Any:
    """Compute the prediction bands of a study with ``bands:`` (and write them)."""
    if not study.band_signals:
        return None
    from . import bands as _bands_mod
    spec = study.spec.bands
    if output is not None:
        result = _bands_mod.bands_from_file(output, study.band_signals, spec.quantiles,
                                            spec.noise, spec.seed, study.signal_units)
        _bands_mod.write(output, result)
        result.path = Path(output)
        return result
    done = [o for _, o in sorted(store.outcomes.items())
            if o.status != FAILED and o.trace is not None]
    n = max((len(o.trace[0]) for o in done), default=0)
    done = [o for o in done if len(o.trace[0]) == n]
    if not done:
        from ..errors import ResultsError
        raise ResultsError("no completed scenario to compute the prediction bands from")
    traces = {s: np.vstack([o.trace[1][s] for o in done]) for s in study.band_signals}
    return _bands_mod.compute(done[0].trace[0], traces, spec.quantiles, spec.noise,
                              spec.seed, study.signal_units,
                              n_failed=len(study.scenarios) - len(done))


def _execute(runner: Runner, job: Job, tasks: list[Task], store, total: int,
             progress: bool) -> None:
    from ..observers.progress import CountProgress  # a bar on a terminal, else few lines
    failed = sum(1 for s in store.done.values() if s == FAILED)
    bar = CountProgress(total, initial=total - len(tasks), unit="scenario",
                        disable=not progress, file=sys.stderr)
    status = "interrupted"
    try:
        with contextlib.closing(runner.run(job, tasks)) as outcomes:
            for outcome in outcomes:
                store.add(outcome)
                if outcome.status == FAILED:
                    failed += 1
                    bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
        status = "completed"
    finally:
        bar.close()
        store.close(status)


# -- the job -------------------------------------------------------------------------------


class _Assets:
    """Files to ship, by content hash (each read and hashed once)."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[str, bytes]] = {}
        self.by_path: dict[Path, AssetRef] = {}
        self.names: dict[str, str] = {}  # label -> sha256, for the study file's provenance

    def add(self, path: Path, label: str) -> AssetRef:
        path = path.resolve()
        ref = self.by_path.get(path)
        if ref is None:
            digest = sha256(path)
            ref = AssetRef(digest, path.name)
            self.by_path[path] = ref
            self.blobs.setdefault(digest, (path.name, path.read_bytes()))
        self.names[label] = ref.sha256
        return ref


def make_job(study: Study) -> tuple[Job, list[Task], dict[str, str]]:
    """The job every worker gets once, the tasks (one per scenario) and the assets
    shipped (label -> SHA-256)."""
    assets = _Assets()
    topo = _shipped_topology(study.topology, study.record, assets)
    tasks = []
    trace = set(study.trace_ids)
    for scenario in study.scenarios:
        params, start = study.overrides(scenario)
        for key in list(params):
            node, _, var = key.partition(".")
            if var in FILE_PARAMETERS and topo.graph.nodes[node]["kind"] == "block" \
                    and isinstance(params[key], str) and Path(params[key]).is_file():
                params[key] = assets.add(Path(params[key]), key)
        tasks.append(Task(scenario.id, params, start, scenario.events, scenario.id in trace))
    job = Job(_job_id(study.name), topo, assets.blobs, list(study.outputs),
              list(study.trace_signals), study.spec.timeout)
    return job, tasks, assets.names


def _inputs(study: Study) -> list[Path]:
    """The files a study reads: its own file, and its topology's inputs."""
    from ..output_guard import topology_inputs
    files = [study.path] if study.path is not None else []
    return files + topology_inputs(study.topology)


def job_for(topology, record: list[str], trace_signals: list[str], outputs=(),
            name: str = "job", timeout: float | None = None) -> tuple[Job, dict[str, str]]:
    """A job for scenarios of ``topology`` decided by the caller (a calibration's
    optimizer): every run records ``record`` (exact signal names), tasks with
    ``trace=True`` return ``trace_signals``. Returns the job and the assets shipped
    (label -> SHA-256)."""
    assets = _Assets()
    topo = _shipped_topology(topology, record, assets)
    return Job(_job_id(name), topo, assets.blobs, list(outputs), list(trace_signals),
               timeout), assets.names


def _job_id(name: str) -> str:
    return hashlib.sha256(f"{name}-{uuid.uuid4()}".encode()).hexdigest()[:16]


def _shipped_topology(topology, record: list[str], assets: _Assets):
    """A copy of ``topology`` recording ``record``, with FMUs and data files of blocks
    replaced by asset references."""
    topo = topology.copy()
    patterns = [glob.escape(s) for s in record]
    topo.run = type(topo.run).model_validate({**topo.run.model_dump(), "record": patterns})
    for name, data in topo.graph.nodes(data=True):
        if data["kind"] == "fmu":
            data["source"] = assets.add(topo.fmu_path(name), f"{name} (FMU)")
        else:
            data["parameters"] = _ship_files(data["parameters"], topo.node_dir(name), name,
                                             assets)
    return topo


def _ship_files(params: dict[str, Any], base_dir: Path, node: str, assets: _Assets
                ) -> dict[str, Any]:
    out = dict(params)
    for var in FILE_PARAMETERS:
        value = out.get(var)
        if isinstance(value, str):
            p = Path(value) if Path(value).is_absolute() else base_dir / value
            if p.is_file():
                out[var] = assets.add(p, f"{node}.{var}")
    return out


# -- results kept in memory ------------------------------------------------------------------


class MemoryStore:
    """Collects outcomes when there is no study file; same DataFrame as the file gives."""

    def __init__(self, study: Study):
        self.study = study
        self.done: dict[int, str] = {}
        self.outcomes: dict[int, Outcome] = {}

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome.id] = outcome
        self.done[outcome.id] = outcome.status

    def close(self, status: str = "completed") -> None:
        self.status = status

    def dataframe(self) -> pd.DataFrame:
        study = self.study
        outputs = [o.name for o in study.outputs]
        rows = list(self.outcomes.values())
        results = pd.DataFrame(
            {"status": [o.status for o in rows], "error": [o.error for o in rows],
             **{n: np.array([o.outputs.get(n, math.nan) for o in rows], dtype=np.float64)
                for n in outputs},
             "wall_time": np.array([o.wall_time for o in rows], dtype=np.float64),
             "attempts": np.array([o.attempts for o in rows], dtype=np.int64),
             "worker": [o.worker for o in rows]},
            index=pd.Index(np.array([o.id for o in rows], dtype=np.int64), name="scenario"))
        units = {k: key.unit for k, key in study.keys.items()}
        units.update({o.name: o.unit for o in study.outputs})
        df = assemble(study.design(), results, outputs, units, {
            "grid": study.grid_keys, "samples": study.sample_keys,
            "variants": study.variants, "name": study.name,
            "status": getattr(self, "status", "running")})
        traces = Traces({o.id: _trace_frame(o, study) for o in rows if o.trace is not None})
        if traces:
            df.attrs["traces"] = traces
        return df


class Traces(dict):
    """Scenario -> trace DataFrame, kept in ``df.attrs["traces"]`` when there is no study
    file. Shared, not copied, by the frames pandas derives from ``df``."""

    def __deepcopy__(self, memo) -> Traces:
        return self


def _trace_frame(outcome: Outcome, study: Study) -> pd.DataFrame:
    t, signals = outcome.trace
    df = pd.DataFrame(signals, index=pd.Index(t, name="time"))
    df.attrs["units"] = {s: study.signal_units.get(s) for s in signals}
    return df
