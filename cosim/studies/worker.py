"""What runs on a worker: the study's job, the asset cache and one scenario.

A :class:`Job` is sent to each worker once. It holds the topology (FMU paths and the
data files of blocks replaced by :class:`AssetRef` content hashes), the bytes of every
asset, the outputs to compute and the signals to trace. :func:`prepare` writes the
assets into a worker-local cache folder keyed by SHA-256 (``$COSIM_CACHE_DIR`` or
``<tmp>/cosim-cache-<uid>/assets``; an asset already there with the right hash is
reused, so workers on one machine share one copy) and points the topology at them.
Each :class:`Task` then carries only the scenario's overrides; :func:`run_task` runs it
and returns an :class:`Outcome` — never raising for a failing scenario.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

COMPLETED, FAILED = "completed", "failed"


@dataclass(frozen=True)
class AssetRef:
    """A file shipped by content: its SHA-256 and its original name."""

    sha256: str
    name: str


@dataclass
class Job:
    """Everything a worker needs for every scenario of a study (sent once per worker)."""

    id: str
    topology: Any  # cosim.Topology with AssetRef in place of FMU paths and data files
    assets: dict[str, tuple[str, bytes]]  # sha256 -> (file name, content)
    outputs: list  # cosim.studies.outputs.Output
    trace_signals: list[str]
    timeout: float | None = None  # wall-time limit of one scenario [s]


@dataclass(frozen=True)
class Task:
    """One scenario to run: overrides keyed ``node.variable``."""

    id: int
    parameters: dict[str, Any]
    start: dict[str, Any]
    events: tuple[dict[str, Any], ...] | None = None
    trace: bool = False


@dataclass
class Outcome:
    """What a scenario produced. ``trace`` is ``(time, {signal: values})`` when asked."""

    id: int
    status: str
    error: str = ""
    outputs: dict[str, float] = field(default_factory=dict)
    wall_time: float = 0.0
    worker: str = ""
    attempts: int = 1
    trace: tuple[np.ndarray, dict[str, np.ndarray]] | None = None


@dataclass
class Prepared:
    """A job made ready on one worker: the topology points at cached files; the
    :class:`~cosim.Simulation` built from it is kept and reset for every scenario."""

    job: Job
    topology: Any
    paths: dict[str, Path]
    simulation: Any = None

    def simulation_for(self, parameters: dict[str, Any], start: dict[str, Any]):
        """The worker's Simulation, reset to a scenario's parameters and start values."""
        if self.simulation is None:
            from ..simulation import Simulation
            self.simulation = Simulation(self.topology)
        return self.simulation.reset(parameters=parameters, start_values=start)


# -- the asset cache -------------------------------------------------------------------------


def cache_dir() -> Path:
    """The worker-local folder of shipped files (``$COSIM_CACHE_DIR`` overrides it).

    The default, ``<tmp>/cosim-cache-<uid>``, is created readable by its owner only; one
    that exists but belongs to someone else or is writable by others is refused (workers
    load FMU binaries from it).
    """
    env = os.environ.get("COSIM_CACHE_DIR")
    if env:
        return Path(env)
    uid = os.getuid() if hasattr(os, "getuid") else None
    top = Path(tempfile.gettempdir()) / f"cosim-cache-{uid if uid is not None else 'user'}"
    top.mkdir(mode=0o700, exist_ok=True)
    st = top.stat()
    if uid is not None and (st.st_uid != uid or st.st_mode & 0o022):
        raise PermissionError(f"{top} belongs to another user or is writable by others; "
                              "remove it or set COSIM_CACHE_DIR to a private folder")
    return top / "assets"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def materialize(sha: str, name: str, data: bytes, root: Path | None = None) -> Path:
    """The cached copy of an asset, written (atomically) unless already there and intact."""
    folder = (root or cache_dir()) / sha
    target = folder / name
    if target.is_file() and _file_sha256(target) == sha:
        return target
    if hashlib.sha256(data).hexdigest() != sha:
        raise ValueError(f"asset {name} does not match its SHA-256 {sha} (corrupted in transit)")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = folder / f".{name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def prepare(job: Job, root: Path | None = None) -> Prepared:
    """Write the job's assets into the cache and point a copy of its topology at them."""
    paths = {sha: materialize(sha, name, data, root) for sha, (name, data) in job.assets.items()}
    topo = job.topology.copy()
    for _, data in topo.graph.nodes(data=True):
        if isinstance(data["source"], AssetRef):
            data["source"] = str(paths[data["source"].sha256])
        data["parameters"] = _resolve_refs(data["parameters"], paths)
    return Prepared(job, topo, paths)


def _resolve_refs(values: Mapping[str, Any], paths: Mapping[str, Path]) -> dict[str, Any]:
    return {k: str(paths[v.sha256]) if isinstance(v, AssetRef) else v for k, v in values.items()}


# -- one scenario ----------------------------------------------------------------------------


def apply_scenario(topology, parameters: Mapping[str, Any], start: Mapping[str, Any],
                   events=None):
    """A copy of ``topology`` with a scenario's parameters, start values and events."""
    topo = topology.copy()
    for store, values in (("parameters", parameters), ("start", start)):
        for key, value in values.items():
            node, _, var = key.partition(".")
            topo.graph.nodes[node][store][var] = value
            if store == "parameters":  # where the value came from (provenance, errors)
                topo.graph.nodes[node].setdefault("param_where", {})[var] = "study scenario"
    if events and hasattr(topo, "add_event"):
        for event in events:
            topo.add_event(**event)
    return topo


