#!/usr/bin/env python3
"""One-command set-up for cosim: virtual environment, install, FMU build, then a task.

Usage (from the repository root, with only Python >= 3.11 and gcc on the machine)::

    python3 dev.py demo    # set up, then run the flagship datacenter twin
    python3 dev.py test    # set up, then lint and run the whole test suite
    python3 dev.py setup   # set up only

Set-up is idempotent: the virtual environment lives in ``.venv/`` and is reinstalled
only when ``pyproject.toml`` changes; FMUs are rebuilt only when their sources change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"
STAMP = VENV / ".cosim-install-stamp"


def _run(*args: str | os.PathLike) -> None:
    cmd = [str(a) for a in args]
    print("+", " ".join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=ROOT)
    if code != 0:
        raise SystemExit(code)


def _install_fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        raise SystemExit(f"cosim needs Python >= 3.11, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    fingerprint = _install_fingerprint()
    if not STAMP.exists() or STAMP.read_text() != fingerprint:
        _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(fingerprint)
    _run(PYTHON, "fmus/build.py")


def demo() -> None:
    setup()
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    _run(BIN / "cosim", "run", "topologies/datacenter.yaml",
         "-o", out / "datacenter.h5", "--plot", out / "datacenter.png")


def test() -> None:
    setup()
    _run(PYTHON, "-m", "ruff", "check", "cosim", "tests", "fmus", "bench", "dev.py")
    _run(PYTHON, "-m", "pytest", "-q")
    _run(PYTHON, "-m", "cosim", "regress")  # exit 1 on a regression, 2 on a broken case


TASKS = {"setup": setup, "demo": demo, "test": test}

if __name__ == "__main__":
    task = sys.argv[1] if len(sys.argv) > 1 else "demo"
    if task not in TASKS:
        raise SystemExit(f"usage: python3 dev.py [{'|'.join(TASKS)}]")
    TASKS[task]()
