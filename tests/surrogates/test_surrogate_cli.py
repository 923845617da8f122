"""``cosim surrogate excite|fit|show|validate``: outputs, files and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from surrogate_helpers import write

from cosim.cli.main import main
from tests.browser import check_page

ROOT = Path(__file__).resolve().parents[2]


def test_excite_fit_show(rack_world, tmp_path, capsys, browser):
    spec = rack_world["spec"]
    study = tmp_path / "ex.h5"
    assert main(["surrogate", "excite", str(spec), "-o", str(study), "--runs", "6",
                 "--horizon", "1800", "--workers", "0", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "6 excitation runs of 1800 s" in out and "6 runs: 6 completed, 0 failed" in out
    assert (tmp_path / "ex.topology.yaml").is_file()
    art = tmp_path / "r.surrogate"
    assert main(["surrogate", "fit", str(study), "--node", "rack", "-o", str(art),
                 "--kinds", "linear,polynomial", "--lags", "1:1,2:2", "--envelope", "box"]) == 0
    out = capsys.readouterr().out
    assert "fitting 4 candidates for rack" in out and "chosen: polynomial" in out
    report = json.loads((tmp_path / "r.surrogate.report.json").read_text())
    assert report["envelope"]["kind"] == "box" and len(report["metrics"]["candidates"]) == 4
    assert "<h2>Candidates</h2>" in (tmp_path / "r.surrogate.report.html").read_text()
    check_page(browser, tmp_path / "r.surrogate.report.html")  # a real browser shows it
    assert main(["surrogate", "show", str(art)]) == 0
    out = capsys.readouterr().out
    assert "inputs: P_it [W], T_supply [K], m_flow [kg/s]" in out
    assert "intervals (90%): T_cpu ±" in out


def test_validate_writes_the_closed_loop_into_the_report(rack_world, tmp_path, capsys,
                                                        browser):
    from cosim.surrogates import validate
    validate.MIN_SECONDS = 0.02
    art = tmp_path / "poly.surrogate"
    art.write_bytes(rack_world["poly"].read_bytes())
    (tmp_path / "poly.surrogate.report.json").write_text("{}")
    topo = ROOT / "topologies" / "datacenter.yaml"
    code = main(["surrogate", "validate", str(art), str(topo), "--replace", "rack2,rack3",
                 "--max-nrmse", "0.05"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "rack2.T_cpu" in out and "node step:" in out
    report = json.loads((tmp_path / "poly.surrogate.report.json").read_text())
    assert report["closed_loop"]["replaced"] == ["rack2", "rack3"]
    check_page(browser, tmp_path / "poly.surrogate.report.html")  # tables, no figures
    # a threshold no run can meet is a verdict: exit 1
    assert main(["surrogate", "validate", str(art), str(topo), "--replace", "rack2",
                 "--max-nrmse", "1e-12"]) == 1
    capsys.readouterr()


def test_bad_input_exits_2(rack_world, tmp_path, capsys):
    assert main(["surrogate", "fit", str(rack_world["study"]), "--node", "nope", "-o",
                 str(tmp_path / "x.surrogate")]) == 2
    assert "the study's topology has no node 'nope'" in capsys.readouterr().err
    assert main(["surrogate", "show", str(tmp_path / "missing.surrogate")]) == 2
    assert "surrogate file not found" in capsys.readouterr().err
    spec = write(tmp_path / "bad.yaml", {"topology": str(rack_world["topology"]),
                                         "node": "rack", "envelope": {"Q": {"low": 0,
                                                                             "high": 1}}})
    assert main(["surrogate", "excite", str(spec), "-o", str(tmp_path / "b.h5")]) == 2
    assert "Q is not a real input of rack" in capsys.readouterr().err
    assert main(["surrogate", "fit", str(rack_world["study"]), "--node", "rack", "-o",
                 str(tmp_path / "y.surrogate"), "--kinds", "spline"]) == 2
    assert "unknown surrogate kind 'spline'" in capsys.readouterr().err


def test_excitation_runs_on_dask_with_the_same_data(rack_world, tmp_path):
    from cosim.surrogates.dataset import from_study
    from cosim.surrogates.excite import excite
    serial, dask = tmp_path / "serial.h5", tmp_path / "dask.h5"
    excite(rack_world["spec"], serial, runs=3, horizon=1200.0, workers=0)
    excite(rack_world["spec"], dask, runs=3, horizon=1200.0, dask_local=1)
    a, b = from_study(serial, "rack"), from_study(dask, "rack")
    assert a.provenance["data_sha256"] == b.provenance["data_sha256"]
    assert len(a) == 3
