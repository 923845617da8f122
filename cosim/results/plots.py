"""Quick-look plots of a run: one subplot per (display) unit, time in s (or h for long runs)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ResultsError
from .reader import RunData, read

if TYPE_CHECKING:  # matplotlib is imported when a plot is made, not with cosim.results
    from matplotlib.figure import Figure

HOURS_ABOVE = 2 * 3600.0  # runs longer than this get an hour axis
_DISCRETE = ("integer", "boolean")


def _select(run: RunData, signals: str | Iterable[str] | None) -> list[str]:
    if signals is None:
        return run.signals
    patterns = [signals] if isinstance(signals, str) else list(signals)
    chosen: list[str] = []
    for pattern in patterns:
        hits = [s for s in run.signals if fnmatch.fnmatchcase(s, pattern)]
        if not hits:
            raise ResultsError(f"no signal matches {pattern!r} "
                               f"(signals: {', '.join(run.signals[:10])}"
                               f"{', …' if len(run.signals) > 10 else ''})",
                               path=str(run.path) if run.path else None)
        chosen += [s for s in hits if s not in chosen]
    return chosen


def plot(run: RunData | str | Path, signals: str | Iterable[str] | None = None, *,
         path: str | Path | None = None) -> Figure:
    """Plot ``signals`` (names or globs such as ``"rack*.T_cpu"``; all when None).

    Signals sharing a unit share a subplot; signals with a display unit
    (``run.display_units``, FMI ``displayUnit``) are drawn in it. Returns the matplotlib Figure (rendered with
    Agg, independent of pyplot); saves it as PNG when ``path`` is given.
    """
    if not isinstance(run, RunData):
        run = read(run)
    names = _select(run, signals)
    shown = run.display_units
    groups: dict[str, list[str]] = {}
    for name in names:
        unit = shown[name].unit if name in shown else run.units.get(name) or ""
        groups.setdefault(unit, []).append(name)

    t = run.time
    span = float(t[-1] - t[0]) if len(t) else 0.0
    hours = span > HOURS_ABOVE
    x = t / 3600.0 if hours else t

    from matplotlib.figure import Figure
    fig = Figure(figsize=(9, 2.2 + 2.0 * max(1, len(groups))), layout="constrained")
    axes = fig.subplots(max(1, len(groups)), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (unit, members) in zip(axes, groups.items(), strict=False):
        for name in members:
            kind = run.signal_attrs.get(name, {}).get("kind")
            discrete = kind in _DISCRETE if kind else run.df[name].dtype.kind in "biu"
            style = "steps-post" if discrete else "default"
            y = np.asarray(run.df[name], dtype=float)
            ax.plot(x, shown[name].apply(y) if name in shown else y, label=name,
                    drawstyle=style)
        ax.set_ylabel(f"[{unit}]" if unit else "(no unit)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small", ncol=1 + len(members) // 8)
    axes[-1].set_xlabel("time [h]" if hours else "time [s]")
    title = run.name or (run.path.name if run.path else "run")
    fig.suptitle(f"{title} ({run.status})" + (f": {run.error}" if run.error else ""))
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=100)
    return fig
