"""Parameter files, overrides and their order, YAML numbers, provenance in /parameters."""

from __future__ import annotations

import textwrap

import h5py
import numpy as np
import pytest

import cosim
from cosim.cli.main import main
from cosim.errors import TopologyError
from cosim.studies.regress import load_case
from cosim.topology import parameters, yamlio

TOPOLOGY = """\
name: decay
run: {stop: 2, step: 0.1}
parameters_from: [first.yaml, second.yaml]
nodes:
  d: {fmu: FMU, parameters: {x0: 2.0}}
  src: {block: constant, parameters: {value: 0.0}}
connections:
  - {from: src.y, to: d.u, check_units: false}
"""


@pytest.fixture
def folder(tmp_path, fmu):
    (tmp_path / "t.yaml").write_text(TOPOLOGY.replace("FMU", str(fmu("Decay"))))
    (tmp_path / "first.yaml").write_text("d.k: 3.03e5\nd.x0: 9.0\n")
    (tmp_path / "second.yaml").write_text("d:\n  k: 1e-3\n")
    return tmp_path


def test_yaml_numbers_in_exponent_form_are_numbers():
    text = "a: 3.03e5\nb: 1e-3\nc: -2E+4\nd: 1.5e3\ne: '1e-3'\nf: 7\ng: 0.5\n"
    data, _ = yamlio.load(text, "x.yaml")
    assert data == {"a": 303000.0, "b": 0.001, "c": -20000.0, "d": 1500.0, "e": "1e-3",
                    "f": 7, "g": 0.5}
    assert all(type(data[k]) is float for k in "abcdg")


def test_later_files_override_earlier_and_the_nodes_own_parameters_override_files(folder):
    topo = cosim.load(folder / "t.yaml")
    params = topo.node("d")["parameters"]
    assert params == {"x0": 2.0, "k": 0.001}   # x0 from the topology, k from second.yaml
    where = topo.node("d")["param_where"]
    assert where["k"] == f"{folder / 'second.yaml'}:2"
    assert where["x0"] == f"{folder / 't.yaml'}:5"


def test_the_run_uses_the_file_values(folder):
    df = cosim.run(folder / "t.yaml").df
    t = df.index.to_numpy()
    # dx/dt = -k x with k = 1e-3, x0 = 2 (the FMU's RK4 is exact to ~1e-12 here)
    np.testing.assert_allclose(df["d.x"], 2.0 * np.exp(-1e-3 * t), rtol=0, atol=1e-9)


def test_cli_params_file_then_param_override_in_that_order(folder, capsys):
    (folder / "cli.yaml").write_text("d.k: 0.5\nd.x0: 4.0\n")
    out = folder / "run.h5"
    assert main(["run", str(folder / "t.yaml"), "--params", str(folder / "cli.yaml"),
                 "--param", "d.x0=1e-3", "-o", str(out), "--no-progress"]) == 0
    data = cosim.read(out)
    assert data.parameters["d.k"] == 0.5 and data.parameters["d.x0"] == 0.001
    assert data.meta["parameter_sources"]["d.k"] == f"{folder / 'cli.yaml'}:1"
    assert data.meta["parameter_sources"]["d.x0"] == "--param d.x0=1e-3"
    t = data.time
    np.testing.assert_allclose(data.df["d.x"], 1e-3 * np.exp(-0.5 * t), rtol=1e-9)


def test_single_fmu_param_in_exponent_form(fmu, tmp_path, capsys):
    out = tmp_path / "d.h5"
    assert main(["run", str(fmu("Decay")), "--param", "k=1e-3", "--param", "x0=3.03e5",
                 "-o", str(out), "--no-progress"]) == 0
    data = cosim.read(out)
    assert data.parameters["Decay.k"] == 0.001 and data.parameters["Decay.x0"] == 303000.0


def test_values_with_units_are_converted_into_the_parameters_unit(folder):
    (folder / "second.yaml").write_text("d.k: {value: 6, unit: 1/min}\n")
    topo = cosim.load(folder / "t.yaml")
    assert topo.node("d")["parameters"]["k"] == pytest.approx(0.1, rel=1e-15)  # 1/s


