"""Helpers of the reliability corpus (see conftest.py): CLI subprocesses, waiting for a
run to be stuck, hostile topologies, reading a result file plainly.

The corpus: hostile inputs and faults, each asserting the exit code, the
single message (never a traceback) and what the output file holds afterwards.

CLI cases whose point is the process (crashes, signals, kills, a full disk, concurrent
writers) run ``python -m cosim`` in a subprocess; input checks run ``cosim.cli.main``
in-process (same code path, same exit codes, a fraction of the time). Grace periods are
short (``COSIM_GRACE_SECONDS``) so that the whole folder stays fast.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GRACE = 0.5


@dataclass
class Done:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: this checkout first, short grace period."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "COSIM_GRACE_SECONDS": str(GRACE), **extra}


def cosim(*args: object, cwd: Path | None = None, timeout: float = 120,
          preexec=None, **extra: str) -> Done:
    """``python -m cosim ARGS`` to completion; no traceback allowed on stderr."""
    proc = subprocess.run([sys.executable, "-m", "cosim", *map(str, args)],
                          capture_output=True, text=True, env=env(**extra), cwd=cwd,
                          timeout=timeout, preexec_fn=preexec)
    assert "Traceback" not in proc.stderr, proc.stderr
    return Done(proc.returncode, proc.stdout, proc.stderr)


def start(*args: object, cwd: Path | None = None, preexec=None,
          **extra: str) -> subprocess.Popen:
    """``python -m cosim ARGS`` in its own session (a terminal's foreground group)."""
    def setup():
        os.setsid()
        if preexec is not None:
            preexec()
    return subprocess.Popen([sys.executable, "-m", "cosim", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(**extra), cwd=cwd, preexec_fn=setup)


def finish(proc: subprocess.Popen, timeout: float = 60) -> Done:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"cosim did not end within {timeout} s:\n{err}") from None
    assert "Traceback" not in err, err
    return Done(proc.returncode, out, err)


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until ``path`` is a result file being written (created, in SWMR mode)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"cosim ended early ({proc.returncode}): "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        try:
            with h5py.File(path, "r", swmr=True) as f:
                if f.attrs.get("status") == "running":
                    return
        except (OSError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"{path} was not created within {timeout} s")


def wait_until_stuck(path: Path, proc: subprocess.Popen, quiet: float = 1.0,
                     timeout: float = 60, min_rows: int = 1) -> int:
    """Until the result file has ``min_rows`` rows and no new ones for ``quiet`` seconds
    (the run is stuck); return the rows committed."""
    wait_for_file(path, proc, timeout)
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"cosim ended early ({proc.returncode})"
        try:
            with h5py.File(path, "r", swmr=True) as f:
                n = f["time"].shape[0]
        except (OSError, KeyError):
            n = last
        if n != last:
            last, since = n, time.monotonic()
        elif n >= min_rows and time.monotonic() - since >= quiet:
            return n
        time.sleep(0.05)
    raise AssertionError(f"{path}: the run did not get stuck within {timeout} s")


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


#: the environment that keeps a run on the Python loop (the compiled loop calls Python
#: blocks from the kernel otherwise)
PYTHON_LOOP = {"COSIM_FAST": "0"}


def hostile_topology(folder: Path, fmus: dict, name: str, fault: int = 0,
                     t_fault: float = 1.0, *, version: int = 2, python: bool = False,
                     stop: float = 1e4, step: float = 1e-4, timeout: float | None = None
                     ) -> Path:
    """A topology file: a ramp block and the Hostile FMU (``y = t``, ``fault`` after
    ``t_fault``); ``python`` adds a Python block (run it with :data:`PYTHON_LOOP` in the
    environment, so that the Python loop runs instead of the compiled one)."""
    nodes = {"r": {"block": "ramp", "parameters": {"height": 1.0, "duration": stop}},
             "h": {"fmu": str(fmus[("Hostile", version)]),
                   "parameters": {"fault": fault, "t_fault": t_fault}}}
    data = {"name": name, "run": {"stop": stop, "step": step}, "nodes": nodes}
    if python:
        nodes["p"] = {"block": f"{HERE / 'misbehaving_blocks.py'}:Passthrough"}
        data["connections"] = [{"from": "h.y", "to": "p.u", "check_units": False}]
    return write_yaml(folder / f"{name}.yaml", data)


def committed(path: Path) -> tuple[dict, dict]:
    """``(root attributes, {series: array})`` read with a *plain* h5py open (no SWMR):
    what any HDF5 tool sees."""
    with h5py.File(path, "r") as f:
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        series = {name: ds[()] for name, ds in f.items()
                  if isinstance(ds, h5py.Dataset) and ds.ndim == 1}
    return attrs, series


class Batch:
    """CLI processes started together (they are independent; on two cores their start-up
    overlaps), each collected by the test that checks it."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.done: dict[str, Done] = {}

    def start(self, key: str, *args: object, preexec=None, **extra: str) -> None:
        self.procs[key] = start(*args, preexec=preexec, **extra)

    def result(self, key: str, timeout: float = 120) -> Done:
        if key not in self.done:
            self.done[key] = finish(self.procs[key], timeout)
        return self.done[key]

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
