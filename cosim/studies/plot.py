"""Plots of a study: parameter-vs-output scatter plots and heat maps over a grid.

Both take the DataFrame of :func:`~cosim.studies.read_study` (or a study file path) and
return a matplotlib Figure rendered with Agg (independent of pyplot), saved as PNG when
``path`` is given. Failed scenarios have no outputs: they are left out of scatter plots
and show as empty (grey) cells in heat maps; titles count them. An output with no value
in any scenario (NaN everywhere: a ``first_above`` that never happens) gets no panel
but a note saying so; a heat map whose values are all the same (to 3 digits) is drawn
in one colour and titled "constant". Tick labels never overlap
(:func:`cosim.figures.declutter`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import ResultsError

KINDS = ("scatter", "heatmap")


def _label(name: str, units: dict[str, Any], display: dict | None = None) -> str:
    unit = (display or {}).get(name, {}).get("unit") or units.get(name)
    return f"{name} [{unit}]" if unit else name


def _shown(df: pd.DataFrame, name: str, values):
    """Design values in their display unit (``df.attrs["display"]``), else as they are."""
    d = df.attrs.get("display", {}).get(name)
    if d is None:
        return values
    from ..units import Display
    return Display.from_dict(d).apply(values)


def _numeric(df: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c]) and df[c].nunique(dropna=True) > 1]


def _select(df: pd.DataFrame, wanted: list[str] | None, available: list[str], what: str
            ) -> list[str]:
    if wanted is None:
        return available
    missing = [w for w in wanted if w not in df.columns]
    if missing:
        raise ResultsError(f"no {what} {missing[0]!r} in the study (have: "
                           f"{', '.join(available) or 'none'})")
    return list(wanted)


def plot_study(study: pd.DataFrame | str | Path, *, kind: str = "scatter",
               outputs: list[str] | None = None, parameters: list[str] | None = None,
               path: str | Path | None = None) -> Figure:
    """Plot a study. ``kind``: ``"scatter"`` (each output against each varied
    parameter, one colour per variant) or ``"heatmap"`` (each output over the first two
    grid keys, one panel per variant; further grid keys are averaged over)."""
    from .store import read_study
    df = study if isinstance(study, pd.DataFrame) else read_study(study)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    outs = _select(df, outputs, list(df.attrs.get("outputs", [])), "output")
    if not outs:
        raise ResultsError("the study has no outputs to plot")
    ok = df[df["status"] == "completed"]
    empty = [o for o in outs if not np.isfinite(ok[o].to_numpy(dtype=float)).any()]
    shown = [o for o in outs if o not in empty] or outs[:1]
    fig = _heatmaps(df, shown) if kind == "heatmap" else _scatter(df, shown, parameters)
    notes = [_empty_note(df, o) for o in empty if o not in shown]
    if notes:
        fig.text(0.01, 0.002, "\n".join(notes), fontsize="small", color="dimgrey",
                 va="bottom")
    from ..figures import declutter
    declutter(fig)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=100)
    return fig


def _empty_note(df: pd.DataFrame, out: str) -> str:
    """Why an output has no panel."""
    about = df.attrs.get("descriptions", {}).get(out)
    n = int((df["status"] == "completed").sum())
    return (f"{out}: no value in any of the {n} completed scenarios (NaN everywhere)"
            + (f" — {about}" if about else ""))


def _title(df: pd.DataFrame) -> str:
    n = len(df)
    failed = int((df["status"] == "failed").sum())
    pending = int((df["status"] == "pending").sum())
    extra = [f"{failed} failed"] if failed else []
    extra += [f"{pending} pending"] if pending else []
    name = df.attrs.get("name") or "study"
    return f"{name}: {n} scenarios" + (f" ({', '.join(extra)})" if extra else "")


def _scatter(df: pd.DataFrame, outs: list[str], parameters: list[str] | None) -> Figure:
    units = df.attrs.get("units", {})
    params = _select(df, parameters, _numeric(df, list(df.attrs.get("parameters", []))),
                     "parameter")
    if not params:
        raise ResultsError("no parameter varies in this study: nothing to plot against")
    ok = df[df["status"] == "completed"]
    variants = list(dict.fromkeys(df["variant"]))
    fig = Figure(figsize=(3.2 * len(params) + 1.2, 2.6 * len(outs) + 0.8),
                 layout="constrained")
    axes = fig.subplots(len(outs), len(params), squeeze=False, sharex="col")
    for i, out in enumerate(outs):
        for j, par in enumerate(params):
            ax = axes[i, j]
            for variant in variants:
                rows = ok[ok["variant"] == variant]
                ax.scatter(_shown(df, par, rows[par]), rows[out], s=14, alpha=0.8,
                           label=variant if len(variants) > 1 else None)
            ax.grid(True, alpha=0.3)
            if i == len(outs) - 1:
                ax.set_xlabel(_label(par, units, df.attrs.get("display")))
            if j == 0:
                ax.set_ylabel(_label(out, units))
    if len(variants) > 1:
        axes[0, -1].legend(title="variant", fontsize="small")
    fig.suptitle(_title(df))
    return fig


def _heatmaps(df: pd.DataFrame, outs: list[str]) -> Figure:
    units = df.attrs.get("units", {})
    grid = [g for g in df.attrs.get("grid", []) if g in df.columns]
    if len(grid) < 2:
        raise ResultsError("a heat map needs a grid of at least two keys; this study has "
                           f"{len(grid)} (use kind='scatter')")
    x, y = grid[0], grid[1]
    variants = list(dict.fromkeys(df["variant"]))
    data = df.copy()
    for out in outs:
        data.loc[data["status"] != "completed", out] = np.nan
    fig = Figure(figsize=(3.6 * len(variants) + 1.0, 3.0 * len(outs) + 0.8),
                 layout="constrained")
    axes = fig.subplots(len(outs), len(variants), squeeze=False)
    import matplotlib
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    xs = sorted(data[x].unique())
    ys = sorted(data[y].unique())
    for i, out in enumerate(outs):
        for j, variant in enumerate(variants):
            ax = axes[i, j]
            rows = data[data["variant"] == variant]
            table = rows.groupby([y, x])[out].mean().unstack(x).reindex(index=ys, columns=xs)
            values = table.to_numpy(dtype=float)
            if not np.isfinite(values).any():  # dropped, with a note where it would be
                ax.axis("off")
                import textwrap
                about = textwrap.fill(df.attrs.get("descriptions", {}).get(out, ""), 30)
                ax.text(0.5, 0.5, f"{out} — {variant}:\nno value in any scenario\n"
                        "(NaN everywhere)" + (f"\n{about}" if about else ""),
                        transform=ax.transAxes, ha="center", va="center",
                        color="dimgrey", fontsize="small", in_layout=False)
                continue
            norm, constant = _norm(values)
            im = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap, norm=norm)
            ax.set_xticks(range(len(xs)), [_fmt(_shown(df, x, v)) for v in xs],
                          fontsize="small")
            ax.set_yticks(range(len(ys)), [_fmt(_shown(df, y, v)) for v in ys],
                          fontsize="small")
            if values.size <= 100:
                _annotate(ax, values)
            fig.colorbar(im, ax=ax, label=_label(out, units))
            ax.set_xlabel(_label(x, units, df.attrs.get("display")))
            ax.set_ylabel(_label(y, units, df.attrs.get("display")))
            ax.set_title(f"{out} — {variant}" + (" (constant)" if constant else ""),
                         fontsize="medium")
    more = list(grid[2:])
    fig.suptitle(_title(df) + (f"; averaged over {', '.join(more)}" if more else ""))
    return fig


def _norm(values: np.ndarray):
    """The colour scale of a heat map, and whether its values are all the same to the 3
    digits the cells show (then one colour: a spread of 0.002 % is no story)."""
    from matplotlib.colors import Normalize
    finite = values[np.isfinite(values)]
    lo, hi = float(finite.min()), float(finite.max())
    if len({f"{v:.3g}" for v in finite}) == 1:
        pad = max(abs(lo), 1.0) * 0.01
        return Normalize(lo - pad, hi + pad), True
    return Normalize(lo, hi), False


def _fmt(value: Any) -> str:
    if isinstance(value, float | int | np.number) and not isinstance(value, bool | np.bool_):
        return f"{float(value):.6g}"
    return str(value)


def _annotate(ax, values: np.ndarray) -> None:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    lo, hi = float(finite.min()), float(finite.max())
    mid = (lo + hi) / 2
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize="x-small",
                    color="black" if v > mid or hi == lo else "white")
