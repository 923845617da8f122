"""Short ``repr``s and compact HTML tables (``_repr_html_``) for notebooks.

A leaf module: plain text and HTML from values the objects hand over, so that a
Result, a RunData, a comparison Report, a RunInfo, a Simulation or a check report shows
as a small summary in Jupyter instead of every array and every piece of provenance it
holds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

STYLE = ("<style>.cosim-table td,.cosim-table th{text-align:left;padding:1px 8px;"
         "font-family:monospace}.cosim-table caption{text-align:left;font-weight:bold}"
         ".cosim-fail{color:#b00020;font-weight:bold}.cosim-pass{color:#1b7f3b}</style>")
MAX_ROWS = 20  # rows shown in a table; the rest are counted


def fmt(value: Any) -> str:
    """A number in 6 significant digits; anything else as text."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def table(caption: str, header: Sequence[str] | None, rows: Iterable[Sequence[Any]],
          total: int | None = None, classes: Sequence[str | None] | None = None) -> str:
    """An HTML table; cells are escaped. ``total``: rows in all (a "... and N more"
    line when more than shown); ``classes``: a CSS class per row (or None)."""
    rows = list(rows)
    out = [f'<table class="cosim-table"><caption>{html.escape(caption)}</caption>']
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
    for i, row in enumerate(rows):
        css = classes[i] if classes is not None and i < len(classes) else None
        attr = f' class="{css}"' if css else ""
        out.append(f"<tr{attr}>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row)
                   + "</tr>")
    if total is not None and total > len(rows):
        width = len(header) if header else 2
        out.append(f'<tr><td colspan="{width}">... and {total - len(rows)} more</td></tr>')
    out.append("</table>")
    return "".join(out)


def fields(caption: str, items: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of ``name: value``, skipping values that are None or ""."""
    return table(caption, None, [(k, v) for k, v in items if v is not None and v != ""])


def signals_table(df, units: dict, display: dict | None = None,
                  limit: int = MAX_ROWS) -> str:
    """First ``limit`` signals of a run's DataFrame: unit, final, min, max (in the
    display unit where one is set)."""
    import numpy as np
    display = display or {}
    rows = []
    for name in list(df.columns)[:limit]:
        values = np.asarray(df[name])
        unit = units.get(name) or ""
        if values.dtype.kind in "biuf" and values.size:
            y = values.astype(float)
            if name in display:
                y, unit = display[name].apply(y), display[name].unit
            finite = y[np.isfinite(y)]
            lo, hi = (finite.min(), finite.max()) if finite.size else (math.nan, math.nan)
            rows.append((name, unit, float(y[-1]), float(lo), float(hi)))
        else:
            rows.append((name, unit, values[-1] if values.size else None, "", ""))
    return table("signals", ("signal", "unit", "final", "min", "max"), rows,
                 total=len(df.columns))


def page(*parts: str) -> str:
    return "<div>" + STYLE + "".join(parts) + "</div>"


def check_report_repr(report) -> str:
    """``<CheckReport 'dc': OK, 8 nodes, 14 recorded, 2 unconnected inputs>``."""
    name = getattr(report.topology, "name", "")
    n = len(report.problems)
    verdict = "OK" if not n else f"{n} problem{'s' * (n != 1)}"
    return (f"<CheckReport {name!r}: {verdict}, {len(report.nodes)} nodes, "
            f"{len(report.recorded)} recorded, {len(report.unconnected_inputs)} "
            f"unconnected inputs>")


def check_report_html(report) -> str:
    name = getattr(report.topology, "name", "")
    parts = [fields(f"check of {name!r}: " + ("OK" if report.ok else "problems"), [
        ("stepping order", ", ".join(report.order)),
        ("recorded signals", len(report.recorded)),
        ("algebraic loops", "; ".join(" -> ".join(loop) for loop in report.loops) or None),
        ("cannot roll back", ", ".join(report.cannot_roll_back) or None)])]
    if report.problems:
        parts.append(table("problems", ("where", "what"),
                           [(p.where, str(p).removeprefix(f"{p.where}: ")) for p in
                            report.problems[:MAX_ROWS]], total=len(report.problems),
                           classes=["cosim-fail"] * len(report.problems)))
    if report.unconnected_inputs:
        parts.append(table("unconnected inputs (their start values are used)", ("input",),
                           [(i,) for i in report.unconnected_inputs[:MAX_ROWS]],
                           total=len(report.unconnected_inputs)))
    if report.notes:
        parts.append(table("notes", ("note",), [(n,) for n in report.notes[:MAX_ROWS]],
                           total=len(report.notes)))
    return page(*parts)
