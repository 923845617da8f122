"""Run a study on a Dask distributed cluster (the optional ``dask`` extra).

``DaskRunner(address="tcp://host:8786")`` uses an existing cluster;
``DaskRunner(local_workers=N)`` starts a :class:`distributed.LocalCluster` of N worker
processes (one thread each) on the loopback interface and closes it afterwards.

The job (topology, FMU bytes) reaches every worker once, through a worker plugin: the
scheduler hands it to each worker as it joins (also to workers that replace dead ones),
and the plugin writes the FMUs into the worker's cache keyed by SHA-256. Each scenario
is then a small task.

Scenarios are sent in chunks: the first task of each thread holds one scenario, to learn
how long a scenario takes; later ones hold as many as take about ``CHUNK_SECONDS``
(never so many that a worker would be left idle at the end, never so few that the tail
becomes a string of tiny tasks). That keeps Dask's per-task cost (a few
ms) off short scenarios.

A worker that dies: every scenario of the chunk it was running gets one more attempt,
alone, on another worker; a scenario whose worker dies on that attempt too is recorded
as failed. Clusters started here are configured for exactly that
(``distributed.scheduler.allowed-failures: 0``, so the client decides about retries, and
``worker-saturation: 1.0``, so a worker holds only the chunk it runs and no bystander is
charged with a death). For an existing cluster, start its scheduler with the same two
settings to get the same behaviour; with its defaults (``allowed-failures: 3``) the
scheduler itself retries a dying task three times before cosim sees it.

With a scenario ``timeout``, scenarios are sent one per task and the client watches
which task each worker is processing: a worker still processing a scenario ``timeout``
seconds after it started is restarted by its nanny (``Client.restart_workers``; a
scenario in a Dask worker thread cannot be interrupted otherwise), and the scenario
recorded as failed, not retried. Workers started without a nanny cannot be restarted.
"""

from __future__ import annotations

import contextlib
import logging
import math
import pickle
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import ConfigError, SimulationError
from .runners import MAX_ATTEMPTS, Runner, Session, _main_hidden
from .worker import (
    FAILED,
    Job,
    Outcome,
    Task,
    describe,
    register,
    run_registered,
    timeout_message,
    unregister,
)

INSTALL_HINT = "the Dask runner needs the optional dask extra: pip install cosim[dask]"
LOCAL_CONFIG = {"distributed.scheduler.allowed-failures": 0,
                "distributed.scheduler.worker-saturation": 1.0}
#: Wall time a chunk of scenarios should take (s), and at least (when splitting the tail).
CHUNK_SECONDS, MIN_CHUNK_SECONDS = 0.25, 0.02
#: How often running scenarios are looked at when the study has a timeout (s).
WATCH_SECONDS = 0.2


def _distributed():
    try:
        import distributed
    except ImportError as err:
        raise ConfigError(f"{INSTALL_HINT} ({err})") from None
    return distributed


def local_cluster(n_workers: int, **kwargs: Any):
    """A ``distributed.LocalCluster`` of ``n_workers`` single-threaded worker processes on
    127.0.0.1, set up for studies (retries decided by cosim, no task queued behind the
    running one). The caller closes it."""
    if n_workers < 1:
        raise ConfigError(f"a local Dask cluster needs at least 1 worker, got {n_workers}")
    distributed = _distributed()
    import dask
    options = dict(n_workers=n_workers, threads_per_worker=1, processes=True,
                   host="127.0.0.1", dashboard_address=None, silence_logs=logging.CRITICAL)
    options.update(kwargs)
    with dask.config.set(LOCAL_CONFIG), _main_hidden():
        return distributed.LocalCluster(**options)


def _plugin_class():
    from distributed.diagnostics.plugin import WorkerPlugin

    class StudyPlugin(WorkerPlugin):
        """Prepares a study's job on every worker (also ones that join later)."""

        def __init__(self, job_id: str, blob: bytes):
            self.job_id, self.blob = job_id, blob
            self.name = f"cosim-study-{job_id}"

        def setup(self, worker) -> None:
            register(pickle.loads(self.blob))

        def teardown(self, worker) -> None:
            unregister(self.job_id)

    return StudyPlugin


