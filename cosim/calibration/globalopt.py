"""``global``: scipy's differential evolution over the bounds, then least squares.

Differential evolution (``updating="deferred"``, seeded) hands each generation to a
map-like ``workers`` callable: here one parallel batch of evaluations. Its objective is
the least-squares cost with the noise model fixed at the initial point's residuals;
it gets ``share`` of the budget (whole generations), least squares the rest, starting
from the best member.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .evaluate import BudgetExhausted
from .leastsq import Fit, least_squares_fit, prime_noise
from .objective import Objective


def global_fit(objective: Objective, z0: np.ndarray, spec, budget: int, seed: int
               ) -> tuple[Fit, dict]:
    """Differential evolution, then :func:`least_squares_fit` from its best point."""
    from scipy.optimize import differential_evolution
    params = objective.parameters
    if not params.finite_bounds():
        raise ConfigError("method global needs finite bounds on every parameter")
    prime_noise(objective, z0)
    lo, hi = params.bounds()
    p = len(params)
    members = spec.popsize * p
    generations = max(1, min(spec.maxiter, int(spec.share * budget) // members - 1))
    best: dict = {"cost": np.inf, "z": z0}

    def batch(_func, population) -> list[float]:
        zs = [np.asarray(z, dtype=np.float64) for z in population]
        out = []
        for z, e in zip(zs, objective.evaluate(zs, "de"), strict=True):
            cost = e.cost if e.ok and np.isfinite(e.cost) else np.inf
            if cost < best["cost"]:
                best.update(cost=cost, z=z)
            out.append(cost)
        return out

    info = {"generations": generations, "population": members}
    try:
        res = differential_evolution(
            _unused, list(zip(lo, hi, strict=True)), popsize=spec.popsize, maxiter=generations,
            init="latinhypercube", seed=seed, polish=False, updating="deferred",
            workers=batch, x0=np.clip(z0, lo, hi), tol=0.0, atol=0.0)
        info.update(message=str(res.message), cost=float(res.fun), nit=int(res.nit))
        start = np.asarray(res.x, dtype=np.float64)
    except BudgetExhausted as err:
        info.update(message=str(err), cost=float(best["cost"]))
        start = best["z"]
    fit = least_squares_fit(objective, start, spec, seed)
    return fit, info


def _unused(z):  # pragma: no cover - the map callable evaluates, never this
    raise AssertionError("evaluated through the workers batch")
