"""Bad input gets one clear error each: what is wrong, where (file:line), what to do.

Through the CLI: exit status 2 and a single message on stderr, no traceback.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from calibration_support import write, write_csv

from cosim.cli.main import main


def run_cli(path, capsys) -> tuple[int, str]:
    code = main(["calibrate", str(path), "-o", str(path.with_suffix(".h5")), "--workers",
                 "0", "--no-progress"])
    err = capsys.readouterr().err
    return code, err


@pytest.fixture
def case(decay_case):
    folder, spec = decay_case
    return folder, spec


def check(folder, spec, capsys, *expected: str, name: str = "bad.yaml") -> str:
    path = write(folder / name, spec)
    code, err = run_cli(path, capsys)
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines[0].startswith("cosim calibrate: error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


def test_telemetry_column_missing(case, capsys, fmus):
    folder, spec = case
    spec["telemetry"]["signals"] = {"d.x": {"column": "xx"}}
    check(folder, spec, capsys, "no column 'xx'", "did you mean 'x'?", "bad.yaml:")


def test_telemetry_unit_incompatible(case, capsys, fmus):
    folder, spec = case
    spec["telemetry"]["signals"] = {"d.x": {"column": "x", "unit": "K"}}
    check(folder, spec, capsys, "d.x: unit mismatch", "'K'")


def test_parameter_unit_incompatible(case, capsys, fmus):
    folder, spec = case
    spec["parameters"]["k"]["unit"] = "m"
    check(folder, spec, capsys, "parameters.k: unit 'm' is incompatible", "bad.yaml:")


def test_parameter_not_settable(case, capsys, fmus):
    folder, spec = case
    spec["parameters"]["x0"]["targets"] = "d.x"
    check(folder, spec, capsys, "d.x is not settable: it is a", "output", "bad.yaml:")


def test_parameter_outside_the_fmus_min_max(case, capsys, fmu, fmus):
    folder, spec = case
    bounded = folder / "Bounded.fmu"  # the Decay FMU declaring 0.05 <= k <= 5
    with zipfile.ZipFile(fmu("Decay")) as src, zipfile.ZipFile(bounded, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "modelDescription.xml":
                text = data.decode()
                head, _, tail = text.partition('name="k"')
                real = tail.index("<Real")
                tail = tail[:real] + '<Real min="0.05" max="5" ' + tail[real + 6:]
                data = (head + 'name="k"' + tail).encode()
            dst.writestr(item, data)
    write(folder / "decay.yaml", {
        "name": "decay", "run": {"stop": 5.0, "step": 0.01},
        "nodes": {"d": {"fmu": str(bounded), "parameters": {"k": 1.0, "x0": 1.0}}}})
    err = check(folder, spec, capsys, "parameters.k: bounds [0.01, 10] leave the FMU's range",
                "[min 0.05, max 5]")
    assert err.count("error") == 1
    spec["parameters"]["k"]["bounds"] = None  # default: the FMU's range, accepted
    from cosim.calibration import load_calibration
    problem = load_calibration(spec, base_dir=folder)
    assert (problem.parameters.items[0].low, problem.parameters.items[0].high) == (0.05, 5.0)


def test_bounds_reversed(case, capsys, fmus):
    folder, spec = case
    spec["parameters"]["x0"]["bounds"] = [10, 0.1]
    err = check(folder, spec, capsys, "parameters.x0: bounds are reversed")
    line = next(i for i, ln in enumerate((folder / "bad.yaml").read_text().splitlines(), 1)
                if ln.strip().startswith("x0:"))
    assert any(f"bad.yaml:{n}:" in err for n in range(line, line + 6)), err


def test_all_nan_signal(case, capsys, fmus):
    folder, spec = case
    t = np.arange(0, 5.0 + 1e-9, 0.01)
    write_csv(folder / "telemetry.csv", t, {"x": np.full(t.size, np.nan)})
    check(folder, spec, capsys, "signal d.x (column 'x'", "is all NaN", "nothing to fit")


def test_telemetry_not_overlapping_the_run(case, capsys, fmus):
    folder, spec = case
    t = np.arange(100.0, 105.0, 0.01)
    write_csv(folder / "telemetry.csv", t, {"x": np.exp(-t)})
    check(folder, spec, capsys, "no overlap in time between the run (0..5 s)",
          "check time.origin")


def test_unknown_keys_and_profile_names_are_reported_together(case, capsys, fmus):
    folder, spec = case
    spec["parameters"]["k"]["scael"] = "log"
    check(folder, spec, capsys, "unknown key 'scael'", "bad.yaml:")
    del spec["parameters"]["k"]["scael"]
    spec["identifiability"] = {"profile": ["kk"]}
    spec["parameters"]["x0"]["targets"] = "d.nope"
    check(folder, spec, capsys, "calibration has 2 problems", "no estimated parameter 'kk'",
          "node 'd' has no variable 'nope'")


def test_a_model_failing_at_the_initial_values_is_exit_3(case, capsys, fmu, fmus):
    folder, spec = case
    write(folder / "decay.yaml", {
        "name": "decay", "run": {"stop": 5.0, "step": 0.01},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}},
                  "f": {"fmu": str(fmu("Faulty")), "parameters": {"fail_at": 2.0}}},
        "connections": [{"from": "d.x", "to": "f.u", "check_units": False}]})
    spec["parameters"]["fail_at"] = {"targets": "f.fail_at", "bounds": [1, 100]}
    path = write(folder / "failing.yaml", spec)
    code, err = run_cli(path, capsys)
    assert code == 3, err
    assert "the model fails at the initial parameters (k = 1, x0 = 1, fail_at = 2)" in err
    assert "FMICallError: f at t=" in err and "Traceback" not in err
