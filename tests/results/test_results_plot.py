"""plot(): one subplot per unit, globs, hours for long runs, PNG output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from results_helpers import record

from cosim.errors import ResultsError
from cosim.results import RunData, plot, read

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "run.h5"
    record(path, n=2000)
    return path


def test_all_signals_one_axes_per_unit(run_file, tmp_path):
    png = tmp_path / "out" / "all.png"
    fig = plot(run_file, path=png)  # a path: read it first
    # units: K (2 signals), W (1), none (stage, on, u)
    assert len(fig.axes) == 3
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == ["temperature [K]", "power [W]", "(no unit)"]  # quantity and unit
    assert fig.axes[-1].get_xlabel() == "time [s]"
    assert "roundtrip" in fig._suptitle.get_text() and "completed" in fig._suptitle.get_text()
    assert png.read_bytes()[:8] == PNG
    assert [line.get_label() for line in fig.axes[0].lines] == ["rack2.T_cpu", "rack1.T_cpu"]
    styles = {line.get_label(): line.get_drawstyle() for line in fig.axes[2].lines}
    assert styles == {"ctrl.stage": "steps-post", "ctrl.on": "steps-post",
                      "ctrl.u": "default"}


def test_glob_selection(run_file, tmp_path):
    fig = plot(read(run_file), "rack*.T_cpu", path=tmp_path / "t.png")
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2
    fig = plot(read(run_file), ["rack1.*", "ctrl.on"])
    assert len(fig.axes) == 3 and not (tmp_path / "none.png").exists()


def test_no_match(run_file):
    with pytest.raises(ResultsError, match=r"no signal matches 'pump\*'"):
        plot(run_file, "pump*")


def test_long_run_in_hours(tmp_path):
    t = np.linspace(0.0, 3 * 3600.0, 50)
    run = RunData.from_dataframe(pd.DataFrame({"a.x": np.sin(t), "a.y": t}, index=t),
                                 units={"a.x": "K", "a.y": "s"}, name="long")
    fig = plot(run, path=tmp_path / "long.png")
    assert len(fig.axes) == 2 and fig.axes[-1].get_xlabel() == "time [h]"
    assert fig.axes[0].lines[0].get_xdata()[-1] == pytest.approx(3.0)
    assert (tmp_path / "long.png").read_bytes()[:8] == PNG
