"""Every metric against an independent computation: scikit-learn, scipy, or by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from cosim.validation import (
    MovingBlockBootstrap,
    auto_block_length,
    coverage,
    crps_ensemble,
    pit_ensemble,
    pit_histogram,
    pit_quantiles,
    point_metrics,
)

REL = 1e-12


@pytest.fixture(params=[0, 1, 2])
def data(request):
    rng = np.random.default_rng(request.param)
    n = 5000
    obs = 50.0 + 10.0 * rng.standard_normal(n)
    model = obs + 0.3 + rng.standard_normal(n)
    return model, obs


def test_point_metrics_agree_with_sklearn_and_hand_sums(data):
    model, obs = data
    m = point_metrics(model, obs, p=3).values
    n = obs.size
    r = [float(a) - float(b) for a, b in zip(model, obs, strict=True)]
    assert m["n"] == n
    assert m["bias"] == pytest.approx(math.fsum(r) / n, rel=REL)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(obs, model), rel=REL)
    rmse = skm.root_mean_squared_error(obs, model)
    assert m["rmse"] == pytest.approx(rmse, rel=REL)
    assert m["r2"] == pytest.approx(skm.r2_score(obs, model), rel=REL)
    assert m["mape"] == pytest.approx(100 * skm.mean_absolute_percentage_error(obs, model),
                                      rel=REL)
    assert m["max_abs_error"] == pytest.approx(skm.max_error(obs, model), rel=REL)
    assert m["nrmse_range"] == pytest.approx(rmse / (obs.max() - obs.min()), rel=REL)
    ybar = math.fsum(obs) / n
    assert m["nrmse_mean"] == pytest.approx(rmse / ybar, rel=REL)
    smape = math.fsum(abs(a - b) / ((abs(a) + abs(b)) / 2) for a, b in zip(model, obs,
                                                                           strict=True))
    assert m["smape"] == pytest.approx(100 * smape / n, rel=REL)
    # Guideline 14, with n - p in the denominators, y measured minus model
    assert m["nmbe"] == pytest.approx(100 * math.fsum(-x for x in r) / ((n - 3) * ybar),
                                      rel=REL)
    assert m["cv_rmse"] == pytest.approx(
        100 * math.sqrt(math.fsum(x * x for x in r) / (n - 3)) / ybar, rel=REL)


def test_masked_samples_are_left_out(data):
    model, obs = data
    model, obs = model.copy(), obs.copy()
    model[::7] = np.nan
    obs[3::11] = np.nan
    keep = np.isfinite(model) & np.isfinite(obs)
    t = np.arange(obs.size, dtype=float)
    m = point_metrics(model, obs, t)
    assert m["n"] == keep.sum()
    assert m["rmse"] == pytest.approx(skm.root_mean_squared_error(obs[keep], model[keep]),
                                      rel=REL)
    assert m["r2"] == pytest.approx(skm.r2_score(obs[keep], model[keep]), rel=REL)
    k = np.argmax(np.abs(model[keep] - obs[keep]))
    assert m.max_abs_error_time == t[keep][k]


def test_guideline14_worked_example_by_hand():
    # Four monthly energy readings (kWh) and a model calibrated with p = 1 parameter:
    #   y measured    10   12    9   11      sum 42, mean 10.5
    #   model         11   11   10   12
    #   y - model     -1    1   -1   -1      sum -2, sum of squares 4
    # NMBE    = 100 * (-2) / ((4 - 1) * 10.5)       = -6.349206349... %
    # CV(RMSE) = 100 * sqrt(4 / (4 - 1)) / 10.5      = 10.99714... %
    m = point_metrics(np.array([11.0, 11, 10, 12]), np.array([10.0, 12, 9, 11]), p=1).values
    assert m["nmbe"] == pytest.approx(-200.0 / 31.5, rel=REL)
    assert m["cv_rmse"] == pytest.approx(100.0 * math.sqrt(4.0 / 3.0) / 10.5, rel=REL)
    assert m["bias"] == pytest.approx(0.5, rel=REL)          # mean(model - y) = 2 / 4
    assert m["rmse"] == pytest.approx(1.0, rel=REL)          # sqrt(4 / 4)
    assert m["r2"] == pytest.approx(1.0 - 4.0 / 5.0, rel=REL)  # SS_tot = .25+2.25+2.25+.25
    assert m["mape"] == pytest.approx(25.0 * (1 / 10 + 1 / 12 + 1 / 9 + 1 / 11), rel=REL)


def test_undefined_metrics_are_nan_with_a_reason():
    m = point_metrics(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    assert math.isnan(m["r2"]) and "constant" in m.notes["r2"]
    m = point_metrics(np.array([1.0, 2.0, 3.0]), np.array([0.0, 5.0, 9.0]))
    assert math.isnan(m["mape"]) and "near zero" in m.notes["mape"]
    assert m["smape"] == pytest.approx(100 * (2.0 + 3 / 3.5 + 6 / 6) / 3, rel=REL)


# -- probabilistic scores ----------------------------------------------------------------------


def crps_by_integration(members: np.ndarray, y: float) -> float:
    """∫ (F(x) - 1{x >= y})² dx for the empirical CDF F: exact, piecewise constant."""
    points = np.sort(np.append(members, y))
    total = 0.0
    for a, b in zip(points[:-1], points[1:], strict=True):
        x = 0.5 * (a + b)
        f = np.mean(members <= x)
        total += (f - (1.0 if x >= y else 0.0)) ** 2 * (b - a)
    return total


def test_crps_of_an_ensemble_equals_the_integral_definition():
    rng = np.random.default_rng(5)
    members = rng.normal(size=(37, 25))
    obs = rng.normal(size=25) * 1.5
    got = crps_ensemble(members, obs)
    want = [crps_by_integration(members[:, i], obs[i]) for i in range(25)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_crps_of_a_large_gaussian_ensemble_approaches_the_closed_form():
    rng = np.random.default_rng(6)
    members = rng.normal(size=(20000, 1))
    y = np.array([0.7])
    z = 0.7
    closed = z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
    assert crps_ensemble(members, y)[0] == pytest.approx(closed, abs=0.01)


def test_coverage_and_width_by_hand():
    lo = np.array([0.0, 0.0, 1.0, 2.0, np.nan])
    hi = np.array([1.0, 2.0, 3.0, 2.5, 1.0])
    y = np.array([0.5, 2.0, 3.5, 1.0, 0.0])
    cov, width = coverage(lo, hi, y)
    assert cov == 0.5 and width == pytest.approx((1 + 2 + 2 + 0.5) / 4)


def test_pit_of_a_calibrated_ensemble_is_uniform_and_counts_by_hand():
    rng = np.random.default_rng(8)
    members = rng.normal(size=(200, 4000))
    obs = rng.normal(size=4000)
    counts = pit_histogram(pit_ensemble(members, obs), 10)
    assert counts.sum() == 4000
    assert stats.chisquare(counts).pvalue > 1e-3
    small = pit_ensemble(np.array([[1.0], [2.0], [2.0], [3.0]]), np.array([2.0]))
    assert small[0] == pytest.approx((1 + 0.5 * 2) / 4)
    q = pit_quantiles([0.1, 0.5, 0.9], np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]),
                      np.array([0.5, 5.0]))
    np.testing.assert_allclose(q, [0.3, 1.0])


# -- moving-block bootstrap ----------------------------------------------------------------------


def test_replicate_sums_equal_explicit_block_resampling():
    rng = np.random.default_rng(1)
    n, length, b, seed = 103, 10, 50, 4
    x = rng.normal(size=(n, 3))
    mbb = MovingBlockBootstrap(n, length, b, seed)
    # the documented draw: n // L starts in 0..n-L, then one start of the n mod L rest
    draws = np.random.default_rng(seed)
    starts = draws.integers(0, n - length + 1, size=(b, n // length))
    last = draws.integers(0, n - n % length + 1, size=b)
    for j in range(b):
        rows = [i for s in starts[j] for i in range(s, s + length)]
        rows += list(range(last[j], last[j] + n % length))
        assert len(rows) == n
        np.testing.assert_allclose(mbb.sums(x)[j], x[rows].sum(axis=0), rtol=1e-12)


def ar1(rng, n, phi):
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - phi ** 2)
    for k in range(1, n):
        x[k] = phi * x[k - 1] + e[k]
    return x


def test_auto_block_length_follows_the_ar1_optimum():
    # Politis-White for AR(1): b = (6 phi² / (1 - phi²)²)^(1/3) n^(1/3)
    n, phi = 20000, 0.8
    want = (6 * phi ** 2 / (1 - phi ** 2) ** 2) ** (1 / 3) * n ** (1 / 3)
    got = auto_block_length(ar1(np.random.default_rng(2), n, phi))
    assert want / 2 < got < want * 2
    assert auto_block_length(np.random.default_rng(3).standard_normal(n)) <= 3


def test_block_bootstrap_covers_the_mean_of_autocorrelated_residuals():
    """95 % intervals of the bias of AR(1) residuals (phi = 0.8): the automatic block
    keeps coverage near nominal where resampling single samples under-covers."""
    from cosim.validation import Options, Series, validate_series
    rng = np.random.default_rng(11)
    hits = {"auto": 0, 1: 0}
    trials = 120
    for _ in range(trials):
        r = ar1(rng, 600, 0.8)
        s = Series("x", None, np.arange(600.0), r, np.zeros(600))
        for block in hits:
            v, _ = validate_series([s], Options(replicates=300, block=block,
                                                seed=int(rng.integers(1 << 30))))
            lo, hi = v[0].ci["bias"]
            hits[block] += lo <= 0.0 <= hi
    assert hits["auto"] / trials >= 0.85
    assert hits[1] / trials <= 0.75
