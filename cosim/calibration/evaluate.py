"""Evaluations: parameter points run through a study runner's session, cached.

Every point a method asks for becomes a study :class:`~cosim.studies.worker.Task`
(``node.parameter`` overrides of every target) run on the session's workers — which
keep one :class:`~cosim.Simulation` each and reset it per run — and returns the traces
of the fitted signals, put on the run's grid. A batch of points (a Jacobian, a
population, half an MCMC ensemble) runs in parallel; outcomes are taken in point
order, so results do not depend on which worker finished first.

Points are cached by their exact values (float64 bytes): asking again costs nothing.
Each evaluation is handed to the journal (the calibration file) as soon as it
finishes, so after a crash a resumed calibration replays the same deterministic path
from the journal and simulates only what was never finished (or never flushed, see
:mod:`cosim.calibration.journal`). ``budget`` caps the simulations
(cached ones from an earlier attempt included): a batch that would pass it raises
:class:`BudgetExhausted` before running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..studies.worker import COMPLETED, FAILED, Task
from .parameters import Parameters

#: Stages whose evaluations keep their predictions (the others keep their cost only).
KEEP_PREDICTIONS = ("start", "step", "jacobian", "profile")


class BudgetExhausted(Exception):
    """The next batch would pass the budget of simulations."""


@dataclass
class Evaluation:
    """One point: parameter values (model units) and what the run gave."""

    id: int
    values: np.ndarray
    stage: str
    status: str
    error: str = ""
    predictions: np.ndarray | None = None  # [signal, time] on the grid
    cost: float = float("nan")
    wall_time: float = 0.0
    worker: str = ""
    reused: bool = False  # from the journal of an earlier attempt

    @property
    def ok(self) -> bool:
        """The run completed (its predictions are kept only by some stages)."""
        return self.status == COMPLETED


@dataclass
class Counter:
    simulations: int = 0     # run in this attempt
    reused: int = 0          # taken from an earlier attempt's journal
    hits: int = 0            # asked again within this attempt
    by_stage: dict[str, int] = field(default_factory=dict)


def key_of(values: np.ndarray) -> bytes:
    return np.ascontiguousarray(values, dtype=np.float64).tobytes()


class Evaluator:
    """Runs points on a runner session; caches, journals and counts them."""

    def __init__(self, parameters: Parameters, signals: list[str], grid: np.ndarray,
                 session, budget: int, journal=None, progress=None):
        self.parameters, self.signals, self.grid = parameters, signals, grid
        self.session, self.budget, self.journal = session, budget, journal
        self.progress = progress
        self.cache: dict[bytes, Evaluation] = {}          # with predictions (or failed)
        self.costs: dict[tuple[str, bytes], Evaluation] = {}  # cost-only stages
        self.previous: dict[bytes, Evaluation] = {}       # journal of an earlier attempt
        self.previous_costs: dict[tuple[str, bytes], Evaluation] = {}
        self.count = Counter()
        self.next_id = 0
        self.log: list[Evaluation] = []

    # -- resuming ----------------------------------------------------------------------------

    def restore(self, evaluations: Sequence[Evaluation]) -> None:
        """Evaluations of an earlier attempt: reused, not run again, when asked for."""
        for e in evaluations:
            e.reused = True
            k = key_of(e.values)
            if e.predictions is not None or e.status == FAILED:
                self.previous.setdefault(k, e)
            self.previous_costs.setdefault((e.stage, k), e)
            self.next_id = max(self.next_id, e.id + 1)

    @property
    def used(self) -> int:
        """Simulations spent on this calibration (this attempt and earlier ones)."""
        return self.count.simulations + self.count.reused

    # -- evaluating ------------------------------------------------------------------------

    def evaluate(self, points: Sequence[np.ndarray], stage: str,
                 score: Callable[[Evaluation], float] | None = None) -> list[Evaluation]:
        """Evaluations of ``points`` (parameter values, model units), in order.

        ``score(evaluation) -> cost`` is recorded for each (NaN for failed runs).
        Stages outside :data:`KEEP_PREDICTIONS` keep only the cost.
        """
        keep = stage in KEEP_PREDICTIONS
        out: list[Evaluation | None] = [None] * len(points)
        todo: dict[bytes, list[int]] = {}
        for i, values in enumerate(points):
            values = np.asarray(values, dtype=np.float64)
            k = key_of(values)
            found = self._lookup(k, stage, keep)
            if found is not None and not keep and found.stage != stage:
                # kept by another stage, under another noise model: score it for this one
                found = replace(found, stage=stage, cost=float(score(found))
                                if score is not None and found.predictions is not None
                                else float("nan"))
            if found is not None:
                out[i] = found
            else:
                todo.setdefault(k, []).append(i)
        if todo:
            self._run(points, todo, stage, keep, score, out)
        for e in out:
            if e is not None and score is not None and np.isnan(e.cost) and \
                    e.predictions is not None:
                e.cost = float(score(e))
        return [e for e in out if e is not None]

    def _lookup(self, k: bytes, stage: str, keep: bool) -> Evaluation | None:
        hit = self.cache.get(k) or (None if keep else self.costs.get((stage, k)))
        if hit is not None:
            self.count.hits += 1
            return hit
        old = self.previous.pop(k, None)
        if old is None and not keep:
            old = self.previous_costs.pop((stage, k), None)
        if old is None:
            return None
        self.count.reused += 1
        self._remember(old, k, keep or old.predictions is not None)
        self.log.append(old)
        return old

    def _remember(self, e: Evaluation, k: bytes, keep: bool) -> None:
        if keep:
            self.cache[k] = e
        else:
            self.costs[(e.stage, k)] = e

    def _run(self, points, todo: dict[bytes, list[int]], stage: str, keep: bool, score,
             out: list) -> None:
        n = len(todo)
        if self.used + n > self.budget:
            raise BudgetExhausted(f"the budget of {self.budget} simulations is spent "
                                  f"({self.used} used, {n} more needed)")
        tasks, order = [], []
        for k, where in todo.items():
            values = np.asarray(points[where[0]], dtype=np.float64)
            task = Task(self.next_id, self.parameters.overrides(values), {}, trace=True)
            self.next_id += 1
            tasks.append(task)
            order.append((k, where, values))
        pending = {task.id: item for task, item in zip(tasks, order, strict=True)}
        finished: dict[int, Evaluation] = {}
        for outcome in self.session.run(tasks):  # journaled as each finishes
            k, where, values = pending[outcome.id]
            e = self._evaluation(outcome.id, values, stage, outcome)
            if score is not None and e.predictions is not None:
                e.cost = float(score(e))
            self._remember(e, k, keep)
            self.count.simulations += 1
            self.count.by_stage[stage] = self.count.by_stage.get(stage, 0) + 1
            if self.journal is not None:
                self.journal.append([e], keep)
            finished[outcome.id] = e
        batch = [finished[task.id] for task in tasks]  # in point order
        for e, (_, where, _) in zip(batch, order, strict=True):
            for i in where:
                out[i] = e
        self.log.extend(batch)
        if not keep:
            for e in batch:  # the cost is kept; the traces are not
                e.predictions = None
        if self.progress is not None:
            self.progress(self.used, self.budget, stage)

    def _evaluation(self, id_: int, values: np.ndarray, stage: str, outcome) -> Evaluation:
        e = Evaluation(id_, values, stage, outcome.status, outcome.error,
                       wall_time=outcome.wall_time, worker=outcome.worker)
        if outcome.status != COMPLETED:
            return e
        try:
            e.predictions = self._on_grid(outcome.trace)
        except ValueError as err:
            e.status, e.error = FAILED, str(err)
        return e

    def _on_grid(self, trace) -> np.ndarray:
        """The traced signals at the grid times (at an event, the value after it)."""
        if trace is None:
            raise ValueError("the run returned no trace")
        t, values = trace
        t = np.asarray(t, dtype=np.float64)
        last = np.ones(t.size, dtype=bool)
        last[:-1] = t[1:] != t[:-1]  # of rows with one time, the last (after events)
        tu = t[last]
        k = np.clip(np.searchsorted(tu, self.grid), 0, max(tu.size - 1, 0))
        found = np.abs(tu[k] - self.grid) <= 1e-9 * np.maximum(1.0, np.abs(self.grid))
        if tu.size == 0 or not found.all():
            first = float(self.grid[np.flatnonzero(~found)[0]]) if tu.size else \
                float(self.grid[0])
            raise ValueError(f"the run has no value at t = {first:g} s (it ended at "
                             f"{float(t[-1]) if t.size else float('nan'):g} s)")
        missing = [s for s in self.signals if s not in values]
        if missing:
            raise ValueError(f"the run did not record {missing[0]}")
        out = np.vstack([np.asarray(values[s], dtype=np.float64)[last][k]
                         for s in self.signals])
        if not np.isfinite(out).all():
            i, j = (int(a[0]) for a in np.nonzero(~np.isfinite(out)))
            raise ValueError(f"{self.signals[i]} is not finite at t = {self.grid[j]:g} s")
        return out
