"""Least squares: scipy's trust-region reflective method with bounds, multistart, and
the outer loop that re-estimates the noise.

One *fit* is ``scipy.optimize.least_squares(method="trf", x_scale="jac")`` on the
objective's residuals and parallel finite-difference Jacobian. With noise to estimate
(a signal without a stated sigma, or ``noise: ar1``), the fit is repeated from its
optimum with the noise scales re-estimated there until they change by less than
:data:`NOISE_TOLERANCE` (at most :data:`MAX_OUTER` fits; each later fit starts where
the last ended, so it costs a few Jacobians). ``multistart`` > 1: fits from the
initial values and from a Latin hypercube over the bounds (seeded), the best kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, SimulationError
from .evaluate import BudgetExhausted
from .objective import Objective

MAX_OUTER = 5
NOISE_TOLERANCE = 0.01


@dataclass
class Fit:
    """Where least squares ended: ``x = (z, ρ)``, the Jacobian there, the cost."""

    x: np.ndarray
    jacobian: np.ndarray
    cost: float
    converged: bool
    message: str
    starts: list[dict] = field(default_factory=list)
    nfev: int = 0


def fit_once(objective: Objective, x0: np.ndarray, spec) -> Fit:
    """One trust-region fit from ``x0`` (budget exhaustion ends it at the best point
    with a Jacobian)."""
    from scipy.optimize import least_squares
    lo, hi = objective.bounds()
    x0 = np.clip(x0, lo, hi)
    try:
        res = least_squares(objective.residuals, x0, jac=objective.jacobian, bounds=(lo, hi),
                            method="trf", x_scale="jac", ftol=spec.ftol, xtol=spec.xtol,
                            gtol=spec.gtol, max_nfev=10_000)
    except BudgetExhausted as err:
        if objective.last_jacobian is None:
            raise
        x, J = objective.last_jacobian
        r = objective.residuals(x)
        return Fit(x, J, 0.5 * float(r @ r), False, str(err))
    x = res.x
    J = objective.jacobian(x)  # at x (usually cached); the noise model may have moved
    r = objective.residuals(x)
    return Fit(x, J, 0.5 * float(r @ r), bool(res.success), str(res.message),
               nfev=int(res.nfev))


def starting_points(objective: Objective, z0: np.ndarray, n: int, seed: int) -> list:
    """``z0`` and ``n - 1`` Latin-hypercube points over the search bounds."""
    if n <= 1:
        return [z0]
    params = objective.parameters
    lo, hi = params.bounds()
    open_ = [p.name for p, a, b in zip(params, lo, hi, strict=True)
             if not (np.isfinite(a) and np.isfinite(b))]
    if open_:
        raise ConfigError(f"multistart needs finite bounds on every parameter; give "
                          f"bounds to {', '.join(open_)}")
    from scipy.stats import qmc
    u = qmc.LatinHypercube(d=len(z0), seed=np.random.default_rng(seed)).random(n - 1)
    return [z0] + [lo + row * (hi - lo) for row in u]


def prime_noise(objective: Objective, z0: np.ndarray) -> None:
    """Noise scales from the residuals at the initial point (estimated signals)."""
    (e,) = objective.evaluate([z0], "start")
    if not e.ok:
        raise SimulationError(f"the model fails at the initial parameters "
                              f"{objective.describe(z0)}: {e.error}")
    objective.noise.update(e.predictions)


def least_squares_fit(objective: Objective, z0: np.ndarray, spec, seed: int) -> Fit:
    """Multistart (if asked), then fits until the noise model settles."""
    prime_noise(objective, z0)
    starts = starting_points(objective, z0, getattr(spec, "multistart", 1), seed)
    best: Fit | None = None
    record = []
    for z in starts:
        try:
            if best is not None:  # a start where the model fails is skipped
                (e,) = objective.evaluate([z], "step")
                if not e.ok:
                    record.append({"start": objective.values(z).tolist(), "error": e.error})
                    continue
            fit = fit_once(objective, objective.start(z), spec)
        except BudgetExhausted:
            if best is None:
                raise
            break
        except SimulationError as err:
            if best is None:
                raise
            record.append({"start": objective.values(z).tolist(), "error": str(err)})
            continue
        record.append({"start": objective.values(z).tolist(), "cost": fit.cost,
                       "converged": fit.converged,
                       "end": objective.values(fit.x[:objective.p]).tolist()})
        if best is None or fit.cost < best.cost:
            best = fit
        if not fit.converged and "budget" in fit.message:
            break
    assert best is not None
    best = settle_noise(objective, best, spec)
    best.starts = record
    return best


def settle_noise(objective: Objective, fit: Fit, spec) -> Fit:
    """Re-estimate the noise at the optimum and fit again until it settles."""
    for _ in range(MAX_OUTER):
        z, rho = objective.split(fit.x)
        (e,) = objective.evaluate([z], "step")
        change = objective.noise.update(e.predictions, rho)
        if change < NOISE_TOLERANCE or not fit.converged:
            break
        fit = fit_once(objective, objective.start(z), spec)
    J = objective.jacobian(fit.x)  # with the final noise scales (points cached)
    r = objective.residuals(fit.x)
    fit.jacobian, fit.cost = J, 0.5 * float(r @ r)
    return fit
