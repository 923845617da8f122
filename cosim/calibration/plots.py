"""Figures of a calibration (matplotlib, no pyplot state): each function returns a
:class:`~matplotlib.figure.Figure`.

``signal_figure``   one fitted signal: telemetry and the model at the estimate (and at
                    the initial values), fitted and held-out windows shaded; the
                    standardized residuals over time; their autocorrelation
``intervals_figure`` each estimate with its 95 % interval, relative to the estimate,
                    and where it started
``correlation_figure`` the correlation matrix of the estimates as a heat map
``identifiability_figure`` the standard deviation of each eigen-combination of the
                    Fisher information (log scale), against the flagging threshold
``corner_figure``   posterior samples: histograms and pairwise scatter (bayesian)
``profile_figure``  profile likelihoods (Δχ² against the parameter, 95 % threshold)
``cost_figure``     the cost of every evaluation, in order, by stage
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..validation.bootstrap import autocovariance
from .identifiability import CHI2_95
from .result import CalibrationResult

MAX_LAG = 60
HOURS_ABOVE = 2 * 3600.0


def _time_axis(t: np.ndarray) -> tuple[np.ndarray, str]:
    span = float(t[-1] - t[0]) if t.size else 0.0
    return (t / 3600.0, "h") if span > HOURS_ABOVE else (t, "s")


def _spans(mask: np.ndarray, t: np.ndarray) -> list[tuple[float, float]]:
    """Contiguous runs of True in ``mask`` as (t_start, t_end)."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    return [(float(t[a]), float(t[b])) for a, b in zip(starts, ends, strict=True)]


def signal_figure(r: CalibrationResult, i: int) -> Figure:
    fit = r.fit
    t, tunit = _time_axis(fit.time)
    unit = f" [{fit.units[i]}]" if fit.units[i] else ""
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=(3, 2))
    ax = fig.add_subplot(grid[0, :])
    held = fit.holdout_mask[i]
    for a, b in _spans(held, t):
        ax.axvspan(a, b, color="tab:orange", alpha=0.08, lw=0)
    ax.plot(t, fit.measured[i], ".", ms=2, color="0.45", label="telemetry")
    ax.plot(t, fit.initial[i], "--", lw=0.9, color="tab:gray", label="initial values")
    ax.plot(t, fit.model[i], lw=1.1, color="tab:blue", label="calibrated")
    ax.set_ylabel(f"{fit.signals[i]}{unit}")
    ax.set_title(f"{fit.signals[i]}: telemetry and model"
                 + (" (shaded: held out)" if held.any() else ""), fontsize=10)
    ax.legend(loc="best", fontsize=8)
    res = fit.residuals()[i] / _sigma(r, i)
    ax = fig.add_subplot(grid[1, :2])
    used = fit.fit_mask[i]
    ax.plot(t[used], res[used], ".", ms=2, color="tab:blue", label="fitted")
    ax.plot(t[held], res[held], ".", ms=2, color="tab:orange", label="held out")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel(f"time [{tunit}]")
    ax.set_ylabel("residual / σ")
    ax.legend(loc="best", fontsize=8)
    ax = fig.add_subplot(grid[1, 2])
    x = res[used]
    if x.size > 2:
        acov = autocovariance(x, MAX_LAG)
        acf = acov / acov[0] if acov[0] > 0 else acov
        lags = np.arange(acf.size)
        ax.vlines(lags, 0, acf, color="tab:blue", lw=1)
        band = 1.96 / np.sqrt(x.size)
        ax.axhspan(-band, band, color="0.85", lw=0)
        if fit.rho[i] != 0:
            ax.plot(lags, fit.rho[i] ** lags, "--", color="tab:red", lw=0.9,
                    label=f"AR(1) ρ = {fit.rho[i]:.2f}")
            ax.legend(fontsize=8)
    ax.set_xlabel("lag [samples]")
    ax.set_ylabel("autocorrelation")
    return fig


def _sigma(r: CalibrationResult, i: int) -> float:
    s = float(r.fit.sigma[i])
    return s if s > 0 and np.isfinite(s) else 1.0


