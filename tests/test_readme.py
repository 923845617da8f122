"""The README tells the truth: its commands and examples run, its outputs are real."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from cosim.cli.main import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_quickstart_has_the_two_commands_and_ci_runs_the_test_one():
    quick = README.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in blocks(quick, "bash")[0].splitlines()
                if ln.strip()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [ln for ln in ci.splitlines() if "dev.py" in ln] == ["python3 dev.py test"]


@pytest.mark.parametrize("doc", ["README.md", "docs/topologies.md", "docs/flagship.md",
                                 "docs/units.md", "docs/surrogates.md",
                                 "docs/telemetry.md", "docs/validation.md",
                                 "docs/uncertainty.md", "docs/sensitivity.md"])
def test_python_examples_run(doc, fmus, monkeypatch):
    monkeypatch.chdir(ROOT)
    (ROOT / "out").mkdir(exist_ok=True)
    if doc == "docs/flagship.md" and not (ROOT / "out" / "datacenter.h5").exists():
        assert main(["run", "topologies/datacenter.yaml", "-o", "out/datacenter.h5",
                     "--no-progress"]) == 0
    code = blocks((ROOT / doc).read_text(), "python")
    assert code, f"{doc} has no python example"
    namespace: dict = {"__name__": f"doc_example_{doc}"}
    for block in code:
        exec(compile(block, doc, "exec"), namespace)  # noqa: S102 - our own docs


def test_readme_heater_block_reaches_its_steady_state(fmus, monkeypatch):
    monkeypatch.chdir(ROOT)
    ns: dict = {}
    for block in blocks(README, "python"):
        exec(compile(block, "README.md", "exec"), ns)  # noqa: S102
    # The block integrates tau dT/dt = P/G - (T - T_amb) with explicit Euler, dt = 1 s:
    # T_n - T_amb = (P/G) (1 - (1 - dt/tau)^n), independently computed here.
    final = ns["cosim"].run(ns["heat"]).df["room.T"].iloc[-1]
    assert final == pytest.approx(293.15 + 10.0 * (1 - (1 - 1 / 60) ** 600), abs=1e-9)


def test_documented_check_output_is_real(fmus, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", "topologies/datacenter.yaml"]) == 0
    out = capsys.readouterr().out
    documented = next(b for b in blocks(README, "text") if "datacenter.yaml: OK" in b)
    assert out == documented


def test_demo_command_writes_the_flagship_hdf5_and_plot(fmus):
    proc = subprocess.run([sys.executable, "dev.py", "demo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "datacenter: 1441 points from 0 to 86400 s" in proc.stdout
    h5, png = ROOT / "out" / "datacenter.h5", ROOT / "out" / "datacenter.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    import cosim
    data = cosim.read(h5)
    assert data.status == "completed" and len(data.df) == 1441