def run_task(prepared: Prepared, task: Task, worker: str = "") -> Outcome:
    """Run one scenario; a failure of any kind becomes a failed :class:`Outcome`.

    With a ``job.timeout``, a scenario running in a process's main thread is stopped
    by SIGALRM (:mod:`cosim.supervisor.deadline`) and recorded as failed."""
    from ..supervisor.deadline import deadline
    job = prepared.job
    clock = time.perf_counter()
    message = timeout_message(job.timeout) if job.timeout else ""
    try:
        with deadline(job.timeout, message):
            return _run_task(prepared, task, worker, clock)
    except (Exception, SystemExit) as err:  # noqa: BLE001 - the alarm hit between steps
        outcome = Outcome(task.id, FAILED, error=describe(err),
                          outputs={o.name: float("nan") for o in job.outputs})
    outcome.wall_time = time.perf_counter() - clock
    outcome.worker = worker
    return outcome


def timeout_message(seconds: float | None, killed: bool = False) -> str:
    """Why a scenario failed for its time limit."""
    text = f"the scenario took longer than its time limit of {seconds:g} s (timeout:)"
    if killed:
        text += "; it did not stop (stuck inside the model), so its worker process was " \
            "killed and replaced"
    return text


def _run_task(prepared: Prepared, task: Task, worker: str, clock: float) -> Outcome:
    from ..execution import run
    job = prepared.job
    result = numbers = None
    try:
        params = _resolve_refs(task.parameters, prepared.paths)
        start = _resolve_refs(task.start, prepared.paths)
        if task.events:  # other events: another topology
            topo = apply_scenario(prepared.topology, params, start, task.events)
            result = run(topo, progress=False, keep_in_memory=True)
        else:
            result = prepared.simulation_for(params, start).run()
        numbers = _numbers(result)  # once: for the outputs and the trace
        outputs = _outputs(job.outputs, *numbers)
        outcome = Outcome(task.id, COMPLETED, outputs=outputs)
    except (Exception, SystemExit) as err:  # noqa: BLE001 - a failing scenario is data
        result, numbers = getattr(err, "result", None), None
        outcome = Outcome(task.id, FAILED, error=describe(err),
                          outputs={o.name: float("nan") for o in job.outputs})
    if task.trace and result is not None:
        outcome.trace = _trace(*(numbers if numbers is not None else _numbers(result)),
                               job.trace_signals)
    outcome.wall_time = time.perf_counter() - clock
    outcome.worker = worker
    return outcome


def describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _numbers(result) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A result's time and numeric columns as float64 arrays (from the in-memory
    recorder when there is one: no DataFrame is built)."""
    memory = getattr(result, "memory", None)
    if memory is not None and memory.info is not None:
        return memory.columns()
    df = result.df
    return df.index.to_numpy(dtype=np.float64), {
        c: df[c].to_numpy(dtype=np.float64) for c in df.columns if df[c].dtype != object}


def _outputs(outputs: list, t: np.ndarray, columns: dict[str, np.ndarray]
             ) -> dict[str, float]:
    return {o.name: o.compute(t, [columns[s] for s in o.signals]) for o in outputs}


def _trace(t: np.ndarray, columns: dict[str, np.ndarray], signals: list[str]
           ) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    if not len(t):
        return None
    return t.copy(), {s: columns[s].copy() for s in signals if s in columns}


# -- worker processes of the local pool ------------------------------------------------------


def pool_worker(conn, job_blob: bytes, environ: dict[str, str] | None = None,
                cache: str | None = None) -> None:
    """Main of a pool worker: prepare the job once, then run tasks until told to stop.

    ``environ`` is the parent's environment when it started the pool (a fork server's
    children would otherwise see the environment of the fork server's own start).
    """
    import pickle
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    try:
        prepared = prepare(pickle.loads(job_blob), Path(cache) if cache else None)
    except BaseException as err:  # noqa: BLE001 - report, then exit
        conn.send(("error", describe(err)))
        return
    label = f"pid {os.getpid()}"
    conn.send(("ready", label))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(("done", run_task(prepared, task, label)))


# -- jobs registered on Dask workers ---------------------------------------------------------

_PREPARED: dict[str, Prepared] = {}


def register(job: Job) -> None:
    _PREPARED[job.id] = prepare(job)


def unregister(job_id: str) -> None:
    _PREPARED.pop(job_id, None)


def run_registered(job_id: str, tasks: list[Task]) -> list[Outcome]:
    """The Dask task: run a chunk of scenarios with the job the worker plugin prepared."""
    try:
        from distributed import get_worker
        label = get_worker().address
    except (ImportError, ValueError):
        label = f"pid {os.getpid()}"
    prepared = _PREPARED.get(job_id)
    if prepared is None:
        return [Outcome(t.id, FAILED, error=f"the worker {label} has not prepared the study "
                        "(its set-up failed; see the worker's log)", worker=label)
                for t in tasks]
    return [run_task(prepared, task, label) for task in tasks]
