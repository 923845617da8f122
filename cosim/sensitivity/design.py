"""Designs of the sensitivity methods: SALib samples in the unit cube, mapped to values.

Every method samples the unit hypercube ``[0, 1]^d`` with SALib (``sobol``: Saltelli's
scheme on a scrambled Sobol' sequence; ``morris``: ``r`` one-at-a-time trajectories on a
``levels`` grid; ``rbd_fast`` and ``pawn``: a Latin hypercube) and the analysis sees
those unit coordinates. Each coordinate is mapped to its factor's value by the inverse
CDF of the factor's distribution (``uniform`` for a ``{low, high}`` range), the same
mapping as the studies' samples. Sobol', RBD-FAST and PAWN indices do not depend on
that monotone per-factor mapping; Morris' elementary effects are per fraction of a
factor's range (SALib's scaling on ``[0, 1]``), comparable across factors. Morris'
grid includes 0 and 1: for a distribution without finite bounds its levels map to the
0.5 % and 99.5 % quantiles instead (``MORRIS_TAIL``).
"""

from __future__ import annotations

import fnmatch
import importlib
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..studies.sampling import frozen
from ..studies.schema import Uniform
from .spec import Range, SensitivitySpec

MORRIS_TAIL = 0.005
_TINY = np.finfo(float).tiny
INSTALL_HINT = "sensitivity analysis needs SALib: pip install cosim[sensitivity]"


def salib(module: str):
    """``SALib.<module>``, or a ConfigError naming the extra to install."""
    try:
        return importlib.import_module(f"SALib.{module}")
    except ImportError as err:
        raise ConfigError(f"{INSTALL_HINT} ({err})") from None


@dataclass(frozen=True)
class Factor:
    """A varied input: its name (the key as written, maybe a glob) and the override
    keys it sets."""

    name: str
    keys: tuple[str, ...]
    dist: object

    def frozen(self):
        d = self.dist
        if isinstance(d, Range):
            d = Uniform(distribution="uniform", low=d.low, high=d.high)
        return frozen(d)

    @property
    def bounded(self) -> bool:
        lo, hi = self.frozen().support()
        return bool(np.isfinite(lo) and np.isfinite(hi))


def expand(name: str, nodes: list[str]) -> tuple[str, ...]:
    """The override keys of a factor: a ``*``/``?`` in the node part matches nodes."""
    prefix = "start." if name.startswith("start.") and name.count(".") >= 2 else ""
    body = name[len(prefix):]
    node, _, var = body.partition(".")
    if not any(c in node for c in "*?["):
        return (name,)
    hits = [n for n in nodes if fnmatch.fnmatchcase(n, node)]
    return tuple(f"{prefix}{n}.{var}" for n in hits)


def problem(factors: list[Factor]) -> dict:
    """SALib's problem on the unit cube."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[0.0, 1.0]] * len(factors)}


def unit_sample(spec: SensitivitySpec, prob: dict) -> np.ndarray:
    """The method's design in ``[0, 1]^d`` (rows: runs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's notes on sample sizes; checked by the spec
        if spec.method == "sobol":
            return salib("sample.sobol").sample(prob, spec.n,
                                                calc_second_order=spec.second_order,
                                                seed=spec.seed)
        if spec.method == "morris":
            return salib("sample.morris").sample(prob, spec.n, num_levels=spec.levels,
                                                 seed=spec.seed)
        return salib("sample.latin").sample(prob, spec.n, seed=spec.seed)


def values(factors: list[Factor], u: np.ndarray, method: str) -> np.ndarray:
    """Factor values ``(runs, d)`` of the unit design ``u``."""
    out = np.empty_like(u)
    for j, f in enumerate(factors):
        col = u[:, j]
        if method == "morris" and not f.bounded:
            col = MORRIS_TAIL + (1.0 - 2.0 * MORRIS_TAIL) * col
        out[:, j] = f.frozen().ppf(np.clip(col, _TINY, 1.0 - 1e-16) if not f.bounded
                                   else col)
    return out


def points(factors: list[Factor], x: np.ndarray) -> list[dict[str, float]]:
    """One override mapping per run: every key of a factor gets the factor's value."""
    return [{key: float(row[j]) for j, f in enumerate(factors) for key in f.keys}
            for row in x]


def runs_per_half(spec: SensitivitySpec, d: int) -> int:
    """Rows of the design that form the same design at half the size (N/2)."""
    if spec.method == "sobol":
        per = 2 * d + 2 if spec.second_order else d + 2
        return (spec.n // 2) * per
    if spec.method == "morris":
        return (spec.n // 2) * (d + 1)
    return spec.n // 2
