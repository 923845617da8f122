"""Identifiability: what the data can and cannot tell apart.

The Fisher information of the data, ``F = J_dᵀ J_d / s²``, is taken on the *log scale
of each parameter* (relative changes: columns ``∂e/∂ln value``; a parameter at zero
per its typical value), with the AR(1) coefficients profiled out (a Schur
complement), so that eigenvalues compare across parameters of any unit. Its
eigenvectors are the parameter combinations, its eigenvalues how precisely the data
fix them: the standard deviation of a combination (a unit vector in ``ln value``) is
``1 / sqrt(λ)``. A combination is *flagged* — the data cannot separate the
parameters in it — when that standard deviation exceeds ``max_sd`` or ``λ`` is below
``min_ratio`` times the largest eigenvalue. Two parameters that enter only as their
product give ``F`` a null direction ``(ln a - ln b) / sqrt 2``: flagged.

Profile likelihoods (optional): a parameter is held at values around its estimate
while the others are fitted again; ``Δχ² = 2 (cost - cost_min) / s²`` against the χ²
(1 degree of freedom) threshold 3.84 gives a 95 % interval that does not assume
linearity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .leastsq import Fit
from .objective import Objective

CHI2_95 = 3.841458820694124  # scipy.stats.chi2.ppf(0.95, 1)


@dataclass
class Identifiability:
    names: list[str]
    eigenvalues: np.ndarray       # ascending
    eigenvectors: np.ndarray      # columns, unit length in ln(value)
    condition_number: float
    flagged: list[dict] = field(default_factory=list)
    max_sd: float = 1.0
    profiles: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.flagged

    def warnings(self) -> list[str]:
        out = []
        for f in self.flagged:
            sd = f"standard deviation {f['sd']:.3g} on the log scale"
            if len(f["parameters"]) == 1:
                out.append(f"the data do not determine {f['parameters'][0]} ({sd}): it "
                           "hardly affects the fitted signals")
            else:
                out.append(f"the data cannot separate {', '.join(f['parameters'])}: only "
                           f"combinations other than {f['text']} are determined ({sd})")
        return out


def log_scale_jacobian(objective: Objective, fit: Fit) -> np.ndarray:
    """Data rows of the Jacobian w.r.t. ``(ln value, ρ)``."""
    J = fit.jacobian[:objective.noise.n].copy()
    z, _ = objective.split(fit.x)
    for j, par in enumerate(objective.parameters):
        if par.scale == "linear":  # ∂e/∂ln v = v ∂e/∂v = (v / typical) ∂e/∂z
            v = par.from_search(float(z[j]))
            J[:, j] *= (abs(v) if v != 0 else par.typical) / par.typical
    return J


def analyse(objective: Objective, fit: Fit, s2: float, max_sd: float = 1.0,
            min_ratio: float = 1e-10) -> Identifiability:
    """Eigen-analysis of the Fisher information (see the module docstring)."""
    p = objective.p
    J = log_scale_jacobian(objective, fit)
    F = J.T @ J / s2
    if F.shape[0] > p:  # profile the AR(1) coefficients out
        A, B, C = F[:p, :p], F[:p, p:], F[p:, p:]
        F = A - B @ np.linalg.pinv(C) @ B.T
    w, v = np.linalg.eigh(0.5 * (F + F.T))
    top = float(w.max()) if w.size else 0.0
    cond = top / float(w.min()) if w.size and w.min() > 0 else np.inf
    names = objective.parameters.names
    flagged = []
    for i, lam in enumerate(w):
        sd = 1.0 / np.sqrt(lam) if lam > 0 else np.inf
        if sd > max_sd or lam < min_ratio * top:
            flagged.append(_combination(names, v[:, i], float(lam), float(sd)))
    return Identifiability(names, w, v, float(cond), flagged, max_sd)


def _combination(names: list[str], vec: np.ndarray, lam: float, sd: float) -> dict:
    k = int(np.argmax(np.abs(vec)))
    vec = vec * np.sign(vec[k])
    big = [(names[i], float(vec[i])) for i in np.argsort(-np.abs(vec))
           if abs(vec[i]) >= 0.1 * abs(vec[k])]
    text = " ".join(f"{'+' if c >= 0 else '-'} {abs(c):.2f} ln {n}" for n, c in big)
    text = text[2:] if text.startswith("+ ") else text
    return {"eigenvalue": lam, "sd": sd, "weights": dict(big), "text": text,
            "parameters": [n for n, _ in big]}


def profile(objective: Objective, fit: Fit, s2: float, cov_z: np.ndarray, name: str,
            points: int, span: float, spec) -> dict:
    """The profile likelihood of one parameter (see the module docstring)."""
    from scipy.optimize import least_squares
    j = objective.parameters.names.index(name)
    lo, hi = objective.bounds()
    x_hat = np.array(fit.x, dtype=float)
    se = float(np.sqrt(cov_z[j, j])) if np.isfinite(cov_z[j, j]) else np.nan
    width = span * se if np.isfinite(se) and se > 0 else 1.0
    grid = np.clip(x_hat[j] + np.linspace(-width, width, points), lo[j], hi[j])
    others = [k for k in range(objective.size) if k != j]
    costs = np.full(points, np.nan)
    order = np.argsort(np.abs(grid - x_hat[j]), kind="stable")
    starts = {}
    for i in order:  # outwards from the estimate, each fit starting at its neighbour's
        near = [k for k in starts if abs(k - i) == 1]
        x0 = starts[near[0]] if near else x_hat[others]

        def full(xs, zj=grid[i]):
            x = np.empty(objective.size)
            x[others], x[j] = xs, zj
            return x

        res = least_squares(lambda xs: objective.residuals(full(xs), "profile"),
                            np.clip(x0, lo[others], hi[others]),
                            jac=lambda xs: objective.jacobian(full(xs))[:, others],
                            bounds=(lo[others], hi[others]), method="trf", x_scale="jac",
                            ftol=spec.ftol, xtol=spec.xtol, gtol=spec.gtol)
        starts[i] = res.x
        costs[i] = float(res.cost)
    delta = 2.0 * (costs - fit.cost) / s2
    par = objective.parameters.items[j]
    values = np.array([par.from_search(float(g)) for g in grid])
    low, high = _crossings(values, delta, float(par.from_search(float(x_hat[j]))))
    return {"values": values, "cost": costs, "delta_chi2": delta, "ci_low": low,
            "ci_high": high}


def _crossings(values: np.ndarray, delta: np.ndarray, centre: float) -> tuple[float, float]:
    """Where ``delta`` crosses the 95 % threshold each side of ``centre`` (linear
    interpolation; ±inf when it stays below inside the profiled range)."""
    out = []
    for side in (-1, 1):
        idx = [i for i in range(values.size) if side * (values[i] - centre) >= 0]
        idx.sort(key=lambda i: abs(values[i] - centre))
        found = side * np.inf
        for a, b in zip(idx, idx[1:], strict=False):
            if delta[a] <= CHI2_95 < delta[b]:
                f = (CHI2_95 - delta[a]) / (delta[b] - delta[a])
                found = float(values[a] + f * (values[b] - values[a]))
                break
        out.append(found)
    return out[0], out[1]
