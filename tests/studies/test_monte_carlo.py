"""A 200-sample Monte Carlo study reproduces an analytic output distribution.

The Decay FMU with x0 = 1 and no input gives x(T) = exp(-k T). With k ~ U(a, b) the
raw moments of X = x(T) are E[X^m] = (exp(-m a T) - exp(-m b T)) / (m T (b - a)), which
give its mean mu, standard deviation sigma and fourth central moment mu4.

Sampling errors for n independent samples: the sample mean has standard error
sigma / sqrt(n); the sample standard deviation s has standard error
sqrt((mu4 - sigma^4) / (4 sigma^2 n)) (delta method). With n = 200 both estimates must
lie within 3 standard errors of the analytic values (a fixed seed makes the test
deterministic; 3 SE would be exceeded by chance with probability ~0.3 % per quantity).
"""

from __future__ import annotations

import math

import numpy as np
from conftest import write

import cosim.studies as cs

A, B, T, N = 0.5, 1.5, 1.0, 200


def raw_moment(m: int) -> float:
    return (math.exp(-m * A * T) - math.exp(-m * B * T)) / (m * T * (B - A))


def test_monte_carlo_reproduces_the_analytic_distribution(tmp_path, decay_topology):
    path = write(tmp_path / "mc.yaml", {
        "topology": decay_topology.name,
        "samples": {"method": "montecarlo", "n": N, "seed": 2026, "parameters": {
            "d.k": {"distribution": "uniform", "low": A, "high": B}}},
        "outputs": {"x_end": {"signal": "d.x", "stat": "final"}}})
    df = cs.sweep(path, tmp_path / "mc.h5")  # default runner: the local process pool
    assert len(df) == N and (df["status"] == "completed").all()

    # every run is right (RK4 with 1 ms substeps: far below the sampling error)
    np.testing.assert_allclose(df["x_end"], np.exp(-df["d.k"] * T), rtol=1e-9)

    m1, m2, m3, m4 = (raw_moment(m) for m in (1, 2, 3, 4))
    mu = m1
    sigma = math.sqrt(m2 - m1**2)
    mu4 = m4 - 4 * mu * m3 + 6 * mu**2 * m2 - 3 * mu**4
    se_mean = sigma / math.sqrt(N)
    se_std = math.sqrt((mu4 - sigma**4) / (4 * sigma**2 * N))
    x = df["x_end"].to_numpy()
    assert abs(x.mean() - mu) < 3 * se_mean, (x.mean(), mu, se_mean)
    assert abs(x.std(ddof=1) - sigma) < 3 * se_std, (x.std(ddof=1), sigma, se_std)
    # and the study file holds the same numbers
    again = cs.read_study(tmp_path / "mc.h5")
    assert again["x_end"].equals(df["x_end"]) and again.attrs["units"]["x_end"] == "1"
