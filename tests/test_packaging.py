"""Dependencies: lower bounds in pyproject.toml, known-good pins in constraints.txt (what
``python3 dev.py test`` installs), a ``dev`` extra that reuses the other extras."""

from __future__ import annotations

import importlib.metadata
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _direct() -> list[Requirement]:
    """The requirements of the package and of every extra but ``bench`` (benchmark
    comparisons with other tools, not part of cosim)."""
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra, items in EXTRAS.items():
        if extra != "bench":
            reqs += [Requirement(r) for r in items if not r.startswith("cosim[")]
    return reqs


def test_requirements_are_lower_bounds_only():
    for req in _direct():
        for spec in req.specifier:
            assert spec.operator == ">=", f"{req}: pin versions in constraints.txt instead"


def test_dev_extra_reuses_the_other_extras_without_repeating_them():
    dev = [Requirement(r) for r in EXTRAS["dev"]]
    own = [r for r in dev if r.name != "cosim"]
    others = {canonicalize_name(Requirement(r).name) for extra, items in EXTRAS.items()
              if extra != "dev" for r in items}
    assert not {canonicalize_name(r.name) for r in own} & others
    (itself,) = [r for r in dev if r.name == "cosim"]
    assert itself.extras == set(EXTRAS) - {"dev", "bench"}


def test_constraints_pin_every_requirement_within_its_bounds():
    pins = _pins()
    for req in _direct():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (req, pins[name])


def test_the_environment_has_the_pinned_versions():
    """What CI installs with ``-c constraints.txt``; a mismatch means the pins (or this
    environment) are out of date: rerun ``python3 dev.py test``."""
    pins = _pins()
    wrong = {}
    for req in _direct():
        try:
            installed = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:  # an extra not installed here
            continue
        if installed != pins[canonicalize_name(req.name)]:
            wrong[req.name] = (installed, pins[canonicalize_name(req.name)])
    assert wrong == {}


def test_dev_py_knows_the_latest_check():
    import runpy
    dev = runpy.run_path(str(ROOT / "dev.py"), run_name="dev")
    assert set(dev["TASKS"]) == {"setup", "demo", "test", "test-latest"}
    assert "python3 dev.py test-latest" in (ROOT / ".ci" / "latest").read_text()
    assert dev["_fingerprint"](True) != dev["_fingerprint"](False)  # pins are in the stamp
