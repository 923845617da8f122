"""The HTML comparison report: it opens cleanly in a real browser, zooms the difference
panel onto the failure with the tube drawn there, and lists the parameters that differ
between the run and the reference."""

from __future__ import annotations

import numpy as np
import pytest
from comparison_helpers import cli

import cosim
from cosim.comparison.html import figure, zoom_window
from cosim.comparison.report import SignalReport
from tests.browser import check_page
from tests.conftest import TOPOLOGIES


@pytest.fixture(scope="module")
def runs(fmus, tmp_path_factory):
    """Two runs of the two-mass oscillator, the second with a stiffer spring."""
    folder = tmp_path_factory.mktemp("report")
    ref = cosim.run(TOPOLOGIES / "two_mass.yaml", output=folder / "ref.h5", stop=4.0)
    run = cosim.run(TOPOLOGIES / "two_mass.yaml", output=folder / "run.h5", stop=4.0,
                    parameters={"spring.k": 10.1})
    return run.path, ref.path


def test_report_lists_the_parameters_that_differ(runs, tmp_path, capsys):
    run, ref = runs
    out = tmp_path / "report.html"
    code, _, _ = cli(capsys, "compare", run, ref, "--report", out)
    assert code == 1
    report = cosim.compare(run, ref)
    k = report.parameter_differences
    spring = cosim.read(ref).parameters["spring.k"]  # the topology's value, as recorded
    assert k == [{"name": "spring.k", "result": 10.1, "reference": spring,
                  "unit": cosim.read(ref).parameter_units["spring.k"]}]
    text = out.read_text()
    section = text.split("<h2 id='parameters'>Parameters that differ</h2>")[1]
    assert "<td>spring.k</td><td>10.1</td>" in section.split("</table>")[0]
    same = cosim.compare(ref, ref)
    assert same.passed and same.parameter_differences == []


def test_report_opens_in_a_browser_with_every_figure(runs, tmp_path, capsys, browser):
    run, ref = runs
    out = tmp_path / "report.html"
    cli(capsys, "compare", run, ref, "--report", out)
    failing = len(cosim.compare(run, ref).failed)
    page = check_page(browser, out, min_images=failing)
    assert page.title.startswith("cosim compare: FAIL")
    assert len(page.images) == failing >= 2
    assert all(i["width"] >= 700 for i in page.images)


def test_a_csv_reference_says_parameters_are_not_compared(runs, tmp_path, capsys, browser):
    run, ref = runs
    csv = tmp_path / "ref.csv"
    cli(capsys, "compare", ref, "--export-csv", csv)
    out = tmp_path / "csv.html"
    cli(capsys, "compare", run, csv, "--report", out)
    assert "not compared: the run or the reference does not record its parameters" in \
        out.read_text()
    check_page(browser, out)


def test_the_difference_panel_zooms_onto_the_failure_and_shows_the_tube():
    """A 20 s signal that leaves its tube between 12.0 and 12.5 s only. The reference is
    flat, so the tube around it is exactly +-Y (with a slope, the window of +-X widens
    it)."""
    t = np.linspace(0.0, 20.0, 2001)
    yr = np.full(len(t), 1.0)
    y = yr + np.where((t >= 12.0) & (t <= 12.5), 0.5, 0.0)
    s = SignalReport("m.x", "fail", samples=len(t), outliers=51, max_error=0.04,
                     max_error_time=12.0, first_failure=12.0, x=0.04, y=0.004, unit="m")
    fig = figure(s, t, y, t, yr)
    top, diff = fig.axes[:2]
    lo, hi = diff.get_xlim()
    # the failing half second with a margin of 20 X = 0.8 s (more than 2 % of 20 s and a
    # quarter of the failure), never the whole run
    assert lo == pytest.approx(12.0 - 0.8) and hi == pytest.approx(12.5 + 0.8)
    assert top.get_xlim()[1] - top.get_xlim()[0] > 19  # the overview keeps the whole run
    band = diff.collections[0]  # the tube around the reference, in the zoomed window
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx(0.004, rel=1e-6) and ys.min() == pytest.approx(-0.004,
                                                                                   rel=1e-6)
    assert diff.get_yscale() == "symlog"  # 0.5 off, Y = 0.004: log beyond +-Y
    assert diff.get_ylim()[1] >= 0.5


def test_zoom_window_rules():
    t = np.linspace(0.0, 100.0, 1001)
    s = SignalReport("x", "fail", x=0.1, max_error_time=70.0)
    assert zoom_window(t, np.array([], dtype=int), s, 100.0) == (0.0, 100.0)
    # a short failure: its span plus 2 % of the run (2 s, as 20 X)
    assert zoom_window(t, np.arange(500, 511), s, 100.0) == pytest.approx((48.0, 53.0))
    # failures spread over most of the run: around the largest error
    assert zoom_window(t, np.array([50, 900]), s, 100.0) == pytest.approx((68.0, 72.0))
