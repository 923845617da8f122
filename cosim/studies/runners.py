"""Runners: where the scenarios of a study run. One interface, three implementations.

``runner.run(job, tasks)`` is a generator of :class:`~cosim.studies.worker.Outcome`, in
the order they finish; closing it (or an exception in the consumer) stops the work
and releases the workers. Every runner executes the same
:func:`~cosim.studies.worker.run_task` on the same job, so a scenario gives the same
bit-for-bit outputs on any of them.

* :class:`SerialRunner` — in this process, one scenario after the other. No isolation:
  a scenario that kills its process kills the study (resume it with a process pool).
* :class:`ProcessPoolRunner` — local worker processes (default: one per core). The job
  (topology, FMU bytes) is sent to each worker once at start-up. A worker that dies
  (segfault, ``os._exit``, SIGKILL, out of memory) is replaced; the scenario it was
  running is retried once on another worker process, then recorded as failed. With a
  scenario ``timeout``, the worker stops a scenario that overruns it (SIGALRM); one stuck
  inside model code, where no signal handler runs, is killed by this process
  :func:`~cosim.supervisor.watch.grace_seconds` later and its worker replaced: the
  scenario is recorded as failed (not retried), the others go on.
* :class:`~cosim.studies.dask_runner.DaskRunner` — a Dask distributed cluster (optional
  ``dask`` extra).

``runner.session(job)`` keeps the workers between batches of tasks, for a caller that
decides the next scenarios from the last ones (a calibration's optimizer)::

    with runner.session(job) as session:
        outcomes = list(session.run(tasks))    # the same workers, batch after batch

Each worker keeps its job (and its :class:`~cosim.Simulation`) for the whole session.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, SimulationError
from .worker import (
    FAILED,
    Job,
    Outcome,
    Task,
    cache_dir,
    pool_worker,
    prepare,
    run_task,
    timeout_message,
)

#: Attempts of a scenario whose worker process dies while running it.
MAX_ATTEMPTS = 2
#: Scenarios sent ahead to a pool worker, so that it never waits for the parent.
PIPELINE_DEPTH = 2


class Runner:
    """Base class: ``run(job, tasks)`` yields outcomes as scenarios finish."""

    name = "runner"

    def describe(self) -> str:
        return self.name

    def run(self, job: Job, tasks: Sequence[Task]) -> Iterator[Outcome]:
        raise NotImplementedError

    def session(self, job: Job) -> Session:
        """Workers kept for many batches of ``job``'s tasks (a context manager)."""
        return Session(lambda tasks: self.run(job, tasks))


