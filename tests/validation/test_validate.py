"""``cosim validate``: the flagship against its synthetic telemetry, verdicts, exit codes,
reports, and one clear error for each kind of bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import cosim
from cosim.cli.main import main
from cosim.validation import validate
from tests.conftest import TOPOLOGIES

CAL = TOPOLOGIES / "calibration"


@pytest.fixture(scope="module")
def true_run(fmus, tmp_path_factory):
    """The flagship with the telemetry's true parameters, as a result file."""
    out = tmp_path_factory.mktemp("validate") / "true.h5"
    cosim.run(CAL / "datacenter_true.yaml", output=out)
    return out


def test_generator_and_true_topology_agree():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_telemetry", CAL / "make_telemetry.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    topo = cosim.load(CAL / "datacenter_true.yaml")
    for key, value in mod.true_overrides().items():
        node, _, var = key.partition(".")
        assert topo.graph.nodes[node]["parameters"][var] == value, key
    head = (CAL / "data" / "telemetry.csv").read_text().splitlines()[0]
    assert head.startswith("timestamp,T_cpu_1 [degC]") and head.endswith("P_el [kW]")


def test_flagship_passes_guideline14_and_the_temperature_bounds(true_run, capsys):
    code = main(["validate", str(true_run), str(CAL / "telemetry.yaml"),
                 "--criteria", str(CAL / "criteria.yaml")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS: 39 criteria hold on 10 signals" in out
    r = validate(true_run, CAL / "telemetry.yaml", criteria=CAL / "criteria.yaml")
    assert r.passed and r.p == 6 and r.span == (3600.0, 64800.0)
    # the telemetry's noise is what is left: sigma_T = 0.2 K, 1 % of the power
    for s in r.signals:
        if ".T_" in s.name:
            assert 0.17 < s.metrics["rmse"] < 0.23, s.name
            lo, hi = s.ci["bias"]
            assert lo < 0.0 < hi or abs(s.metrics["bias"]) < 0.03, s.name
    assert abs(r["cooler.P_el"].metrics["nmbe"]) < 0.5


def test_planted_bias_fails_naming_the_signal_and_metric(true_run, capsys):
    code = main(["validate", str(true_run), str(CAL / "telemetry_biased.yaml"),
                 "--criteria", str(CAL / "criteria.yaml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  rack2.T_cpu bias" in out and "FAIL  rack2.T_cpu rmse" in out
    assert "FAIL: 2 of 39 criteria failed (rack2.T_cpu bias, rack2.T_cpu rmse)" in out
    r = validate(true_run, CAL / "telemetry_biased.yaml", criteria=CAL / "criteria.yaml")
    bias = r["rack2.T_cpu"].metrics["bias"]
    assert bias == pytest.approx(-1.0, abs=0.05)   # the sensor reads 1 K high
    lo, hi = r["rack2.T_cpu"].ci["bias"]
    assert hi < -0.9


def test_holdout_window_and_reports(true_run, tmp_path):
    r = validate(true_run, CAL / "telemetry.yaml", window="holdout", bootstrap=200)
    assert r.span == (64800.0, 86400.0) and r.passed is None
    assert r["rack1.T_cpu"].n == 361
    html = r.report(tmp_path / "v.html").read_text()
    assert html.count("<img") == 10 and "rack1.T_cpu" in html
    data = json.loads(r.report(tmp_path / "v.json").read_text())
    assert data["window"] == "holdout" and len(data["signals"]) == 10
    assert data["bootstrap"]["replicates"] == 200
    df = r.df
    assert list(df.index)[:2] == ["rack1.T_cpu", "rack2.T_cpu"]
    assert df.loc["cooler.P_el", "n"] == 361 and "<table" in r._repr_html_()


def test_cli_report_and_signal_pairs(true_run, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["validate", str(true_run), str(CAL / "data" / "telemetry.csv"),
                 "--signals", "cooler.P_el=P_el", "--report", str(out), "--bootstrap", "0",
                 "--criteria", "ashrae14-hourly"])
    assert code == 0, capsys.readouterr()
    data = json.loads(out.read_text())
    assert [s["name"] for s in data["signals"]] == ["cooler.P_el"] and data["passed"]
    assert data["signals"][0]["ci"] == {}


# -- bad input: one clear message each, exit code 2 --------------------------------------------


def run_cli(args, capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def write(path, text):
    path.write_text(text)
    return path


def test_no_overlap_between_run_and_telemetry(true_run, tmp_path, capsys):
    spec = write(tmp_path / "late.yaml", (CAL / "telemetry.yaml").read_text().replace(
        'file: data/telemetry.csv', f'file: {CAL / "data" / "telemetry.csv"}').replace(
        '2026-06-01T00:00:00Z', '2026-05-01T00:00:00Z'))
    code, err = run_cli(["validate", str(true_run), str(spec)], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "no overlap in time between the run (0..86400 s) and the telemetry" in err


def test_unit_mismatch(true_run, capsys):
    code, err = run_cli(["validate", str(true_run), str(CAL / "data" / "telemetry.csv"),
                         "--signals", "cooler.P_el=T_supply"], capsys)
    assert code == 2
    assert "cooler.P_el: unit mismatch: cannot convert 'degC'" in err and "'W'" in err


def test_signal_missing_from_the_run(true_run, capsys):
    code, err = run_cli(["validate", str(true_run), str(CAL / "data" / "telemetry.csv"),
                         "--signals", "rack5.T_cpu=T_cpu_1"], capsys)
    assert code == 2
    assert "signal 'rack5.T_cpu' (telemetry column 'T_cpu_1') is not in" in err
    assert "did you mean 'rack4.T_cpu'" in err


def test_criteria_naming_a_signal_not_validated(true_run, tmp_path, capsys):
    crit = write(tmp_path / "c.yaml", "signals:\n  rack9.T_cpu: {bias: 1}\n")
    code, err = run_cli(["validate", str(true_run), str(CAL / "telemetry.yaml"),
                         "--criteria", str(crit)], capsys)
    assert code == 2 and "c.yaml:2: 'rack9.T_cpu' matches no validated signal" in err


def test_constant_telemetry_under_an_r2_criterion(true_run, tmp_path, capsys):
    t = np.arange(0.0, 86401.0, 60.0)
    pd.DataFrame({"time": t, "cooler.T_supply [K]": np.full(t.size, 291.15)}).to_csv(
        tmp_path / "flat.csv", index=False)
    crit = write(tmp_path / "c.yaml", "signals:\n  cooler.T_supply: {r2: 0.5}\n")
    code, err = run_cli(["validate", str(true_run), str(tmp_path / "flat.csv"),
                         "--criteria", str(crit)], capsys)
    assert code == 2
    assert ("cooler.T_supply: cannot judge r2 (>= 0.5): measured values are constant "
            "(291.15): R² is undefined") in err


def test_fewer_samples_than_the_bootstrap_block(true_run, capsys):
    code, err = run_cli(["validate", str(true_run), str(CAL / "telemetry.yaml"),
                         "--window", "holdout", "--block", "500"], capsys)
    assert code == 2
    assert "rack1.T_cpu: 361 compared samples are fewer than the bootstrap block (500" in err


def test_bad_criteria_values(true_run, tmp_path, capsys):
    crit = write(tmp_path / "c.yaml", "signals:\n  '*': {rmse: [2, 1]}\n")
    code, err = run_cli(["validate", str(true_run), str(CAL / "telemetry.yaml"),
                         "--criteria", str(crit)], capsys)
    assert code == 2 and "c.yaml:2: rmse: the low bound 2 is above the high bound 1" in err
    crit = write(tmp_path / "d.yaml", "signals:\n  '*': {rmsd: 1}\n")
    code, err = run_cli(["validate", str(true_run), str(CAL / "telemetry.yaml"),
                         "--criteria", str(crit)], capsys)
    assert code == 2 and "unknown metric 'rmsd'" in err
