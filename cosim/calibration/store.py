"""The calibration file's results (after the journal) and the parameter file.

Beside the journal (:mod:`cosim.calibration.journal`), a finished calibration writes::

    /                     attrs: status (completed), finished, method, noise, level,
                                 info (JSON: converged, message, simulations, cost, s²,
                                 starts, diagnostics ...), and the estimates contract's
                                 cosim_estimates_version
    /estimates/...        the estimates contract (cosim.studies.estimates): name,
                          targets, value, std_error, unit, low, high; and (extensions)
                          ci_low, ci_high, initial, scale
    /covariance           float64 [p, p]   model units
    /correlation          float64 [p, p]
    /posterior/samples    float64 [s, p]   (bayesian) and log_prob [s]
    /fit/time             float64 [n]      the run's grid [s]
    /fit/signal, /fit/unit string [S]
    /fit/measured, /fit/model, /fit/initial   float64 [S, n]  (model units; NaN: none)
    /fit/fitted, /fit/holdout                  int8 [S, n]     points fitted / held out
    /fit/sigma, /fit/rho, /fit/estimated       [S]  noise sd (marginal), AR(1) ρ
    /identifiability/eigenvalues [p], /eigenvectors [p, p] (columns); attrs
                          condition_number, max_sd, flagged (JSON)
    /identifiability/profiles/<name>/{values, cost, delta_chi2}; attrs ci_low, ci_high
    /metrics/holdout, /metrics/fit    per signal: n, bias, rmse, nmbe, cv_rmse, r2,
                          passed (Guideline 14 hourly)
    /meta/calibration     the calibration file's text
    /meta/provenance      JSON: calibration file, topology (and its JSON), FMU and data
                          file SHA-256 (assets), telemetry files with SHA-256, versions

:func:`read_calibration` reads it back into a :class:`CalibrationResult`.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from ..errors import ResultsError
from ..results.layout import LIBVER, utc_now
from ..studies.estimates import read_estimates, write_estimates
from .identifiability import Identifiability
from .journal import STR, _text
from .result import CalibrationResult, FitTraces


def _json(obj) -> str:
    return json.dumps(obj, default=_default, allow_nan=True)


def _default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


def _strings(g: h5py.Group, name: str, values) -> None:
    g.create_dataset(name, data=np.array(list(values), dtype=object), dtype=STR)


def write_result(path: str | Path, r: CalibrationResult, status: str = "completed") -> None:
    """Add the results of ``r`` to the calibration file at ``path`` (its journal kept)."""
    p = Path(path)
    try:
        write_estimates(p, r.names, r.value, r.cov, targets=r.targets, unit=r.units,
                        low=r.low, high=r.high, posterior=r.posterior_samples,
                        method=r.method)
        with h5py.File(p, "a", libver=LIBVER) as f:
            for old in ("correlation", "fit", "identifiability", "metrics", "meta"):
                if old in f:
                    del f[old]
            g = f["estimates"]
            for name, data in (("ci_low", r.ci_low), ("ci_high", r.ci_high),
                               ("initial", r.initial)):
                g.create_dataset(name, data=np.asarray(data, dtype=np.float64))
            _strings(g, "scale", r.scale)
            f.create_dataset("correlation", data=r.correlation.to_numpy())
            if r.posterior_log_prob is not None:
                f["posterior"].create_dataset("log_prob", data=r.posterior_log_prob)
            _fit(f.create_group("fit", track_order=True), r.fit)
            _identifiability(f.create_group("identifiability"), r.identifiability)
            m = f.create_group("metrics")
            for which in ("fit", "holdout"):
                _metrics(m.create_group(which), r.metrics(which))
            meta = f.create_group("meta")
            meta.create_dataset("calibration", data=r.provenance.get("text", ""), dtype=STR)
            meta.create_dataset("provenance", data=_json(r.provenance), dtype=STR)
            f.attrs.update({"status": status, "finished": utc_now(), "method": r.method,
                            "noise": r.noise, "level": r.level, "name": r.name,
                            "info": _json(r.info)})
    except (OSError, ValueError, RuntimeError, TypeError, KeyError) as err:
        raise ResultsError(f"cannot write the calibration results: {err}", path=str(p)) \
            from err


def set_status(path: str | Path, status: str, message: str = "") -> None:
    with h5py.File(path, "a", libver=LIBVER) as f:
        f.attrs["status"] = status
        f.attrs["finished"] = utc_now()
        if message:
            f.attrs["message"] = message


def _fit(g: h5py.Group, fit: FitTraces) -> None:
    g.create_dataset("time", data=fit.time).attrs["units"] = "s"
    _strings(g, "signal", fit.signals)
    _strings(g, "unit", [u or "" for u in fit.units])
    for name in ("measured", "model", "initial"):
        g.create_dataset(name, data=getattr(fit, name), compression="gzip", shuffle=True)
    g.create_dataset("fitted", data=fit.fit_mask.astype(np.int8), compression="gzip")
    g.create_dataset("holdout", data=fit.holdout_mask.astype(np.int8), compression="gzip")
    g.create_dataset("sigma", data=fit.sigma)
    g.create_dataset("rho", data=fit.rho)
    g.create_dataset("estimated", data=np.array(fit.estimated, dtype=np.int8))


def _identifiability(g: h5py.Group, ident: Identifiability) -> None:
    g.create_dataset("eigenvalues", data=ident.eigenvalues)
    g.create_dataset("eigenvectors", data=ident.eigenvectors)
    g.attrs.update({"condition_number": ident.condition_number, "max_sd": ident.max_sd,
                    "flagged": _json(ident.flagged), "names": _json(ident.names)})
    if ident.profiles:
        pg = g.create_group("profiles")
        for name, prof in ident.profiles.items():
            h = pg.create_group(name)
            for key in ("values", "cost", "delta_chi2"):
                h.create_dataset(key, data=np.asarray(prof[key], dtype=np.float64))
            h.attrs.update({"ci_low": prof["ci_low"], "ci_high": prof["ci_high"]})


def _metrics(g: h5py.Group, df: pd.DataFrame) -> None:
    _strings(g, "signal", df.index)
    for col in df.columns:
        if col == "unit":
            _strings(g, col, df[col].fillna(""))
        elif col == "passed":
            g.create_dataset(col, data=df[col].to_numpy(dtype=np.int8))
        else:
            g.create_dataset(col, data=df[col].to_numpy(dtype=np.float64))


# -- reading ---------------------------------------------------------------------------------


def read_calibration(path: str | Path) -> CalibrationResult:
    """A finished calibration file as a :class:`CalibrationResult`."""
    p = Path(path)
    est = read_estimates(p)
    try:
        with h5py.File(p, "r") as f:
            if f.attrs.get("status") != "completed" or "fit" not in f:
                raise ResultsError(f"the calibration did not finish (status "
                                   f"{f.attrs.get('status')!r}): resume it", path=str(p))
            g = f["estimates"]
            ident = _read_identifiability(f["identifiability"])
            post = f.get("posterior")
            return CalibrationResult(
                name=str(f.attrs.get("name", "")), method=est.method,
                noise=str(f.attrs.get("noise", "")), level=float(f.attrs.get("level", 0.95)),
                names=est.names, units=est.unit, targets=est.targets,
                initial=g["initial"][()], low=est.low, high=est.high,
                scale=_text(g["scale"][()]), value=est.value, std_error=est.std_error,
                ci_low=g["ci_low"][()], ci_high=g["ci_high"][()], cov=est.covariance,
                evaluation_table=evaluation_table(f["evaluations"], est.names),
                fit=_read_fit(f["fit"]), identifiability=ident,
                info=json.loads(f.attrs.get("info", "{}")),
                posterior_samples=est.posterior,
                posterior_log_prob=post["log_prob"][()] if post is not None and
                "log_prob" in post else None,
                provenance=json.loads(f["meta/provenance"][()]), path=p)
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise ResultsError(f"cannot read the calibration: {err}", path=str(p)) from err


def evaluation_table(g: h5py.Group, names: list[str]) -> pd.DataFrame:
    m = len(g["id"])
    values = g["values"][:m]
    df = pd.DataFrame({
        "stage": _text(g["stage"][:m]), "cost": g["cost"][:m],
        "status": _text(g["status"][:m]), "error": _text(g["error"][:m]),
        "wall_time": g["wall_time"][:m], "worker": _text(g["worker"][:m]),
        **{n: values[:, j] for j, n in enumerate(names)}},
        index=pd.Index(g["id"][:m], name="evaluation"))
    return df


def _read_fit(g: h5py.Group) -> FitTraces:
    return FitTraces(g["time"][()], _text(g["signal"][()]), _text(g["unit"][()]),
                     g["measured"][()], g["model"][()], g["initial"][()],
                     g["fitted"][()].astype(bool), g["holdout"][()].astype(bool),
                     g["sigma"][()], g["rho"][()], [bool(x) for x in g["estimated"][()]])


def _read_identifiability(g: h5py.Group) -> Identifiability:
    ident = Identifiability(json.loads(g.attrs["names"]), g["eigenvalues"][()],
                            g["eigenvectors"][()], float(g.attrs["condition_number"]),
                            json.loads(g.attrs["flagged"]), float(g.attrs["max_sd"]))
    for name, h in (g["profiles"].items() if "profiles" in g else []):
        ident.profiles[name] = {k: h[k][()] for k in ("values", "cost", "delta_chi2")}
        ident.profiles[name].update(ci_low=float(h.attrs["ci_low"]),
                                    ci_high=float(h.attrs["ci_high"]))
    return ident


# -- the parameter file ----------------------------------------------------------------------


def write_params(r: CalibrationResult, path: Path) -> Path:
    """``node.parameter: value`` per target (model units, full precision), each with a
    comment giving the estimate's standard error and 95 % interval."""
    lines = [f"# Estimates of calibration {r.name!r} ({r.method}, noise {r.noise}, "
             f"{r.n_simulations} simulations).",
             "# Values in the parameters' own units; use with cosim run --params or "
             "parameters_from:."]
    for i, name in enumerate(r.names):
        unit = r.units[i] if r.units[i] not in ("", "1") else ""
        note = (f"{name}: ± {r.std_error[i]:.3g} {unit} (1 s.e.), 95 %: "
                f"[{r.ci_low[i]:.6g}, {r.ci_high[i]:.6g}]").replace("  ", " ")
        for t in r.targets[i]:
            lines.append(f"{t}: {float(r.value[i])!r}   # {note}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
