"""Interrupted studies keep what finished; ``--resume`` runs only what is missing."""

from __future__ import annotations

import signal
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import write

import cosim.studies as cs
from cosim.cli.main import main
from cosim.errors import ConfigError

COMPARE = ["variant", "h.value", "status", "error", "x_end", "y_end"]


@pytest.fixture
def study_file(tmp_path, hazard_topology):
    """Ten scenarios; scenario 6 kills its process while ``flag`` exists."""
    return write(tmp_path / "study.yaml", {
        "topology": hazard_topology.name,
        "parameters": {"h.kill_flag": str(tmp_path / "flag"), "h.kill_value": 6.0},
        "grid": {"h.value": [float(i) for i in range(10)]},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"},
                    "y_end": {"signal": "h.y", "stat": "final"}},
        "traces": {"signals": ["h.y"], "scenarios": [2, 8]}})


def test_killed_study_resumes_without_duplicates(tmp_path, study_file, capsys, fmus):
    out = tmp_path / "study.h5"
    (tmp_path / "flag").touch()
    code = ("import cosim.studies as cs, sys; "
            "cs.sweep(sys.argv[1], sys.argv[2], workers=0, flush_seconds=0)")
    proc = subprocess.run([sys.executable, "-c", code, str(study_file), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr  # the whole study was killed
    partial = cs.read_study(out)
    assert partial.attrs["status"] == "running"  # the writer never finished
    assert partial["status"].tolist() == ["completed"] * 6 + ["pending"] * 4
    assert cs.read_trace(out, 2)["h.y"].eq(2.0).all()

    (tmp_path / "flag").unlink()
    code = main(["sweep", str(study_file), "-o", str(out), "--resume", "--workers", "2",
                 "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0 and "10 scenarios: 10 completed, 0 failed" in printed
    with h5py.File(out, "r") as f:
        ids = f["results/scenario"][()]
        assert sorted(ids) == list(range(10)) and f.attrs["status"] == "completed"
    resumed = cs.read_study(out)
    assert resumed["worker"].tolist()[:6] == ["serial"] * 6  # kept, not run again
    fresh = cs.sweep(study_file, workers=0)
    pd.testing.assert_frame_equal(resumed[COMPARE], fresh[COMPARE], check_exact=True)
    assert cs.read_trace(out, 8)["h.y"].eq(8.0).all()

    # nothing left to do: a second resume runs nothing and changes nothing
    assert main(["sweep", str(study_file), "-o", str(out), "--resume", "--no-progress"]) == 0
    with h5py.File(out, "r") as f:
        assert len(f["results/scenario"]) == 10


def test_ctrl_c_closes_the_file_as_interrupted(tmp_path, study_file, fmus):
    out = tmp_path / "study.h5"
    interrupted = write(tmp_path / "interrupted.yaml", {
        **yaml.safe_load(study_file.read_text()),
        "variants": {"a": {}, "b": {"parameters": {"h.mode": "interrupt"}}}})
    with pytest.raises(KeyboardInterrupt):  # raised by scenario 10, the first of "b"
        cs.sweep(interrupted, out, workers=0, flush_seconds=60)
    df = cs.read_study(out)
    assert df.attrs["status"] == "interrupted"
    assert df["status"].tolist() == ["completed"] * 10 + ["pending"] * 10


def test_an_existing_file_is_never_silently_replaced(tmp_path, study_file, fmus):
    out = tmp_path / "study.h5"
    cs.sweep(study_file, out, workers=0)
    with pytest.raises(ConfigError, match="exists: add --resume .* or --overwrite"):
        cs.sweep(study_file, out, workers=0)
    changed = write(tmp_path / "changed.yaml", {
        **yaml.safe_load(study_file.read_text()), "grid": {"h.value": [0.0, 1.0]},
        "traces": None})
    with pytest.raises(ConfigError, match="holds results of a different study: its design"):
        cs.sweep(changed, out, resume=True, workers=0)
    df = cs.sweep(changed, out, overwrite=True, workers=0)
    assert len(df) == 2 and np.array_equal(df["y_end"], [0.0, 1.0])
