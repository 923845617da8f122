"""Stuck runs end on request: Ctrl-C, SIGTERM and ``--timeout``, within the grace period.

Hostile fault 4 never returns from doStep (a sleeping loop in C: Python's signal handlers
never run), fault 5 never returns from ExitInitializationMode. The supervisor forwards the
signal, waits ``COSIM_GRACE_SECONDS`` (0.5 s here), kills the simulation process, marks the
file (interrupted, exit 130; or failed for a timeout, exit 3) and says where it was stuck.
A hang in Python code (the Sleeper block) ends gracefully: the child's own handler stops
the run, which closes and marks its file with every row recorded.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from reliability_helpers import (
    GRACE,
    HERE,
    PYTHON_LOOP,
    Batch,
    committed,
    hostile_topology,
    wait_until_stuck,
    write_yaml,
)

STEP = 1e-4


@pytest.fixture(scope="module")
def runs(tmp_path_factory, fmus):
    folder = tmp_path_factory.mktemp("hang")
    batch = Batch()

    def start(key, topo, *extra, **env):
        batch.start(key, "run", topo, "-o", folder / f"{key}.h5", "--no-progress", *extra,
                    **env)

    start("ctrl-c", hostile_topology(folder, fmus, "a", 4, 60.0, version=2))
    start("sigterm", hostile_topology(folder, fmus, "b", 4, 2.0, version=3, python=True),
          **PYTHON_LOOP)
    start("timeout", hostile_topology(folder, fmus, "c", 4, 0.1, version=2), "--timeout", 1)
    start("init", hostile_topology(folder, fmus, "d", 5, 0.1, version=3), "--timeout", 1)
    sleeper = write_yaml(folder / "sleeper.yaml", {
        "name": "sleeper", "run": {"stop": 1.0, "step": 0.01},
        "nodes": {"s": {"block": f"{HERE / 'misbehaving_blocks.py'}:Sleeper",
                        "parameters": {"t_hang": 0.045}}}})
    start("orphan", hostile_topology(folder, fmus, "e", 4, 60.0, version=2))
    start("python-orphan", sleeper)
    start("python-ctrl-c", sleeper)
    start("python-timeout", sleeper, "--timeout", 1)
    huge = write_yaml(folder / "huge.yaml", {  # 2e9 steps: planned, never preallocated
        "name": "huge", "run": {"stop": 2e6, "step": 1e-3},
        "nodes": {"r": {"block": "ramp", "parameters": {"duration": 2e6}}}})
    start("huge", huge, "--timeout", 1)
    yield folder, batch
    batch.close()


def interrupt(runs, key: str, how: str, min_rows: int = 1):
    """Signal a run once it is stuck; return (its result, seconds it took to end, rows
    committed before the signal)."""
    folder, batch = runs
    proc = batch.procs[key]
    rows = wait_until_stuck(folder / f"{key}.h5", proc, min_rows=min_rows)
    clock = time.monotonic()
    if how == "group":  # Ctrl-C in a terminal: SIGINT to the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)  # to the supervisor only (kill PID)
    done = batch.result(key)
    return done, time.monotonic() - clock, rows


@pytest.mark.parametrize(("key", "how", "t_fault"), [("ctrl-c", "group", 60.0),
                                                     ("sigterm", "parent", 2.0)])
def test_signal_ends_a_run_stuck_in_an_fmu(runs, key, how, t_fault):
    done, took, rows = interrupt(runs, key, how)
    assert done.code == 130, done.err
    assert took < GRACE + 3.0  # forwarded, waited the grace period, killed
    first, second = done.lines
    assert first == (f"cosim run: interrupted while node h was stepping from t={t_fault:g} s; "
                     f"it did not stop within {GRACE:g} s (stuck inside the model), so it "
                     "was killed")
    attrs, series = committed(runs[0] / f"{key}.h5")
    n = len(series["time"])
    assert n == rows > 0  # what was committed before the hang, whole rows
    assert second == f"partial results (status interrupted, {n} rows) are in " \
        f"{runs[0] / f'{key}.h5'}"
    assert attrs["status"] == "interrupted" and first.endswith(attrs["error"])
    assert np.array_equal(series["h.y"], series["time"]) and series["time"][-1] <= t_fault


def test_timeout_ends_a_run_stuck_in_doStep(runs):
    folder, batch = runs
    done = batch.result("timeout")
    assert done.code == 3, done.err
    first, second = done.lines
    assert first == ("cosim run: error: the run took longer than its time limit of 1 s "
                     "(--timeout) while node h was stepping from t=0.1 s and did not stop "
                     f"within {GRACE:g} s, so it was killed")
    attrs, series = committed(folder / "timeout.h5")
    assert attrs["status"] == "failed" and "time limit of 1 s" in attrs["error"]
    assert second.startswith("partial results (status failed, ")


def test_timeout_ends_a_run_stuck_in_initialization(runs):
    folder, batch = runs
    done = batch.result("init")
    assert done.code == 3, done.err
    first, _ = done.lines
    assert first == ("cosim run: error: the run took longer than its time limit of 1 s "
                     "(--timeout) while node h was being set up (instantiated and "
                     f"initialized) and did not stop within {GRACE:g} s, so it was killed")
    attrs, series = committed(folder / "init.h5")
    assert attrs["status"] == "failed" and len(series["time"]) == 0 and attrs["n_rows"] == 0


def test_ctrl_c_in_python_code_ends_gracefully_with_every_row(runs):
    folder, _ = runs
    done, took, _ = interrupt(runs, "python-ctrl-c", "group", min_rows=0)
    assert done.code == 130 and took < 3.0, done.err
    assert done.lines == [
        "cosim run: interrupted while node s was stepping from t=0.04 s",
        f"partial results (status interrupted) are in {folder / 'python-ctrl-c.h5'}"]
    attrs, series = committed(folder / "python-ctrl-c.h5")
    assert attrs["status"] == "interrupted"
    assert np.allclose(series["time"], [0.0, 0.01, 0.02, 0.03, 0.04])  # all, to the hang
    assert np.allclose(series["s.y"][1:], series["time"][1:])


def test_timeout_in_python_code_ends_gracefully_with_every_row(runs):
    folder, batch = runs
    done = batch.result("python-timeout")
    assert done.code == 3, done.err
    assert done.lines == [
        "cosim run: error: the run took longer than its time limit of 1 s (--timeout); "
        "stopped while node s was stepping from t=0.04 s",
        f"partial results (status failed) are in {folder / 'python-timeout.h5'}"]
    attrs, series = committed(folder / "python-timeout.h5")
    assert attrs["status"] == "failed" and len(series["time"]) == 5


def test_a_2e9_step_run_starts_and_stops_on_time(runs):
    """Before, memory for every planned row was allocated up front: a traceback before the
    file existed. Now the run starts, and its --timeout stops it gracefully (the compiled
    loop returns at least every 0.5 s, so the child's own handler runs)."""
    folder, batch = runs
    done = batch.result("huge")
    assert done.code == 3, done.err
    first, second = done.lines
    assert first.startswith("cosim run: error: the run took longer than its time limit of "
                            "1 s (--timeout); stopped while node r was stepping from t=")
    assert second == f"partial results (status failed) are in {folder / 'huge.h5'}"
    attrs, series = committed(folder / "huge.h5")
    n = len(series["time"])
    assert attrs["status"] == "failed" and attrs["n_rows"] == n > 1000
    assert np.allclose(series["r.y"], series["time"] / 2e6, rtol=0, atol=1e-15)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(("key", "status", "min_rows"), [("orphan", "running", 1),
                                                         ("python-orphan", "interrupted", 0)])
def test_no_run_outlives_its_supervisor(runs, key, status, min_rows):
    """The supervisor is killed (SIGKILL: no chance to forward anything). The orphaned
    run notices: stuck in Python it ends as interrupted and marks its file; stuck in C
    it kills itself after the grace period (the file keeps its flushed rows, readable
    by cosim.read in SWMR mode). No process is left behind."""
    folder, batch = runs
    proc = batch.procs[key]
    wait_until_stuck(folder / f"{key}.h5", proc, min_rows=min_rows)
    proc.kill()  # the supervisor only
    proc.communicate()
    deadline = time.monotonic() + 10
    while group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not group_alive(proc.pid), "the simulation process outlived its supervisor"
    import cosim as api
    run = api.read(folder / f"{key}.h5")
    assert run.status == status and (len(run.df) > 0 or min_rows == 0)
