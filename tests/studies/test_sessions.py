"""Runner sessions: batches of tasks decided one after the other, on workers kept up.

A calibration's optimizer asks for a few runs, looks at them, asks for more: a session
keeps the workers (and their prepared job and Simulation) between batches, on every
runner, and gives the same outcomes as separate runs would.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from cosim.studies.runners import ProcessPoolRunner, SerialRunner
from cosim.studies.sweep import job_for
from cosim.studies.worker import Task
from cosim.topology import load


@pytest.fixture
def job(tmp_path, fmu):
    path = tmp_path / "decay.yaml"
    path.write_text(yaml.safe_dump({
        "name": "decay", "run": {"stop": 1.0, "step": 0.01},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}}}}))
    return job_for(load(path), ["d.x"], ["d.x"], name="sessions")[0]


def batches(runner, job) -> list[list]:
    out = []
    with runner.session(job) as session:
        for b in range(3):
            tasks = [Task(10 * b + i, {"d.k": 0.5 + b + 0.1 * i}, {}, trace=True)
                     for i in range(3)]
            out.append(sorted(session.run(tasks), key=lambda o: o.id))
    return out


@pytest.mark.parametrize("make", [SerialRunner, lambda: ProcessPoolRunner(2)],
                         ids=["serial", "pool"])
def test_sessions_keep_their_workers_and_give_exact_results(job, make, fmus):
    # (the Dask session: tests/calibration/test_runners.py)
    runs = batches(make(), job)
    workers = {o.worker for batch in runs for o in batch}
    assert len(workers) == (1 if make is SerialRunner else 2)  # the same ones throughout
    for batch in runs:
        for o in batch:
            k = o.id // 10 + 0.5 + 0.1 * (o.id % 10)
            t, values = o.trace
            assert o.status == "completed"
            np.testing.assert_allclose(values["d.x"], np.exp(-k * t), rtol=1e-9, atol=1e-12)
