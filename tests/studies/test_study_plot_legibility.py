"""Study plots stay legible: tick labels never overlap, an output with no value in any
scenario gets a note instead of an empty panel, a heat map of one value is "constant",
and design keys show in their display units."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from cosim.figures import declutter, overlapping_ticks
from cosim.studies import plot_study
from cosim.studies.store import assemble


def _study(xs, ys, outputs: dict, display=None) -> pd.DataFrame:
    """A grid study DataFrame (one variant) as read_study builds it."""
    grid = [(x, y) for x in xs for y in ys]
    design = pd.DataFrame({"variant": "base", "a.long_parameter_name": [g[0] for g in grid],
                           "b.k": [g[1] for g in grid]},
                          index=pd.Index(range(len(grid)), name="scenario"))
    results = pd.DataFrame({"status": "completed", "error": "", "wall_time": 0.1,
                            "attempts": 1, "worker": "w",
                            **{k: f(np.array(grid, dtype=float)) for k, f in outputs.items()}},
                           index=design.index)
    df = assemble(design, results, list(outputs), {"a.long_parameter_name": "K",
                                                  "b.k": None, **dict.fromkeys(outputs, "h")},
                  {"grid": ["a.long_parameter_name", "b.k"], "samples": [],
                   "variants": ["base"], "name": "dense", "status": "completed",
                   "descriptions": {"never": "first time above 1e9 (NaN if never)"},
                   "display": display or {}})
    return df


DENSE_X = [273.15 + 0.123456 * i for i in range(18)]
DENSE_Y = [1e-3 * (1 + i) ** 3 for i in range(14)]


def test_dense_heat_map_labels_do_not_overlap():
    df = _study(DENSE_X, DENSE_Y, {"y": lambda g: g[:, 0] * g[:, 1]})
    fig = plot_study(df, kind="heatmap")
    assert overlapping_ticks(fig) == []
    # and the test means something: without decluttering these labels do overlap
    raw = plot_study(df, kind="heatmap")
    for ax in raw.axes:
        for tick in ax.xaxis.get_major_ticks() + ax.yaxis.get_major_ticks():
            tick.label1.set_visible(True)
    assert overlapping_ticks(raw) != []
    shown = [t.label1.get_text() for t in fig.axes[0].xaxis.get_major_ticks()
             if t.label1.get_visible()]
    assert 2 <= len(shown) < len(DENSE_X) and shown[0] == "273.15"


def test_dense_scatter_labels_do_not_overlap():
    df = _study(DENSE_X, DENSE_Y, {"y": lambda g: g[:, 0] * 1e6 + g[:, 1]})
    assert overlapping_ticks(plot_study(df, kind="scatter")) == []


def test_an_output_that_is_nan_everywhere_is_a_note_not_a_panel():
    df = _study([1.0, 2.0], [3.0, 4.0], {"y": lambda g: g[:, 0] + g[:, 1],
                                         "never": lambda g: np.full(len(g), np.nan)})
    fig = plot_study(df, kind="scatter")
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == ["y [h]", ""] or labels == ["y [h]"] * len(fig.axes)
    assert not any("never" in label for label in labels)
    note = fig.texts[-1].get_text()
    assert note == ("never: no value in any of the 4 completed scenarios (NaN everywhere)"
                    " — first time above 1e9 (NaN if never)")
    heat = plot_study(df, kind="heatmap")
    assert [ax.get_title() for ax in heat.axes if ax.get_title()] == ["y — base"]


def test_a_heat_map_of_one_value_is_titled_constant():
    df = _study([1.0, 2.0], [3.0, 4.0], {"y": lambda g: 100.0 - 1e-6 * g[:, 0]})
    fig = plot_study(df, kind="heatmap")
    assert fig.axes[0].get_title() == "y — base (constant)"
    image = fig.axes[0].images[0]
    lo, hi = image.norm.vmin, image.norm.vmax
    assert hi - lo == pytest.approx(2.0, rel=1e-3)  # +-1 % around 100: one colour


def test_design_keys_in_display_units():
    display = {"a.long_parameter_name": {"unit": "degC", "scale": 1.0, "offset": -273.15}}
    df = _study([289.15, 291.15], [1.0, 2.0], {"y": lambda g: g[:, 1]}, display)
    fig = plot_study(df, kind="heatmap")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "a.long_parameter_name [degC]"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["16", "18"]
    scatter = plot_study(df, kind="scatter")
    xs = scatter.axes[0].collections[0].get_offsets()[:, 0]
    assert sorted(set(np.round(xs, 9))) == [16.0, 18.0]


def test_declutter_reports_what_it_fixed():
    df = _study(DENSE_X, DENSE_Y, {"y": lambda g: g[:, 0]})
    fig = plot_study(df, kind="heatmap")
    assert declutter(fig) == 0  # already done by plot_study


def test_count_progress_off_a_terminal():
    from cosim.observers.progress import CountProgress
    sink = io.StringIO()
    bar = CountProgress(5, unit="scenario", file=sink, log_every=0.0)
    for _ in range(5):
        bar.update(1)
    bar.set_postfix(failed=1)
    bar.close()
    lines = sink.getvalue().splitlines()
    assert "\r" not in sink.getvalue() and len(lines) == 6
    assert lines[0].startswith("1/5 scenarios (") and lines[-1].startswith("5/5 scenarios, "
                                                                         "failed 1 (")
    quiet = io.StringIO()
    bar = CountProgress(5, file=quiet)  # default: a line every 10 s, none here
    bar.update(5)
    bar.close()
    assert quiet.getvalue() == ""
