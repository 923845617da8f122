"""The flagship: six parameters of the datacenter twin from a day of 1-minute telemetry.

``topologies/calibration/calibrate.yaml`` fits the racks' shared C_cpu, G_cpu, C_air and
the cooler's tau, m_flow_nominal, COP to the step-test day generated with the true
values of ``make_telemetry.py`` (σ_T = 0.2 K, 1 % power noise), from the models'
defaults, by least squares on two worker processes. The truth must lie inside the
estimates' joint 95 % confidence region, every estimate within 3 standard errors
(a Bonferroni bound at 99 % for six); within 150 simulations. (Whether every one of
six estimates lies within 2 standard errors is a coin with ~77 % odds for intervals
that are exactly right; ``python -m bench calibrate`` measures their coverage.)
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.stats import chi2

import cosim
from cosim.cli.main import main
from cosim.studies.estimates import read_estimates
from tests.conftest import TOPOLOGIES

CALIBRATION = TOPOLOGIES / "calibration"
sys.path.insert(0, str(CALIBRATION))
from make_telemetry import TRUE  # noqa: E402


@pytest.fixture(scope="module")
def flagship(tmp_path_factory, fmus):
    out = tmp_path_factory.mktemp("flagship")
    result = cosim.calibrate(CALIBRATION / "calibrate.yaml", out / "calib.h5", workers=2,
                             params=out / "params.yaml")
    return out, result


def test_recovers_the_true_parameters(flagship):
    _, r = flagship
    truth = np.array([TRUE[n] for n in r.names])
    assert r.names == ["C_cpu", "G_cpu", "C_air", "tau", "m_flow_nominal", "COP"]
    assert r.info["converged"], r.info["message"]
    assert r.n_simulations <= 150
    d = r.value - truth
    assert np.all(np.abs(d) < 3 * r.std_error), d / r.std_error
    assert d @ np.linalg.solve(r.cov, d) < chi2.ppf(0.95, len(truth))
    assert np.all((r.ci_low < r.value) & (r.value < r.ci_high))
    assert r.identifiability.ok and r.identifiability.condition_number < 1e8
    assert r.targets[0] == [f"rack{i}.C_cpu" for i in range(1, 5)]  # tied across racks
    assert abs(r.info["s2"] - 1.0) < 0.05  # the stated noise is the noise there is
    hold = r.holdout
    assert len(hold) == 10 and hold["passed"].all()  # ASHRAE Guideline 14, hourly
    assert (hold["n"] == 361).all()  # 18 h .. 24 h, one a minute


def test_outputs_feed_runs_and_uncertainty_propagation(flagship, capsys):
    out, r = flagship
    est = read_estimates(out / "calib.h5")
    assert est.names == r.names and est.method == "least-squares"
    np.testing.assert_array_equal(est.value, r.value)
    np.testing.assert_array_equal(est.covariance, r.cov)
    assert est.targets[3] == ["cooler.tau"]
    text = (out / "params.yaml").read_text()
    assert "rack3.G_cpu: " in text and "(1 s.e.), 95 %" in text
    assert main(["run", str(CALIBRATION / "datacenter_steps.yaml"), "--params",
                 str(out / "params.yaml"), "-o", str(out / "run.h5"), "--no-progress"]) == 0
    run = cosim.read(out / "run.h5").df
    run = run[~run.index.duplicated(keep="last")]
    for i, s in enumerate(r.fit.signals):  # the run with the estimates is the fitted model
        np.testing.assert_allclose(run[s].to_numpy(), r.fit.model[i], rtol=0, atol=1e-9)
    again = cosim.calibration.read_calibration(out / "calib.h5")
    np.testing.assert_array_equal(again.fit.model, r.fit.model)
    assert again.holdout.equals(r.holdout)
