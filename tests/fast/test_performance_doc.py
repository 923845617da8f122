"""The examples of docs/performance.md run as written, and its plan output is real."""

from __future__ import annotations

import re
from pathlib import Path

import cosim

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"


def test_python_examples_run(fmus, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(code) == 2
    namespace: dict = {"__name__": "doc_example_performance"}
    for block in code:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["ReturnAirMixer"].c_step.parameters == ("n",)


def test_documented_plan_is_the_flagship_plan(fmus):
    shown = re.search(r"```text\n(  step loop:.*?)```", DOC.read_text(), flags=re.S)[1]
    with cosim.Simulation(ROOT / "topologies" / "datacenter.yaml") as sim:
        lines = sim.step_loop()
    documented = [ln.strip() for ln in shown.splitlines() if ln.strip() != "..."]
    assert documented == [ln.strip() for ln in lines][:len(documented)]
