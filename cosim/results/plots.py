"""Quick-look plots of a run, grouped by meaning.

Panels come from the topology's ``run.plot`` (stored with the run in ``/meta``: a title,
signal globs, reference lines per panel; :class:`~cosim.topology.schema.PanelSpec`);
signals in none of them, or every signal when there is no ``run.plot`` or when
``signals`` are chosen, get one panel per (display) unit. Every panel: distinct colours,
the legend outside the data, the y axis labelled with the quantity and the unit the
values are shown in (``run.display_units``: the flagship in degC while the file keeps
kelvin), reference lines (setpoints) dashed, events as dotted vertical lines across all
panels; time in s, or in h for runs longer than two hours.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ResultsError
from .reader import RunData, read

if TYPE_CHECKING:  # matplotlib is imported when a plot is made, not with cosim.results
    from matplotlib.figure import Figure

HOURS_ABOVE = 2 * 3600.0  # runs longer than this get an hour axis
_DISCRETE = ("integer", "boolean")
#: quantity names of common dimensions (SI base exponents, cosim.units.dimension_text)
QUANTITIES = {
    "K": "temperature", "kg*m^2/s^3": "power", "kg*m^2/s^2": "energy", "kg/s": "mass flow",
    "m": "length", "m/s": "velocity", "m/s^2": "acceleration", "kg*m/s^2": "force",
    "kg/(m*s^2)": "pressure", "s": "time", "1/s": "rate", "kg": "mass", "A": "current",
    "kg*m^2/(A*s^3)": "voltage", "m^3/s": "volume flow", "rad/s": "angular velocity",
    "rad": "angle", "kg*m^2/(s^2*K)": "heat capacity", "kg*m^2/(s^3*K)": "conductance",
}
MAX_EVENT_LABELS = 6  # more events than this are drawn without a label each


@dataclass
class Panel:
    """What one subplot shows: signals in ``unit`` (display unit where set)."""

    title: str
    names: list[str]
    unit: str = ""
    label: str | None = None
    lines: dict[str, Any] = field(default_factory=dict)


def _select(run: RunData, signals: str | Iterable[str] | None) -> list[str]:
    if signals is None:
        return run.signals
    patterns = [signals] if isinstance(signals, str) else list(signals)
    chosen: list[str] = []
    for pattern in patterns:
        hits = _matches(run.signals, pattern)
        if not hits:
            raise ResultsError(f"no signal matches {pattern!r} "
                               f"(signals: {', '.join(run.signals[:10])}"
                               f"{', …' if len(run.signals) > 10 else ''})",
                               path=str(run.path) if run.path else None)
        chosen += [s for s in hits if s not in chosen]
    return chosen


def _matches(names: list[str], pattern: str) -> list[str]:
    return [s for s in names if fnmatch.fnmatchcase(s, pattern)]


def quantity(unit: str | None) -> str:
    """The quantity a unit measures (``degC`` -> ``temperature``), or "" if unknown."""
    if not unit or unit == "1":
        return ""
    from ..units import UnitError, define
    try:
        return QUANTITIES.get(define(unit).dimension, "")
    except (UnitError, ValueError):
        return ""


def panels_of(run: RunData, names: list[str], spec: list[Mapping[str, Any]]) -> tuple[
        list[Panel], list[str]]:
    """The panels for ``names``: those of ``spec`` (``run.plot``) that match a signal,
    then one per unit for the rest; and notes on spec panels left out."""
    shown = run.display_units
    panels, notes, placed = [], [], set()
    for entry in spec:
        members = [n for pattern in entry.get("signals", []) for n in _matches(names, pattern)]
        members = [n for i, n in enumerate(members) if n not in members[:i]]
        if not members:
            notes.append(f"panel {entry.get('title')!r}: none of "
                         f"{', '.join(entry.get('signals', []))} was recorded")
            continue
        placed.update(members)
        panels.append(Panel(entry.get("title", ""), members, _unit(run, members[0], shown),
                            entry.get("label"), dict(entry.get("lines") or {})))
    by_unit: dict[str, list[str]] = {}
    for name in names:
        if name not in placed:
            by_unit.setdefault(_unit(run, name, shown), []).append(name)
    for unit, members in by_unit.items():
        panels.append(Panel("", members, unit))
    return panels, notes


def _unit(run: RunData, name: str, shown: Mapping) -> str:
    return shown[name].unit if name in shown else run.units.get(name) or ""


def _spec(run: RunData) -> list[Mapping[str, Any]]:
    topology = run.meta.get("topology") or {}
    return list((topology.get("run") or {}).get("plot") or []) if isinstance(
        topology, Mapping) else []


def plot(run: RunData | str | Path, signals: str | Iterable[str] | None = None, *,
         path: str | Path | None = None,
         panels: list[Mapping[str, Any]] | None = None) -> Figure:
    """Plot a run: ``signals`` (names or globs such as ``"rack*.T_cpu"``; all when None).

    ``panels`` (a list like ``run.plot`` in a topology: ``{title, signals, label,
    lines}``) overrides the run's own; without ``signals`` the run's ``run.plot`` is
    used. Returns the matplotlib Figure (rendered with Agg, independent of pyplot); saves
    it (PNG, or SVG/PDF by the suffix) when ``path`` is given, creating its folder.
    """
    if not isinstance(run, RunData):
        run = read(run)
    names = _select(run, signals)
    spec = panels if panels is not None else (_spec(run) if signals is None else [])
    groups, notes = panels_of(run, names, spec)

    t = run.time
    span = float(t[-1] - t[0]) if len(t) else 0.0
    hours = span > HOURS_ABOVE
    x = t / 3600.0 if hours else t

    from matplotlib.figure import Figure
    fig = Figure(figsize=(10, 1.2 + 2.1 * max(1, len(groups))), layout="constrained")
    axes = fig.subplots(max(1, len(groups)), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, groups, strict=False):
        _draw_panel(ax, run, panel, x, hours)
    _draw_events(axes, run, hours)
    axes[-1].set_xlabel("time [h]" if hours else "time [s]")
    if hours and 6 <= span / 3600.0 <= 72:
        from matplotlib.ticker import MultipleLocator
        axes[-1].xaxis.set_major_locator(MultipleLocator(3 if span <= 36 * 3600 else 6))
    title = run.name or (run.path.name if run.path else "run")
    fig.suptitle(f"{title} ({run.status})" + (f": {run.error}" if run.error else ""))
    if notes:
        fig.text(0.01, 0.002, "not shown: " + "; ".join(notes), fontsize="x-small",
                 color="dimgrey", va="bottom")
    from ..figures import declutter
    declutter(fig)
    if path is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        fmt = out.suffix.lower().lstrip(".") if out.suffix.lower() in (".svg", ".pdf") \
            else "png"
        fig.savefig(out, format=fmt, dpi=100)
    return fig


def _colours(n: int) -> list:
    """``n`` distinct colours: tab10 up to 10, then tab20, then an even spread."""
    import matplotlib
    if n <= 10:
        return list(matplotlib.colormaps["tab10"].colors[:n])
    if n <= 20:
        return list(matplotlib.colormaps["tab20"].colors[:n])
    return [matplotlib.colormaps["turbo"](i / max(1, n - 1)) for i in range(n)]


def _draw_panel(ax, run: RunData, panel: Panel, x: np.ndarray, hours: bool) -> None:
    shown = run.display_units
    for name, colour in zip(panel.names, _colours(len(panel.names)), strict=True):
        kind = run.signal_attrs.get(name, {}).get("kind")
        discrete = kind in _DISCRETE if kind else run.df[name].dtype.kind in "biu"
        y = np.asarray(run.df[name], dtype=float)
        ax.plot(x, shown[name].apply(y) if name in shown else y, label=name, color=colour,
                drawstyle="steps-post" if discrete else "default", lw=1.3)
    for (label, ref), dashes in zip(panel.lines.items(), ([5, 3], [2, 2], [8, 2, 2, 2]) * 4,
                                    strict=False):
        _draw_reference(ax, run, panel, label, ref, x, dashes)
    quantity_name = panel.label if panel.label is not None else quantity(
        run.units.get(panel.names[0]) or panel.unit)
    if panel.unit:
        ax.set_ylabel(f"{quantity_name} [{panel.unit}]".strip())
    else:
        ax.set_ylabel(quantity_name or "(no unit)")
    if panel.title:
        ax.set_title(panel.title, loc="left", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False, borderaxespad=0.0)


def _draw_reference(ax, run: RunData, panel: Panel, label: str, ref: Any, x: np.ndarray,
                    dashes: list[int]) -> None:
    """A horizontal line at a number (in the panel's unit) or at a parameter or start
    value; a recorded signal as a dashed curve."""
    style = {"color": "0.25", "lw": 1.0, "dashes": dashes}
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        ax.axhline(float(ref), label=f"{label} ({ref:g} {panel.unit})".replace(" )", ")"),
                   **style)
        return
    first = panel.names[0]
    shown = run.display_units
    convert = shown[first].apply if first in shown else (lambda v: v)
    if ref in run.df.columns:
        y = np.asarray(run.df[ref], dtype=float)
        ax.plot(x, shown[ref].apply(y) if ref in shown else convert(y), label=label, **style)
        return
    value = _scalar(run, str(ref))
    if value is None:
        ax.plot([], [], label=f"{label}: {ref} not in the results", **style)
        return
    shown_value = float(convert(value))
    ax.axhline(shown_value, label=f"{label} ({shown_value:.4g} {panel.unit})", **style)


def _scalar(run: RunData, ref: str) -> float | None:
    """A parameter's value, or a start value from the topology stored with the run."""
    if ref in run.parameters:
        try:
            return float(run.parameters[ref])
        except (TypeError, ValueError):
            return None
    node, _, var = ref.partition(".")
    topology = run.meta.get("topology") or {}
    nodes = topology.get("nodes") or {} if isinstance(topology, Mapping) else {}
    start = (nodes.get(node) or {}).get("start") or {}
    value = start.get(var)
    return float(value) if isinstance(value, (int, float)) else None


def _draw_events(axes, run: RunData, hours: bool) -> None:
    events = run.events
    if events is None or len(events) == 0:
        return
    times = events["time"].to_numpy(dtype=float) / (3600.0 if hours else 1.0)
    labelled = len(times) <= MAX_EVENT_LABELS
    for ax in axes:
        for tx in times:
            ax.axvline(tx, color="tab:red", ls=":", lw=1.0, alpha=0.8)
    top = axes[0]
    if labelled:
        x = run.time / (3600.0 if hours else 1.0)
        gap = 0.025 * float(x[-1] - x[0]) if len(x) > 1 else 0.0
        for tx, text in _event_labels(times, list(events["name"]), gap):
            top.annotate(text, (tx, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(2, -2), textcoords="offset points", rotation=90,
                         va="top", ha="left", fontsize="x-small", color="tab:red",
                         bbox={"fc": "white", "ec": "none", "alpha": 0.75, "pad": 0.5})
    else:
        top.plot([], [], color="tab:red", ls=":", label=f"{len(times)} events")
        top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                   frameon=False, borderaxespad=0.0)


def _event_labels(times: np.ndarray, names: list[str], gap: float
                  ) -> list[tuple[float, str]]:
    """One label per cluster of events less than ``gap`` apart (their labels would
    overlap): the first event's name and how many follow."""
    out: list[tuple[float, str]] = []
    start = 0
    for i in range(1, len(times) + 1):
        if i == len(times) or times[i] - times[i - 1] > gap:
            extra = i - start - 1
            out.append((float(times[start]),
                        str(names[start]) + (f" (+{extra} more)" if extra else "")))
            start = i
    return out
