#!/usr/bin/env python3
"""One-command set-up for cosim: virtual environment, install, FMU build, then a task.

Usage (from the repository root, with only Python >= 3.11 and gcc on the machine)::

    python3 dev.py demo         # set up, then run the flagship datacenter twin
    python3 dev.py test         # set up, then lint and run the whole test suite
    python3 dev.py setup        # set up only
    python3 dev.py test-latest  # the suite against the newest releases of every dependency

Set-up is idempotent: the virtual environment lives in ``.venv/`` and is reinstalled
only when ``pyproject.toml`` or ``constraints.txt`` changes; FMUs are rebuilt only when
their sources change. It installs the known-good versions of ``constraints.txt`` (the
package's own requirements are lower bounds), so that a new release of a dependency
cannot silently move reference results; ``test-latest`` installs the newest releases
into ``.venv-latest/`` instead, to find out what the next ``constraints.txt`` can be.

Each stage prints one line; the output of pip is shown only when it fails.
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
LATEST = ROOT / ".venv-latest"
CONSTRAINTS = ROOT / "constraints.txt"


def _bin(env: Path) -> Path:
    return env / "bin"


def _say(text: str) -> None:
    print(f"dev.py: {text}", flush=True)


def _run(*args: str | os.PathLike, quiet: bool = False) -> None:
    """Run a command from the repository root; exit with its code if it fails. ``quiet``:
    keep its output unless it fails (then show the end of it)."""
    cmd = [str(a) for a in args]
    if not quiet:
        code = subprocess.call(cmd, cwd=ROOT)
    else:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        code = proc.returncode
        if code != 0:
            print((proc.stdout + proc.stderr)[-4000:], file=sys.stderr)
    if code != 0:
        _say(f"failed ({code}): {' '.join(cmd)}")
        raise SystemExit(code)


def _fingerprint(pinned: bool) -> str:
    h = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    if pinned:
        h.update(CONSTRAINTS.read_bytes())
    return h.hexdigest()


def _environment(env: Path, pinned: bool) -> Path:
    """Create and install ``env`` if needed; return its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        raise SystemExit(f"cosim needs Python >= 3.11, this is {sys.version.split()[0]}")
    python = _bin(env) / "python"
    stamp = env / ".cosim-install-stamp"
    if not python.exists():
        _say(f"creating the virtual environment {env.name}/")
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
    fingerprint = _fingerprint(pinned)
    if stamp.exists() and stamp.read_text() == fingerprint and pinned:
        _say(f"{env.name}/ is up to date")
        return python
    what = "the versions of constraints.txt" if pinned else "the newest releases"
    _say(f"installing cosim with its development extras, {what} (a few minutes the first "
         "time)")
    _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", quiet=True)
    pins = ["-c", CONSTRAINTS] if pinned else ["--upgrade", "--upgrade-strategy", "eager"]
    _run(python, "-m", "pip", "install", "--quiet", *pins, "-e", ".[dev]", quiet=True)
    stamp.write_text(fingerprint)
    return python


def _fmus(python: Path) -> None:
    proc = subprocess.run([python, "fmus/build.py"], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        _say("building the FMUs failed")
        raise SystemExit(proc.returncode)
    built = [ln for ln in proc.stdout.splitlines() if ln.startswith("built ")]
    _say(f"FMUs: {len(built)} built into fmus/build/" if built else "FMUs are up to date")


def _browser(python: Path) -> None:
    """Chromium for the tests that open cosim's HTML reports (installed with apt-get
    where missing, when running as root; else those checks are skipped)."""
    code = ("import sys; sys.path.insert(0, '.'); from tests.browser import find_or_install; "
            "path, why = find_or_install(); print(path or 'missing: ' + why)")
    proc = subprocess.run([python, "-c", code], cwd=ROOT, capture_output=True, text=True)
    found = proc.stdout.strip()
    if proc.returncode != 0 or found.startswith("missing"):
        _say(f"no Chromium: the browser checks of HTML reports will be skipped ({found or proc.stderr.strip()[-300:]})")
    else:
        _say(f"Chromium for the HTML report checks: {found}")


def setup() -> Path:
    python = _environment(VENV, pinned=True)
    _fmus(python)
    return python


def demo() -> None:
    setup()
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    _say("running the flagship twin")
    _run(_bin(VENV) / "cosim", "run", "topologies/datacenter.yaml", "-o",
         out / "datacenter.h5", "--plot", out / "datacenter.png")


def _suite(python: Path) -> None:
    _browser(python)
    _say("ruff")
    _run(python, "-m", "ruff", "check", "cosim", "tests", "fmus", "bench", "dev.py")
    _say("pytest")
    _run(python, "-m", "pytest", "-q")
    _say("cosim regress")
    _run(python, "-m", "cosim", "regress")  # exit 1 on a regression, 2 on a broken case


def test() -> None:
    _suite(setup())


def test_latest() -> None:
    """The suite against the newest release of every dependency, in .venv-latest/; lists
    the versions that differ from constraints.txt."""
    python = _environment(LATEST, pinned=False)
    _fmus(python)
    pinned = dict(line.split("==", 1) for line in CONSTRAINTS.read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    frozen = subprocess.run([python, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True).stdout.splitlines()
    newer = [f"{n} {v} (constraints.txt: {pinned[n]})" for n, v in
             (line.split("==", 1) for line in frozen if "==" in line)
             if n in pinned and pinned[n] != v]
    _say(f"newer than constraints.txt: {', '.join(newer)}" if newer else
         "the newest releases are those of constraints.txt")
    _suite(python)


TASKS = {"setup": setup, "demo": demo, "test": test, "test-latest": test_latest}

if __name__ == "__main__":
    task = sys.argv[1] if len(sys.argv) > 1 else "demo"
    if task not in TASKS:
        raise SystemExit(f"usage: python3 dev.py [{'|'.join(TASKS)}]")
    TASKS[task]()
