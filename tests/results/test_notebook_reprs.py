"""Notebook display: short one-line reprs and compact HTML tables (``_repr_html_``) for
the objects a user holds — never every array, parameter and piece of provenance."""

from __future__ import annotations

import numpy as np
import pytest
from lxml import html as lxml_html

import cosim
from tests.conftest import ROOT, TOPOLOGIES


@pytest.fixture(scope="module")
def flagship(fmus, tmp_path_factory):
    out = tmp_path_factory.mktemp("repr") / "dc.h5"
    result = cosim.run(TOPOLOGIES / "datacenter.yaml", output=out, stop=7200)
    return result, cosim.read(out)


def _short(text: str) -> None:
    assert "\n" not in text and len(text) < 200, text


def _cells(page: str) -> list[list[str]]:
    """Every table row's cell texts."""
    tree = lxml_html.fromstring(page)
    return [[c.text_content() for c in tr.xpath("./td|./th")] for tr in tree.iter("tr")]


def test_result_and_rundata(flagship):
    result, data = flagship
    for obj in (result, data):
        _short(repr(obj))
        page = obj._repr_html_()
        assert len(page) < 20_000
        rows = {r[0]: r[1:] for r in _cells(page)}
        assert rows["status"] == ["completed"] and rows["rows x signals"] == ["121 x 14"]
        # final value in degC (the topology's display unit), computed here from kelvin
        final_k = float(data.df["mixer.T_cpu_max"].iloc[-1])
        name, (unit, final, lo, hi) = "mixer.T_cpu_max", rows["mixer.T_cpu_max"]
        assert unit == "degC" and float(final) == pytest.approx(final_k - 273.15, abs=1e-3)
        assert float(lo) <= float(final) <= float(hi), name
    assert repr(result).startswith("<Result 'datacenter' completed: 121 rows x 14 signals")
    assert repr(data).startswith("<RunData 'datacenter' completed: 121 rows x 14 signals")


def test_run_info_lists_parameters_compactly(flagship):
    result, _ = flagship
    info = result.info
    _short(repr(info))
    assert "meta" not in repr(info) and "gauss-seidel" in repr(info)
    rows = _cells(info._repr_html_())
    params = [r for r in rows if len(r) == 3 and r[0] != "parameter"]
    assert ["fan_ctrl.kp", "0.08", ""] in params and ["mixer.n", "4", ""] in params
    assert len(params) == 20 and len(info.parameters) > 20
    assert rows[-1] == [f"... and {len(info.parameters) - 20} more"]


def test_comparison_report_shows_failures_first(flagship, tmp_path):
    result, data = flagship
    other = cosim.run(TOPOLOGIES / "datacenter.yaml", output=tmp_path / "b.h5", stop=7200,
                      parameters={"rack2.C_cpu": 4.4e5})
    report = cosim.compare(other.path, result.path)
    assert not report.passed
    _short(repr(report))
    assert repr(report).startswith("<Report FAIL: ")
    rows = _cells(report._repr_html_())
    statuses = [r[1] for r in rows if len(r) == 8 and r[0] != "signal"]
    assert statuses[0] == "FAIL" and statuses == sorted(statuses)  # FAIL before PASS
    assert len(statuses) == len(report.signals)


def test_simulation_and_check_report(fmus):
    topo = cosim.load(TOPOLOGIES / "datacenter.yaml")
    report = topo.check()
    _short(repr(report))
    assert repr(report) == ("<CheckReport 'datacenter': OK, 8 nodes, 14 recorded, "
                            "2 unconnected inputs>")
    rows = _cells(report._repr_html_())
    assert ["cooler.T_setpoint"] in rows and ["fan_ctrl.setpoint"] in rows
    with cosim.Simulation(topo) as sim:
        _short(repr(sim))
        rows = _cells(sim._repr_html_())
        kinds = {r[0]: r[1] for r in rows if len(r) == 3 and r[0] != "node"}
        assert kinds["rack1"] == "fmu" and kinds["fan_ctrl"] == "block"
        assert list(kinds) == report.order


def test_check_report_with_problems(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("run: {stop: 1, step: 0.1}\nnodes:\n  a: {block: constant}\n"
                 "connections:\n  - a.y -> a.nope\n")
    topo = cosim.load(p)
    report = topo.check()
    assert repr(report).startswith("<CheckReport 't': 1 problem,")
    page = report._repr_html_()
    assert 'class="cosim-fail"' in page and f"{p}:5" in page


def test_validation_and_sensitivity_results_have_reprs_too():
    from cosim.sensitivity.result import SensitivityResult
    from cosim.validation.result import ValidationResult
    for cls in (SensitivityResult, ValidationResult):
        assert "_repr_html_" in vars(cls) and "__repr__" in vars(cls)


def test_signals_table_counts_what_it_leaves_out():
    import pandas as pd

    from cosim.reprs import signals_table
    df = pd.DataFrame({f"s{i}": np.arange(3.0) + i for i in range(30)})
    rows = _cells(signals_table(df, {}))
    assert rows[-1] == ["... and 10 more"] and len(rows) == 1 + 20 + 1
    assert rows[1] == ["s0", "", "2", "0", "2"]
    assert ROOT.exists()
