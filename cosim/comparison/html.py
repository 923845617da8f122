"""A self-contained HTML report: the table, the parameters that differ between the run
and the reference, and one figure per failing signal.

Each figure shows the result, the reference, the tube band and the violating samples
over the whole run, and the difference from the reference against the tube zoomed onto
the failure, as a PNG embedded in the page (base64), so the file can be mailed or
archived as is. Only the failing signals are read whole (one at a time), to draw them.
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
    """Result, reference, tube band and violations of one signal: the whole run on top
    (the zoomed window shaded), below the difference from the reference against the
    tube around it, zoomed onto the failure (where the tube is readable)."""
    discrete = s.kind == "discrete"
    lo, hi = _tube.tube(tr, yr, t, s.x or 0.0, s.y or 0.0, discrete=discrete)
    bad = _outside(s, t, y, tr, yr, lo, hi, discrete)
    span = float(max(t[-1], tr[-1]) - min(t[0], tr[0]))
    scale, unit_t = (3600.0, "h") if span > HOURS_ABOVE else (1.0, "s")
    fig = Figure(figsize=(9, 6.0), layout="constrained")
    ax, ax2 = fig.subplots(2, 1, height_ratios=(3, 2))
    k, kr = _thin(len(t)), _thin(len(tr))
    style = "steps-post" if discrete else "default"
    step = "post" if discrete else None
    ax.fill_between(t[k] / scale, lo[k], hi[k], color="tab:blue", alpha=0.18, lw=0,
                    step=step, label="tube")
    ax.plot(tr[kr] / scale, yr[kr], color="tab:blue", lw=1.0, drawstyle=style,
            label="reference")
    ax.plot(t[k] / scale, y[k], color="tab:orange", lw=1.0, drawstyle=style, label="result")
    # the deviation from the reference, against the tube around it, near the failure
    keep = np.isfinite(yr)
    r = (_tube.zoh_at if discrete else _tube.value_at)(tr[keep], yr[keep], t) if keep.any() \
        else np.full(len(t), np.nan)
    w0, w1 = zoom_window(t, bad, s, span)
    z = np.flatnonzero((t >= w0) & (t <= w1))
    z = z[_thin(len(z))] if len(z) else k
    ax2.fill_between(t[z] / scale, (lo - r)[z], (hi - r)[z], color="tab:blue", alpha=0.25,
                     lw=0, step=step, label=f"tube - reference (Y = {s.y or 0.0:.4g})")
    ax2.plot(t[z] / scale, (y - r)[z], color="tab:orange", lw=1.2, drawstyle=style,
             marker="." if len(z) <= 200 else None, ms=3, label="result - reference")
    ax2.axhline(0.0, color="tab:blue", lw=0.8)
    if len(bad):
        mark = bad if len(bad) <= MAX_MARKS else bad[_thin(len(bad))[:MAX_MARKS]]
        ax.plot(t[mark] / scale, y[mark], "x", color="#b00020", ms=4,
                label=f"outside the tube ({len(bad)})")
        near = mark[(t[mark] >= w0) & (t[mark] <= w1)]
        ax2.plot(t[near] / scale, (y - r)[near], "x", color="#b00020", ms=5,
                 label=f"outside the tube ({len(bad)})")
        for axis in (ax, ax2):
            if s.first_failure is not None:
                axis.axvline(s.first_failure / scale, color="#b00020", lw=0.8, ls=":")
    if (w0, w1) != (float(t[0]), float(t[-1])):
        ax.axvspan(w0 / scale, w1 / scale, color="0.5", alpha=0.12, lw=0,
                   label="zoomed below")
    ax2.set_xlim(w0 / scale, w1 / scale)
    symlog = _fit_y(ax2, [(lo - r)[z], (hi - r)[z], (y - r)[z]], s.y or 0.0)
    unit = f" [{s.unit}]" if s.unit else ""
    ax.set_xlabel(f"time [{unit_t}]")
    ax2.set_xlabel(f"time [{unit_t}] (zoomed onto the failure)")
    ax.set_ylabel(f"{s.name}{unit}")
    ax2.set_ylabel(f"difference{unit}" + (", symlog" if symlog else ""))
    for axis in (ax, ax2):
        axis.grid(True, alpha=0.3)
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                    frameon=False, borderaxespad=0.0)
    ax.set_title(f"{s.name}: {s.outliers} outliers, max error {s.max_error:.4g} at "
                 f"t = {(s.max_error_time or 0.0):g} s  (X = {s.x:.4g} s, Y = {s.y:.4g})",
                 fontsize="medium")
    from ..figures import declutter
    declutter(fig)
    return fig


def _outside(s: SignalReport, t, y, tr, yr, lo, hi, discrete: bool) -> np.ndarray:
    """Indices of the result samples outside the tube."""
    if not discrete:
        return np.flatnonzero(~((y >= lo) & (y <= hi)))
    inside = np.isfinite(y) & (y >= lo) & (y <= hi)
    keep = np.isfinite(yr)
    if keep.any():
        inside[inside] = _tube.discrete_contains(tr[keep], yr[keep], t[inside], y[inside],
                                                 s.x or 0.0, (float(tr[0]), float(tr[-1])))
    return np.flatnonzero(~inside)


def zoom_window(t: np.ndarray, bad: np.ndarray, s: SignalReport, span: float
                ) -> tuple[float, float]:
    """The time window [s] the difference panel shows: the failing samples with a margin
    (at least 20 tube half-widths X, or 2 % of the run, either side); around the largest
    error when failures spread over more than a third of the run; the whole run when
    nothing failed."""
    t0, t1 = float(t[0]), float(t[-1])
    if not len(bad):
        return t0, t1
    a, b = float(t[bad[0]]), float(t[bad[-1]])
    if b - a > span / 3:
        centre = s.max_error_time if s.max_error_time is not None else a
        a = b = float(centre)
    pad = max(0.25 * (b - a), 20.0 * (s.x or 0.0), 0.02 * span)
    return max(t0, a - pad), min(t1, b + pad)


def _fit_y(ax, series: list[np.ndarray], y_tube: float) -> bool:
    """Y limits from the finite values drawn (the zoomed window only), with a margin.
    When the difference dwarfs the tube (20 times its half-height ``y_tube``), a
    symmetric log scale, linear within +-Y: the tube stays visible beside the error.
    Returns whether the scale is symmetric-log."""
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in series])
    values = values[np.isfinite(values)]
    if not values.size:
        return False
    lo, hi = float(values.min()), float(values.max())
    if y_tube > 0 and max(abs(lo), abs(hi)) > 20 * y_tube:
        ax.set_yscale("symlog", linthresh=y_tube, linscale=1.0)
        ax.set_ylim(min(lo * 1.5, -2 * y_tube), max(hi * 1.5, 2 * y_tube))
        return True
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(hi), 1e-12) * 0.1
    ax.set_ylim(lo - pad, hi + pad)
    return False


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


def _parameters(report: Report) -> str:
    """The parameters set differently in the run and the reference, then those only one
    of the files records (folded)."""
    diffs = report.parameter_differences
    if diffs is None:
        return ("<h2>Parameters</h2><p>not compared: the run or the reference does not "
                "record its parameters (a CSV file or a bare DataFrame).</p>")
    both = [d for d in diffs if d["result"] is not None and d["reference"] is not None]
    one = [d for d in diffs if d not in both]

    def rows(items) -> str:
        return "".join(
            f"<tr><td>{html.escape(d['name'])}</td><td>{html.escape(_value(d['result']))}"
            f"</td><td>{html.escape(_value(d['reference']))}</td>"
            f"<td>{html.escape(d['unit'] or '')}</td></tr>" for d in items)
    head = "<tr><th>parameter</th><th>result</th><th>reference</th><th>unit</th></tr>"
    parts = ["<h2 id='parameters'>Parameters that differ</h2>"]
    if both:
        parts.append(f"<table>{head}{rows(both)}</table>")
    else:
        parts.append("<p>none: every parameter both files record has the same value.</p>")
    if one:
        parts.append(f"<details><summary>{len(one)} parameter(s) recorded in only one of "
                     f"the files (e.g. a reference written before cosim recorded the FMUs' "
                     f"default values)</summary><table>{head}{rows(one)}</table></details>")
    return "\n".join(parts)


def _value(value: Any) -> str:
    if value is None:
        return "(not recorded)"
    return f"{value:.10g}" if isinstance(value, float) else str(value)


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
        _parameters(report),
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
