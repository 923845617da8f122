"""Fitting a surrogate: candidates, selection by free-run error, intervals, test.

The trajectories are split at random (``seed``) into three disjoint sets:

``train``        fits every candidate
``validation``   ranks the candidates by their **free-run** error (the model fed its own
                 outputs from the initial ones, as in use): the mean over outputs of the
                 RMSE divided by the output's range in these trajectories
``test``         measures the chosen model: free-run errors and interval coverage, never
                 used for any choice

The chosen candidate is then fitted on train + validation (the final model; the
envelope is drawn from the same data) and its intervals are calibrated by
**cross-conformal** prediction over those trajectories (:mod:`.intervals`): they are
cut into ``folds``; for each, the candidate is fitted on the others and run free over
it; the free-run errors of every train + validation trajectory, each predicted by a
model that never saw it, give the half-widths. Calibrating on all of them, rather than
on a small held-out set, matters because free-run errors are correlated within a
trajectory: a few dozen trajectories give a quantile that scatters by several percent
of coverage. A candidate whose free run diverges (non-finite outputs) is reported and
never chosen.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..validation.metrics import point_metrics
from . import lss, regressors
from .dataset import Dataset
from .envelope import Envelope
from .intervals import Intervals
from .narx import Lags, Narx, Scaling, regressor_rows

NARX_KINDS = regressors.KINDS
KINDS = (*NARX_KINDS, "lss")


@dataclass(frozen=True)
class Candidate:
    """One model to try: ``kind`` (a regressor kind or ``lss``), lags ``ny``/``nu`` (NARX;
    for ``lss`` ``ny`` is the ARX order ``na``) and options: ``warmup`` (steps of the
    warm-up regressor, :mod:`.narx`), the rest the regressor's."""

    kind: str
    ny: int = 2
    nu: int = 2
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def make(cls, kind: str, ny: int = 2, nu: int = 2, **options: Any) -> Candidate:
        if kind not in KINDS:
            raise ConfigError(f"unknown surrogate kind {kind!r}; choose from "
                              f"{', '.join(KINDS)}")
        return cls(kind, int(ny), int(nu), tuple(sorted(options.items())))

    @property
    def label(self) -> str:
        opts = "".join(f" {k}={v}" for k, v in self.options)
        if self.kind == "lss":
            return f"lss na={self.ny}{opts}"
        return f"{self.kind} ny={self.ny} nu={self.nu}{opts}"


#: the candidates ``cosim surrogate fit`` tries by default
DEFAULT_CANDIDATES = (
    Candidate.make("linear", 1, 1), Candidate.make("linear", 3, 3, warmup=30),
    Candidate.make("polynomial", 2, 2, degree=2), Candidate.make("polynomial", 3, 3, degree=2),
    Candidate.make("polynomial", 6, 6, degree=2),
    Candidate.make("polynomial", 6, 6, degree=2, warmup=30),
    Candidate.make("polynomial", 2, 2, degree=3),
    Candidate.make("polynomial", 2, 2, degree=3, warmup=30),
    Candidate.make("polynomial", 2, 2, degree=3, warmup=60),
    Candidate.make("polynomial", 3, 2, degree=3, warmup=30),
    Candidate.make("lss", 2),
    Candidate.make("gp", 2, 2, warmup=30), Candidate.make("boosting", 2, 2, warmup=30),
    Candidate.make("mlp", 2, 2, warmup=30),
)


def candidates_for(kinds: list[str] | None, lags: list[tuple[int, int]] | None,
                   degree: int = 2) -> list[Candidate]:
    """The default candidates restricted to ``kinds``; with ``lags``, every kind at
    those ``(ny, nu)`` instead (``degree`` for polynomials)."""
    chosen = list(kinds or [])
    bad = [k for k in chosen if k not in KINDS]
    if bad:
        raise ConfigError(f"unknown surrogate kind {bad[0]!r}; choose from {', '.join(KINDS)}")
    if lags is None:
        return [c for c in DEFAULT_CANDIDATES if not chosen or c.kind in chosen]
    out = []
    for kind in chosen or [k for k in KINDS]:
        for ny, nu in lags:
            extra = {"degree": degree} if kind == "polynomial" else {}
            out.append(Candidate.make(kind, ny, nu, **extra))
    return list(dict.fromkeys(out))


@dataclass
class FitOptions:
    """How to fit: candidates, envelope kind, nominal interval coverage, split fractions
    (train, validation, test), calibration folds, random seed, test points sampled."""

    candidates: list[Candidate] = field(default_factory=lambda: list(DEFAULT_CANDIDATES))
    envelope: str = "hull"
    coverage: float = 0.9
    fractions: tuple[float, float, float] = (0.6, 0.15, 0.25)
    folds: int = 5
    seed: int = 0
    test_points: int = 1000
    progress: Any = None  # callable(str) or None


