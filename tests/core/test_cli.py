"""The command line: what each command prints and its exit codes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cosim.cli.main import main
from tests.conftest import ROOT, TOPOLOGIES


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_lists_order_and_unconnected_inputs(capsys, fmus):
    code, out, _ = cli(capsys, "check", TOPOLOGIES / "datacenter.yaml")
    assert code == 0 and "OK" in out
    assert "cooler.T_setpoint = 18 degC (291.15 K)" in out
    assert "fan_ctrl.setpoint = 50 degC (323.15 K)" in out
    order = out.split("stepping order): ")[1].splitlines()[0].split(", ")
    assert order.index("load") < order.index("rack1") and len(order) == 8


def test_check_reports_problems_with_exit_2(tmp_path, capsys, fmu):
    p = tmp_path / "bad.yaml"
    p.write_text(f"run: {{stop: 1, step: 0.1}}\nnodes:\n  g: {{fmu: {fmu('Gain')}}}\n"
                 "connections:\n  - g.y -> g.u\n  - g.yy -> g.u\n")
    code, _, err = cli(capsys, "check", p)
    # an input driven twice and an unknown output (the self-loop itself is solvable)
    assert code == 2 and "2 problems" in err and f"{p}:5" in err and f"{p}:6" in err
    assert "driven by 2 connections" in err and "did you mean 'y'" in err


def test_check_lists_loops_and_what_rollback_allows(tmp_path, capsys, fmu):
    from tests.core.test_topology_errors import no_rollback
    stiff = no_rollback(fmu("Gain"), tmp_path / "stiff.fmu")
    p = tmp_path / "loop.yaml"
    p.write_text(f"run: {{stop: 1, step: 0.1}}\nnodes:\n  g: {{fmu: {fmu('Gain')}}}\n"
                 f"  h: {{fmu: {fmu('Gain')}}}\n  s: {{fmu: {stiff}}}\n"
                 "connections:\n  - g.y -> h.u\n  - h.y -> g.u\n")
    code, out, _ = cli(capsys, "check", p)
    assert code == 0
    assert "algebraic loops (solved by iteration at every step):" in out
    assert "g.y -> h.u -> h.y -> g.u -> g.y" in out
    assert "cannot roll back: s" in out and "fixed-step" in out


def test_inspect_shows_variables_units_and_dependencies(capsys, fmu):
    code, out, _ = cli(capsys, "inspect", fmu("Cooler"))
    assert code == 0 and "FMI 2.0" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines()[5:] if ln.strip()}
    assert "K" in lines["T_supply"].split() and "-" in lines["T_supply"].split()
    assert "fan" in lines["m_flow"] and "kg/s" in lines["m_flow"]


def test_run_single_fmu_with_params(capsys, tmp_path, fmu):
    out_file = tmp_path / "decay.h5"
    code, out, _ = cli(capsys, "run", fmu("Decay"), "--param", "k=2", "--param", "x0=3",
                       "--stop", "1", "--step", "0.01", "-o", out_file, "--no-progress")
    assert code == 0 and f"results: {out_file}" in out
    final = float(out.split("Decay.x")[1].split()[0])
    assert final == pytest.approx(3 * np.exp(-2.0), rel=1e-6)


def test_run_single_fmu_with_input_csv(capsys, tmp_path, fmu):
    csv = tmp_path / "u.csv"
    csv.write_text("time,u\n0,1\n10,1\n")
    code, out, _ = cli(capsys, "run", fmu("Decay"), "--input", csv, "--param", "x0=0",
                       "--stop", "2", "--step", "0.1", "--no-progress")
    assert code == 0
    final = float(out.split("Decay.x")[1].split()[0])
    assert final == pytest.approx(1 - np.exp(-2.0), rel=1e-6)


def test_graph_writes_png(capsys, tmp_path, fmus):
    png = tmp_path / "g.png"
    code, out, _ = cli(capsys, "graph", TOPOLOGIES / "datacenter.yaml", "-o", png)
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "8 nodes, 23 connections" in out


def test_console_script_runs(fmus):
    proc = subprocess.run([sys.executable, "-m", "cosim", "--version"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("cosim ")
