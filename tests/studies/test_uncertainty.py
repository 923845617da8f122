"""Uncertainty propagation: the two-mass oscillator with a Gaussian coupling stiffness
against a Monte Carlo of its closed-form solution, and the coverage of its prediction
bands on held-out noisy data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cosim.studies import sweep
from cosim.studies.bands import read_bands
from cosim.validation import validate
from tests.conftest import TOPOLOGIES

M1, K1, C1, M2, K2, C2, CC = 1.0, 1.0, 0.1, 2.0, 2.0, 0.0, 0.5  # topologies/two_mass.yaml
K_MEAN, K_STD = 10.0, 1.0
T_END, STEP = 2.0, 0.0005          # co-simulation error at 2 s: ~5e-4 m (first order)
MEMBERS, NOISE = 200, 0.02


def closed_form_x1(k: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """x1(t) of the linear two-mass system for coupling stiffnesses ``k`` (eigen-modes)."""
    k = np.asarray(k, dtype=np.float64)
    a = np.zeros((k.size, 4, 4))
    a[:, 0, 1] = a[:, 2, 3] = 1.0
    a[:, 1, 0], a[:, 1, 1], a[:, 1, 2], a[:, 1, 3] = -(K1 + k) / M1, -(C1 + CC) / M1, \
        k / M1, CC / M1
    a[:, 3, 0], a[:, 3, 1], a[:, 3, 2], a[:, 3, 3] = k / M2, CC / M2, -(K2 + k) / M2, \
        -(C2 + CC) / M2
    w, v = np.linalg.eig(a)
    x0 = np.broadcast_to(np.array([1.0, 0, 0, 0], dtype=complex), (k.size, 4))
    coef = np.linalg.solve(v, x0[..., None])[..., 0]
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), k.shape)
    return np.real(np.einsum("nj,nj,nj->n", v[:, 0, :], coef, np.exp(w * t[:, None])))


@pytest.fixture(scope="module")
def ensemble(fmus, tmp_path_factory):
    out = tmp_path_factory.mktemp("uq") / "two_mass.h5"
    spec = {
        "name": "two_mass_uq", "topology": str(TOPOLOGIES / "two_mass.yaml"),
        "run": {"stop": T_END, "step": STEP},
        "samples": {"method": "lhs", "n": MEMBERS, "seed": 3, "parameters": {
            "spring.k": {"distribution": "normal", "mean": K_MEAN, "std": K_STD}}},
        "outputs": {"x1_end": {"signal": "mass1.x", "stat": "final"}},
        "bands": {"signals": ["mass1.x"], "noise": {"mass1.x": NOISE}, "seed": 5},
    }
    from cosim.studies import study_from_spec
    df = sweep(study_from_spec(spec), out, workers=2)
    return df, out


def test_closed_form_matches_the_shipped_reference_at_nominal_stiffness():
    from scipy.linalg import expm
    kc = 10.0
    a = np.array([[0, 1, 0, 0], [-(K1 + kc) / M1, -(C1 + CC) / M1, kc / M1, CC / M1],
                  [0, 0, 0, 1], [kc / M2, CC / M2, -(K2 + kc) / M2, -(C2 + CC) / M2]])
    want = (expm(a * 1.3) @ np.array([1.0, 0, 0, 0]))[0]
    assert closed_form_x1(np.array([kc]), 1.3)[0] == pytest.approx(want, abs=1e-12)


def test_ensemble_mean_and_variance_match_a_monte_carlo_of_the_closed_form(ensemble):
    df, _ = ensemble
    assert (df["status"] == "completed").all()
    x = df["x1_end"].to_numpy()
    mc = closed_form_x1(np.random.default_rng(99).normal(K_MEAN, K_STD, 100_000), T_END)
    mu, var = mc.mean(), mc.var(ddof=1)
    m4 = np.mean((mc - mu) ** 4)
    se_mean = math.sqrt(var / MEMBERS + var / mc.size)
    se_var = math.sqrt((m4 - var ** 2) / MEMBERS + (m4 - var ** 2) / mc.size)
    assert abs(x.mean() - mu) <= 3 * se_mean, (x.mean(), mu, se_mean)
    assert abs(x.var(ddof=1) - var) <= 3 * se_var, (x.var(ddof=1), var, se_var)
    assert var > 100 * (5e-4) ** 2  # the spread is far above the co-simulation error


def test_band_file_holds_quantiles_of_the_noisy_members(ensemble):
    _, out = ensemble
    b = read_bands(out)
    assert b.signals == ["mass1.x"] and b.n_members == MEMBERS and b.n_failed == 0
    members = b.members("mass1.x")
    assert members.shape == (MEMBERS, b.time.size) and b.time[-1] == pytest.approx(T_END)
    np.testing.assert_array_equal(b.quantiles["mass1.x"],
                                  np.quantile(members, b.levels, axis=0))
    # noise of sigma 0.02 on top of the traces: the members minus the traces
    import h5py
    with h5py.File(out, "r") as f:
        order = np.argsort(f["traces/scenario"][()])
        traces = f["traces/mass1.x"][()][order]
    resid = (members - traces).ravel()
    assert resid.std() == pytest.approx(NOISE, rel=0.02) and abs(resid.mean()) < 1e-3


def test_prediction_bands_cover_held_out_noisy_data_within_binomial_bounds(ensemble, tmp_path):
    """300 independent held-out experiments: each a stiffness drawn from its
    distribution, measured once at a random time with noise sigma 0.02 m.

    The binomial bounds count the held-out draws only, not the ensemble's own sampling
    error: its 200 members are a Latin hypercube sample of the stiffness, whose spread
    matches the distribution's (a plain Monte Carlo sample of 200 has a spread off by
    5 % at one standard error, which shifts the 95 % band's coverage by 2-3 %)."""
    _, out = ensemble
    grid = read_bands(out).time
    rng = np.random.default_rng(2024)
    n = 300
    t = np.sort(rng.choice(grid[1:], n, replace=False))
    y = closed_form_x1(rng.normal(K_MEAN, K_STD, n), t) + NOISE * rng.standard_normal(n)
    csv = tmp_path / "held_out.csv"
    pd.DataFrame({"time": t, "mass1.x [m]": y}).to_csv(csv, index=False, float_format="%.17g")
    # samples are independent experiments: never interpolate between them
    r = validate(out, {"file": str(csv), "max_gap": 1e-9}, bootstrap=0)
    v = r["mass1.x"]
    assert v.n == n and r.kind == "ensemble"
    for label, p in (("95", 0.95), ("90", 0.90), ("50", 0.50)):
        lo, hi = stats.binom.ppf([0.0005, 0.9995], n, p) / n
        assert lo <= v.metrics[f"coverage_{label}"] <= hi, (label, v.metrics)
    assert stats.chisquare(v.pit_histogram).pvalue > 1e-3
    assert 0 < v.metrics["crps"] < 0.1


def test_cosim_plot_draws_the_bands(ensemble, tmp_path, capsys):
    from cosim.cli.main import main
    _, out = ensemble
    png = tmp_path / "b.png"
    assert main(["plot", str(out), "--kind", "bands", "-o", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
