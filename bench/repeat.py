"""Interleaved repetitions: every case is timed right after its baseline, many times.

A :class:`Timed` is something that runs ``steps`` macro steps and returns the seconds its
loop took (wall clock, and CPU time of the process where known: a diagnostic on a loaded
machine). :func:`calibrate` picks the number of steps that takes at least
``min_seconds``; :func:`interleaved` runs, ``repeats`` times, each case right after a run
of its baseline and keeps the ratio of their costs per step for that repetition — so a
machine that slows down or speeds up between repetitions (other jobs on shared cores)
moves both alike. Figures are the median with the min–max over repetitions.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timed:
    """``run(steps)`` -> (wall, CPU) seconds of the timed loop; ``width``: subsystem-steps
    per macro step (for ns per subsystem-step)."""

    name: str
    run: Callable[[int], tuple[float, float]]
    width: int = 1
    steps: int = 0
    max_steps: int = 10 ** 9


@dataclass
class Spread:
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def low(self) -> float:
        return min(self.values) if self.values else math.nan

    @property
    def high(self) -> float:
        return max(self.values) if self.values else math.nan

    def text(self, fmt: str = ".2f", suffix: str = "") -> str:
        """``1.03 (0.98–1.10)``"""
        if not self.values:
            return "-"
        return (f"{self.median:{fmt}}{suffix} ({self.low:{fmt}}–{self.high:{fmt}})")

    def as_dict(self) -> dict:
        return {"median": self.median, "min": self.low, "max": self.high,
                "values": self.values}


@dataclass
class Result:
    case: str
    baseline: str
    width: int
    steps: int
    ns: Spread = field(default_factory=Spread)        # per subsystem-step, the case
    base_ns: Spread = field(default_factory=Spread)   # per subsystem-step, its baseline
    ratio: Spread = field(default_factory=Spread)     # case / baseline per repetition
    cpu_ratio: Spread = field(default_factory=Spread)  # the same in CPU time
    cpu_ns: Spread = field(default_factory=Spread)     # per subsystem-step, CPU time
    base_cpu_ns: Spread = field(default_factory=Spread)


def per_call(body: Callable[[int], object], seconds: float, batch: int = 1) -> float:
    """Seconds per call of ``body(i)`` (i = 0, 1, ...), called ``batch`` calls at a time
    until at least ``seconds`` of wall time have passed."""
    n = 0
    clock = time.perf_counter()
    while True:
        for _ in range(batch):
            body(n)
            n += 1
        elapsed = time.perf_counter() - clock
        if elapsed >= seconds:
            return elapsed / n


def calibrate(t: Timed, min_seconds: float, first: int = 2000) -> int:
    """Steps taking at least ``min_seconds`` (a first run of ``first`` steps, scaled)."""
    steps = min(first, t.max_steps)
    while True:
        seconds = t.run(steps)[0]
        if seconds >= min_seconds or steps >= t.max_steps:
            break
        scale = 1.2 * min_seconds / max(seconds, 1e-6)
        steps = min(t.max_steps, max(steps * 2, int(math.ceil(steps * min(scale, 100.0)))))
    t.steps = steps
    return steps


def interleaved(pairs: list[tuple[Timed, Timed]], repeats: int, min_seconds: float,
                progress: Callable[[str], None] | None = None) -> list[Result]:
    """Each (case, baseline) pair ``repeats`` times, the baseline run right before the
    case in every repetition; cases take turns within a repetition."""
    for timed in {id(t): t for pair in pairs for t in pair}.values():
        if not timed.steps:
            calibrate(timed, min_seconds)
    results = [Result(c.name, b.name, c.width, c.steps) for c, b in pairs]
    for r in range(repeats):
        for (case, base), result in zip(pairs, results, strict=True):
            (bw, bc), (cw, cc) = base.run(base.steps), case.run(case.steps)
            b, c = bw / (base.steps * base.width), cw / (case.steps * case.width)
            result.base_ns.values.append(b * 1e9)
            result.ns.values.append(c * 1e9)
            result.ratio.values.append(c / b)
            if bc > 0 and cc > 0:
                c_cpu, b_cpu = cc / (case.steps * case.width), bc / (base.steps * base.width)
                result.cpu_ratio.values.append(c_cpu / b_cpu)
                result.cpu_ns.values.append(c_cpu * 1e9)
                result.base_cpu_ns.values.append(b_cpu * 1e9)
        if progress is not None:
            progress(f"repetition {r + 1}/{repeats} done")
    return results
