"""The result of a calibration: estimates, uncertainty, fit, identifiability, provenance.

::

    result.estimates        # DataFrame: value, std_error, ci_low, ci_high, unit
    result.covariance       # DataFrame (parameter x parameter), model units
    result.correlation
    result.evaluations      # DataFrame: one row per simulation (values, cost, status)
    result.posterior        # DataFrame of posterior samples (bayesian), else None
    result.holdout          # DataFrame: held-out RMSE, NMBE, CV(RMSE) per signal, pass
    result.report("calib.html")
    result.write_params("calib_params.yaml")   # for cosim run --params / parameters_from
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..validation.criteria import PRESETS
from ..validation.metrics import point_metrics
from .identifiability import Identifiability

#: ASHRAE Guideline 14 hourly calibration criteria.
NMBE_LIMIT = PRESETS["ashrae14-hourly"]["nmbe"][1]        # |NMBE| <= 10 %
CV_RMSE_LIMIT = PRESETS["ashrae14-hourly"]["cv_rmse"][1]  # CV(RMSE) <= 30 %


@dataclass
class FitTraces:
    """Fitted signals on the run's grid: measured, model at the estimate and at the
    initial values (arrays ``[signal, time]``), which points were fitted / held out."""

    time: np.ndarray
    signals: list[str]
    units: list[str]
    measured: np.ndarray
    model: np.ndarray
    initial: np.ndarray
    fit_mask: np.ndarray
    holdout_mask: np.ndarray
    sigma: np.ndarray
    rho: np.ndarray
    estimated: list[bool]

    def residuals(self) -> np.ndarray:
        """Model minus measured (NaN where not measured)."""
        return self.model - self.measured


@dataclass
class CalibrationResult:
    name: str
    method: str
    noise: str
    level: float
    names: list[str]
    units: list[str]
    targets: list[list[str]]
    initial: np.ndarray
    low: np.ndarray
    high: np.ndarray
    scale: list[str]
    value: np.ndarray
    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    cov: np.ndarray
    evaluation_table: pd.DataFrame
    fit: FitTraces
    identifiability: Identifiability
    info: dict[str, Any] = field(default_factory=dict)
    posterior_samples: np.ndarray | None = None
    posterior_log_prob: np.ndarray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    # -- tables ------------------------------------------------------------------------------

    @property
    def estimates(self) -> pd.DataFrame:
        """One row per parameter: value, std_error, ci_low, ci_high (the 95 % interval),
        unit — in the parameters' model units."""
        return pd.DataFrame({"value": self.value, "std_error": self.std_error,
                             "ci_low": self.ci_low, "ci_high": self.ci_high,
                             "unit": self.units},
                            index=pd.Index(self.names, name="parameter"))

    @property
    def covariance(self) -> pd.DataFrame:
        return pd.DataFrame(self.cov, index=self.names, columns=self.names)

    @property
    def correlation(self) -> pd.DataFrame:
        from .uncertainty import correlation
        return pd.DataFrame(correlation(self.cov), index=self.names, columns=self.names)

    @property
    def evaluations(self) -> pd.DataFrame:
        return self.evaluation_table

    @property
    def posterior(self) -> pd.DataFrame | None:
        if self.posterior_samples is None:
            return None
        return pd.DataFrame(self.posterior_samples, columns=self.names)

    @property
    def parameters(self) -> dict[str, float]:
        """``{node.parameter: estimate}`` for every target."""
        return {t: float(v) for ts, v in zip(self.targets, self.value, strict=True) for t in ts}

    @property
    def n_simulations(self) -> int:
        return int(self.info.get("n_simulations", len(self.evaluation_table)))

    def metrics(self, which: str = "holdout") -> pd.DataFrame:
        """Per signal on the held-out (or fitted: ``"fit"``) points: n, bias, RMSE,
        NMBE and CV(RMSE) (ASHRAE Guideline 14, with p = the estimated parameters), and
        whether Guideline 14's hourly criteria hold (|NMBE| <= 10 %, CV(RMSE) <= 30 %)."""
        mask = self.fit.holdout_mask if which == "holdout" else self.fit.fit_mask
        rows = []
        for i, s in enumerate(self.fit.signals):
            m = mask[i]
            if not m.any():
                continue
            pm = point_metrics(np.where(m, self.fit.model[i], np.nan),
                               np.where(m, self.fit.measured[i], np.nan), p=len(self.names))
            v = pm.values
            ok = abs(v["nmbe"]) <= NMBE_LIMIT and v["cv_rmse"] <= CV_RMSE_LIMIT
            rows.append({"signal": s, "unit": self.fit.units[i], "n": int(v["n"]),
                         "bias": v["bias"], "rmse": v["rmse"], "nmbe": v["nmbe"],
                         "cv_rmse": v["cv_rmse"], "r2": v["r2"], "passed": bool(ok)})
        df = pd.DataFrame(rows, columns=["signal", "unit", "n", "bias", "rmse", "nmbe",
                                         "cv_rmse", "r2", "passed"])
        return df.set_index("signal")

    @property
    def holdout(self) -> pd.DataFrame:
        return self.metrics("holdout")

    # -- outputs -----------------------------------------------------------------------------

    def report(self, path: str | Path) -> Path:
        """Write the HTML report (figures embedded); return its path."""
        from .report import write_report
        return write_report(self, Path(path))

    def write_params(self, path: str | Path) -> Path:
        """A parameter file with the estimates, for ``cosim run --params`` and
        ``parameters_from:`` (each line says the estimate's uncertainty)."""
        from .store import write_params
        return write_params(self, Path(path))

    def summary(self) -> str:
        lines = [f"{self.name}: {self.method}, noise {self.noise}, "
                 f"{self.n_simulations} simulations"
                 + ("" if self.info.get("converged", True) else
                    f" (not converged: {self.info.get('message', '')})")]
        for i, n in enumerate(self.names):
            unit = f" {self.units[i]}" if self.units[i] not in ("", "1") else ""
            lines.append(f"  {n} = {_g(self.value[i])}{unit} ± {_g(self.std_error[i])} "
                         f"(95 %: {_g(self.ci_low[i])} .. {_g(self.ci_high[i])})")
        for w in self.identifiability.warnings():
            lines.append(f"  warning: {w}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CalibrationResult {self.summary()}>"

    def _repr_html_(self) -> str:
        head = html.escape(self.summary().splitlines()[0])
        warn = "".join(f"<p><b>warning:</b> {html.escape(w)}</p>"
                       for w in self.identifiability.warnings())
        return f"<p>{head}</p>{self.estimates.to_html(float_format=_g)}{warn}"


def _g(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    return f"{x:.6g}"