class DaskRunner(Runner):
    """Scenarios as tasks on a Dask cluster: an existing one (``address``) or a local one
    started for the study (``local_workers``)."""

    name = "dask"

    def __init__(self, address: str | None = None, *, local_workers: int | None = None,
                 client: Any = None):
        if sum(x is not None for x in (address, local_workers, client)) != 1:
            raise ConfigError("DaskRunner needs exactly one of address, local_workers, client")
        _distributed()
        self.address, self.local_workers, self.client = address, local_workers, client

    def describe(self) -> str:
        if self.local_workers is not None:
            n = self.local_workers
            return f"a local Dask cluster of {n} worker{'s' if n != 1 else ''}"
        if self.address is not None:
            return f"the Dask cluster at {self.address}"
        return "a Dask cluster"

    def _connect(self):
        distributed = _distributed()
        if self.client is not None:
            return self.client, None
        if self.local_workers is not None:
            cluster = local_cluster(self.local_workers)
            return distributed.Client(cluster), cluster
        try:
            return distributed.Client(self.address, timeout="20s"), None
        except (OSError, TimeoutError, ValueError) as err:
            raise ConfigError(f"cannot connect to the Dask scheduler at {self.address}: "
                              f"{err}") from None

    def run(self, job: Job, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return
        client, cluster = self._connect()
        plugin = _plugin_class()(job.id, pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
        try:
            _register(client, plugin)
            yield from _run(client, job, tasks)
        finally:
            with contextlib.suppress(Exception):  # cleaning up; the cluster may be gone
                client.unregister_worker_plugin(plugin.name)
            if client is not self.client:
                client.close()
            if cluster is not None:
                cluster.close()

    def session(self, job: Job) -> Session:
        return _DaskSession(self, job)


class _DaskSession(Session):
    """One client (and local cluster) and the job's plugin for every batch."""

    def __init__(self, runner: DaskRunner, job: Job):
        super().__init__()
        self.runner, self.job = runner, job
        self.client = self.cluster = self.plugin = None

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return
        if self.client is None:
            self.client, self.cluster = self.runner._connect()
            self.plugin = _plugin_class()(self.job.id,
                                          pickle.dumps(self.job, pickle.HIGHEST_PROTOCOL))
            _register(self.client, self.plugin)
        yield from _run(self.client, self.job, tasks)

    def close(self) -> None:
        client, cluster, plugin = self.client, self.cluster, self.plugin
        self.client = self.cluster = self.plugin = None
        if client is None:
            return
        with contextlib.suppress(Exception):  # cleaning up; the cluster may be gone
            client.unregister_worker_plugin(plugin.name)
        if client is not self.runner.client:
            client.close()
        if cluster is not None:
            cluster.close()


def _register(client, plugin) -> None:
    responses = client.register_plugin(plugin, name=plugin.name)
    if isinstance(responses, dict):
        bad = {w: r for w, r in responses.items()
               if isinstance(r, dict) and r.get("status") not in (None, "OK")}
        if bad:
            worker, response = next(iter(bad.items()))
            raise SimulationError(f"the Dask worker {worker} could not set up the study: "
                                  f"{response.get('exception') or response}")


class _Chunks:
    """Sizes chunks from the scenario times seen so far (solo until there are some)."""

    def __init__(self, threads: int, solo: bool = False):
        self.threads, self.solo = threads, solo
        self.mean: float | None = None

    def observe(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            w = max(o.wall_time, 1e-4)
            self.mean = w if self.mean is None else 0.8 * self.mean + 0.2 * w

    def size(self, remaining: int) -> int:
        if self.mean is None or self.solo:
            return 1
        fair = math.ceil(remaining / (4 * self.threads))  # leave work for every worker
        floor = math.ceil(MIN_CHUNK_SECONDS / self.mean)  # but no tail of tiny tasks
        return max(1, min(int(CHUNK_SECONDS / self.mean), max(fair, floor), 512))


def _run(client, job: Job, tasks: Sequence[Task]) -> Iterator[Outcome]:
    distributed = _distributed()
    token = uuid.uuid4().hex[:8]
    threads = sum(client.nthreads().values()) or 1
    window = 2 * threads
    fresh: deque[Task] = deque(tasks)
    alone: deque[tuple[Task, int]] = deque()  # retries after a worker death: (task, attempts)
    chunks = _Chunks(threads, solo=bool(job.timeout))
    watchdog = _Watchdog(client, job.timeout) if job.timeout else None
    in_flight: dict[Any, list[tuple[Task, int]]] = {}
    done = distributed.as_completed()
    count = 0

    def submit() -> None:
        nonlocal count
        if alone:
            items = [alone.popleft()]
        else:
            items = [(fresh.popleft(), 0) for _ in range(min(len(fresh),
                                                             chunks.size(len(fresh))))]
        count += 1
        future = client.submit(run_registered, job.id, [t for t, _ in items], pure=False,
                               key=f"cosim-scenarios-{token}-{count}")
        in_flight[future] = items
        done.add(future)

    while len(in_flight) < threads and (fresh or alone):
        submit()  # one scenario each, to learn how long one takes
    try:
        for future in _finished(done, watchdog, in_flight):
            items = in_flight.pop(future)
            outcomes = _outcomes(future, items, alone) if watchdog is None or \
                future.key not in watchdog.killed else watchdog.failed(items)
            future.release()
            chunks.observe([o for o in outcomes if o.status != FAILED])
            yield from outcomes
            while len(in_flight) < window and (fresh or alone):
                submit()
    finally:
        for future in in_flight:
            future.cancel()


def _finished(done, watchdog: _Watchdog | None, in_flight: dict) -> Iterator[Any]:
    """The futures of ``done`` as they finish; with a watchdog, it looks at the running
    scenarios every :data:`WATCH_SECONDS` while none has finished."""
    if watchdog is None:
        yield from done
        return
    while True:
        while not done.has_ready():
            if done.is_empty():
                return
            watchdog.check(in_flight)
            time.sleep(WATCH_SECONDS)
        yield next(done)


class _Watchdog:
    """Restarts the worker of a scenario that runs past the study's timeout."""

    def __init__(self, client, timeout: float):
        self.client, self.timeout = client, timeout
        self.since: dict[str, float] = {}  # task key -> when first seen processing
        self.killed: set[str] = set()

    def check(self, in_flight: dict) -> None:
        keys = {f.key for f in in_flight}
        now = time.monotonic()
        try:
            processing = self.client.processing()
        except Exception:  # noqa: BLE001 - the scheduler is busy: look again later
            return
        for worker, running in processing.items():
            for key in running:
                if key not in keys or key in self.killed:
                    continue
                if now - self.since.setdefault(key, now) > self.timeout:
                    self.killed.add(key)
                    with contextlib.suppress(Exception):
                        self.client.restart_workers([worker], raise_for_error=False)

    def failed(self, items: list[tuple[Task, int]]) -> list[Outcome]:
        text = "RunTimeout: " + timeout_message(self.timeout, killed=True).replace(
            "its worker process", "its Dask worker")
        return [Outcome(task.id, FAILED, error=text, attempts=attempts + 1)
                for task, attempts in items]


def _outcomes(future, items: list[tuple[Task, int]], alone: deque) -> list[Outcome]:
    """The outcomes of a finished task; scenarios of a dead worker go back to ``alone``."""
    distributed = _distributed()
    try:
        outcomes = future.result()
    except distributed.KilledWorker as err:
        tries = getattr(err, "allowed_failures", 0) + 1
        last = getattr(getattr(err, "last_worker", None), "address", "") or "unknown"
        failed = []
        for task, attempts in items:
            attempts += tries
            if len(items) > 1 or attempts < MAX_ATTEMPTS:
                alone.append((task, attempts))  # one more try, alone, on another worker
            else:
                failed.append(Outcome(task.id, FAILED, worker=str(last), attempts=attempts,
                                      error=f"WorkerDied: the Dask worker process died while "
                                      f"running this scenario, on each of {attempts} "
                                      f"attempts on different workers (last: {last})"))
        return failed
    except Exception as err:  # noqa: BLE001 - the task itself failed, not a scenario
        return [Outcome(task.id, FAILED, error=describe(err), attempts=attempts + 1)
                for task, attempts in items]
    for outcome, (_, attempts) in zip(outcomes, items, strict=True):
        outcome.attempts = attempts + 1
    return outcomes