@dataclass
class Trial:
    """A candidate's validation scores."""

    candidate: Candidate
    score: float
    metrics: dict[str, dict[str, float]]
    fit_seconds: float
    error: str = ""


@dataclass
class Fitted:
    """The outcome of :func:`fit`: the model and everything the artifact records."""

    model: Any
    candidate: Candidate
    trials: list[Trial]
    envelope: Envelope
    intervals: Intervals
    test: dict[str, Any]
    split: dict[str, list[int]]


def split(n: int, fractions, seed: int) -> dict[str, list[int]]:
    """Disjoint trajectory indices for train, validation and test."""
    if n < 4:
        raise ConfigError(f"fitting needs at least 4 trajectories (train, validation, "
                          f"test, and two folds to calibrate), the study has {n}")
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or np.any(f <= 0):
        raise ConfigError(f"split fractions must be 3 positive numbers, got {fractions}")
    counts = np.maximum(1, np.floor(f / f.sum() * n).astype(int))
    counts[0] = n - counts[1:].sum()
    if counts[0] < 1:
        raise ConfigError(f"too few trajectories ({n}) for the split {tuple(f)}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    names, out, i = ("train", "validation", "test"), {}, 0
    for name, c in zip(names, counts, strict=True):
        out[name] = sorted(order[i:i + c])
        i += c
    return out


# -- building and running models ----------------------------------------------------------------


def build(candidate: Candidate, data: Dataset, ids: list[int], seed: int = 0) -> Any:
    """``candidate`` fitted on trajectories ``ids``."""
    opts = dict(candidate.options)
    if candidate.kind == "lss":
        y, u = _stack(data, ids)
        return lss.fit(y, u, na=candidate.ny, max_nfev=int(opts.get("max_nfev", 20)))
    lags = Lags(len(data.outputs), len(data.inputs), candidate.ny, candidate.nu,
                int(opts.pop("warmup", 0)))
    rows = [regressor_rows(data.y[i], data.u[i], lags) for i in ids]
    z = np.concatenate([r[0] for r in rows])
    d = np.concatenate([r[1] for r in rows])
    scaling = Scaling.fit(z, d)
    reg = regressors.make(candidate.kind, **opts)
    zs, ds = (z - scaling.z_mean) / scaling.z_scale, (d - scaling.d_mean) / scaling.d_scale
    if isinstance(reg, regressors.SklearnRegressor):
        reg.fit(zs, ds, seed=seed)
    else:
        reg.fit(zs, ds)
    return Narx(lags, scaling, reg)


def _stack(data: Dataset, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    try:
        return data.stacked(ids)
    except ValueError:
        raise ConfigError("the linear state space needs trajectories of one length") from None


def free_run(model: Any, data: Dataset, ids: list[int]) -> tuple[list[np.ndarray], ...]:
    """Free-run predictions and measured outputs (steps 1..n) of trajectories ``ids``,
    grouped by length internally; returned in ``ids`` order."""
    pred: dict[int, np.ndarray] = {}
    by_len: dict[int, list[int]] = {}
    for i in ids:
        by_len.setdefault(len(data.u[i]), []).append(i)
    for group in by_len.values():
        y, u = data.stacked(group)
        with np.errstate(all="ignore"):
            sim = model.simulate(y[:, 0], u)
        for j, i in enumerate(group):
            pred[i] = sim[j, 1:]
    return [pred[i] for i in ids], [data.y[i][1:] for i in ids]


def one_step(model: Any, data: Dataset, ids: list[int]) -> tuple[list[np.ndarray], ...]:
    pred = []
    for i in ids:
        with np.errstate(all="ignore"):
            pred.append(model.one_step(data.y[i][None], data.u[i][None])[0])
    return pred, [data.y[i][1:] for i in ids]


def scores(pred: list[np.ndarray], obs: list[np.ndarray], names: list[str]
           ) -> dict[str, dict[str, float]]:
    """Point metrics per output over all steps of all trajectories (cosim.validation)."""
    p, o = np.concatenate(pred), np.concatenate(obs)
    out = {}
    for j, name in enumerate(names):
        m = point_metrics(p[:, j], o[:, j]).values
        finite = bool(np.all(np.isfinite(p[:, j])))
        out[name] = {k: (float(m[k]) if finite else math.inf)
                     for k in ("rmse", "nrmse_range", "max_abs_error", "bias")}
    return out


# -- the pipeline -------------------------------------------------------------------------------


def fit(data: Dataset, options: FitOptions | None = None) -> Fitted:
    """Fit every candidate, choose by free-run validation error, calibrate, test.

    Native thread pools (OpenMP, BLAS) are limited to one thread meanwhile: the fits and
    free runs make many small calls, which threads only slow down (tenfold and more on a
    busy machine)."""
    with regressors.one_thread():
        return _fit(data, options)


def _fit(data: Dataset, options: FitOptions | None) -> Fitted:
    opt = options or FitOptions()
    if not opt.candidates:
        raise ConfigError("no candidate model to fit")
    parts = split(len(data), opt.fractions, opt.seed)
    names = data.output_names
    trials = [_trial(c, data, parts, names, opt) for c in opt.candidates]
    ok = [t for t in trials if math.isfinite(t.score)]
    if not ok:
        errors = "; ".join(f"{t.candidate.label}: {t.error or 'diverged'}" for t in trials)
        raise ConfigError(f"no candidate gave a finite free-run error ({errors})")
    best = min(ok, key=lambda t: t.score)
    for t in trials:
        t.metrics.pop("_model", None)
    fit_ids = sorted(parts["train"] + parts["validation"])
    _say(opt, f"chosen: {best.candidate.label}; fitting it on train + validation and "
              f"calibrating its intervals over {opt.folds} folds")
    model = build(best.candidate, data, fit_ids, opt.seed)
    envelope = Envelope.fit(data.input_names,
                            np.concatenate([data.u[i] for i in fit_ids]), opt.envelope)
    errors = cross_errors(best.candidate, data, fit_ids, opt.folds, opt.seed)
    intervals = Intervals.calibrate(errors, opt.coverage)
    test = _test(model, data, parts["test"], intervals, opt)
    return Fitted(model, best.candidate, trials, envelope, intervals, test, parts)


def cross_errors(candidate: Candidate, data: Dataset, ids: list[int], folds: int,
                 seed: int) -> np.ndarray:
    """Free-run errors ``(points, n_out)`` of trajectories ``ids``, each predicted by the
    candidate fitted on the other folds (cross-conformal calibration)."""
    folds = max(2, min(int(folds), len(ids)))
    order = np.random.default_rng(seed + 7).permutation(ids).tolist()
    errors = []
    for f in range(folds):
        held = sorted(order[f::folds])
        rest = sorted(set(ids) - set(held))
        model = build(candidate, data, rest, seed)
        pred, obs = free_run(model, data, held)
        errors.append(np.concatenate(pred) - np.concatenate(obs))
    return np.concatenate(errors)


def _say(opt: FitOptions, text: str) -> None:
    if opt.progress is not None:
        opt.progress(text)


def _trial(c: Candidate, data: Dataset, parts: dict, names: list[str], opt: FitOptions
           ) -> Trial:
    clock = time.perf_counter()
    try:
        model = build(c, data, parts["train"], opt.seed)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, ConfigError) as err:
        _say(opt, f"{c.label}: failed ({err})")
        return Trial(c, math.inf, {}, time.perf_counter() - clock, str(err))
    seconds = time.perf_counter() - clock
    pred, obs = free_run(model, data, parts["validation"])
    free = scores(pred, obs, names)
    pred1, obs1 = one_step(model, data, parts["validation"])
    step1 = scores(pred1, obs1, names)
    score = float(np.mean([free[n]["nrmse_range"] for n in names]))
    metrics: dict[str, Any] = {"free_run": free, "one_step": step1, "_model": model}
    _say(opt, f"{c.label}: free-run NRMSE {score:.4%} ({seconds:.1f} s to fit)")
    return Trial(c, score if math.isfinite(score) else math.inf, metrics, seconds)


def _test(model: Any, data: Dataset, ids: list[int], intervals: Intervals,
          opt: FitOptions) -> dict[str, Any]:
    names = data.output_names
    pred, obs = free_run(model, data, ids)
    err = np.concatenate(pred) - np.concatenate(obs)
    rng = np.random.default_rng(opt.seed + 1)
    n = min(opt.test_points, len(err))
    pick = np.sort(rng.choice(len(err), n, replace=False))
    pred1, obs1 = one_step(model, data, ids)
    return {"trajectories": len(ids), "points": int(len(err)),
            "free_run": scores(pred, obs, names), "one_step": scores(pred1, obs1, names),
            "coverage_all": dict(zip(names, intervals.covered(err).tolist(), strict=True)),
            "coverage_sample": dict(zip(names, intervals.covered(err[pick]).tolist(),
                                        strict=True)),
            "sample_points": int(n)}
