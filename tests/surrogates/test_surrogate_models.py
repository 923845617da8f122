"""Models against systems whose answer is known: ARX, bilinear, state space; the
polynomial ridge against numpy's least squares; conformal coverage; the envelope
against scipy's Delaunay triangulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import signal, stats
from scipy.spatial import Delaunay

from cosim.surrogates.dataset import Dataset, Port
from cosim.surrogates.envelope import Envelope
from cosim.surrogates.intervals import Intervals
from cosim.surrogates.regressors import Polynomial
from cosim.surrogates.training import Candidate, FitOptions, build, fit, free_run


def steps(rng, n: int, lo: float, hi: float, hold: int = 8) -> np.ndarray:
    return np.repeat(rng.uniform(lo, hi, size=n // hold + 1), hold)[:n]


def dataset(simulate, n_traj=16, n=120, n_in=2, seed=0) -> Dataset:
    """Trajectories of ``simulate(u) -> y (n + 1, n_out)`` under random steps."""
    rng = np.random.default_rng(seed)
    us = [np.column_stack([steps(rng, n, 0.2, 1.2) for _ in range(n_in)])
          for _ in range(n_traj)]
    ys = [simulate(u) for u in us]
    ins = [Port(f"u{i}") for i in range(n_in)]
    outs = [Port(f"y{j}", None, float(ys[0][0, j])) for j in range(ys[0].shape[1])]
    return Dataset("node", ins, outs, 1.0, ys, us, list(range(n_traj)))


def arx(u: np.ndarray) -> np.ndarray:
    y = np.zeros((len(u) + 1, 2))
    y[0] = [1.0, 2.0]
    for k in range(len(u)):
        y[k + 1, 0] = 0.9 * y[k, 0] + 0.05 * u[k, 0] - 0.02 * u[k, 1] + 0.3
        y[k + 1, 1] = 0.7 * y[k, 1] + 0.1 * y[k, 0] + 0.2 * u[k, 1]
    return y


def bilinear(u: np.ndarray) -> np.ndarray:
    """y' = y + 0.3 (u0 - y) u1: the input u1 scales the time constant (like air flow)."""
    y = np.zeros((len(u) + 1, 1))
    y[0] = 0.5
    for k in range(len(u)):
        y[k + 1] = y[k] + 0.3 * (u[k, 0] - y[k]) * u[k, 1]
    return y


def test_linear_narx_recovers_an_arx_system_exactly():
    data = dataset(arx)
    model = build(Candidate.make("linear", 1, 1), data, list(range(12)))
    pred, obs = free_run(model, data, [12, 13, 14, 15])
    err = np.abs(np.concatenate(pred) - np.concatenate(obs)).max()
    assert err < 1e-6  # the ridge penalty (1e-8 of the mean diagonal) biases a little


def test_selection_by_free_run_error_prefers_the_model_that_fits_a_bilinear_system():
    data = dataset(bilinear, n_traj=20)
    fitted = fit(data, FitOptions(candidates=[Candidate.make("linear", 2, 2),
                                              Candidate.make("polynomial", 1, 1, degree=2)],
                                  seed=2))
    scores = {t.candidate.kind: t.score for t in fitted.trials}
    assert fitted.candidate.kind == "polynomial"
    assert scores["polynomial"] < 1e-6 < 1e-3 < scores["linear"]
    # the reported test error is the free run of the chosen model, recomputed here
    pred, obs = free_run(fitted.model, data, fitted.split["test"])
    rmse = math.sqrt(np.mean((np.concatenate(pred) - np.concatenate(obs)) ** 2))
    assert fitted.test["free_run"]["y0"]["rmse"] == pytest.approx(rmse, rel=1e-9, abs=1e-15)
    parts = fitted.split
    everything = sorted(sum(parts.values(), []))
    assert everything == list(range(20))  # disjoint and complete


