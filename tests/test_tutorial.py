"""docs/tutorial.md walks through as written — in a fresh copy of the repository.

The copy holds the files a clone would (git's tracked and not-ignored files), plus the
built FMUs (``python3 dev.py setup`` builds them; here the session fixture did); every
``cosim`` command of the tutorial's bash blocks runs there as a program, with the exit
code the tutorial states (``# exit 1``, else 0); the outputs the tutorial shows are what
the commands print; its Python block runs there too, printing what it says (``# ->``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_readme import blocks, expectations

DOC = (ROOT / "docs" / "tutorial.md").read_text()
#: set-up lines of the tutorial that the test session has done already
DONE_BY_THE_SESSION = ("python3 dev.py setup", "source .venv/bin/activate")


def commands(text: str) -> list[tuple[str, int]]:
    """``(command, expected exit code)`` of every bash line (continuations joined)."""
    out = []
    for block in blocks(text, "bash"):
        joined = re.sub(r"\\\n\s*", "", block)
        for line in joined.splitlines():
            command, _, comment = line.partition("#")
            command = command.strip()
            if not command or command in DONE_BY_THE_SESSION:
                continue
            m = re.search(r"exit (\d+)", comment)
            out.append((command, int(m.group(1)) if m else 0))
    return out


def test_the_tutorial_has_every_step():
    cmds = [c.split()[1] for c, _ in commands(DOC)]
    for step in ("inspect", "check", "run", "validate", "compare", "sweep", "plot"):
        assert step in cmds, step
    assert [c for c, code in commands(DOC) if code == 1] and len(blocks(DOC, "python")) == 1


def test_the_topology_shown_is_the_file():
    shown = next(b for b in blocks(DOC, "yaml") if b.startswith("# The tutorial's twin"))
    assert shown == (ROOT / "topologies" / "tutorial" / "rack.yaml").read_text()


def _fresh_copy(tmp: Path) -> Path:
    """The repository as a clone has it, with the FMUs built."""
    clone = tmp / "cosim"
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others",
                                 "--exclude-standard"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: the tree
        listed = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                  and not {"out", ".venv", "build", "__pycache__"} & set(p.parts)]
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    shutil.copytree(ROOT / "fmus" / "build", clone / "fmus" / "build")
    return clone


def _shown_outputs(text: str) -> list[str]:
    """The tutorial's output blocks (text), each a list of lines that must appear."""
    return [b for b in blocks(text, "text") if not b.lstrip().startswith("name ")]


def test_fresh_clone_walkthrough(fmus, tmp_path, capsys, monkeypatch):
    """The commands run in this process (as ``main([...])``: the same code, without a
    Python start-up per command), from the copy; the Python block as a program of its
    own, importing cosim from the copy."""
    from cosim.cli.main import main
    clone = _fresh_copy(tmp_path)
    assert not (clone / "out").exists()
    monkeypatch.chdir(clone)
    printed = []
    for command, code in commands(DOC):
        argv = shlex.split(command)
        assert argv[0] == "cosim", command
        status = main(argv[1:])
        out, err = capsys.readouterr()
        assert status == code, (command, out[-1500:], err[-1500:])
        printed.append(out)
    everything = "\n".join(printed)
    for shown in _shown_outputs(DOC):
        lines = [ln for ln in shown.splitlines() if ln.strip()]
        missing = [ln for ln in lines if ln not in everything]
        assert missing == [], missing
    for out in ("rack.h5", "rack.png", "validation.html", "compare.html", "whatif.h5",
                "whatif.png"):
        assert (clone / "out" / "tutorial" / out).stat().st_size > 1000, out
    # the Python block, in the clone, prints what it says
    code = blocks(DOC, "python")[0]
    script = clone / "tutorial_block.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(clone)}
    proc = subprocess.run([sys.executable, str(script)], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wanted = list(expectations(code).values())
    got = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert got == wanted


def test_inspect_shows_the_rows_the_tutorial_quotes(fmus, capsys, monkeypatch):
    from cosim.cli.main import main
    monkeypatch.chdir(ROOT)
    assert main(["inspect", "fmus/build/fmi2/Rack.fmu"]) == 0
    out = capsys.readouterr().out.splitlines()
    table = next(b for b in blocks(DOC, "text") if b.lstrip().startswith("name "))
    for line in table.splitlines():
        name = line.split()[0]
        row = next(r for r in out if r.split() and r.split()[0] == name)
        assert row.split() == line.split(), name


@pytest.mark.parametrize("name", ["rack.yaml", "sweep.yaml", "criteria.yaml",
                                  "tolerances.toml", "measured.csv"])
def test_every_tutorial_file_is_named_in_the_tutorial(name):
    assert f"`{name}`" in DOC or f"topologies/tutorial/{name}" in DOC
