"""Runners: the same results everywhere, FMUs shipped once, failures isolated.

One study runs serially, on the local process pool and on a real Dask LocalCluster on
loopback; the per-scenario results must be bit-identical. Then scenarios that raise,
turn NaN, make an FMU fail and kill their worker process are each recorded as failed
with a reason while every other scenario completes, on the pool and on Dask.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import write

import cosim.studies as cs
from cosim.errors import ConfigError
from cosim.studies.sweep import make_job

RESULTS = ["variant", "d.k", "d.x0", "load.file", "status", "error", "x_end", "x_int", "x_max",
           "t_half"]


@pytest.fixture
def equivalence_study(tmp_path, table_topology):
    return write(tmp_path / "study.yaml", {
        "topology": table_topology.name,
        "grid": {"d.x0": [0.0, 0.5]},
        "samples": {"method": "lhs", "n": 4, "seed": 3, "parameters": {
            "d.k": {"distribution": "loguniform", "low": 0.2, "high": 5.0}}},
        "variants": {"measured": {},
                     "alternative": {"parameters": {"load.file": "variants/load_b.csv"}}},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"},
                    "x_int": {"signal": "d.x", "stat": "integral"},
                    "x_max": {"signal": "d.x", "stat": "max"},
                    "t_half": {"signal": "d.x", "stat": "time_above", "threshold": 0.5}},
        "traces": {"signals": ["d.x", "load.u"], "scenarios": [0, 9]}})


@pytest.fixture(scope="module")
def dask_cluster():
    pytest.importorskip("distributed")
    from cosim.studies.dask_runner import local_cluster
    cluster = local_cluster(2)
    yield cluster
    cluster.close()


def test_same_results_on_every_runner(tmp_path, equivalence_study, fmus):
    serial = cs.sweep(equivalence_study, tmp_path / "serial.h5", workers=0)
    pool = cs.sweep(equivalence_study, tmp_path / "pool.h5", workers=2)
    dask = cs.sweep(equivalence_study, tmp_path / "dask.h5", dask_local=2)
    assert len(serial) == 16 and (serial["status"] == "completed").all()
    assert serial["worker"].eq("serial").all()
    assert pool["worker"].str.startswith("pid ").all()
    assert dask["worker"].str.startswith("tcp://127.0.0.1:").all()
    assert pool["worker"].nunique() == 2 and dask["worker"].nunique() == 2
    for other in (pool, dask):
        pd.testing.assert_frame_equal(serial[RESULTS], other[RESULTS], check_exact=True)
    # the alternative telemetry really was used
    assert not np.array_equal(serial["x_end"].iloc[:8], serial["x_end"].iloc[8:])
    for sid in (0, 9):
        traces = [cs.read_trace(tmp_path / f"{name}.h5", sid)
                  for name in ("serial", "pool", "dask")]
        assert len(traces[0]) == 101
        for trace in traces[1:]:
            pd.testing.assert_frame_equal(traces[0], trace, check_exact=True)


def test_fmus_are_shipped_once_per_job_and_cached_by_hash(tmp_path, equivalence_study,
                                                          monkeypatch, fmus):
    from cosim.fmu.archive import sha256
    study = cs.load_study(equivalence_study)
    job, tasks, assets = make_job(study)
    fmu_sha = sha256(study.topology.fmu_path("d"))
    assert assets["d (FMU)"] == fmu_sha and fmu_sha in job.assets
    assert len(job.assets) == 3  # the FMU and both telemetry files
    assert max(len(pickle.dumps(t)) for t in tasks) < 600  # tasks carry no file content
    cache = tmp_path / "cache"
    monkeypatch.setenv("COSIM_CACHE_DIR", str(cache))
    cs.sweep(study, workers=2)
    assert (cache / fmu_sha / study.topology.fmu_path("d").name).is_file()
    # (the compiled loop's kernel is cached in the same folder, under fast/)
    assert sorted(p.name for p in cache.iterdir() if p.name != "fast") == sorted(job.assets)


@pytest.fixture
def failing_study(tmp_path, hazard_topology):
    return write(tmp_path / "failing.yaml", {
        "topology": hazard_topology.name,
        "variants": {
            "ok1": {"parameters": {"d.k": 0.5}},
            "raises": {"parameters": {"h.mode": "raise"}},
            "ok2": {"parameters": {"d.k": 1.0}},
            "nan": {"parameters": {"f.nan_at": 0.5}},
            "fmu_error": {"parameters": {"f.fail_at": 0.5}},
            "killed": {"parameters": {"h.mode": "kill"}},
            "ok3": {"parameters": {"d.k": 2.0}},
        },
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"},
                    "y_max": {"signal": "f.y", "stat": "max"}}})


def check_failures(df: pd.DataFrame, killed_attempts: int = 2, chunked: bool = False
                   ) -> None:
    """``chunked``: the runner sends scenarios in chunks (Dask), and every scenario of
    the chunk whose worker died gets one more attempt, alone (dask_runner.py): one that
    shared the killer's chunk shows 2 attempts, whatever its own outcome."""
    by = df.set_index("variant")
    ok = by.loc[["ok1", "ok2", "ok3"]]
    assert (ok["status"] == "completed").all() and (ok["error"] == "").all()
    np.testing.assert_allclose(ok["x_end"], np.exp(-np.array([0.5, 1.0, 2.0])), rtol=1e-9)
    failed = by.loc[["raises", "nan", "fmu_error", "killed"]]
    assert (failed["status"] == "failed").all() and failed["x_end"].isna().all()
    assert "RuntimeError: Hazard raises on purpose" in by.at["raises", "error"]
    assert "h at t=0.49 s" in by.at["raises", "error"]
    assert by.at["nan", "error"].startswith("NonFiniteError: f.y at t=0.5 s: output is nan")
    assert "FMICallError" in by.at["fmu_error", "error"]
    assert "passes fail_at" in by.at["fmu_error", "error"]
    assert by.at["killed", "error"].startswith("WorkerDied:")
    assert by.at["killed", "attempts"] == killed_attempts
    others = by.loc[["ok1", "ok2", "ok3", "raises", "nan", "fmu_error"], "attempts"]
    assert others.isin([1, 2] if chunked else [1]).all(), others


