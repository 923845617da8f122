"""The run core's part: rows handed over at least every 0.5 s on the compiled loop, memory
that grows with the rows recorded, and Ctrl-C in a Python-API run."""

from __future__ import annotations

import time

import numpy as np
import pytest
from reliability_helpers import HERE, committed, write_yaml

import cosim as api
from cosim.observers.base import Observer, RunInfo
from cosim.observers.memory import INITIAL_ROWS, MemoryRecorder


class HandOvers(Observer):
    def __init__(self) -> None:
        self.blocks: list[float] = []
        self.rows = 0

    def stepped_block(self, times, values) -> None:
        self.blocks.append(time.monotonic())
        self.rows += len(times)


def test_compiled_loop_hands_rows_over_every_half_second(tmp_path, fmu, monkeypatch):
    """Chunks sized for 100 s of steps (as if the steps had been 1000x faster): the
    kernel's wall-clock deadline still returns every 0.5 s (without it, the whole run of
    about 2.5 s would be one chunk). The bound allows 0.5 s of scheduling delays on a
    busy machine."""
    from cosim.fast import loop
    monkeypatch.setattr(loop, "CHUNK_SECONDS", 100.0)
    topo = write_yaml(tmp_path / "slow.yaml", {  # Silent: 10^4 internal steps per step
        "run": {"stop": 25000.0, "step": 10.0},
        "nodes": {"r": {"block": "ramp", "parameters": {"duration": 25000.0}},
                  "s": {"fmu": str(fmu("Silent"))}}})
    seen = HandOvers()
    clock = time.monotonic()
    result = api.run(topo, observers=[seen], keep_in_memory=False)
    wall = time.monotonic() - clock
    assert seen.rows == 2500 and result.status == "completed"
    assert len(seen.blocks) >= 3 and wall > 1.5  # long enough to need several hand-overs
    gaps = np.diff([clock, *seen.blocks])
    assert gaps.max() < 0.5 + 0.5, gaps  # the deadline, plus a step and scheduling slack


def test_memory_grows_with_rows_not_with_plans():
    from cosim.observers.base import Signal
    from cosim.variables import Variable
    rec = MemoryRecorder()
    rec.started(RunInfo("huge", [Signal("a", Variable("y", "output"))], 0.0, 2e6, 1e-3,
                        "jacobi", n_steps=2_000_000_000))
    assert len(rec.times) <= INITIAL_ROWS + 1 and rec.data.nbytes <= 8 * (INITIAL_ROWS + 1)
    t = np.arange(10_000) * 1e-3
    for k in range(0, 10_000, 1000):
        rec.stepped_block(t[k:k + 1000], (2 * t[k:k + 1000])[:, None])
    df = rec.dataframe()
    assert len(df) == 10_000 and np.array_equal(df["a.y"].to_numpy(), 2 * t)


def test_memory_columns_hold_every_block():
    """The numeric columns a study reads (without a DataFrame) hold the rows of every
    block: single rows, compiled blocks that fit the open block and ones that do not."""
    from cosim.observers.base import Signal
    from cosim.variables import Variable
    rec = MemoryRecorder()
    rec.started(RunInfo("mixed", [Signal("a", Variable("y", "output"))], 0.0, 1.0, 1e-3,
                        "jacobi", n_steps=20_000))
    t = np.arange(20_000) * 1e-3
    for k in range(100):
        rec.stepped(t[k], np.array([2 * t[k]]))
    rec.stepped_block(t[100:200], (2 * t[100:200])[:, None])  # fits the open block
    rec.stepped_block(t[200:15_000], (2 * t[200:15_000])[:, None])  # a block of its own
    for k in range(15_000, 20_000):
        rec.stepped(t[k], np.array([2 * t[k]]))
    times, columns = rec.columns()
    assert np.array_equal(times, t) and np.array_equal(columns["a.y"], 2 * t)
    assert np.array_equal(rec.dataframe()["a.y"].to_numpy(), columns["a.y"])


def test_ctrl_c_in_a_python_api_run(tmp_path):
    """cosim.run stays in-process: KeyboardInterrupt ends it, marks the file interrupted
    (every row so far kept) and is raised again, carrying the partial result."""
    topo = write_yaml(tmp_path / "ki.yaml", {
        "run": {"stop": 1.0, "step": 0.1},
        "nodes": {"b": {"block": f"{HERE / 'misbehaving_blocks.py'}:Interrupts"}}})
    out = tmp_path / "out.h5"
    with pytest.raises(KeyboardInterrupt) as info:
        api.run(topo, output=out)
    assert info.value.result.status == "failed" and info.value.result.path == out
    attrs, series = committed(out)
    assert attrs["status"] == "interrupted" and attrs["error"] == "interrupted (Ctrl-C or SIGTERM)"
    assert list(series["time"]) == pytest.approx([0.0, 0.1, 0.2, 0.3])
