"""Uncertainty of least-squares estimates: covariance, standard errors, intervals.

At the optimum ``x = (z, ρ)`` with the Jacobian ``J`` of the whitened residuals (data
rows ``J_d``, prior rows ``J_p``), the residual variance is ``s² = Σ e² / (n - q)``
(``n`` fitted points, ``q`` = parameters + AR(1) coefficients) and the information
``I = J_dᵀ J_d / s² + J_pᵀ J_p`` (a prior's information is not rescaled). The
covariance of ``x`` is ``I⁻¹``: with ``noise: ar1`` the residuals are whitened, which is
the AR(1) correction. Directions with no information (eigenvalues of ``I`` below
``1e-12`` of the largest) have infinite variance: every parameter they involve gets an
infinite standard error (and NaN covariances) rather than a pseudo-inverse's false
precision.

Intervals are ``z ± t·se(z)`` on the search scale (``t``: Student's 97.5 % point with
``n - q`` degrees of freedom), mapped to values — symmetric for ``scale: linear``,
symmetric in ``ln value`` for ``scale: log``. The covariance and standard errors of
the values are by the delta method (``d value / d z``), in the parameters' units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .leastsq import Fit
from .objective import Objective

LEVEL = 0.95
NULL_RATIO = 1e-12


@dataclass
class Uncertainty:
    value: np.ndarray
    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    covariance: np.ndarray        # of the values, model units
    cov_search: np.ndarray        # of z (search scale)
    s2: float
    dof: int
    level: float
    rho: np.ndarray               # AR(1) coefficients per signal (ar1), else empty
    rho_std_error: np.ndarray

    @property
    def correlation(self) -> np.ndarray:
        return correlation(self.covariance)


def correlation(cov: np.ndarray) -> np.ndarray:
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(se, se)
    corr[~np.isfinite(corr)] = np.nan
    np.fill_diagonal(corr, np.where(np.isfinite(se) & (se > 0), 1.0, np.nan))
    return corr


def residual_variance(objective: Objective, fit: Fit) -> tuple[float, int]:
    """``s²`` of the data residuals at the fit and its degrees of freedom."""
    z, rho = objective.split(fit.x)
    (e,) = objective.evaluate([z], "step")
    r = objective.data_residuals(e, rho)
    dof = max(1, r.size - objective.size)
    return float(r @ r) / dof, dof


def information(objective: Objective, J: np.ndarray, s2: float) -> np.ndarray:
    n = objective.noise.n
    Jd, Jp = J[:n], J[n:]
    return Jd.T @ Jd / s2 + Jp.T @ Jp


def inverse(info: np.ndarray) -> np.ndarray:
    """``info⁻¹``, with infinite variance along directions without information."""
    w, v = np.linalg.eigh(0.5 * (info + info.T))
    top = max(float(w.max()), 0.0) if w.size else 0.0
    null = w <= NULL_RATIO * top
    inv_w = np.where(null, 0.0, 1.0 / np.where(null, 1.0, w))
    cov = (v * inv_w) @ v.T
    if null.any():
        touched = np.any(np.abs(v[:, null]) > 1e-6, axis=1)
        cov[touched, :] = np.nan
        cov[:, touched] = np.nan
        cov[touched, touched] = np.inf
    return cov


def from_fit(objective: Objective, fit: Fit, level: float = LEVEL) -> Uncertainty:
    """Covariance, standard errors and intervals at a least-squares optimum."""
    from scipy.stats import t as student
    s2, dof = residual_variance(objective, fit)
    cov_x = inverse(information(objective, fit.jacobian, s2))
    p = objective.p
    z, rho = objective.split(fit.x)
    cov_z = cov_x[:p, :p]
    se_z = np.sqrt(np.clip(np.diag(cov_z), 0.0, None))
    q = float(student.ppf(0.5 + level / 2, dof))
    params = objective.parameters
    d = params.derivatives(z)
    cov = cov_z * np.outer(d, d)
    value = params.values(z)
    with np.errstate(invalid="ignore", over="ignore"):
        low = np.array([pi.from_search(float(zi - q * si)) if np.isfinite(si) else -np.inf
                        for pi, zi, si in zip(params, z, se_z, strict=True)])
        high = np.array([pi.from_search(float(zi + q * si)) if np.isfinite(si) else np.inf
                         for pi, zi, si in zip(params, z, se_z, strict=True)])
    se = np.abs(d) * se_z
    k = objective.noise.n_rho
    rho_out = rho[:k] if k else np.empty(0)
    rho_se = np.sqrt(np.clip(np.diag(cov_x)[p:], 0.0, None)) if k else np.empty(0)
    return Uncertainty(value, se, low, high, cov, cov_z, s2, dof, level, rho_out, rho_se)


def from_samples(samples: np.ndarray, level: float = LEVEL) -> Uncertainty:
    """Posterior summaries: mean, standard deviation, equal-tailed interval."""
    value = samples.mean(axis=0)
    cov = np.atleast_2d(np.cov(samples, rowvar=False))
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
    return Uncertainty(value, np.sqrt(np.diag(cov)), low, high, cov, cov, float("nan"), 0,
                       level, np.empty(0), np.empty(0))
