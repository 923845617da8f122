"""Automatic unit conversion on connections, end to end, against hand-computed values."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import cosim
from cosim.errors import TopologyError
from cosim.fmu import description
from cosim.units import Display
from tests.units.conftest import Probe


def rack_topology(fmu, *, kw: float, deg_c: float, stop: float = 20000.0):
    """A Rack FMU (P_it in W, T_supply in K) fed in kW and degC by constant blocks."""
    topo = cosim.Topology("units", stop=stop, step=60.0)
    topo.add_block("power", "constant", parameters={"value": kw, "unit": "kW"})
    topo.add_block("supply", "constant", parameters={"value": deg_c, "unit": "degC"})
    topo.add_fmu("rack", fmu("Rack"))
    topo.connect("power.y", "rack.P_it")
    topo.connect("supply.y", "rack.T_supply")
    return topo


@pytest.mark.parametrize("fast", [True, False])
def test_kw_and_degc_sources_drive_a_rack_in_w_and_k(fmu, fast):
    topo = rack_topology(fmu, kw=2.0, deg_c=20.0)
    report = topo.check()
    assert report.ok, report.problems
    assert report.gains[("power.y", "rack.P_it")] == (1000.0, 0.0)
    assert report.gains[("supply.y", "rack.T_supply")] == (1.0, 273.15)
    df = cosim.run(topo, fast=fast).df
    # Steady state of the rack (m_flow = 1 kg/s, its start value; cp = 1005 J/(kg K);
    # G_cpu = 500 W/K): T_out = T_supply + P / (m cp), T_cpu = T_out + P / G_cpu,
    # with P = 2000 W and T_supply = 293.15 K. Time constants are ~800 s: after 20000 s
    # the transient is below 1e-9 K.
    t_out = 293.15 + 2000.0 / 1005.0
    t_cpu = t_out + 2000.0 / 500.0
    assert df["rack.T_out"].iloc[-1] == pytest.approx(t_out, abs=1e-6)
    assert df["rack.T_cpu"].iloc[-1] == pytest.approx(t_cpu, abs=1e-6)


def test_conversion_then_the_connections_own_gain_and_offset(fmu):
    topo = cosim.Topology("compose", stop=1.0, step=0.5)
    topo.add_block("power", "constant", parameters={"value": 1.5, "unit": "kW"})
    topo.add_block("temp", "constant", parameters={"value": 20.0, "unit": "degC"})
    topo.add_block("probe", Probe)
    topo.connect("power.y", "probe.P", gain=2.0, offset=5.0)  # 2 * (1500 W) + 5 W
    topo.connect("temp.y", "probe.T", gain=0.5)               # 0.5 * (293.15 K)
    df = cosim.run(topo).df
    assert np.all(df["probe.P_out"] == 2.0 * 1500.0 + 5.0)
    assert np.allclose(df["probe.T_out"], 0.5 * 293.15, rtol=0, atol=1e-12)


def test_check_units_false_passes_the_value_on_unconverted():
    topo = cosim.Topology("raw", stop=1.0, step=0.5)
    topo.add_block("power", "constant", parameters={"value": 1.5, "unit": "kW"})
    topo.add_block("probe", Probe)
    topo.connect("power.y", "probe.P", gain=3.0, check_units=False)
    report = topo.check()
    assert report.ok and report.conversions == {}
    assert np.all(cosim.run(topo).df["probe.P_out"] == 4.5)


def test_incompatible_units_are_one_problem_with_file_line(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent("""\
        name: t
        run: {stop: 1, step: 0.5}
        nodes:
          power: {block: constant, parameters: {value: 1.0, unit: kW}}
          probe: {block: "tests.units.conftest:Probe"}
          odd: {block: constant, parameters: {value: 1.0, unit: furlongs_per_blorp}}
        connections:
          - power.y -> probe.T
          - odd.y -> probe.p
        """))
    with pytest.raises(TopologyError) as err:
        cosim.load(p).check().raise_if_problems()
    first, second = err.value.problems
    assert first.where == f"{p}:8" and (first.node, first.variable) == ("probe", "T")
    assert "incompatible units: power.y is in 'kW' (kg*m^2/s^3) but probe.T expects 'K' " \
        "(K)" in str(first) and "check_units: false" in str(first)
    assert second.where == f"{p}:9" and "unknown unit 'furlongs_per_blorp'" in str(second)


def test_fmi_unit_definitions_and_relative_quantity_reach_the_interface(gain_with_units):
    for version in (2, 3):
        iface = description.read(gain_with_units(version)).interface
        u, y = iface["u"], iface["y"]
        assert (u.unit, u.relative_quantity) == ("K", True)  # from the declared type
        assert [d.name for d in u.unit_definition.display] == ["degF"]
        assert (y.unit, y.display_unit) == ("kPa_g", "bar_g")
        assert (float(y.unit_definition.factor), float(y.unit_definition.offset)) == \
            (1000.0, 101325.0)


@pytest.mark.parametrize("version", [2, 3])
def test_fmi_definitions_convert_end_to_end(gain_with_units, version):
    """5 degC *difference* into u [K, relative]: u = 5. y = u = 5 kPa_g (gauge), into
    the probe's Pa: 5 * 1000 + 101325 = 106325 Pa."""
    topo = cosim.Topology("fmi_units", stop=1.0, step=0.5)
    topo.add_block("delta", "constant", parameters={"value": 5.0, "unit": "degC"})
    topo.add_fmu("g", gain_with_units(version))
    topo.add_block("probe", Probe)
    topo.connect("delta.y", "g.u")
    topo.connect("g.y", "probe.p")
    report = topo.check()
    assert report.gains[("delta.y", "g.u")] == (1.0, 0.0)
    assert report.gains[("g.y", "probe.p")] == (1000.0, 101325.0)
    assert report.display["g.y"] == Display("bar_g", 0.01, 0.0)  # the FMU's DisplayUnit
    result = cosim.run(topo)
    assert np.all(result.df["g.y"] == 5.0) and np.all(result.df["probe.p_out"] == 106325.0)
    assert result.display_units["g.y"] == Display("bar_g", 0.01, 0.0)


def test_the_check_listing_shows_conversions(tmp_path, capsys):
    from cosim.cli.main import main
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent("""\
        nodes:
          power: {block: constant, parameters: {value: 1.0, unit: kW}}
          probe: {block: "tests.units.conftest:Probe"}
        connections:
          - {from: power.y, to: probe.P, gain: 2}
        """))
    assert main(["check", str(p)]) == 0
    assert "  unit conversions on connections (1):\n    power.y -> probe.P: kW -> W: x1000\n" \
        in capsys.readouterr().out
