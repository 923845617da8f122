"""Methods and options on the Decay model: global search, priors, units, ties, inline
topologies, the budget, profile likelihoods; the result object and its report."""

from __future__ import annotations

import math

import numpy as np
import pytest
from calibration_support import TRUE_K, TRUE_X0, decay_truth, write, write_csv

import cosim
from cosim.calibration import read_calibration
from tests.browser import check_page


def test_global_search_from_far_away(decay_case, fmus):
    folder, spec = decay_case
    spec["parameters"]["k"]["initial"] = 8.0
    spec["method"] = {"name": "global", "popsize": 5, "maxiter": 6}
    r = cosim.calibrate({**spec, "seed": 3}, base_dir=folder, workers=0)
    stages = r.evaluations["stage"]
    # popsize x parameters x (1 + generations); the first member is the initial point,
    # already run (stage "start"), so not run again
    assert (stages == "de").sum() == 5 * 2 * 7 - 1
    assert r.info["global"]["generations"] == 6
    assert r.info["converged"]
    assert np.all(np.abs(r.value - [TRUE_K, TRUE_X0]) < 3 * r.std_error)
    assert r.n_simulations <= spec["budget"]


def test_a_prior_combines_with_the_data_as_gaussians_do(decay_case, fmus):
    folder, spec = decay_case
    spec["signals"] = {"d.x": {"sigma": 0.02}}
    free = cosim.calibrate(spec, base_dir=folder, workers=0)
    i = free.names.index("x0")
    m, s = 1.95, 0.01  # a prior as informative as the data
    spec["parameters"]["x0"]["prior"] = {"distribution": "normal", "mean": m, "std": s}
    with_prior = cosim.calibrate(spec, base_dir=folder, workers=0)
    # the other parameter (k) is correlated with x0: combine in x0's marginal, then
    # compare with the conditional shift through the covariance (Gaussian algebra)
    cov = free.cov
    x_hat = free.value
    prec = np.linalg.inv(cov)
    prec[i, i] += 1 / s**2
    expected = np.linalg.solve(prec, np.linalg.inv(cov) @ x_hat + np.eye(2)[i] * m / s**2)
    se = np.sqrt(np.diag(np.linalg.inv(prec)))
    # s² rescales the data part only; with stated sigma it is ~1
    assert abs(free.info["s2"] - 1) < 0.15
    np.testing.assert_allclose(with_prior.value, expected, atol=0.1 * se.max())
    np.testing.assert_allclose(with_prior.std_error, se, rtol=0.1)


def test_units_ties_and_an_inline_topology(tmp_path, fmu, fmus):
    write(tmp_path / "two.yaml", {
        "name": "two", "run": {"stop": 5.0, "step": 0.05},
        "nodes": {"a": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 2.0}}}})
    t = np.round(np.arange(0, 5.0 + 1e-9, 0.05), 10)
    rng = np.random.default_rng(5)
    write_csv(tmp_path / "tel.csv", t, {
        "xa": decay_truth(t) + 0.01 * rng.standard_normal(t.size),
        "xb": decay_truth(t) + 0.01 * rng.standard_normal(t.size)})
    spec = {
        "topology": {"extends": "two.yaml",  # plus a second Decay: one k for both
                     "nodes": {"b": {"fmu": str(fmu("Decay")),
                                     "parameters": {"k": 1.0, "x0": 2.0}}}},
        "telemetry": {"file": "tel.csv", "signals": {"a.x": "xa", "b.x": "xb"}},
        "parameters": {"k": {"targets": "?.k", "initial": 30.0, "unit": "1/min",
                             "bounds": [1.2, 600], "scale": "log"}},
        "budget": 60}
    r = cosim.calibrate(spec, base_dir=tmp_path, workers=0)
    assert r.targets == [["a.k", "b.k"]] and r.units == ["1/s"]
    assert r.initial[0] == pytest.approx(0.5) and r.low[0] == pytest.approx(0.02)
    assert abs(r.value[0] - TRUE_K) < 3 * r.std_error[0]
    assert r.parameters == {"a.k": r.value[0], "b.k": r.value[0]}


def test_the_budget_ends_the_search_and_says_so(decay_case, fmus):
    folder, spec = decay_case
    r = cosim.calibrate({**spec, "budget": 6}, base_dir=folder, workers=0)
    assert r.n_simulations <= 6
    assert not r.info["converged"] and "budget of 6 simulations" in r.info["message"]
    assert np.all(np.isfinite(r.std_error))  # at the best point with a Jacobian


def test_profiles_report_and_parameter_files(decay_case, fmus, browser):
    folder, spec = decay_case
    spec["identifiability"] = {"profile": ["k"], "points": 9, "span": 3}
    spec["telemetry"]["holdout"] = [4.0, 5.0]
    r = cosim.calibrate(spec, folder / "calib.h5", base_dir=folder, workers=0,
                        report=folder / "calib.html", params=folder / "params.yaml")
    prof = r.identifiability.profiles["k"]
    assert len(prof["values"]) == 9 and np.nanmin(prof["delta_chi2"]) > -1e-6
    # nearly linear: the profile interval is the least-squares interval (from t to χ²)
    assert prof["ci_low"] == pytest.approx(r.ci_low[0], rel=2e-3)
    assert prof["ci_high"] == pytest.approx(r.ci_high[0], rel=2e-3)
    est = r.estimates
    assert list(est.columns) == ["value", "std_error", "ci_low", "ci_high", "unit"]
    assert list(est.index) == ["k", "x0"] and est.loc["k", "unit"] == "1/s"
    assert r.covariance.shape == (2, 2) and r.posterior is None
    assert set(r.evaluations["stage"]) == {"start", "step", "jacobian", "profile"}
    assert "<table" in r._repr_html_() and "k = " in repr(r)
    page = (folder / "calib.html").read_text()
    assert "profile likelihoods" in page and "Every parameter is identifiable" in page
    assert "Held-out fit: <span class='pass'>pass" in page and len(r.holdout) == 1
    assert page.count("<img") >= 6
    check_page(browser, folder / "calib.html", min_images=6)  # a real browser shows it all
    again = read_calibration(folder / "calib.h5")
    assert again.identifiability.profiles["k"]["ci_low"] == prof["ci_low"]
    # the parameter file is a topology's parameters_from
    write(folder / "fitted.yaml", {
        "name": "fitted", "run": {"stop": 5.0, "step": 0.01},
        "parameters_from": ["params.yaml"],
        "nodes": {"d": {"fmu": yaml_fmu(folder)}}})
    x = cosim.run(folder / "fitted.yaml").df["d.x"].to_numpy()
    expected = r.value[1] * np.exp(-r.value[0] * np.round(np.arange(0, 5.0 + 1e-9, 0.01),
                                                         10))
    np.testing.assert_allclose(x, expected, rtol=1e-9)
    assert math.isclose(r.fit.model[0][-1], x[-1], rel_tol=1e-12)


def yaml_fmu(folder) -> str:
    import yaml
    return yaml.safe_load((folder / "decay.yaml").read_text())["nodes"]["d"]["fmu"]
