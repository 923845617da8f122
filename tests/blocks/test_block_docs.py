"""The examples in docs/blocks.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

from cosim.blocks.registry import resolve_block

DOC = Path(__file__).resolve().parents[2] / "docs" / "blocks.md"


def python_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_examples_run(capsys):
    examples = python_examples()
    assert len(examples) == 3
    namespace: dict = {}
    for code in examples:
        exec(compile(code, str(DOC), "exec"), namespace)  # asserts inside the examples
    assert capsys.readouterr().out.strip() == "{'T': 293.15}"
    assert namespace["u0"] == 0.05 * 3.0  # reverse: e = 300 - 297, P only
    assert namespace["u1"] > namespace["u0"]  # integral action has started


def test_user_block_example_resolves_from_a_file(tmp_path):
    (tmp_path / "thermal.py").write_text(python_examples()[0])
    cls = resolve_block("thermal.py:ThermalMass", [tmp_path])
    room = cls(C=5.0e5, G=100.0)
    room.reset(0.0)
    assert room.step(0.0, 1.0e9, {"Q": 1000.0})["T"] == 293.15 + 10.0
    assert room.interface()["T"].depends_on == ()