def test_failures_are_isolated_on_the_process_pool(tmp_path, failing_study, fmus):
    df = cs.sweep(failing_study, tmp_path / "pool.h5", workers=2)
    check_failures(df)
    assert "was killed by SIGKILL" in df.set_index("variant").at["killed", "error"]
    assert cs.read_study(tmp_path / "pool.h5")["status"].tolist() == df["status"].tolist()


def test_failures_are_isolated_on_dask(tmp_path, failing_study, dask_cluster, fmus):
    df = cs.sweep(failing_study, tmp_path / "dask.h5", dask=dask_cluster.scheduler_address)
    check_failures(df, chunked=True)
    assert "Dask worker process died" in df.set_index("variant").at["killed", "error"]


def test_serial_runner_records_failures_it_can_survive(tmp_path, failing_study, fmus):
    study = cs.load_study(failing_study)
    study.scenarios = [s for s in study.scenarios if s.variant != "killed"]
    df = cs.sweep(study, workers=0)
    assert df.set_index("variant")["status"].to_dict() == {
        "ok1": "completed", "raises": "failed", "ok2": "completed", "nan": "failed",
        "fmu_error": "failed", "ok3": "completed"}


def test_missing_dask_names_the_extra(monkeypatch, equivalence_study):
    import sys
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigError, match=r"pip install cosim\[dask\]"):
        cs.sweep(equivalence_study, dask_local=2)


def test_a_worker_death_inside_a_chunk_spares_its_chunk_mates(tmp_path, hazard_topology,
                                                              dask_cluster, fmus):
    (tmp_path / "flag").touch()
    path = write(tmp_path / "chunked.yaml", {
        "topology": hazard_topology.name,
        "parameters": {"h.kill_flag": str(tmp_path / "flag"), "h.kill_value": 21.0},
        "grid": {"h.value": [float(i) for i in range(40)]},
        "outputs": {"y_end": {"signal": "h.y", "stat": "final"}}})
    df = cs.sweep(path, dask=dask_cluster.scheduler_address)
    failed = df[df["status"] == "failed"]
    assert list(failed.index) == [21] and failed.at[21, "attempts"] == 2
    assert failed.at[21, "error"].startswith("WorkerDied:")
    ok = df.drop(index=21)
    assert (ok["status"] == "completed").all() and ok["y_end"].tolist() == ok["h.value"].tolist()
    # scenario 21 ran in a chunk: its chunk-mates were retried alone, and completed
    assert (ok["attempts"] == 2).sum() >= 1 and ok["attempts"].isin([1, 2]).all()
