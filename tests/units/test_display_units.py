"""Display units: chosen at check time, shown in plots and listings, never stored."""

from __future__ import annotations

import textwrap

import h5py
import numpy as np
import pytest

import cosim
from cosim.errors import TopologyError
from cosim.results import plot
from cosim.units import Display
from tests.conftest import TOPOLOGIES

TOPOLOGY = """\
name: shown
run:
  stop: 1
  step: 0.5
  record: [probe.*]
  display_units:
    "probe.T*": degC
    probe.P_out: kW
nodes:
  temp: {block: constant, parameters: {value: 300.0, unit: K}}
  power: {block: constant, parameters: {value: 1500.0, unit: W}}
  probe: {block: "tests.units.conftest:Probe"}
connections:
  - temp.y -> probe.T
  - power.y -> probe.P
"""


def test_flagship_temperatures_are_shown_in_degc():
    report = cosim.load(TOPOLOGIES / "datacenter.yaml").check()
    assert report.display["rack1.T_cpu"] == Display("degC", 1.0, -273.15)
    assert report.display["cooler.T_setpoint"] == Display("degC", 1.0, -273.15)
    assert "cooler.P_el" not in report.display


def test_values_stay_in_their_unit_and_plots_show_the_display_unit(tmp_path):
    (tmp_path / "t.yaml").write_text(TOPOLOGY)
    out = tmp_path / "r.h5"
    result = cosim.run(tmp_path / "t.yaml", output=out)
    with h5py.File(out) as f:
        assert f["probe.T_out"].attrs["units"] == "K" and f["probe.T_out"][-1] == 300.0
    data = cosim.read(out)
    assert data.display_units == {"probe.T_out": Display("degC", 1.0, -273.15),
                                  "probe.P_out": Display("kW", 0.001, 0.0)}
    for fig in (plot(data), result.plot()):
        axes = {ax.get_ylabel(): ax for ax in fig.axes}
        # labelled with the quantity and the unit shown
        assert set(axes) == {"temperature [degC]", "power [kW]", "pressure [Pa]"}
        [line] = axes["temperature [degC]"].get_lines()
        assert np.allclose(line.get_ydata(), 300.0 - 273.15, rtol=0, atol=1e-12)
        [line] = axes["power [kW]"].get_lines()
        assert np.all(line.get_ydata() == 1.5)


def test_display_patterns_that_fit_nothing_are_problems_at_their_line(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(TOPOLOGY.replace("    probe.P_out: kW\n", textwrap.indent(
        "probe.P_out: degC\nnothing.*: K\nprobe.T_out: furlongs_per_blorp\n", "    ")))
    with pytest.raises(TopologyError) as err:
        cosim.load(p).check().raise_if_problems()
    by_where = {q.where: q.message for q in err.value.problems}
    assert "'degC' fits none of the signals it matches (its signals are in 'W')" in \
        by_where[f"{p}:8"]
    assert "it matches no input or output with a unit" in by_where[f"{p}:9"]
    assert "unknown unit 'furlongs_per_blorp'" in by_where[f"{p}:10"]
    assert len(err.value.problems) == 3
