"""``cosim regress``: the shipped references, 1 % parameter changes, updates, bad cases."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime

import h5py
import pytest
import yaml
from comparison_helpers import cli

from cosim.studies.regress import reference_info
from tests.conftest import ROOT, TOPOLOGIES

CASES = ROOT / "reference_results"
SHIPPED = ("datacenter", "two_mass", "decay_chain")


def _copy_case(tmp_path, name: str, **changes):
    """The shipped case in tmp_path/cases/<name>, its topology path made absolute."""
    dst = tmp_path / "cases" / name
    shutil.copytree(CASES / name, dst)
    spec = yaml.safe_load((dst / "case.yaml").read_text())
    spec["topology"] = str((CASES / name / spec["topology"]).resolve())
    spec.update(changes)
    (dst / "case.yaml").write_text(yaml.safe_dump(spec))
    return dst


def _status(out: str, case: str) -> str:
    return next(ln.split()[1] for ln in out.splitlines() if ln.split()[:1] == [case])


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_shipped_topology_has_a_small_reference_and_passes(capsys, fmus):
    for case in SHIPPED:
        assert (TOPOLOGIES / f"{case}.yaml").is_file()
        ref = CASES / case / "reference.h5"
        assert ref.stat().st_size < 400_000
        info = reference_info(ref)
        assert info["why"] and info["commit"] and info["algorithm"] == "gauss-seidel"
    code, out, _ = cli(capsys, "regress", CASES, "--jobs", "1")
    assert code == 0, out
    assert f"all {len(list(CASES.glob('*/case.yaml')))} passed" in out


def test_a_1_percent_change_of_a_rack_heat_capacity_is_a_regression(capsys, tmp_path, fmus):
    case = _copy_case(tmp_path, "datacenter", parameters={"rack1.C_cpu": 4e5 * 1.01})
    code, out, _ = cli(capsys, "regress", case.parent, "--jobs", "1")
    assert code == 1 and _status(out, "datacenter") == "FAIL"
    assert "rack1.T_cpu" in out and "outside the tube" in out
    assert "rack2.T_cpu" not in out  # rack 1 never drives the fan: the others are intact
    _copy_case(tmp_path / "back", "datacenter", parameters={"rack1.C_cpu": 4e5})
    code, out, _ = cli(capsys, "regress", tmp_path / "back" / "cases", "--jobs", "1")
    assert code == 0, out


def test_a_1_percent_change_of_a_damping_in_the_topology_is_a_regression(capsys, tmp_path,
                                                                         fmus):
    case = _copy_case(tmp_path, "two_mass")
    source = (TOPOLOGIES / "two_mass.yaml").read_text()
    build = str((TOPOLOGIES / ".." / "fmus" / "build").resolve())
    topo = tmp_path / "two_mass.yaml"
    spec = yaml.safe_load((case / "case.yaml").read_text())
    spec["topology"] = str(topo)
    (case / "case.yaml").write_text(yaml.safe_dump(spec))
    changed = source.replace("c: 0.1,", "c: 0.101,")
    assert changed != source
    topo.write_text(changed.replace("../fmus/build", build))
    code, out, _ = cli(capsys, "regress", case, "--jobs", "1")
    assert code == 1 and "failing: mass1.x, mass1.v, mass2.x, mass2.v, spring.F" in out
    topo.write_text(source.replace("../fmus/build", build))
    code, out, _ = cli(capsys, "regress", case, "--jobs", "1")
    assert code == 0, out


def test_update_rewrites_only_the_named_reference_with_its_provenance(capsys, tmp_path, fmus):
    changed = _copy_case(tmp_path, "decay_chain", parameters={"d3.k": 3.03})
    other = _copy_case(tmp_path, "two_mass")
    before = _sha(other / "reference.h5")
    code, out, err = cli(capsys, "regress", changed.parent, "--update", "decay_chain")
    assert code == 2 and "--update needs --why" in err
    assert cli(capsys, "regress", changed.parent, "--jobs", "1")[0] == 1
    code, out, _ = cli(capsys, "regress", changed.parent, "--update", "decay*",
                       "--why", "d3 decays 1 % faster (issue 12)", "--jobs", "1")
    assert code == 0 and _status(out, "decay_chain") == "UPDATED" and "differs from the old reference" in out
    assert _sha(other / "reference.h5") == before
    info = reference_info(changed / "reference.h5")
    assert info["why"] == "d3 decays 1 % faster (issue 12)"
    assert info["algorithm"] == "gauss-seidel" and info["algorithm_settings"]["step"] == 0.05
    assert len(info["commit"]) >= 7 or info["commit"] == "unknown"
    when = datetime.fromisoformat(info["when"].replace("Z", "+00:00"))
    assert when.tzinfo is not None and (datetime.now(UTC) - when).total_seconds() < 600
    with h5py.File(changed / "reference.h5", "r") as f:
        history = json.loads(f["meta/reference_history"][()])
        assert f.attrs["reference_why"] == info["why"]
        assert list(f) == ["time", "d1.x", "d2.x", "d3.x", "row_kind", "parameters", "meta"]
        assert f["d1.x"].compression == "gzip"
    assert len(history) == 2 and history[-1]["why"] == info["why"]
    assert cli(capsys, "regress", changed.parent, "--jobs", "1")[0] == 0


def test_cases_run_in_parallel_processes(capsys, tmp_path, fmus):
    for name in ("two_mass", "decay_chain"):
        _copy_case(tmp_path, name)
    code, out, _ = cli(capsys, "regress", tmp_path / "cases", "--jobs", "2")
    assert code == 0 and "all 2 passed" in out


@pytest.mark.parametrize("break_it, message", [
    (lambda case: (case / "reference.h5").unlink(), "no reference.h5: create it with"),
    (lambda case: (case / "case.yaml").write_text("topology: x.yaml\nstep: 1\n"),
     "unknown key(s) ['step']"),
    (lambda case: (case / "tolerances.toml").write_text("[defaults]\ntol = -1\n"),
     "tol must be finite and >= 0"),
    (lambda case: (case / "reference.h5").write_text("not hdf5"), "not an HDF5 file"),
])
def test_a_broken_case_is_bad_input(capsys, tmp_path, fmus, break_it, message):
    case = _copy_case(tmp_path, "decay_chain")
    break_it(case)
    code, out, _ = cli(capsys, "regress", case.parent, "--jobs", "1")
    assert code == 2 and _status(out, "decay_chain") == "ERROR" and message in out


def test_unknown_case_or_folder(capsys, tmp_path):
    code, _, err = cli(capsys, "regress", CASES, "--update", "nope", "--why", "x")
    names = ", ".join(sorted(p.parent.name for p in CASES.glob("*/case.yaml")))
    assert code == 2 and f"no case 'nope' (cases: {names})" in err
    code, _, err = cli(capsys, "regress", tmp_path)
    assert code == 2 and "no regression case in" in err
