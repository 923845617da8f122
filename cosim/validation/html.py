"""A self-contained HTML report of a validation (figures embedded as PNG).

Per signal: the run (or the ensemble mean with its bands) against the telemetry; the
residuals over time; their histogram and autocorrelation; the PIT histogram of an
ensemble. Then a table of every metric with its bootstrap interval, and the verdicts.
"""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np
from matplotlib.figure import Figure

from .bootstrap import autocovariance
from .engine import SignalValidation
from .metrics import PERCENT
from .result import ValidationResult

MAX_POINTS = 20_000
MAX_LAG = 200
HOURS_ABOVE = 2 * 3600.0

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0 1em}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left;font-family:monospace}
.pass{color:#176f2c;font-weight:600}.fail{color:#b00020;font-weight:600}
figure{margin:1em 0}figcaption{font-family:monospace}.note{color:#555;font-size:.9em}
"""


def _thin(n: int) -> np.ndarray:
    return np.arange(n) if n <= MAX_POINTS else \
        np.unique(np.linspace(0, n - 1, MAX_POINTS).astype(np.intp))


def figure(v: SignalValidation) -> Figure:
    """Run vs telemetry (with bands), residuals, histogram, autocorrelation, PIT."""
    s = v.series
    assert s is not None
    span = float(s.time[-1] - s.time[0]) if s.time.size else 0.0
    scale, tunit = (3600.0, "h") if span > HOURS_ABOVE else (1.0, "s")
    k = _thin(s.time.size)
    t = s.time[k] / scale
    unit = f" [{v.unit}]" if v.unit else ""
    fig = Figure(figsize=(10, 7.5), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=(3, 2, 2))
    ax = fig.add_subplot(grid[0, :])
    if s.band is not None:
        for n_int, (label, i, j) in enumerate(s.band.intervals()):
            ax.fill_between(t, s.band.quantiles[i][k], s.band.quantiles[j][k], lw=0,
                            color="tab:blue", alpha=0.15 + 0.1 * n_int,
                            label=f"{label} % band")
    ax.plot(t, s.model[k], color="tab:blue", lw=1.0,
            label="ensemble mean" if s.band is not None else "run")
    ax.plot(t, s.obs[k], ".", color="tab:orange", ms=2, label="telemetry")
    ax.set_ylabel(f"{v.name}{unit}")
    ax.legend(loc="best", fontsize="small")
    r = s.model - s.obs
    ax2 = fig.add_subplot(grid[1, :], sharex=ax)
    ax2.plot(t, r[k], color="tab:red", lw=0.8)
    ax2.axhline(0.0, color="k", lw=0.6)
    ax2.set_ylabel(f"residual{unit}")
    ax2.set_xlabel(f"time [{tunit}]")
    finite = r[np.isfinite(r)]
    ax3 = fig.add_subplot(grid[2, 0])
    ax3.hist(finite, bins=min(60, max(10, int(math.sqrt(finite.size)))), color="tab:red",
             alpha=0.7)
    ax3.set_xlabel(f"residual{unit}")
    ax3.set_ylabel("count")
    ax4 = fig.add_subplot(grid[2, 1])
    _acf(ax4, finite)
    ax5 = fig.add_subplot(grid[2, 2])
    if v.pit_histogram is not None:
        counts = v.pit_histogram
        edges = np.linspace(0, 1, len(counts) + 1)
        ax5.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="tab:blue",
                alpha=0.7, edgecolor="white")
        ax5.axhline(counts.sum() / len(counts), color="k", lw=0.8, ls="--")
        ax5.set_xlabel("PIT")
        ax5.set_title("PIT histogram (flat: calibrated)", fontsize="small")
    else:
        ax5.axis("off")
    for a in (ax, ax2, ax3, ax4, ax5):
        a.grid(True, alpha=0.3)
    ax.set_title(f"{v.name}: bias {v.metrics['bias']:.4g}{unit}, RMSE "
                 f"{v.metrics['rmse']:.4g}{unit}, n = {v.n}", fontsize="medium")
    return fig


def _acf(ax, r: np.ndarray) -> None:
    if r.size < 3:
        ax.axis("off")
        return
    lags = min(MAX_LAG, r.size - 1)
    acov = autocovariance(r, lags)
    rho = acov / acov[0] if acov[0] > 0 else np.zeros_like(acov)
    ax.vlines(np.arange(lags + 1), 0, rho, color="tab:red", lw=0.8)
    bound = 1.96 / math.sqrt(r.size)
    ax.axhspan(-bound, bound, color="tab:blue", alpha=0.15, lw=0)
    ax.set_xlabel("lag [samples]")
    ax.set_ylabel("autocorrelation")


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _g(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.4g}"


def _metrics_table(v: SignalValidation, result: ValidationResult) -> str:
    verdicts = {x.metric: x for x in result.verdicts or [] if x.signal == v.name}
    rows = ["<table><tr><th>metric</th><th>value</th><th>interval</th><th>criterion</th>"
            "<th>verdict</th><th>note</th></tr>"]
    for m, value in v.metrics.items():
        unit = " %" if m in PERCENT else ""
        ci = v.ci.get(m)
        interval = f"[{_g(ci[0])}, {_g(ci[1])}]" if ci else ""
        vd = verdicts.get(m)
        crit = html.escape(vd.criterion.text()) if vd else ""
        verdict = "" if vd is None else (
            f"<span class='{'pass' if vd.passed else 'fail'}'>"
            f"{'PASS' if vd.passed else 'FAIL'}</span>")
        note = html.escape(v.notes.get(m, ""))
        rows.append(f"<tr><td>{m}</td><td>{_g(value)}{unit}</td><td>{interval}</td>"
                    f"<td>{crit}</td><td>{verdict}</td><td>{note}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def render(result: ValidationResult) -> str:
    """The report as one HTML page."""
    boot = result.bootstrap
    boot_text = (f"moving-block bootstrap: {boot['replicates']} replicates, blocks of "
                 f"{boot['block']} samples, {100 * boot['level']:g} % percentile intervals"
                 if boot else "no bootstrap intervals")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>cosim validate: {html.escape(result.summary())}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(result.summary())}</h1>",
        f"<p>run: <code>{html.escape(result.run)}</code><br>telemetry: "
        f"<code>{html.escape(result.telemetry)}</code><br>window: {html.escape(result.window)}"
        + (f" ({result.span[0]:g}..{result.span[1]:g} s)" if result.span else "")
        + f"; Guideline 14 p = {result.p}; {boot_text}"
        + (f"<br>criteria: <code>{html.escape(result.criteria)}</code>" if result.criteria
           else "") + "</p>",
    ]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in result.notes]
    if result.verdicts:
        parts.append("<h2>Verdicts</h2>")
        parts.append(result.verdict_frame().to_html(index=False, float_format=_g,
                                                    na_rep="-"))
    parts.append("<h2>Metrics</h2>")
    parts.append(result.df.to_html(float_format=_g, na_rep="-"))
    for v in result.signals:
        parts.append(f"<h2 id='{html.escape(v.name)}'>{html.escape(v.name)}</h2>")
        if v.series is not None and v.n:
            parts.append(f"<figure><img alt='{html.escape(v.name)}' src='data:image/png;"
                         f"base64,{_png(figure(v))}'></figure>")
        parts.append(_metrics_table(v, result))
    parts.append("</body></html>")
    return "\n".join(parts)
