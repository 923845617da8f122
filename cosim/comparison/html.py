"""A self-contained HTML report: the table, and one figure per failing signal.

Each figure shows the result, the reference, the tube band and the violating samples,
as a PNG embedded in the page (base64), so the file can be mailed or archived as is.
Only the failing signals are read whole (one at a time), to draw them.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..errors import ResultsError
from . import kernels as _tube
from .report import FAIL, Report, SignalReport
from .sources import Source, open_source

MAX_POINTS = 20_000  # drawn per line; longer signals are thinned (outliers never)
MAX_MARKS = 5_000
HOURS_ABOVE = 2 * 3600.0

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:.9em}
td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left;font-family:monospace}
.pass{color:#176f2c;font-weight:600}.fail,.missing,.new{color:#b00020;font-weight:600}
figure{margin:1.5em 0}figcaption{font-family:monospace}
"""


def _read(src: Source, name: str) -> tuple[np.ndarray, np.ndarray]:
    return np.array(src.time(0, src.n)), np.array(src.values(name, 0, src.n), dtype=float)


def _thin(n: int) -> np.ndarray:
    return np.arange(n) if n <= MAX_POINTS else \
        np.unique(np.linspace(0, n - 1, MAX_POINTS).astype(np.intp))


def figure(s: SignalReport, t: np.ndarray, y: np.ndarray, tr: np.ndarray, yr: np.ndarray
           ) -> Figure:
    """Result, reference, tube band and violations of one signal."""
    discrete = s.kind == "discrete"
    lo, hi = _tube.tube(tr, yr, t, s.x or 0.0, s.y or 0.0, discrete=discrete)
    if discrete:
        inside = np.isfinite(y) & (y >= lo) & (y <= hi)
        keep = np.isfinite(yr)
        if keep.any():
            inside[inside] = _tube.discrete_contains(tr[keep], yr[keep], t[inside], y[inside],
                                                     s.x or 0.0, (float(tr[0]), float(tr[-1])))
        bad = np.flatnonzero(~inside)
    else:
        bad = np.flatnonzero(~((y >= lo) & (y <= hi)))
    span = float(max(t[-1], tr[-1]) - min(t[0], tr[0]))
    scale, unit_t = (3600.0, "h") if span > HOURS_ABOVE else (1.0, "s")
    fig = Figure(figsize=(9, 5.4), layout="constrained")
    ax, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    k, kr = _thin(len(t)), _thin(len(tr))
    style = "steps-post" if discrete else "default"
    step = "post" if discrete else None
    ax.fill_between(t[k] / scale, lo[k], hi[k], color="tab:blue", alpha=0.18, lw=0,
                    step=step, label="tube")
    ax.plot(tr[kr] / scale, yr[kr], color="tab:blue", lw=1.0, drawstyle=style,
            label="reference")
    ax.plot(t[k] / scale, y[k], color="tab:orange", lw=1.0, drawstyle=style, label="result")
    # the deviation from the reference, against the tube around it (readable when thin)
    keep = np.isfinite(yr)
    r = (_tube.zoh_at if discrete else _tube.value_at)(tr[keep], yr[keep], t) if keep.any() \
        else np.full(len(t), np.nan)
    ax2.fill_between(t[k] / scale, (lo - r)[k], (hi - r)[k], color="tab:blue", alpha=0.18,
                     lw=0, step=step, label="tube - reference")
    ax2.plot(t[k] / scale, (y - r)[k], color="tab:orange", lw=1.0, drawstyle=style,
             label="result - reference")
    if len(bad):
        mark = bad if len(bad) <= MAX_MARKS else bad[_thin(len(bad))[:MAX_MARKS]]
        for axis, values in ((ax, y[mark]), (ax2, (y - r)[mark])):
            axis.plot(t[mark] / scale, values, "x", color="#b00020", ms=4,
                      label=f"outside the tube ({len(bad)})")
            if s.first_failure is not None:
                axis.axvline(s.first_failure / scale, color="#b00020", lw=0.8, ls=":")
    unit = f" [{s.unit}]" if s.unit else ""
    ax2.set_xlabel(f"time [{unit_t}]")
    ax.set_ylabel(f"{s.name}{unit}")
    ax2.set_ylabel(f"difference{unit}")
    for axis in (ax, ax2):
        axis.grid(True, alpha=0.3)
        axis.legend(loc="best", fontsize="small")
    ax.set_title(f"{s.name}: {s.outliers} outliers, max error {s.max_error:.4g} at "
                 f"t = {(s.max_error_time or 0.0):g} s  (X = {s.x:.4g} s, Y = {s.y:.4g})",
                 fontsize="medium")
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _row(s: SignalReport) -> str:
    def g(v: Any) -> str:
        return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
    cells = [s.name, f'<span class="{s.status}">{s.status.upper()}</span>', s.samples,
             s.outliers, g(s.max_error), g(s.max_error_time), g(s.first_failure), g(s.x),
             g(s.y), g(s.max_deviation), "; ".join(s.problems)]
    return "<tr>" + "".join(f"<td>{c if i == 1 else html.escape(str(c))}</td>"
                            for i, c in enumerate(cells)) + "</tr>"


def render(report: Report, result: Any, reference: Any) -> str:
    """The report as an HTML page; ``result``/``reference`` as given to ``compare``."""
    heads = ["signal", "status", "samples", "outliers", "max error", "@ t [s]",
             "first failure [s]", "X [s]", "Y", "max |dev|", "problems"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>cosim compare: {html.escape(report.summary())}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(report.summary())}</h1>",
        f"<p>result: <code>{html.escape(report.result)}</code><br>reference: "
        f"<code>{html.escape(report.reference)}</code><br>tolerances: "
        f"<code>{html.escape(report.tolerances or 'default (tol = 0.002)')}</code></p>",
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>",
        *(_row(s) for s in report.signals), "</table>",
    ]
    failing = [s for s in report.signals if s.status == FAIL and s.samples]
    if failing:
        parts.append("<h2>Failing signals</h2>")
        with open_source(result, "result") as res, open_source(reference, "reference") as ref:
            for s in failing:
                t, y = _read(res, s.name)
                tr, yr = _read(ref, s.name)
                png = _png(figure(s, t, y, tr, yr))
                parts.append(f"<figure id='{html.escape(s.name)}'><img alt='{html.escape(s.name)}'"
                             f" src='data:image/png;base64,{png}'><figcaption>"
                             f"{html.escape(s.name)}: {html.escape('; '.join(s.problems))}"
                             "</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: Report, path: str | Path, result: Any, reference: Any) -> Path:
    out = Path(path)
    text = render(report, result, reference)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ResultsError(f"cannot write the report: {err}", path=str(out)) from err
    return out