def test_polynomial_ridge_matches_numpy_least_squares_on_explicit_monomials():
    rng = np.random.default_rng(4)
    zs = rng.normal(size=(400, 3))
    truth = 1.5 - 2 * zs[:, 0] + 0.5 * zs[:, 1] * zs[:, 2] + 0.25 * zs[:, 0] ** 2
    d = np.column_stack([truth, -truth]) + 1e-3 * rng.normal(size=(400, 2))
    reg = Polynomial(2, alpha=1e-14).fit(zs, d)
    cols = [np.ones(400)] + [zs[:, i] for i in range(3)] + \
        [zs[:, i] * zs[:, j] for i, j in itertools.combinations_with_replacement(range(3), 2)]
    x = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(x, d, rcond=None)
    zq = rng.normal(size=(50, 3))
    xq = np.column_stack([np.ones(50)] + [zq[:, i] for i in range(3)] + [
        zq[:, i] * zq[:, j] for i, j in itertools.combinations_with_replacement(range(3), 2)])
    assert np.allclose(reg.predict(zq), xq @ coef, rtol=1e-8, atol=1e-9)
    assert len(reg.terms) == math.comb(3 + 2, 2)


def test_learned_state_space_reproduces_a_two_state_system():
    a = np.array([[0.95, 0.04], [0.02, 0.85]])
    b = np.array([[0.05, 0.0], [0.0, 0.1]])
    c = np.array([[1.0, 0.0], [0.5, 0.5]])

    def simulate(u):
        x0 = np.linalg.solve(np.eye(2) - a, b @ u[0])  # at rest under the first input
        # scipy's dlsim gives y_0 .. y_{n-1}; the outputs after the last input, y_n,
        # are those of one more step
        _, y, x = signal.dlsim((a, b, c, np.zeros((2, 2)), 1.0), u, x0=x0)
        return np.vstack([y, c @ (a @ x[-1] + b @ u[-1])])  # outputs at t_0 .. t_n

    data = dataset(simulate, n_traj=12, n=100)
    model = build(Candidate.make("lss", 1, 1, max_nfev=40), data, list(range(8)))
    pred, obs = free_run(model, data, [8, 9, 10, 11])
    span = np.ptp(np.concatenate(obs), axis=0)
    err = np.abs(np.concatenate(pred) - np.concatenate(obs)).max(axis=0)
    assert np.all(err < 1e-3 * span), err / span


def test_conformal_half_width_covers_the_stated_fraction_of_new_points():
    rng = np.random.default_rng(5)
    iv = Intervals.calibrate(rng.normal(size=(2000, 2)) * [1.0, 3.0], 0.9)
    assert iv.half_width == pytest.approx([1.645, 3 * 1.645], rel=0.08)
    fresh = rng.normal(size=(10000, 2)) * [1.0, 3.0]
    cov = iv.covered(fresh)
    lo, hi = stats.binom.interval(0.999, 10000, 0.9)
    assert np.all((cov >= lo / 10000 - 0.02) & (cov <= hi / 10000 + 0.02)), cov
    assert np.isinf(Intervals.calibrate(np.zeros((5, 1)), 0.9).half_width[0])  # too few


def test_hull_envelope_agrees_with_delaunay_and_box_is_per_input():
    rng = np.random.default_rng(6)
    train = rng.normal(size=(800, 3)) * [1000.0, 2.0, 0.3] + [8000.0, 291.0, 0.7]
    train[:, 2] = np.abs(train[:, 2]) + 0.2 + 1e-4 * train[:, 0]  # correlated inputs
    hull = Envelope.fit(["P", "T", "m"], train, "hull")
    box = Envelope.fit(["P", "T", "m"], train, "box")
    query = rng.uniform(train.min(0) - 0.05 * np.ptp(train, 0), train.max(0) + 0.05 *
                        np.ptp(train, 0), size=(600, 3))
    tri = Delaunay(hull.normalise(train))
    inside = tri.find_simplex(hull.normalise(query)) >= 0
    flagged = hull.outside(query)
    disagree = np.flatnonzero(flagged == inside)
    # only points within rounding of a facet may disagree
    assert len(disagree) <= 2
    outside_box = ~((query >= train.min(0)) & (query <= train.max(0))).all(axis=1)
    assert np.array_equal(box.outside(query), outside_box)
    assert np.all(flagged[outside_box])  # outside the box is outside the hull
    assert not hull.outside(train).any()  # every training point is inside
    assert hull.outside(np.array([[np.nan, 291.0, 0.7]]))[0]
