"""Bayesian calibration (emcee): posterior around the truth, converged chains, and on a
near-linear problem intervals that agree with least squares'.

Decay with small noise (σ = 0.005, stated) over 101 points is close to linear in
(ln k, x0) around the optimum: there the posterior is Gaussian and its equal-tailed
95 % interval must match the least-squares interval (both from the same data).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from calibration_support import TRUE_K, TRUE_X0, decay_truth, write, write_csv

import cosim
from cosim.calibration import read_calibration
from cosim.studies.estimates import read_estimates
from tests.browser import check_page

pytest.importorskip("emcee")


def test_posterior_covers_the_truth_and_matches_least_squares(tmp_path, fmu, fmus, browser):
    write(tmp_path / "decay.yaml", {
        "name": "decay", "run": {"stop": 5.0, "step": 0.05},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}}}})
    t = np.round(np.arange(0, 5.0 + 1e-9, 0.05), 10)
    y = decay_truth(t) + 0.005 * np.random.default_rng(3).standard_normal(t.size)
    write_csv(tmp_path / "telemetry.csv", t, {"x": y})
    spec = {"topology": "decay.yaml",
            "telemetry": {"file": "telemetry.csv",
                          "signals": {"d.x": {"column": "x", "sigma": 0.005}}},
            "parameters": {"k": {"targets": "d.k", "initial": 1.0, "bounds": [0.01, 10],
                                 "scale": "log"},
                           "x0": {"targets": "d.x0", "initial": 1.0, "bounds": [0.1, 10]}},
            "method": {"name": "bayesian", "walkers": 8, "steps": 500, "burn": 100},
            "budget": 5000, "seed": 1}
    r = cosim.calibrate(spec, tmp_path / "calib.h5", base_dir=tmp_path, workers=0,
                        report=tmp_path / "calib.html")
    truth = np.array([TRUE_K, TRUE_X0])
    post = r.posterior
    assert post.shape == (8 * 400, 2)
    mean, sd = post.mean().to_numpy(), post.std().to_numpy()
    assert np.all(np.abs(mean - truth) < 2 * sd), (mean, sd)
    mc = r.info["mcmc"]
    assert np.all(np.asarray(mc["rhat"]) < 1.05), mc["rhat"]
    assert 0.2 < mc["acceptance"] < 0.8
    assert mc["tau_ratio"] > 20  # kept steps / autocorrelation time (reported in full)
    ls = r.info["least_squares"]
    width_ls = np.asarray(ls["ci_high"]) - np.asarray(ls["ci_low"])
    width_post = r.ci_high - r.ci_low
    assert np.all(np.abs(width_post / width_ls - 1) < 0.15), (width_post, width_ls)
    assert np.all(np.abs(r.value - np.asarray(ls["value"])) < 0.25 * np.asarray(
        ls["std_error"]))
    assert r.n_simulations <= 5000
    # the estimates file carries the posterior (uncertainty propagation samples it)
    est = read_estimates(tmp_path / "calib.h5")
    assert est.method == "bayesian" and est.posterior.shape == (3200, 2)
    np.testing.assert_array_equal(est.posterior, post.to_numpy())
    page = (tmp_path / "calib.html").read_text()
    assert "posterior samples" in page and "split R-hat" in page
    assert "Least squares (the chain's starting point)" in page
    check_page(browser, tmp_path / "calib.html", min_images=3)  # the corner plot too
    again = read_calibration(tmp_path / "calib.h5")
    assert len(again.provenance["topology_sha256"]) == 64
    assert list(again.provenance["telemetry"].values())[0] == hashlib.sha256(
        (tmp_path / "telemetry.csv").read_bytes()).hexdigest()
    np.testing.assert_array_equal(again.value, r.value)
    assert again.info["mcmc"]["walkers"] == 8


def test_unknown_noise_level_widens_the_posterior_as_students_t(tmp_path, fmu, fmus):
    """x(t) = x0 e^(-k t) with k known is linear in x0; with a flat prior on x0 and the
    noise variance integrated out under Jeffreys' prior, the posterior of x0 is exactly
    Student's t with n - 1 degrees of freedom around the least-squares estimate, scaled
    by its standard error: standard deviation SE sqrt(ν / (ν - 2)). With n = 8 points
    that is 1.183 SE, where a fixed noise level would give 1.000 SE."""
    write(tmp_path / "decay.yaml", {
        "name": "decay", "run": {"stop": 3.5, "step": 0.5},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": TRUE_K, "x0": 1.0}}}})
    t = np.arange(8) * 0.5
    y = decay_truth(t) + 0.02 * np.random.default_rng(11).standard_normal(t.size)
    write_csv(tmp_path / "telemetry.csv", t, {"x": y})
    spec = {"topology": "decay.yaml",
            "telemetry": {"file": "telemetry.csv",
                          "signals": {"d.x": {"column": "x", "sigma": 0.02}}},
            "parameters": {"x0": {"targets": "d.x0", "initial": 1.0, "bounds": [0.0, 10.0]}},
            "method": {"name": "bayesian", "walkers": 12, "steps": 700, "burn": 100},
            "budget": 10000, "seed": 2}
    r = cosim.calibrate(spec, tmp_path / "calib.h5", base_dir=tmp_path, workers=0)
    ls = r.info["least_squares"]
    se, value = float(ls["std_error"][0]), float(ls["value"][0])
    post = r.posterior["x0"].to_numpy()
    nu = t.size - 1
    # 1.183; the chain (seeded) estimates it to about 0.03 (12 walkers x 600 steps, tau ~ 5)
    assert post.std() / se == pytest.approx(np.sqrt(nu / (nu - 2)), abs=0.07)
    assert abs(post.mean() - value) < 0.05 * se
    assert np.all(np.asarray(r.info["mcmc"]["rhat"]) < 1.05)
