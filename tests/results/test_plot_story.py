"""The flagship plot tells the story: panels by meaning (the topology's ``run.plot``),
distinct colours, legends outside the data, axes with quantity and unit in the display
unit, setpoints as lines, events as vertical lines on every panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

import cosim
from cosim.results import RunData, plot
from tests.conftest import TOPOLOGIES


@pytest.fixture(scope="module")
def outage(fmus):
    return cosim.run(TOPOLOGIES / "datacenter_outage.yaml")


def _panel(fig, title_start):
    return next(ax for ax in fig.axes if ax.get_title(loc="left").startswith(title_start))


def test_flagship_panels_by_meaning(outage, tmp_path):
    fig = outage.plot(path=tmp_path / "dc.png")
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert [t.split(" (")[0] for t in titles] == [
        "CPU temperatures", "air temperatures", "cooling power", "fan command of the PID",
        "air flow through the racks"]
    cpu = _panel(fig, "CPU temperatures")
    assert cpu.get_ylabel() == "temperature [degC]"
    assert _panel(fig, "cooling power").get_ylabel() == "power [W]"
    assert _panel(fig, "air flow").get_ylabel() == "mass flow [kg/s]"
    assert _panel(fig, "fan command").get_ylabel() == "fan command"
    # values in degC, computed here from the kelvin in the DataFrame
    line = next(ln for ln in cpu.lines if ln.get_label() == "rack3.T_cpu")
    np.testing.assert_allclose(line.get_ydata(), outage.df["rack3.T_cpu"] - 273.15)


def test_colours_are_distinct_and_legends_outside(outage):
    fig = outage.plot()
    fig.canvas.draw()  # lay out, so that legend and axes positions are final
    for ax in fig.axes:
        data = [ln for ln in ax.lines if not ln.get_label().startswith("_")
                and ln.get_linestyle() == "-"]
        colours = [to_rgba(ln.get_color()) for ln in data]
        assert len(set(colours)) == len(colours), ax.get_title(loc="left")
        legend = ax.get_legend()
        assert legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_setpoints_are_lines_at_their_start_values(outage):
    fig = outage.plot()
    cpu = _panel(fig, "CPU temperatures")
    setpoint = next(ln for ln in cpu.lines if ln.get_label().startswith("CPU setpoint"))
    # the topology's start value of fan_ctrl.setpoint, 323.15 K, shown in degC
    assert list(setpoint.get_ydata()) == pytest.approx([50.0, 50.0])  # axhline: 2 points
    assert setpoint.get_label() == "CPU setpoint (50 degC)"
    air = _panel(fig, "air temperatures")
    supply = next(ln for ln in air.lines if ln.get_label().startswith("supply setpoint"))
    assert list(supply.get_ydata()) == pytest.approx([18.0, 18.0])


def test_events_are_vertical_lines_on_every_panel(outage):
    fig = outage.plot()
    times = sorted(e.time / 3600.0 for e in outage.events)
    assert len(times) == 5 and times[0] == pytest.approx(6.0)
    for ax in fig.axes:
        vertical = sorted(ln.get_xdata()[0] for ln in ax.lines
                          if ln.get_linestyle() == ":" and len(set(ln.get_xdata())) == 1)
        assert vertical == pytest.approx(times)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels[0] == "cooler outage" and labels[1].endswith("(+3 more)")


def test_a_panel_of_signals_not_recorded_is_left_out_with_a_note(tmp_path):
    t = np.linspace(0.0, 10.0, 11)
    run = RunData.from_dataframe(pd.DataFrame({"a.x": t, "b.P": 2 * t}, index=t),
                                 units={"a.x": "m", "b.P": "W"}, name="small")
    fig = plot(run, panels=[{"title": "position", "signals": ["a.*"],
                             "lines": {"limit": 4.0, "missing": "a.nope"}},
                            {"title": "pumps", "signals": ["pump*"]}])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["position", ""]
    assert fig.axes[1].get_ylabel() == "power [W]"  # b.P, in no panel: by unit
    assert "panel 'pumps': none of pump* was recorded" in fig.texts[-1].get_text()
    labels = [ln.get_label() for ln in fig.axes[0].lines]
    assert "limit (4 m)" in labels and "missing: a.nope not in the results" in labels


def test_svg_and_pdf_by_suffix(tmp_path):
    t = np.linspace(0.0, 1.0, 5)
    run = RunData.from_dataframe(pd.DataFrame({"a.x": t}, index=t), units={"a.x": "m"})
    plot(run, path=tmp_path / "x.svg")
    plot(run, path=tmp_path / "x.pdf")
    assert b"<svg" in (tmp_path / "x.svg").read_bytes()[:400]
    assert (tmp_path / "x.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_result_file_plots_with_the_panels_of_its_topology(fmus, tmp_path):
    """``cosim plot FILE`` draws what ``cosim run --plot`` drew: the panels are stored
    with the run (the topology in /meta), setpoints resolved from it."""
    run = cosim.run(TOPOLOGIES / "datacenter.yaml", output=tmp_path / "dc.h5", stop=7200)
    live = [ax.get_title(loc="left") for ax in run.plot().axes]
    from_file = plot(tmp_path / "dc.h5")
    assert [ax.get_title(loc="left") for ax in from_file.axes] == live
    cpu = _panel(from_file, "CPU temperatures")
    assert any(ln.get_label() == "CPU setpoint (50 degC)" for ln in cpu.lines)
