"""A self-contained HTML report of a calibration (figures embedded as PNG).

Sections: the estimates with their intervals (and, for a Bayesian calibration, the
least-squares ones beside them and the chain's diagnostics); identifiability warnings;
the fit on the held-out window against ASHRAE Guideline 14's hourly criteria
(|NMBE| <= 10 %, CV(RMSE) <= 30 %) as pass/fail, and the same metrics on the fitted
window; the noise model; then the figures (:mod:`cosim.calibration.plots`).
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import plots
from .result import CV_RMSE_LIMIT, NMBE_LIMIT, CalibrationResult

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0 1em}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left;font-family:monospace}
.pass{color:#176f2c;font-weight:600}.fail{color:#b00020;font-weight:600}
.warn{background:#fff4e5;border-left:4px solid #e67e00;padding:.5em 1em;margin:1em 0}
figure{margin:1em 0}figcaption{font-family:monospace}.note{color:#555;font-size:.9em}
"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(fig: Figure, caption: str) -> str:
    return (f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,"
            f"{_png(fig)}'><figcaption>{html.escape(caption)}</figcaption></figure>")


def _g(x) -> str:
    if isinstance(x, float | np.floating):
        if math.isnan(x):
            return "n/a"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        return f"{x:.6g}"
    return html.escape(str(x))


def _table(df: pd.DataFrame, index_name: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [index_name, *df.columns])
    rows = []
    for idx, row in df.iterrows():
        cells = [f"<td>{html.escape(str(idx))}</td>"]
        for c in df.columns:
            v = row[c]
            if c == "passed":
                cells.append(f"<td class='{'pass' if v else 'fail'}'>"
                             f"{'pass' if v else 'FAIL'}</td>")
            else:
                cells.append(f"<td>{_g(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _estimates(r: CalibrationResult) -> str:
    df = r.estimates.copy()
    df.insert(0, "initial", r.initial)
    df["low bound"], df["high bound"] = r.low, r.high
    df["targets"] = [", ".join(t) for t in r.targets]
    out = _table(df, "parameter")
    ls = r.info.get("least_squares")
    if ls is not None:
        cmp = pd.DataFrame({k: np.asarray(ls[k], dtype=float) for k in
                            ("value", "std_error", "ci_low", "ci_high")}, index=r.names)
        out += "<p>Least squares (the chain's starting point), for comparison:</p>"
        out += _table(cmp, "parameter")
    return out


def _diagnostics(r: CalibrationResult) -> str:
    mc = r.info.get("mcmc")
    if not mc:
        return ""
    tau = np.asarray(mc["tau"], dtype=float)
    rhat = np.asarray(mc["rhat"], dtype=float)
    df = pd.DataFrame({"autocorrelation time [steps]": tau, "split R-hat": rhat},
                      index=r.names)
    verdict = "pass" if np.all(rhat < 1.05) and mc["tau_ratio"] > 50 else "fail"
    return (f"<h2>Posterior sampling</h2><p>{mc['walkers']} walkers x {mc['steps']} steps "
            f"(burn-in {mc['burn']}, thin {mc['thin']}): {mc['samples']} samples; mean "
            f"acceptance {mc['acceptance']:.2f}; kept chain length / longest "
            f"autocorrelation time = {mc['tau_ratio']:.1f} (emcee recommends > 50); "
            f"<span class='{verdict}'>R-hat {'<' if verdict == 'pass' else 'not all <'} "
            f"1.05</span></p>" + _table(df, "parameter"))


def _noise(r: CalibrationResult) -> str:
    fit = r.fit
    df = pd.DataFrame({"unit": fit.units, "sigma": fit.sigma,
                       "sigma from": ["residuals" if e else "stated" for e in fit.estimated],
                       "AR(1) rho": fit.rho,
                       "fitted points": fit.fit_mask.sum(axis=1),
                       "held-out points": fit.holdout_mask.sum(axis=1)}, index=fit.signals)
    return (f"<h2>Noise model: {html.escape(r.noise)}</h2>"
            f"<p>Residual variance s² = {_g(r.info.get('s2', float('nan')))} "
            f"({r.info.get('dof', '?')} degrees of freedom; 1 when the stated noise is "
            "right).</p>" + _table(df, "signal"))


def _metrics(r: CalibrationResult) -> str:
    out = []
    hold = r.holdout
    if len(hold):
        ok = bool(hold["passed"].all())
        out.append(f"<h2>Held-out fit: <span class='{'pass' if ok else 'fail'}'>"
                   f"{'pass' if ok else 'FAIL'}</span></h2><p>ASHRAE Guideline 14 hourly "
                   f"criteria: |NMBE| <= {NMBE_LIMIT:g} %, CV(RMSE) <= {CV_RMSE_LIMIT:g} %"
                   f" (n - p with p = {len(r.names)}), on the held-out window.</p>")
        out.append(_table(hold, "signal"))
    else:
        out.append("<h2>Held-out fit</h2><p class='note'>The telemetry has no holdout "
                   "window.</p>")
    out.append("<h3>On the fitted window</h3>" + _table(r.metrics("fit"), "signal"))
    return "".join(out)


def _warnings(r: CalibrationResult) -> str:
    items = list(r.identifiability.warnings())
    if not r.info.get("converged", True):
        items.append(f"the optimizer did not converge: {r.info.get('message', '')}")
    items += list(r.info.get("warnings", []))
    if not items:
        return (f"<p class='pass'>Every parameter is identifiable (condition number "
                f"{r.identifiability.condition_number:.3g}).</p>")
    return "".join(f"<div class='warn'><b>Warning:</b> {html.escape(w)}</div>"
                   for w in items)


def write_report(r: CalibrationResult, path: Path) -> Path:
    info = r.info
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Calibration "
             f"{html.escape(r.name)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Calibration {html.escape(r.name)}</h1>",
             f"<p>{html.escape(r.method)}, noise {html.escape(r.noise)}: "
             f"{info.get('n_simulations', '?')} simulations "
             f"({info.get('n_reused', 0)} reused from an earlier attempt), "
             f"{html.escape(str(info.get('message', '')))}; "
             f"{_g(float(info.get('wall_time', float('nan'))))} s on "
             f"{html.escape(str(info.get('runner', '')))}.</p>",
             _warnings(r), "<h2>Estimates</h2>", _estimates(r),
             _figure(plots.intervals_figure(r), "estimates and their intervals"),
             _diagnostics(r), _metrics(r), _noise(r), "<h2>Correlation</h2>",
             _figure(plots.correlation_figure(r), "correlation of the estimates"),
             "<h2>Identifiability</h2>",
             _figure(plots.identifiability_figure(r), "Fisher information eigen-analysis")]
    if r.identifiability.profiles:
        parts.append(_figure(plots.profile_figure(r), "profile likelihoods"))
        prof = pd.DataFrame({n: {"profile ci_low": p["ci_low"], "profile ci_high":
                                 p["ci_high"]} for n, p in
                             r.identifiability.profiles.items()}).T
        parts.append(_table(prof, "parameter"))
    if r.posterior_samples is not None:
        parts.append(_figure(plots.corner_figure(r), "posterior samples"))
    parts.append("<h2>Fit per signal</h2>")
    for i, s in enumerate(r.fit.signals):
        parts.append(_figure(plots.signal_figure(r, i), s))
    parts.append("<h2>Evaluations</h2>")
    parts.append(_figure(plots.cost_figure(r), "cost of every evaluation"))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
