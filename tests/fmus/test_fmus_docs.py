"""docs/fmus.md tells the truth: its Python examples run and it describes every model."""

from __future__ import annotations

import re

from fmus.build import MODELS_DIR, list_models

DOC = MODELS_DIR.parent / "docs" / "fmus.md"


def test_python_examples_run(fmus, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "doc_example"})  # noqa: S102
    assert "model 'StateSpace' is built for FMI [3] only, not FMI 2" in capsys.readouterr().out


def test_every_model_has_a_section():
    sections = set(re.findall(r"^### (\w+) \(", DOC.read_text(), flags=re.M))
    assert sections == set(list_models())
