"""A scenario that overruns the study's ``timeout:`` is recorded as failed with the reason;
the sweep goes on and every finished scenario is saved. Stuck in C (Hostile fault 4),
its worker process is killed and replaced (process pool) or its Dask worker restarted;
stuck in Python (the Sleeper block), SIGALRM stops it inside the worker."""

from __future__ import annotations

import time

import pytest
from reliability_helpers import GRACE, HERE, write_yaml

import cosim.studies as cs
from cosim.cli.main import main

STUCK = ("RunTimeout: the scenario took longer than its time limit of 1 s (timeout:); it "
         "did not stop (stuck inside the model), so its {} was killed and replaced")
SLOW = "RunTimeout: the scenario took longer than its time limit of 1 s (timeout:)"


@pytest.fixture
def study(tmp_path, fmu):
    write_yaml(tmp_path / "topo.yaml", {
        "name": "stuck", "run": {"stop": 1.0, "step": 0.01},
        "nodes": {"h": {"fmu": str(fmu("Hostile")), "parameters": {"t_fault": 0.1}},
                  "s": {"block": f"{HERE / 'misbehaving_blocks.py'}:Sleeper"}}})

    def make(*variants: str, timeout: float | None = 1.0):
        chosen = {"ok": {}, "c-hang": {"parameters": {"h.fault": 4}},
                  "py-hang": {"parameters": {"s.t_hang": 0.05}}}
        data = {"name": "stuck", "topology": "topo.yaml",
                "variants": {v: chosen[v] for v in variants},
                "outputs": {"y_end": {"signal": "h.y", "stat": "final"}}}
        if timeout is not None:
            data["timeout"] = timeout
        return write_yaml(tmp_path / "study.yaml", data)
    return make


def check(df, expected: dict[str, str]) -> None:
    by_variant = df.set_index("variant")
    for variant, error in expected.items():
        row = by_variant.loc[variant]
        if error:
            assert row["status"] == "failed" and row["error"] == error, row["error"]
        else:
            assert row["status"] == "completed" and row["y_end"] == pytest.approx(1.0)
    assert df.attrs["status"] == "completed"


def test_process_pool_via_the_cli(tmp_path, study, capsys):
    out = tmp_path / "study.h5"
    clock = time.monotonic()
    code = main(["sweep", str(study("ok", "c-hang", "py-hang", timeout=None)), "-o", str(out),
                 "--workers", "2", "--timeout", "1", "--no-progress"])
    wall = time.monotonic() - clock
    captured = capsys.readouterr()
    assert code == 0 and "3 scenarios: 1 completed, 2 failed" in captured.out
    assert "Traceback" not in captured.err
    check(cs.read_study(out), {"ok": "", "c-hang": STUCK.format("worker process"),
                               "py-hang": SLOW})
    assert wall < 1 + GRACE + 15  # not blocked by the stuck scenario


def test_serial_runner_stops_python_code(tmp_path, study):
    df = cs.sweep(study("ok", "py-hang"), tmp_path / "serial.h5", workers=0)
    check(df, {"ok": "", "py-hang": SLOW})


def test_dask_worker_restarted(tmp_path, study):
    pytest.importorskip("distributed")
    df = cs.sweep(study("ok", "c-hang"), tmp_path / "dask.h5", dask_local=1)
    check(df, {"ok": "", "c-hang": STUCK.format("Dask worker")})
