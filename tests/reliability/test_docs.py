"""docs/reliability.md tells the truth: its Python example runs, and every test it names
exists."""

from __future__ import annotations

import re

from reliability_helpers import HERE, ROOT

DOC = (ROOT / "docs" / "reliability.md").read_text()


def test_python_example_runs(fmus, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    text = (ROOT / "topologies" / "decay_chain.yaml").read_text()
    for block in re.findall(r"```python\n(.*?)```", DOC, flags=re.S):
        exec(compile(block, "docs/reliability.md", "exec"), {})  # noqa: S102 - our docs
    out = capsys.readouterr().out
    assert "topologies/decay_chain.yaml is an input of this run" in out
    assert (ROOT / "topologies" / "decay_chain.yaml").read_text() == text


def test_named_tests_exist():
    sources = {p.name: p.read_text() for p in HERE.glob("test_*.py")}
    for ref in set(re.findall(r"`(test_\w+\.py)(?:::(\w+))?`", DOC)):
        name, func = ref
        assert name in sources, name
        if func:
            assert f"def {func}(" in sources[name], ref
