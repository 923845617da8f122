"""The docs tell the truth: every Python example in README.md and docs/*.md runs, and
what it prints is what the docs say it prints.

Every ```python block of every doc is executed here, in file order, the blocks of one
doc sharing a namespace, from the repository root (``out/`` for outputs). A ``print``
line ending in ``# -> TEXT`` must print exactly TEXT (an explanation may follow after
two spaces and ``#``). Blocks that truly cannot run here are listed in ``SKIP`` with
the reason; nothing else is left out.
"""

from __future__ import annotations

import builtins
import re
import subprocess
import sys

import pytest

from cosim.cli.main import main
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
DOCS = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))

#: (doc, block index) -> why the block cannot run in the test suite
SKIP: dict[tuple[str, int], str] = {}
#: docs whose blocks run, with the same ``# ->`` checks, in a test of their own
RUN_ELSEWHERE = {"docs/tutorial.md": "tests/test_tutorial.py"}  # in a fresh copy

_MARK = re.compile(r"#\s*->\s*(.*?)(?:\s{2,}#.*)?$")


def fenced(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced code block, in order."""
    out, lang, body = [], None, []
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:].strip(), []
            else:
                out.append((lang, "".join(body)))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


def blocks(text: str, lang: str) -> list[str]:
    return [body for language, body in fenced(text) if language == lang]


def expectations(block: str) -> dict[int, str]:
    """``{line number: expected output}`` of the ``print(...)  # -> TEXT`` lines."""
    out = {}
    for n, line in enumerate(block.splitlines(), start=1):
        if "print(" in line and "# ->" in line:
            out[n] = _MARK.search(line[line.index("#"):]).group(1).strip()
    return out


def run_doc(doc: str) -> dict:
    """Execute a doc's Python blocks; check every ``# ->`` line; return the namespace."""
    code = blocks((ROOT / doc).read_text(), "python")
    namespace: dict = {"__name__": f"doc_example_{doc}"}
    for i, block in enumerate(code):
        if (doc, i) in SKIP:
            continue
        name = f"{doc} (python block {i + 1})"
        printed: dict[int, list[str]] = {}

        def recording_print(*args, sep=" ", end="\n", file=None, flush=False,
                            _name=name, _printed=printed):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename != _name:
                frame = frame.f_back
            if frame is not None and file is None:
                _printed.setdefault(frame.f_lineno, []).append(sep.join(map(str, args)))
            builtins.print(*args, sep=sep, end=end, file=file, flush=flush)

        namespace["print"] = recording_print
        exec(compile(block, name, "exec"), namespace)  # noqa: S102 - our own docs
        for line, expected in expectations(block).items():
            got = "\n".join(printed.get(line, ["(printed nothing)"]))
            assert got == expected, f"{name}, line {line}: prints {got!r}, the doc says " \
                                    f"{expected!r}"
    return namespace


def test_every_doc_is_covered_and_the_skip_list_is_current():
    with_code = [d for d in DOCS if blocks((ROOT / d).read_text(), "python")]
    assert "docs/tutorial.md" in with_code and len(with_code) >= 15
    for doc, index in SKIP:
        assert index < len(blocks((ROOT / doc).read_text(), "python")), (doc, index)
    for doc, test in RUN_ELSEWHERE.items():
        assert "expectations(" in (ROOT / test).read_text() and doc in with_code


@pytest.mark.parametrize("doc", [d for d in DOCS if d not in RUN_ELSEWHERE
                                 and blocks((ROOT / d).read_text(), "python")])
def test_python_examples_run_and_print_what_they_say(doc, fmus, monkeypatch):
    monkeypatch.chdir(ROOT)
    (ROOT / "out").mkdir(exist_ok=True)
    run_doc(doc)


def test_the_marker_checker_catches_a_wrong_number(tmp_path, monkeypatch):
    """The ``# ->`` check can fail: a doc that claims the wrong output does."""
    bad = tmp_path / "bad.md"
    bad.write_text("```python\nprint(1 + 1)   # -> 3  # arithmetic\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match=r"prints '2', the doc says '3'"):
        run_doc("bad.md")
    assert expectations("print(x)  # -> a b  # why\n") == {1: "a b"}


def test_quickstart_has_the_two_commands_and_ci_runs_the_test_one():
    quick = README.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in blocks(quick, "bash")[0].splitlines()
                if ln.strip()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [ln for ln in ci.splitlines() if "dev.py" in ln] == ["python3 dev.py test"]


def test_readme_heater_block_reaches_its_steady_state(fmus, monkeypatch):
    monkeypatch.chdir(ROOT)
    ns = run_doc("README.md")
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


def test_regression_docs_list_every_shipped_case():
    cases = sorted(p.parent.name for p in (ROOT / "reference_results").glob("*/case.yaml"))
    for doc in ("README.md", "docs/regression.md"):
        text = (ROOT / doc).read_text()
        table = next(b for lang, b in fenced(text) if lang in ("", "text")
                     and "all " in b and " passed" in b)
        listed = [ln.split()[0] for ln in table.splitlines()
                  if ln.split() and ln.split()[0] in cases]
        assert listed == cases, doc
        assert f"all {len(cases)} passed" in table, doc
    shipped = (ROOT / "docs/regression.md").read_text().split(
        "### The shipped references")[1].split("##")[0]
    assert [c for c in cases if f"| `{c}` |" in shipped] == cases


def test_demo_command_writes_the_flagship_hdf5_and_plot(fmus):
    proc = subprocess.run([sys.executable, "dev.py", "demo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "datacenter: 1441 points from 0 to 86400 s" in proc.stdout
    # a short line per stage: no banners, no FMU paths when they are cached, no bar
    stages = [ln for ln in proc.stdout.splitlines() if ln.startswith("dev.py: ")]
    assert stages[-2:] == ["dev.py: FMUs are up to date", "dev.py: running the flagship twin"]
    assert "fmus/build/fmi" not in proc.stdout and "setuptools" not in proc.stdout + proc.stderr
    assert "\r" not in proc.stderr
    h5, png = ROOT / "out" / "datacenter.h5", ROOT / "out" / "datacenter.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    import cosim
    data = cosim.read(h5)
    assert data.status == "completed" and len(data.df) == 1441
