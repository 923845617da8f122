"""Plots of sensitivity indices (matplotlib's Agg Figure, independent of pyplot).

* ``bars``: per output, the indices of every factor with their bootstrap intervals
  (Sobol': S1 and ST side by side; Morris: μ*; RBD-FAST: S1; PAWN: the median KS
  statistic with minimum-maximum whiskers).
* ``morris``: the μ*-σ plane (σ/μ* above 1: strongly non-linear or interacting).
* ``heatmap``: time-resolved indices, factors over time windows, one panel per output.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
from matplotlib.figure import Figure

from ..errors import ConfigError
from .analyze import HEAT
from .result import SensitivityResult

KINDS = ("bars", "morris", "heatmap")


def figure(result: SensitivityResult, kind: str = "bars", outputs: list[str] | None = None
           ) -> Figure:
    if kind not in KINDS:
        raise ConfigError(f"unknown plot {kind!r}: {', '.join(KINDS)}")
    if kind == "heatmap":
        return _heatmap(result, outputs)
    names = [o for o in (outputs or result.outputs) if o not in result.notes]
    if not names:
        raise ConfigError("no output with indices to plot")
    if kind == "morris":
        if result.method != "morris":
            raise ConfigError(f"the mu*-sigma plane needs a Morris analysis, not "
                              f"{result.method}")
        return _morris(result, names)
    return _bars(result, names)


def _bars(result: SensitivityResult, names: list[str]) -> Figure:
    fig = Figure(figsize=(max(5.0, 0.9 * len(result.factors) + 2.5), 3.2 * len(names)),
                 layout="constrained")
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    x = np.arange(len(result.factors))
    series = {"sobol": [("S1", "S1_conf"), ("ST", "ST_conf")], "morris": [
        ("mu_star", "mu_star_conf")], "rbd_fast": [("S1", "S1_conf")]}
    for ax, out in zip(axes, names, strict=True):
        t = result.table(out).loc[result.factors]
        if result.method == "pawn":
            ax.bar(x, t["median"], color="tab:blue", alpha=0.8, label="median KS")
            ax.errorbar(x, t["median"], yerr=[t["median"] - t["minimum"],
                                              t["maximum"] - t["median"]],
                        fmt="none", color="k", capsize=3, lw=0.8, label="min-max")
        else:
            pairs = series[result.method]
            width = 0.8 / len(pairs)
            for k, (col, conf) in enumerate(pairs):
                ax.bar(x + (k - (len(pairs) - 1) / 2) * width, t[col], width,
                       yerr=t[conf], capsize=3, label=col, alpha=0.85,
                       error_kw={"lw": 0.8})
        ax.set_xticks(x, result.factors, rotation=30, ha="right", fontsize="small")
        unit = result.units.get(out)
        ax.set_title(f"{out}" + (f" [{unit}]" if unit else ""), fontsize="medium")
        ax.grid(True, axis="y", alpha=0.3)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.legend(fontsize="small")
    return fig


def _morris(result: SensitivityResult, names: list[str]) -> Figure:
    fig = Figure(figsize=(5.5 * len(names), 4.6), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, out in zip(axes, names, strict=True):
        t = result.table(out).loc[result.factors]
        ax.errorbar(t["mu_star"], t["sigma"], xerr=t["mu_star_conf"], fmt="o",
                    color="tab:blue", capsize=3, lw=0.8)
        for name, row in t.iterrows():
            ax.annotate(name, (row["mu_star"], row["sigma"]), fontsize="small",
                        xytext=(4, 4), textcoords="offset points")
        top = 1.05 * float(max(t["mu_star"].max(), t["sigma"].max(), 1e-300))
        ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--", label="σ = μ*")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("μ* (mean |elementary effect|)")
        ax.set_ylabel("σ (spread of the effects)")
        unit = result.units.get(out)
        ax.set_title(out + (f" [{unit}]" if unit else ""), fontsize="medium")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def _heatmap(result: SensitivityResult, outputs: list[str] | None) -> Figure:
    tr = result.time_resolved
    if tr is None or tr.empty:
        raise ConfigError("no time-resolved indices (add 'time_resolved' to the file)")
    names = outputs or list(dict.fromkeys(tr["output"]))
    index = HEAT[result.method]
    fig = Figure(figsize=(10, 0.45 * len(result.factors) * len(names) + 1.4 * len(names)),
                 layout="constrained")
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, out in zip(axes, names, strict=True):
        grid = result.heat(out, index)
        starts = np.asarray(grid.columns, dtype=np.float64)
        scale, unit = (3600.0, "h") if starts.max(initial=0) > 2 * 3600 else (1.0, "s")
        data = grid.to_numpy(dtype=np.float64)
        im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="viridis",
                       interpolation="nearest", vmin=0.0,
                       vmax=1.0 if result.method in ("sobol", "rbd_fast") else None)
        ax.set_yticks(np.arange(len(grid.index)), list(grid.index), fontsize="small")
        step = max(1, len(starts) // 12)
        ax.set_xticks(np.arange(0, len(starts), step),
                      [f"{s / scale:g}" for s in starts[::step]], fontsize="small")
        ax.set_xlabel(f"window start [{unit}]")
        ax.set_title(f"{out}: {index} per window", fontsize="medium")
        fig.colorbar(im, ax=ax, shrink=0.9)
    return fig


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=85)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def render_html(result: SensitivityResult) -> str:
    """The analysis as one HTML page: summary, tables and plots."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             f"<title>cosim sensitivity: {html.escape(result.method)}</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:"
             "collapse;font-size:.9em}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;"
             "text-align:right}</style></head><body>",
             f"<h1>Sensitivity: {html.escape(result.method)}</h1>",
             f"<pre>{html.escape(result.summary())}</pre>",
             result.indices.to_html(float_format=lambda x: f"{x:.4g}", na_rep="-")]
    kinds = ["bars"] + (["morris"] if result.method == "morris" else [])
    if result.time_resolved is not None and not result.time_resolved.empty:
        kinds.append("heatmap")
    for kind in kinds:
        try:
            parts.append(f"<figure><img alt='{kind}' src='data:image/png;base64,"
                         f"{_png(figure(result, kind))}'></figure>")
        except ConfigError as err:
            parts.append(f"<p>{html.escape(str(err))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
