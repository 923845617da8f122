"""Sampling parameters from a calibration's estimates file (the documented contract)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from cosim.errors import ResultsError
from cosim.studies import load_study, sweep
from cosim.studies.estimates import read_estimates, write_estimates
from cosim.studies.sampling import sample
from cosim.studies.schema import SamplesSpec
from cosim.studies.study import StudyError
from tests.studies.conftest import write

COV = np.array([[0.04, 0.018], [0.018, 0.09]])  # std 0.2 and 0.3, correlation 0.3


@pytest.fixture
def estimates(tmp_path):
    path = tmp_path / "calib.h5"
    posterior = np.random.default_rng(0).multivariate_normal([1.5, 0.5], COV, 500)
    write_estimates(path, ["k", "x0"], [1.5, 0.5], COV, targets=[["d.k"], ["d.x0"]],
                    unit=["1/s", ""], low=[0.0, -np.inf], posterior=posterior,
                    method="least-squares")
    return path


def test_the_file_layout_is_the_documented_contract(estimates):
    with h5py.File(estimates, "r") as f:
        assert f.attrs["cosim_estimates_version"] == 1
        assert [v.decode() for v in f["estimates/name"][()]] == ["k", "x0"]
        assert f["estimates/targets"][0].decode() == '["d.k"]'
        np.testing.assert_array_equal(f["estimates/std_error"][()], [0.2, 0.3])
        assert f["covariance"].shape == (2, 2) and f["posterior/samples"].shape == (500, 2)
    est = read_estimates(estimates)
    assert est.names == ["k", "x0"] and est.unit == ["1/s", ""] and est.method == "least-squares"


def test_covariance_sampling_reproduces_mean_and_covariance(estimates):
    est = read_estimates(estimates)
    spec = SamplesSpec(method="montecarlo", n=20000, seed=1,
                       calibration={"file": str(estimates)})
    pts = sample(spec, est)
    x = np.array([[p["d.k"], p["d.x0"]] for p in pts])
    se = np.sqrt(np.diag(COV) / len(x))
    assert np.all(np.abs(x.mean(axis=0) - [1.5, 0.5]) <= 3 * se)
    np.testing.assert_allclose(np.cov(x.T), COV, rtol=0.05)
    assert (x[:, 0] >= 0).all()  # low bound of k


def test_posterior_sampling_takes_rows_of_the_samples(estimates):
    est = read_estimates(estimates)
    spec = SamplesSpec(method="lhs", n=50, seed=2,
                       calibration={"file": str(estimates), "use": "posterior"})
    rows = {tuple(r) for r in est.posterior}
    assert all((p["d.k"], p["d.x0"]) in rows for p in sample(spec, est))


def test_a_tied_estimate_sets_every_target(tmp_path):
    path = tmp_path / "tied.h5"
    write_estimates(path, ["C"], [4e5], np.array([[1e8]]),
                    targets=[["rack1.C_cpu", "rack2.C_cpu"]])
    spec = SamplesSpec(method="montecarlo", n=5, calibration={"file": str(path)})
    for p in sample(spec, read_estimates(path)):
        assert p["rack1.C_cpu"] == p["rack2.C_cpu"]


def test_a_study_draws_from_the_file_and_runs(tmp_path, decay_topology, estimates):
    study = write(tmp_path / "s.yaml", {
        "topology": "decay.yaml",
        "samples": {"method": "lhs", "n": 6, "seed": 3,
                    "calibration": {"file": "calib.h5", "parameters": ["k"]}},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"}}})
    df = sweep(load_study(study), workers=0)
    assert (df["status"] == "completed").all() and len(df) == 6
    assert (df["d.x0"] == 0.5).all() and df["d.k"].nunique() == 6
    # Decay with u = 0: x(1) = x0 exp(-k)
    np.testing.assert_allclose(df["x_end"], 0.5 * np.exp(-df["d.k"]), rtol=2e-2)


def test_bad_estimates_files_name_the_problem(tmp_path, decay_topology, estimates):
    other = tmp_path / "plain.h5"
    with h5py.File(other, "w"):
        pass
    with pytest.raises(ResultsError, match="not a file of parameter estimates"):
        read_estimates(other)
    study = write(tmp_path / "s.yaml", {
        "topology": "decay.yaml",
        "samples": {"method": "lhs", "n": 2, "calibration": {"file": "calib.h5",
                                                             "parameters": ["kk"]}},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"}}})
    with pytest.raises(StudyError, match=r"s\.yaml:\d+: samples\.calibration: no estimate 'kk'"):
        load_study(study)
