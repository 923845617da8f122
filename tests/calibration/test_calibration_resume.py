"""Crash safety: a calibration killed by SIGKILL resumes without running a finished
simulation again, and a worker process killed mid-evaluation loses nothing.

A Tripwire block (``calibration_tripwire.py``) beside the Decay FMU counts every run in a file and
kills its process at a chosen run while a flag file exists.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
from calibration_support import HERE, write

import cosim
from cosim.calibration.journal import read_journal
from cosim.cli.main import main
from cosim.errors import ConfigError

TRIPWIRE = f"{HERE / 'calibration_tripwire.py'}:Tripwire"
COMPARE = ["stage", "cost", "status", "k", "x0"]


@pytest.fixture
def tripwire_case(decay_case):
    folder, spec = decay_case
    counter, flag = folder / "runs.txt", folder / "flag"
    write(folder / "decay.yaml", {
        "name": "decay", "run": {"stop": 5.0, "step": 0.01},
        "nodes": {"d": {"fmu": (yaml_fmu := _fmu_of(folder)), "parameters": {"k": 1.0,
                                                                             "x0": 1.0}},
                  "w": {"block": TRIPWIRE, "parameters": {
                      "counter": str(counter), "kill_at": 12, "flag": str(flag)}}}})
    assert yaml_fmu
    calib = write(folder / "calibrate.yaml", {**spec, "name": "decay_fit"})
    return folder, calib, counter, flag


def _fmu_of(folder):
    import yaml
    return yaml.safe_load((folder / "decay.yaml").read_text())["nodes"]["d"]["fmu"]


def test_sigkill_then_resume_runs_only_what_was_missing(tripwire_case, capsys, fmus):
    folder, calib, counter, flag = tripwire_case
    reference = cosim.calibrate(calib, folder / "reference.h5", workers=0)
    total = reference.n_simulations
    assert total > 15
    counter.unlink()
    flag.touch()
    out = folder / "calib.h5"
    code = ("import cosim, sys; cosim.calibrate(sys.argv[1], sys.argv[2], workers=0, "
            "flush_seconds=0)")
    proc = subprocess.run([sys.executable, "-c", code, str(calib), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    done = read_journal(out)
    assert len(done) == 11  # every run before the 12th was journaled
    with h5py.File(out, "r", swmr=True) as f:  # as a crashed writer left it
        assert f.attrs["status"] == "running"
    flag.unlink()
    assert main(["calibrate", str(calib), "-o", str(out), "--resume", "--workers", "0",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"{total} simulations (11 reused)" in printed
    assert int(counter.read_text()) == 12 + total - 11  # nothing finished ran again
    resumed = cosim.calibration.read_calibration(out)
    np.testing.assert_array_equal(resumed.value, reference.value)
    np.testing.assert_array_equal(resumed.cov, reference.cov)
    pd.testing.assert_frame_equal(resumed.evaluations[COMPARE],
                                  reference.evaluations[COMPARE], check_exact=True)
    assert resumed.evaluations.index.is_unique

    # finished: resuming again runs nothing
    before = int(counter.read_text())
    assert main(["calibrate", str(calib), "-o", str(out), "--resume", "--workers", "0",
                 "--no-progress"]) == 0
    assert int(counter.read_text()) == before


def test_a_killed_worker_loses_no_evaluation(tripwire_case, fmus):
    folder, calib, counter, flag = tripwire_case
    reference = cosim.calibrate(calib, workers=0)
    counter.unlink()
    flag.touch()  # the 12th run kills the pool worker running it, once
    r = cosim.calibrate(calib, folder / "pool.h5", workers=2)
    np.testing.assert_array_equal(r.value, reference.value)
    pd.testing.assert_frame_equal(r.evaluations[COMPARE], reference.evaluations[COMPARE],
                                  check_exact=True)
    assert int(counter.read_text()) == reference.n_simulations + 1  # one run again
    assert r.evaluations["status"].eq("completed").all()


def test_an_existing_file_is_never_silently_replaced(decay_case, fmus):
    folder, spec = decay_case
    cosim.calibrate(spec, folder / "c.h5", base_dir=folder, workers=0)
    with pytest.raises(ConfigError, match="exists: add --resume .* or --overwrite"):
        cosim.calibrate(spec, folder / "c.h5", base_dir=folder, workers=0)
    changed = {**spec, "noise": "ar1"}
    with pytest.raises(ConfigError, match="different calibration"):
        cosim.calibrate(changed, folder / "c.h5", base_dir=folder, workers=0, resume=True)
    r = cosim.calibrate(changed, folder / "c.h5", base_dir=folder, workers=0,
                        overwrite=True)
    assert r.info["n_reused"] == 0


def test_out_of_budget_resumes_with_a_larger_one(decay_case, fmus):
    folder, spec = decay_case
    full = cosim.calibrate(spec, base_dir=folder, workers=0)
    short = cosim.calibrate({**spec, "budget": 8}, folder / "c.h5", base_dir=folder,
                            workers=0)
    assert not short.info["converged"] and short.n_simulations <= 8
    more = cosim.calibrate(spec, folder / "c.h5", base_dir=folder, workers=0, resume=True)
    assert more.info["n_reused"] == short.n_simulations
    assert more.n_simulations == full.n_simulations
    np.testing.assert_array_equal(more.value, full.value)