def test_bad_values_are_reported_at_their_file_line_all_at_once(folder):
    bad = folder / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        d.k: 3.03e5x
        d.x0: {value: 20, unit: degC}
        nobody.k: 1
        d.nope: 2
        src.value: {value: 1, unit: W}
        """))
    topo = cosim.load(folder / "t.yaml")
    parameters.apply_later(topo, parameters.read_file(bad))
    with pytest.raises(TopologyError) as err:
        topo.check().raise_if_problems()
    problems = err.value.problems
    by_line = {p.where: str(p) for p in problems}
    assert len(problems) == 5, problems
    assert "value '3.03e5x' does not fit its type real" in by_line[f"{bad}:1"]
    assert "cannot convert 'degC' (K) to '1' (1)" in by_line[f"{bad}:2"]
    assert "no node 'nobody'" in by_line[f"{bad}:3"]
    assert "unknown parameter variable" in by_line[f"{bad}:4"]
    assert "the parameter has no unit" in by_line[f"{bad}:5"]


def test_cli_reports_bad_params_with_exit_code_2(folder, capsys):
    (folder / "bad.yaml").write_text("d.k: 3.03e5x\n")
    assert main(["run", str(folder / "t.yaml"), "--params", str(folder / "bad.yaml"),
                 "--param", "d.x0=oops", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'bad.yaml'}:1: d.k: value '3.03e5x' does not fit its type real" in err
    assert "--param d.x0=oops: d.x0: value 'oops' does not fit its type real" in err


def test_malformed_parameter_file_entries(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("just_a_name: 3\nd.k: {value: fast, unit: 1/s}\n")
    with pytest.raises(TopologyError) as err:
        parameters.read_file(p)
    first, second = err.value.problems
    assert first.where == f"{p}:1" and "is not node.parameter" in first.message
    assert second.where == f"{p}:2" and "must be a number" in second.message


def test_case_yaml_values_in_exponent_form(tmp_path):
    (tmp_path / "t.yaml").write_text("nodes: {}\n")
    (tmp_path / "case.yaml").write_text("topology: t.yaml\nparameters: {rack1.C_cpu: 3.03e5,"
                                        " d.k: 1e-3}\n")
    case = load_case(tmp_path)
    assert case.parameters == {"rack1.C_cpu": 303000.0, "d.k": 0.001}
    assert case.parameter_where["d.k"] == f"{tmp_path / 'case.yaml'}:2"


def test_every_parameter_a_run_used_is_in_the_hdf5_file_with_units(fmu, tmp_path):
    topo = cosim.Topology("rack", stop=60.0, step=60.0)
    topo.add_fmu("rack", fmu("Rack"), parameters={"C_cpu": 3.03e5})
    out = tmp_path / "r.h5"
    cosim.run(topo, output=out)
    data = cosim.read(out)
    # The Rack's model description: C_cpu, C_air, G_cpu, cp, T0 with their start values
    expected = {"rack.C_cpu": (3.03e5, "J/K"), "rack.C_air": (2e4, "J/K"),
                "rack.G_cpu": (500.0, "W/K"), "rack.cp": (1005.0, "J/(kg.K)"),
                "rack.T0": (298.15, "K")}
    assert {k: (data.parameters[k], data.parameter_units[k]) for k in expected} == expected
    assert data.meta["parameter_sources"]["rack.C_air"] == "default"
    with h5py.File(out) as f:
        assert f["parameters/rack.T0"].attrs["units"] == "K"


def test_study_files_read_exponent_numbers(folder):
    from cosim.studies.study import load_study
    (folder / "study.yaml").write_text(textwrap.dedent("""\
        topology: t.yaml
        parameters: {d.x0: 3.03e5}
        grid: {d.k: [1e-3, 2.5E-3]}
        outputs: {x_end: {signal: d.x, stat: final}}
        """))
    study = load_study(folder / "study.yaml")
    assert study.spec.parameters == {"d.x0": 303000.0}
    assert study.spec.grid == {"d.k": [0.001, 0.0025]}


def test_a_bad_case_value_names_its_case_yaml_line(folder):
    from cosim.studies.regress import run_case
    (folder / "case.yaml").write_text("topology: t.yaml\nparameters:\n  d.k: 1e-3\n"
                                      "  d.x0: 3.03e5x\n")
    with pytest.raises(TopologyError) as err:
        run_case(load_case(folder), folder / "run.h5")
    [problem] = err.value.problems
    assert problem.where == f"{folder / 'case.yaml'}:4" and "'3.03e5x'" in problem.message
