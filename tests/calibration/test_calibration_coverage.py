"""Honest uncertainty: nominal 95 % intervals contain the truth 90-99 % of the time.

Synthetic telemetry from the closed form of the Decay FMU (``x0 exp(-k t)``), 100 noise
realisations each, calibrated from the same initial values through one serial runner
session (only the measured values change: ``problem.with_measured``). With white
noise the least-squares intervals cover; with AR(1) noise (ρ = 0.8) the ``iid`` model
under-covers badly (its residuals are not independent) while ``noise: ar1`` keeps the
coverage.
"""

from __future__ import annotations

import numpy as np
import pytest
from calibration_support import TRUE_K, TRUE_X0, ar1_noise, decay_truth

from cosim.calibration import load_calibration
from cosim.calibration.api import job_for_problem, run_problem
from cosim.studies.runners import SerialRunner

TRUTH = np.array([TRUE_K, TRUE_X0])
TRIALS = 100


def coverage(spec: dict, folder, noise) -> tuple[np.ndarray, list]:
    """Fraction of trials whose interval holds the truth, per parameter; results."""
    problem = load_calibration(spec, base_dir=folder)
    t = problem.observations.time
    rng = np.random.default_rng(2024)
    hits, results = [], []
    with SerialRunner().session(job_for_problem(problem)[0]) as session:
        for _ in range(TRIALS):
            y = decay_truth(t) + noise(rng, t.size)
            r = run_problem(problem.with_measured(y[None, :]), session)
            hits.append((r.ci_low <= TRUTH) & (r.ci_high >= TRUTH))
            results.append(r)
    return np.mean(hits, axis=0), results


def test_white_noise_intervals_cover(decay_case, fmus):
    folder, spec = decay_case  # sigma not stated: estimated from the residuals
    cover, results = coverage(spec, folder, lambda rng, n: 0.02 * rng.standard_normal(n))
    assert np.all((cover >= 0.90) & (cover <= 0.99)), cover
    sigma = np.array([r.fit.sigma[0] for r in results])
    assert abs(np.mean(sigma) - 0.02) < 0.001  # the noise level is recovered
    assert all(r.info["converged"] for r in results)
    assert all(r.identifiability.ok for r in results)  # k and x0 are identifiable
    assert max(r.n_simulations for r in results) <= 40


@pytest.mark.parametrize("model", ["iid", "ar1"])
def test_ar1_noise_needs_the_ar1_model(decay_case, fmus, model):
    folder, spec = decay_case
    cover, results = coverage({**spec, "noise": model}, folder,
                              lambda rng, n: ar1_noise(rng, n, 0.8, 0.02))
    if model == "iid":
        assert np.all(cover < 0.80), cover  # ~45 %: the iid intervals are far too narrow
    else:
        assert np.all((cover >= 0.90) & (cover <= 0.99)), cover
        rho = np.array([r.info["rho"][0] for r in results])
        assert abs(np.mean(rho) - 0.8) < 0.03  # estimated jointly, close to the truth