class Session:
    """Batches of tasks of one job on the same workers: ``run(tasks)`` yields outcomes
    as they finish (like :meth:`Runner.run`); ``close()`` releases the workers.

    This base class runs each batch with ``batch(tasks)`` (a runner's ``run``: workers
    started per batch); runners that can keep theirs override it."""

    def __init__(self, batch=None):
        self._batch = batch

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if tasks:
            yield from self._batch(tasks)

    def close(self) -> None:
        pass

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialRunner(Runner):
    """Run every scenario in this process, in order."""

    name = "serial"

    def describe(self) -> str:
        return "this process (serially)"

    def run(self, job: Job, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return
        prepared = prepare(job)
        for task in tasks:
            yield run_task(prepared, task, "serial")

    def session(self, job: Job) -> Session:
        return _SerialSession(job)


class _SerialSession(Session):
    """One prepared job (one Simulation) in this process for every batch."""

    def __init__(self, job: Job):
        super().__init__()
        self.job = job
        self.prepared: Any = None

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if tasks and self.prepared is None:
            self.prepared = prepare(self.job)
        for task in tasks:
            yield run_task(self.prepared, task, "serial")

    def close(self) -> None:
        sim = getattr(self.prepared, "simulation", None)
        if sim is not None:
            sim.close()
        self.prepared = None


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _context(method: str | None):
    import multiprocessing
    methods = multiprocessing.get_all_start_methods()
    if method is None:
        method = "forkserver" if "forkserver" in methods else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # the fork server imports cosim once; every worker forks from it, ready to go
        ctx.set_forkserver_preload(["cosim.studies.worker"])
    return ctx


@dataclass
class _Slot:
    """One worker process of the pool and what it is doing."""

    index: int
    process: Any = None
    conn: Any = None
    label: str = ""
    ready: bool = False
    tasks: deque[tuple[Task, int]] = field(default_factory=deque)  # sent: (task, attempt)
    generation: int = 0
    since: float = 0.0  # monotonic time the first of ``tasks`` started (about)


class ProcessPoolRunner(Runner):
    """Local worker processes, each sent the job once; dead workers are replaced.

    ``workers``: number of processes (default: one per core, never more than
    scenarios). ``start_method``: multiprocessing start method (default ``forkserver``
    where available, else ``spawn``).
    """

    name = "processes"

    def __init__(self, workers: int | None = None, *, start_method: str | None = None,
                 max_start_failures: int = 3):
        if workers is not None and workers < 1:
            raise ConfigError(f"workers must be >= 1, got {workers}")
        self.workers = workers or default_workers()
        self.start_method = start_method
        self.max_start_failures = max_start_failures

    def describe(self) -> str:
        n = self.workers
        return f"a local process pool of {n} worker{'s' if n != 1 else ''}"

    def run(self, job: Job, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return
        pool = _Pool(_context(self.start_method), pickle.dumps(job, pickle.HIGHEST_PROTOCOL),
                     min(self.workers, len(tasks)), self.max_start_failures, job.timeout)
        try:
            yield from pool.run(tasks)
        finally:
            pool.shutdown()

    def session(self, job: Job) -> Session:
        return _PoolSession(_Pool(_context(self.start_method),
                                  pickle.dumps(job, pickle.HIGHEST_PROTOCOL), self.workers,
                                  self.max_start_failures, job.timeout))


class _PoolSession(Session):
    """The pool's worker processes stay up between batches (idle, job prepared)."""

    def __init__(self, pool: _Pool):
        super().__init__()
        self.pool = pool

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return
        try:
            yield from self.pool.run(tasks)
        except BaseException:
            self.pool.shutdown()  # abandoned mid-batch: stop the workers that still run
            raise

    def close(self) -> None:
        self.pool.shutdown()


class _Pool:
    """The worker processes and the scenarios not yet sent to one.

    Each worker is sent up to ``PIPELINE_DEPTH`` scenarios and runs them in order, so the
    first of its list is the one running: when the worker dies, that one is charged
    with an attempt, the others go back to the queue as they were.
    """

    def __init__(self, ctx, blob: bytes, n: int, max_start_failures: int,
                 timeout: float | None = None):
        self.ctx, self.blob = ctx, blob
        self.slots = [_Slot(i) for i in range(n)]
        self.queue: deque[tuple[Task, int]] = deque()
        self.start_failures = 0
        self.max_start_failures = max_start_failures
        self.timeout = timeout
        if timeout:
            from ..supervisor.watch import grace_seconds
            self.kill_after = timeout + grace_seconds()

    def spawn(self, slot: _Slot) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=pool_worker,
                                args=(child, self.blob, dict(os.environ), str(cache_dir())),
                                name=f"cosim-study-worker-{slot.index}", daemon=True)
        with _main_hidden():
            proc.start()
        child.close()
        slot.process, slot.conn, slot.ready = proc, parent, False
        slot.tasks = deque()
        slot.generation += 1

    def busy(self) -> bool:
        return bool(self.queue) or any(s.tasks for s in self.slots)

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        from multiprocessing.connection import wait
        self.queue.extend((task, 1) for task in tasks)
        for slot in self.slots:
            if slot.process is None:  # first batch, or a worker lost in the last one
                self.spawn(slot)
        while self.busy():
            self._dispatch()
            watch: dict[Any, tuple[_Slot, int]] = {}
            for s in self.slots:
                if s.process is not None:
                    watch[s.conn] = (s, s.generation)
                    watch[s.process.sentinel] = (s, s.generation)
            if not watch:
                raise SimulationError("no worker process left")
            ready = wait(list(watch), timeout=self._next_kill())
            # messages first: a worker may have sent its result just before exiting
            for obj in sorted(ready, key=lambda o: o is not watch[o][0].conn):
                slot, generation = watch[obj]
                if generation != slot.generation:
                    continue  # already handled (its message and its death in one wait)
                outcome = self._message(slot) if obj is slot.conn else self._maybe_dead(slot)
                if outcome is not None:
                    yield outcome
            yield from self._overdue()

    def _next_kill(self) -> float | None:
        """Seconds until a running scenario is overdue (None: no limit, or none runs)."""
        if not self.timeout:
            return None
        now = time.monotonic()
        due = [s.since + self.kill_after - now for s in self.slots
               if s.process is not None and s.ready and s.tasks]
        return max(0.0, min(due)) if due else None

    def _overdue(self) -> Iterator[Outcome]:
        """Kill workers stuck in a scenario past its limit; that scenario fails."""
        if not self.timeout:
            return
        now = time.monotonic()
        for slot in self.slots:
            if slot.process is None or not slot.ready or not slot.tasks or \
                    now - slot.since < self.kill_after:
                continue
            (task, attempt), label = slot.tasks.popleft(), slot.label
            self.queue.extendleft(reversed(slot.tasks))  # sent after it: never started
            slot.tasks = deque()
            slot.process.kill()
            self._dead(slot)  # joins it and starts a new worker if work remains
            yield Outcome(task.id, FAILED, worker=label, attempts=attempt,
                          error="RunTimeout: " + timeout_message(self.timeout, killed=True))

    def _dispatch(self) -> None:
        # one each first, so that a short study spreads over every worker
        for depth in range(1, PIPELINE_DEPTH + 1):
            for slot in self.slots:
                if slot.ready and len(slot.tasks) < depth and self.queue:
                    item = self.queue.popleft()
                    if not slot.tasks:
                        slot.since = time.monotonic()
                    slot.tasks.append(item)
                    with contextlib.suppress(OSError, ValueError):  # dead: its sentinel says
                        slot.conn.send(item[0])

    def _message(self, slot: _Slot) -> Outcome | None:
        try:
            kind, payload = slot.conn.recv()
        except (EOFError, OSError):
            return self._dead(slot)
        if kind == "ready":
            slot.ready, slot.label = True, payload
            self.start_failures = 0
            return None
        if kind == "error":
            raise SimulationError(f"a worker process could not set up the study: {payload}")
        _, attempt = slot.tasks.popleft()
        slot.since = time.monotonic()  # the next scenario sent to it starts now
        payload.attempts = attempt
        return payload

    def _maybe_dead(self, slot: _Slot) -> Outcome | None:
        if slot.conn.poll():
            return self._message(slot)  # read what it sent; EOF there means dead
        return self._dead(slot)

    def _dead(self, slot: _Slot) -> Outcome | None:
        proc = slot.process
        proc.join(timeout=5)
        how = _exit_reason(proc.exitcode)
        slot.conn.close()
        sent, was_ready, label = slot.tasks, slot.ready, slot.label
        slot.process = slot.conn = None
        slot.tasks = deque()
        slot.generation += 1
        if not was_ready:
            self.start_failures += 1
            if self.start_failures >= self.max_start_failures:
                raise SimulationError(f"worker processes die while starting ({how}); "
                                      "try --workers 0 to run in this process and see why")
        outcome = None
        if sent:
            (task, attempt), waiting = sent[0], list(sent)[1:]
            self.queue.extendleft(reversed(waiting))  # never started: not charged
            if attempt < MAX_ATTEMPTS:
                self.queue.appendleft((task, attempt + 1))
            else:
                outcome = Outcome(task.id, FAILED, worker=label, attempts=attempt, error=(
                    f"WorkerDied: the worker process ({label}) {how} while running this "
                    f"scenario, on each of {attempt} attempts in different worker processes"))
        if self.busy():
            self.spawn(slot)
        return outcome

    def shutdown(self) -> None:
        for slot in self.slots:
            if slot.process is None:
                continue
            if slot.tasks or not slot.ready:
                slot.process.terminate()  # abandoned mid-scenario (interrupted)
            else:
                with contextlib.suppress(OSError, ValueError):
                    slot.conn.send(None)
        for slot in self.slots:
            if slot.process is None:
                continue
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
            slot.conn.close()
            slot.process = slot.conn = None


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start a worker without it re-importing ``__main__`` (spawn and forkserver do that
    by default): workers only need cosim, and so the caller's script needs no
    ``if __name__ == "__main__"`` guard, and stdin or notebook sessions work too."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__")
             if main is not None and k in main.__dict__}
    for k in saved:
        setattr(main, k, None) if k == "__spec__" else delattr(main, k)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def make_runner(runner: Runner | str | None = None, *, workers: int | None = None,
                dask: str | None = None, dask_local: int | None = None) -> Runner:
    """The runner for the given options (see :func:`cosim.studies.sweep`)."""
    if isinstance(runner, Runner):
        return runner
    if dask is not None and dask_local is not None:
        raise ConfigError("give either dask (a scheduler address) or dask_local (a number "
                          "of local workers), not both")
    if runner == "serial" or (runner is None and workers == 0 and dask is None
                              and dask_local is None):
        return SerialRunner()
    if runner == "dask" or dask is not None or dask_local is not None:
        from .dask_runner import DaskRunner
        if dask is None and dask_local is None:
            dask_local = workers or default_workers()
        return DaskRunner(address=dask, local_workers=dask_local)
    if runner in (None, "processes"):
        return ProcessPoolRunner(workers or None)
    raise ConfigError(f"unknown runner {runner!r}: serial, processes or dask")
