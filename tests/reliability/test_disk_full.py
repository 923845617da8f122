"""A full disk keeps what was written: readable up to the last complete flush, marked
failed with the error, exit 3, one message, no segfault at exit.

Two ways to fill the output's file system: a file-size limit (``RLIMIT_FSIZE``, with
SIGXFSZ ignored so that writes fail with EFBIG instead of killing the process; needs no
privileges) and, where mounting is permitted, a tiny tmpfs (ENOSPC).
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

import numpy as np
import pytest
from reliability_helpers import Batch, committed, env, write_yaml

import cosim as api

LIMIT = 300_000  # bytes


def ramps(folder):
    """Two ramps over 2000 s in 0.01 s steps: 200k rows, far more than fit in LIMIT."""
    return write_yaml(folder / "ramps.yaml", {
        "name": "ramps", "run": {"stop": 2000.0, "step": 0.01},
        "nodes": {"a": {"block": "ramp", "parameters": {"height": 1.0, "duration": 2000}},
                  "b": {"block": "ramp", "parameters": {"height": 2.0, "duration": 2000}}}})


def check_kept(out, reason: str, done) -> None:
    assert done.code == 3, done.err  # not -11 (SIGSEGV at exit), not 2
    first, second = done.lines
    assert first.startswith(f"cosim run: error: {out}: cannot write rows ") and \
        first.endswith(reason)
    assert second == f"partial results (status failed) are in {out}"
    attrs, series = committed(out)  # opens plainly: not left flagged as open
    n = len(series["time"])
    assert attrs["status"] == "failed" and attrs["error"] == first.split("error: ", 1)[1]
    assert attrs["n_rows"] == n > 0
    t = series["time"]  # whole rows up to the last complete flush, values intact
    assert np.allclose(t, np.arange(n) * 0.01, rtol=0, atol=1e-9)
    assert np.allclose(series["a.y"], t / 2000, rtol=0, atol=1e-12)
    assert np.allclose(series["b.y"], 2 * t / 2000, rtol=0, atol=1e-12)
    run = api.read(out)
    assert run.status == "failed" and len(run.df) == n


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Both CLI runs at once: one under a file-size limit, one on a tiny tmpfs (when this
    machine lets us mount one; else ``tiny`` is None)."""
    folder = tmp_path_factory.mktemp("full")
    topo = ramps(folder)
    tiny = folder / "tiny"
    tiny.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={LIMIT}", "tmpfs",
                           str(tiny)], capture_output=True, text=True)
    batch = Batch()
    batch.start("limit", "run", topo, "-o", folder / "out.h5", "--no-progress",
                preexec=_limit_file_size)
    api_run = subprocess.Popen([sys.executable, "-c", api_script(topo, folder / "api.h5")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env(), preexec_fn=_limit_file_size)
    if made.returncode == 0:
        batch.start("tmpfs", "run", topo, "-o", tiny / "out.h5", "--no-progress")
    yield folder, batch, (tiny if made.returncode == 0 else None), made.stderr.strip(), api_run
    batch.close()
    if api_run.poll() is None:
        api_run.kill()
        api_run.communicate()
    if made.returncode == 0:
        subprocess.run(["umount", "-l", str(tiny)], check=False)


def test_file_size_limit(runs):
    folder, batch, _, _, _ = runs
    out = folder / "out.h5"
    check_kept(out, f"File too large: the file would pass this process's file-size limit "
                    f"(ulimit -f) of {LIMIT} bytes", batch.result("limit"))
    assert out.stat().st_size <= LIMIT


def test_full_tmpfs(runs):
    _, batch, tiny, why, _ = runs
    if tiny is None:
        pytest.skip(f"cannot mount a tmpfs here ({why}); the file-size limit test covers "
                    "a full disk")
    check_kept(tiny / "out.h5", "No space left on device (errno 28)", batch.result("tmpfs"))


def api_script(topo, out) -> str:
    return ("import cosim, sys\n"
            "try:\n"
            f"    cosim.run({str(topo)!r}, output={str(out)!r})\n"
            "except cosim.ResultsError as err:\n"
            "    print(type(err).__name__, err.exit_code)\n")


def test_python_api_on_a_full_disk(runs):
    """cosim.run in-process: ResultsWriteError (exit code 3), the file marked, and the
    interpreter exits normally (HDF5 crashed at exit after a failed write before)."""
    folder, _, _, _, proc = runs
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == "", err
    assert out == "ResultsWriteError 3\n"
    attrs, series = committed(folder / "api.h5")
    assert attrs["status"] == "failed" and "ulimit -f" in attrs["error"]
    assert attrs["n_rows"] == len(series["time"]) > 0
