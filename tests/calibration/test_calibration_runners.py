"""The same calibration on every runner: bit-identical estimates and evaluations.

Serially, on a local process pool of two workers and on a real Dask LocalCluster
(loopback) of two workers: outcomes are taken in point order, so the optimizer's path
cannot depend on which worker finished first; each worker keeps one Simulation for
the whole calibration (one session) and resets it per evaluation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cosim

COMPARE = ["stage", "cost", "status", "k", "x0"]


def test_identical_on_serial_pool_and_dask(decay_case, fmus):
    pytest.importorskip("distributed")
    folder, spec = decay_case
    spec = {**spec, "method": {"name": "least-squares", "multistart": 3}}
    runs = {
        "serial": cosim.calibrate(spec, folder / "serial.h5", base_dir=folder, workers=0),
        "pool": cosim.calibrate(spec, folder / "pool.h5", base_dir=folder, workers=2),
        "dask": cosim.calibrate(spec, folder / "dask.h5", base_dir=folder, dask_local=2),
    }
    ref = runs["serial"]
    assert ref.info["converged"] and len(ref.info["starts"]) == 3
    for name, r in runs.items():
        np.testing.assert_array_equal(r.value, ref.value, err_msg=name)
        np.testing.assert_array_equal(r.cov, ref.cov, err_msg=name)
        np.testing.assert_array_equal(r.fit.model, ref.fit.model, err_msg=name)
        pd.testing.assert_frame_equal(r.evaluations[COMPARE], ref.evaluations[COMPARE],
                                      check_exact=True)
    workers = runs["pool"].evaluations["worker"]
    assert workers.str.startswith("pid ").all() and workers.nunique() == 2
    assert runs["dask"].evaluations["worker"].str.startswith("tcp://127.0.0.1:").all()
    # the files hold the same estimates (the estimates contract)
    from cosim.studies.estimates import read_estimates
    a, b = read_estimates(folder / "pool.h5"), read_estimates(folder / "dask.h5")
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.covariance, b.covariance)