def intervals_figure(r: CalibrationResult) -> Figure:
    """Each 95 % interval relative to its estimate [%] (symmetric-log axis: intervals
    of 0.01 % and of 10 % both show), labelled with its half-widths."""
    p = len(r.names)
    fig = Figure(figsize=(8, 0.55 * p + 1.5), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(p)[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = 100 * (r.ci_low / r.value - 1)
        hi = 100 * (r.ci_high / r.value - 1)
    finite = np.isfinite(lo) & np.isfinite(hi)
    ax.hlines(y[finite], lo[finite], hi[finite], color="tab:blue", lw=5)
    ax.plot(np.zeros(p), y, "|", color="k", ms=12)
    top = float(np.nanmax(np.abs(np.r_[lo[finite], hi[finite], 1.0])))
    for k in range(p):
        text = f"{lo[k]:+.2g} % / {hi[k]:+.2g} %" if finite[k] else "not identifiable"
        ax.annotate(text, (top, y[k]), xytext=(6, -3), textcoords="offset points",
                    fontsize=8, color="tab:red" if not finite[k] else "0.2",
                    annotation_clip=False)
    ax.set_yticks(y, [f"{n} = {v:.4g} {u if u not in ('', '1') else ''}"
                      for n, v, u in zip(r.names, r.value, r.units, strict=True)])
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(-1.1 * top, 1.1 * top)
    ax.set_xlabel("relative to the estimate [%] (symmetric log scale)")
    ax.set_title(f"{100 * r.level:.0f} % intervals around the estimates", fontsize=10)
    return fig


def correlation_figure(r: CalibrationResult) -> Figure:
    corr = r.correlation.to_numpy()
    p = len(r.names)
    fig = Figure(figsize=(1.0 * p + 2.5, 0.9 * p + 1.5), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(np.nan_to_num(corr, nan=0.0), vmin=-1, vmax=1, cmap="RdBu_r")
    for a in range(p):
        for b in range(p):
            text = "n/a" if np.isnan(corr[a, b]) else f"{corr[a, b]:.2f}"
            ax.text(b, a, text, ha="center", va="center", fontsize=8,
                    color="white" if abs(np.nan_to_num(corr[a, b])) > 0.6 else "black")
    ax.set_xticks(range(p), r.names, rotation=45, ha="right")
    ax.set_yticks(range(p), r.names)
    fig.colorbar(im, ax=ax, shrink=0.8, label="correlation")
    return fig


def identifiability_figure(r: CalibrationResult) -> Figure:
    ident = r.identifiability
    lam = np.asarray(ident.eigenvalues, dtype=float)
    with np.errstate(divide="ignore"):
        sd = np.where(lam > 0, 1.0 / np.sqrt(np.abs(lam)), np.inf)
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    shown = np.where(np.isfinite(sd), sd, np.nanmax(np.r_[sd[np.isfinite(sd)], 1.0]) * 1e3)
    flagged = sd > ident.max_sd
    ax.bar(range(lam.size), shown, color=np.where(flagged, "tab:red", "tab:blue"))
    ax.axhline(ident.max_sd, color="tab:red", ls="--", lw=0.9, label="flagging threshold")
    ax.set_yscale("log")
    ax.set_xticks(range(lam.size), [_label(ident.names, ident.eigenvectors[:, k])
                                     for k in range(lam.size)], fontsize=7)
    ax.set_ylabel("standard deviation (log scale)")
    ax.set_title(f"combinations of parameters (condition number "
                 f"{ident.condition_number:.3g})", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _label(names: list[str], vec: np.ndarray) -> str:
    k = np.argsort(-np.abs(vec))[:2]
    vec = vec * np.sign(vec[k[0]])
    return "\n".join(f"{vec[j]:+.2f} {names[j]}" for j in k if abs(vec[j]) >= 0.1)


def corner_figure(r: CalibrationResult, max_points: int = 4000) -> Figure:
    s = r.posterior_samples
    p = s.shape[1]
    fig = Figure(figsize=(2.2 * p + 1, 2.2 * p + 1), layout="constrained")
    axes = fig.subplots(p, p, squeeze=False)
    step = max(1, s.shape[0] // max_points)
    for a in range(p):
        for b in range(p):
            ax = axes[a][b]
            if b > a:
                ax.set_axis_off()
                continue
            if a == b:
                ax.hist(s[:, a], bins=40, color="tab:blue", alpha=0.8)
                ax.axvline(r.value[a], color="k", lw=0.8)
            else:
                ax.plot(s[::step, b], s[::step, a], ".", ms=1, color="tab:blue", alpha=0.3)
            if a == p - 1:
                ax.set_xlabel(r.names[b], fontsize=8)
            if b == 0 and a > 0:
                ax.set_ylabel(r.names[a], fontsize=8)
            ax.tick_params(labelsize=6)
    return fig


def profile_figure(r: CalibrationResult) -> Figure:
    profiles = r.identifiability.profiles
    fig = Figure(figsize=(4 * len(profiles), 3.2), layout="constrained")
    axes = fig.subplots(1, len(profiles), squeeze=False)[0]
    for ax, (name, prof) in zip(axes, profiles.items(), strict=True):
        ax.plot(prof["values"], prof["delta_chi2"], "o-", color="tab:blue", ms=3)
        ax.axhline(CHI2_95, color="tab:red", ls="--", lw=0.9, label="95 % threshold")
        ax.set_xlabel(name)
        ax.set_ylabel("Δχ²")
        ax.legend(fontsize=8)
    return fig


def cost_figure(r: CalibrationResult) -> Figure:
    ev = r.evaluations
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.add_subplot()
    for stage, part in ev.groupby("stage", sort=False):
        ok = part["status"] == "completed"
        ax.plot(part.index[ok], part["cost"][ok], ".", ms=4, label=stage)
    bad = ev["status"] != "completed"
    if bad.any():
        ax.plot(ev.index[bad], np.full(int(bad.sum()), np.nanmax(ev["cost"])), "x",
                color="tab:red", label="failed")
    ax.set_yscale("log")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("cost (at the noise model of its time)")
    ax.legend(fontsize=8, ncol=4)
    return fig
