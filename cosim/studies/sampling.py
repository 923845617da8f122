"""Random designs: Latin hypercube, Sobol and Monte Carlo samples of distributions.

Every method draws points ``u`` in the unit hypercube ``[0, 1)^d`` from a seeded
generator and maps each coordinate through the inverse CDF (``ppf``) of its parameter's
distribution, so the same ``seed`` always gives the same values, on any machine with the
same SciPy, whatever runs the scenarios.

* ``montecarlo``: ``numpy.random.default_rng(seed).random((n, d))``;
* ``lhs``: ``scipy.stats.qmc.LatinHypercube(d, rng=seed)`` — one point in each of ``n``
  equal-probability strata of every parameter;
* ``sobol``: scrambled ``scipy.stats.qmc.Sobol(d, rng=seed)``; balanced for ``n`` a power
  of 2 (other ``n`` work, with a warning).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .schema import (
    Choice,
    LogNormal,
    LogUniform,
    Normal,
    SamplesSpec,
    ScipyDist,
    Triangular,
    Uniform,
)

_TINY = np.finfo(float).tiny
_BELOW_ONE = np.nextafter(1.0, 0.0)


def frozen(dist) -> Any:
    """The ``scipy.stats`` frozen distribution of a continuous distribution spec."""
    from scipy import stats
    if isinstance(dist, LogUniform):
        return stats.loguniform(dist.low, dist.high)
    if isinstance(dist, Uniform):
        return stats.uniform(loc=dist.low, scale=dist.high - dist.low)
    if isinstance(dist, Normal):
        if dist.low is None and dist.high is None:
            return stats.norm(loc=dist.mean, scale=dist.std)
        a = -np.inf if dist.low is None else (dist.low - dist.mean) / dist.std
        b = np.inf if dist.high is None else (dist.high - dist.mean) / dist.std
        return stats.truncnorm(a, b, loc=dist.mean, scale=dist.std)
    if isinstance(dist, LogNormal):
        return stats.lognorm(s=dist.sigma, scale=float(np.exp(dist.mu)))
    if isinstance(dist, Triangular):
        width = dist.high - dist.low
        return stats.triang((dist.mode - dist.low) / width, loc=dist.low, scale=width)
    if isinstance(dist, ScipyDist):
        family = getattr(stats, dist.name, None)
        if not isinstance(family, stats.rv_continuous):
            raise ValueError(f"scipy.stats has no continuous distribution {dist.name!r}")
        try:
            return family(**dist.params)
        except TypeError as err:
            raise ValueError(f"scipy.stats.{dist.name}: {err}") from None
    raise TypeError(f"not a continuous distribution: {dist!r}")


def check(dist) -> None:
    """Raise ValueError if the distribution cannot be sampled (bad scipy parameters)."""
    if isinstance(dist, Choice):
        return
    values = frozen(dist).ppf([0.25, 0.5, 0.75])
    if not np.all(np.isfinite(values)):
        raise ValueError("invalid distribution parameters (its quantiles are not finite)")


def unit_points(method: str, n: int, d: int, seed: int) -> np.ndarray:
    """``(n, d)`` points in the open unit hypercube."""
    from scipy.stats import qmc
    if method == "montecarlo":
        u = np.random.default_rng(seed).random((n, d))
    elif method == "lhs":
        u = qmc.LatinHypercube(d, rng=seed).random(n)
    elif method == "sobol":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
            u = qmc.Sobol(d, scramble=True, rng=seed).random(n)
    else:
        raise ValueError(f"unknown sampling method {method!r}")
    return np.clip(u, _TINY, _BELOW_ONE)  # ppf(0) of an unbounded distribution is -inf


def transform(dist, u: np.ndarray) -> list[Any]:
    """Map unit values ``u`` through the distribution's inverse CDF."""
    if isinstance(dist, Choice):
        index = np.minimum((u * len(dist.values)).astype(np.int64), len(dist.values) - 1)
        return [dist.values[i] for i in index]
    return [float(v) for v in frozen(dist).ppf(u)]


def sample(spec: SamplesSpec, estimates=None) -> list[dict[str, Any]]:
    """The ``n`` sample points of a samples section: ``[{key: value}, ...]``.

    ``estimates`` (:class:`~cosim.studies.estimates.Estimates`) when the section draws
    from a calibration: its unit coordinates follow the distributions' (one per chosen
    estimate, or one for posterior rows)."""
    keys = list(spec.parameters)
    extra = 0
    if estimates is not None:
        cal = spec.calibration
        extra = 1 if cal.use == "posterior" else len(estimates.index(cal.parameters))
    u = unit_points(spec.method, spec.n, len(keys) + extra, spec.seed)
    columns = {key: transform(spec.parameters[key], u[:, j]) for j, key in enumerate(keys)}
    points = [{key: columns[key][i] for key in keys} for i in range(spec.n)]
    if estimates is not None:
        from .estimates import sample_estimates
        drawn = sample_estimates(estimates, u[:, len(keys):], spec.calibration.use,
                                 spec.calibration.parameters, spec.seed + 1)
        for point, more in zip(points, drawn, strict=True):
            point.update(more)
    return points
