"""Parameter estimates files: what a calibration hands to uncertainty propagation.

The contract (layout version 1) — a calibration's result file holds at least::

    /                         attrs: cosim_estimates_version = 1, method (e.g.
                                     "least-squares", "bayesian")
    /estimates/name           string [p]      the estimated parameters, in order
    /estimates/targets        string [p]      JSON list of the override keys each one
                                              sets (node.parameter or start.node.var);
                                              a parameter tied across nodes sets several
    /estimates/value          float64 [p]     estimate, in unit
    /estimates/std_error      float64 [p]     standard error (sqrt of the covariance's
                                              diagonal)
    /estimates/unit           string [p]      "" when dimensionless or unknown
    /estimates/low, /high     float64 [p]     bounds of the search (-inf/inf: none);
                                              optional
    /covariance               float64 [p, p]  covariance of the values (in their units,
                                              linear scale even when the search used a
                                              log scale)
    /posterior/samples        float64 [s, p]  posterior draws (Bayesian only), columns in
                                              /estimates/name order, burn-in removed

Anything else in the file (evaluations, fitted traces, provenance) is the calibration's
own business. :func:`write_estimates` writes exactly this; :func:`read_estimates` reads
it, and a study samples from it (``samples: {calibration: {file: ...}}``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..errors import ResultsError

ESTIMATES_VERSION = 1
_STR = h5py.string_dtype()


@dataclass
class Estimates:
    """Estimates, their covariance and (optionally) posterior samples."""

    names: list[str]
    targets: list[list[str]]
    value: np.ndarray
    covariance: np.ndarray
    unit: list[str]
    low: np.ndarray
    high: np.ndarray
    posterior: np.ndarray | None = None
    method: str = ""
    path: Path | None = None

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    def index(self, names: Sequence[str] | None) -> list[int]:
        if names is None:
            return list(range(len(self.names)))
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise ValueError(f"no estimate {unknown[0]!r} in {self.path} (it has: "
                             f"{', '.join(self.names)})")
        return [self.names.index(n) for n in names]


def write_estimates(path: str | Path, names: Sequence[str], value: Sequence[float],
                    covariance: np.ndarray, *, targets: Sequence[Sequence[str]] | None = None,
                    unit: Sequence[str] | None = None, low: Sequence[float] | None = None,
                    high: Sequence[float] | None = None, posterior: np.ndarray | None = None,
                    method: str = "") -> None:
    """Write (or add to an existing HDF5 file) the estimates contract."""
    p = len(names)
    value = np.asarray(value, dtype=np.float64)
    cov = np.asarray(covariance, dtype=np.float64)
    if value.shape != (p,) or cov.shape != (p, p):
        raise ValueError(f"{p} names need {p} values and a {p}x{p} covariance, got "
                         f"{value.shape} and {cov.shape}")
    tg = [list(t) for t in targets] if targets is not None else [[n] for n in names]
    with h5py.File(path, "a") as f:
        for old in ("estimates", "covariance", "posterior"):
            if old in f:
                del f[old]
        f.attrs["cosim_estimates_version"] = np.int64(ESTIMATES_VERSION)
        f.attrs["method"] = method
        g = f.create_group("estimates", track_order=True)
        g.create_dataset("name", data=np.array(list(names), dtype=object), dtype=_STR)
        g.create_dataset("targets", data=np.array([json.dumps(t) for t in tg], dtype=object),
                         dtype=_STR)
        g.create_dataset("value", data=value)
        g.create_dataset("std_error", data=np.sqrt(np.clip(np.diag(cov), 0.0, None)))
        g.create_dataset("unit", data=np.array(list(unit or [""] * p), dtype=object),
                         dtype=_STR)
        g.create_dataset("low", data=np.full(p, -np.inf) if low is None else
                         np.asarray(low, dtype=np.float64))
        g.create_dataset("high", data=np.full(p, np.inf) if high is None else
                         np.asarray(high, dtype=np.float64))
        f.create_dataset("covariance", data=cov)
        if posterior is not None:
            f.create_group("posterior").create_dataset(
                "samples", data=np.asarray(posterior, dtype=np.float64))


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def read_estimates(path: str | Path) -> Estimates:
    """Read the estimates contract (raises ResultsError naming the path)."""
    p = Path(path)
    if not p.is_file():
        raise ResultsError("no such file (a calibration result with estimates)", path=str(p))
    try:
        with h5py.File(p, "r") as f:
            if "cosim_estimates_version" not in f.attrs:
                raise ResultsError("no cosim_estimates_version attribute: not a file of "
                                   "parameter estimates (see docs/uncertainty.md)", path=str(p))
            g = f["estimates"]
            names = _text(g["name"][()])
            est = Estimates(
                names=names, targets=[json.loads(t) for t in _text(g["targets"][()])],
                value=g["value"][()].astype(np.float64),
                covariance=f["covariance"][()].astype(np.float64),
                unit=_text(g["unit"][()]) if "unit" in g else [""] * len(names),
                low=g["low"][()] if "low" in g else np.full(len(names), -np.inf),
                high=g["high"][()] if "high" in g else np.full(len(names), np.inf),
                posterior=f["posterior/samples"][()] if "posterior/samples" in f else None,
                method=str(f.attrs.get("method", "")), path=p)
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise ResultsError(f"cannot read the estimates: {err}", path=str(p)) from err
    n = len(est.names)
    if est.covariance.shape != (n, n):
        raise ResultsError(f"covariance is {est.covariance.shape}, expected ({n}, {n})",
                           path=str(p))
    if est.posterior is not None and est.posterior.shape[1:] != (n,):
        raise ResultsError(f"posterior samples are {est.posterior.shape}, expected (s, {n})",
                           path=str(p))
    return est


def _factor(cov: np.ndarray) -> np.ndarray:
    """``L`` with ``L Lᵀ = cov`` (Cholesky; eigen-decomposition if only semi-definite)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(0.5 * (cov + cov.T))
        if w.min() < -1e-9 * max(1.0, abs(w.max())):
            raise ValueError("the covariance is not positive semi-definite") from None
        return v * np.sqrt(np.clip(w, 0.0, None))


def sample_estimates(est: Estimates, u: np.ndarray, use: str, chosen: Sequence[str] | None,
                     seed: int) -> list[dict[str, float]]:
    """Points ``{override key: value}`` from unit points ``u`` ``(n, d)``.

    ``covariance``: ``value + L Φ⁻¹(u)`` for the chosen estimates (the others at their
    value); rows outside ``[low, high]`` are replaced by normal draws from
    ``default_rng(seed)`` until inside (at most 1000 rounds). ``posterior``: the row
    ``floor(u[:, 0] * s)`` of the posterior samples.
    """
    from scipy.stats import norm
    idx = est.index(chosen)
    n = u.shape[0]
    values = np.tile(est.value, (n, 1))
    if use == "posterior":
        if est.posterior is None or est.posterior.shape[0] == 0:
            raise ValueError(f"{est.path} has no posterior samples (use: covariance)")
        rows = np.minimum((u[:, 0] * est.posterior.shape[0]).astype(np.int64),
                          est.posterior.shape[0] - 1)
        values[:, idx] = est.posterior[np.ix_(rows, idx)]
    else:
        factor = _factor(est.covariance[np.ix_(idx, idx)])
        values[:, idx] = est.value[idx] + norm.ppf(u[:, :len(idx)]) @ factor.T
        _redraw(values, idx, factor, est, seed)
    return [{key: float(values[i, j]) for j in range(len(est.names))
             for key in est.targets[j]} for i in range(n)]


def _redraw(values: np.ndarray, idx: list[int], factor: np.ndarray, est: Estimates,
            seed: int) -> None:
    rng = np.random.default_rng(seed)
    lo, hi = est.low[idx], est.high[idx]
    for _ in range(1000):
        bad = np.flatnonzero(((values[:, idx] < lo) | (values[:, idx] > hi)).any(axis=1))
        if bad.size == 0:
            return
        z = rng.standard_normal((bad.size, len(idx)))
        values[np.ix_(bad, idx)] = est.value[idx] + z @ factor.T
    raise ValueError("the bounds of the estimates exclude almost all of their normal "
                     "distribution: check low/high and the covariance")
