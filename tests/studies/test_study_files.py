"""Study files: validation with file:line, the design (grid, samples, variants)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write

import cosim.studies as cs
from cosim.errors import ConfigError
from cosim.studies.sampling import unit_points


def study(tmp_path, topology, **body):
    return write(tmp_path / "study.yaml", {"topology": topology.name, **body})


XF = {"xf": {"signal": "d.x", "stat": "final"}}


def test_every_problem_is_reported_with_file_and_line(tmp_path, decay_topology):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "topology: decay.yaml\n"                                   # 1
        "grid:\n"                                                  # 2
        "  d.kk: [1, 2]\n"                                         # 3
        "  dd.k: [1, 2]\n"                                         # 4
        "  start.d.k: [1.0]\n"                                     # 5
        "  d.x0: [one]\n"                                          # 6
        "outputs:\n"                                               # 7
        "  xf: {signal: d.y, stat: final}\n"                       # 8
        "  hot: {signal: d.x, stat: time_above}\n"                 # 9
        "colour: red\n")                                           # 10
    with pytest.raises(cs.StudyError) as err:
        cs.load_study(path)
    text = str(err.value)
    assert f"{path}:10" in text and "unknown key 'colour'" in text
    assert f"{path}:9" in text and "needs a 'threshold'" in text
    assert isinstance(err.value, ConfigError) and err.value.exit_code == 2
    path.write_text(path.read_text().replace("colour: red\n", "").replace(
        "  hot: {signal: d.x, stat: time_above}\n", ""))
    with pytest.raises(cs.StudyError) as err:
        cs.load_study(path)
    text = str(err.value)
    assert f"{path}:3" in text and "no variable 'kk' (did you mean 'k'?)" in text
    assert f"{path}:4" in text and "no node 'dd' in the topology (did you mean 'd'?)" in text
    assert f"{path}:5" in text and "is a parameter: override it without the 'start.'" in text
    assert f"{path}:6" in text and "value 'one' does not fit d.x0 (real)" in text
    assert f"{path}:8" in text and "'d.y' matches no output" in text


def test_inputs_are_set_through_start_values(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology, grid={"d.u": [1.0]}, outputs=XF)
    with pytest.raises(cs.StudyError, match=r"is an input, not a parameter: set its start "
                                            r"value with 'start.d.u'"):
        cs.load_study(path)
    path = study(tmp_path, decay_topology, grid={"start.d.u": [0.0, 1.0]}, outputs=XF)
    s = cs.load_study(path)
    assert s.overrides(s.scenarios[1]) == ({}, {"d.u": 1.0})


def test_a_key_varied_twice_is_an_error(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology, grid={"d.k": [1.0, 2.0]},
                 variants={"a": {"parameters": {"d.k": 3.0}}}, outputs=XF)
    with pytest.raises(cs.StudyError, match="'d.k' is also varied by the grid"):
        cs.load_study(path)


def test_design_grid_crossed_with_samples_and_variants(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology,
                 parameters={"d.x0": 2.0},
                 grid={"d.k": [1.0, 2.0, 3.0], "start.d.u": [0.0, 0.5]},
                 variants={"low": {}, "high": {"parameters": {"d.x0": 5.0}}}, outputs=XF)
    s = cs.load_study(path)
    design = s.design()
    assert len(s) == 12 and list(design.index) == list(range(12))
    assert list(design.columns) == ["variant", "d.k", "start.d.u", "d.x0"]
    # variant-major, then the grid with its first key varying slowest
    assert design["variant"].tolist() == ["low"] * 6 + ["high"] * 6
    assert design["d.k"].tolist()[:6] == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    assert design["start.d.u"].tolist()[:4] == [0.0, 0.5, 0.0, 0.5]
    assert design["d.x0"].tolist() == [2.0] * 6 + [5.0] * 6
    params, start = s.overrides(s.scenarios[7])
    assert params == {"d.k": 1.0, "d.x0": 5.0} and start == {"d.u": 0.5}


def test_samples_are_seeded_and_crossed_with_the_grid(tmp_path, decay_topology):
    samples = {"method": "lhs", "n": 8, "seed": 11, "parameters": {
        "d.k": {"distribution": "normal", "mean": 1.0, "std": 0.2, "low": 0.5},
        "d.x0": {"distribution": "choice", "values": [1.0, 2.0]}}}
    path = study(tmp_path, decay_topology, grid={"start.d.u": [0.0, 1.0]}, samples=samples,
                 outputs=XF)
    a, b = cs.load_study(path).design(), cs.load_study(path).design()
    assert len(a) == 16 and a.equals(b)
    assert a["d.k"].iloc[:8].tolist() == a["d.k"].iloc[8:].tolist()  # same samples per point
    assert (a["d.k"] >= 0.5).all() and set(a["d.x0"]) == {1.0, 2.0}
    samples["seed"] = 12
    path = study(tmp_path, decay_topology, samples=samples, outputs=XF)
    assert not np.allclose(cs.load_study(path).design()["d.k"], a["d.k"].iloc[:8])


@pytest.mark.parametrize("method", ["lhs", "sobol", "montecarlo"])
def test_unit_points_are_reproducible_and_in_the_open_cube(method):
    u = unit_points(method, 64, 3, seed=5)
    assert u.shape == (64, 3) and np.array_equal(u, unit_points(method, 64, 3, seed=5))
    assert (u > 0).all() and (u < 1).all()
    if method in ("lhs", "sobol"):  # one point in each of the 64 strata of every axis
        for j in range(3):
            assert sorted(np.floor(u[:, j] * 64).astype(int)) == list(range(64))


def test_unknown_distribution_and_bad_parameters(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology, outputs=XF, samples={
        "method": "sobol", "n": 4, "parameters": {
            "d.k": {"distribution": "weibull", "c": 2}}})
    with pytest.raises(cs.StudyError, match="unknown distribution 'weibull'"):
        cs.load_study(path)
    path = study(tmp_path, decay_topology, outputs=XF, samples={
        "method": "sobol", "n": 4, "parameters": {
            "d.k": {"distribution": "scipy", "name": "gamma", "params": {"a": -1}}}})
    with pytest.raises(cs.StudyError, match=r"samples.parameters.d.k: invalid distribution"):
        cs.load_study(path)
    path = study(tmp_path, decay_topology, outputs=XF, samples={
        "method": "sobol", "n": 4, "parameters": {
            "d.k": {"distribution": "scipy", "name": "gamma", "params": {"a": 2}}}})
    assert (cs.load_study(path).design()["d.k"] > 0).all()


def test_traces_select_scenarios_by_design_values(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology, grid={"d.k": [1.0, 2.0]},
                 variants={"a": {}, "b": {"parameters": {"d.x0": 2.0}}}, outputs=XF,
                 traces={"signals": "d.*", "scenarios": {"variant": "b", "d.k": 2.0}})
    s = cs.load_study(path)
    assert s.trace_ids == [3] and s.trace_signals == ["d.x"]


def test_data_files_of_blocks_are_relative_to_the_study(tmp_path, table_topology):
    path = study(tmp_path, table_topology, outputs=XF,
                 variants={"a": {}, "b": {"parameters": {"load.file": "variants/load_b.csv"}}})
    s = cs.load_study(path)
    params, _ = s.overrides(s.scenarios[1])
    assert params == {"load.file": str(tmp_path / "variants" / "load_b.csv")}
    path = study(tmp_path, table_topology, outputs=XF,
                 variants={"b": {"parameters": {"load.file": "missing.csv"}}})
    with pytest.raises(cs.StudyError, match="file not found"):
        cs.load_study(path)


def test_variant_events_pass_through(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology, outputs=XF, variants={"late": {"events": [
        {"at": 0.5, "set": "d.u", "value": 1.0}]}})
    assert cs.load_study(path).scenarios[0].events == (
        {"at": 0.5, "set": "d.u", "value": 1.0},)


def test_the_shipped_example_study_loads(fmus):
    from tests.conftest import TOPOLOGIES
    s = cs.load_study(TOPOLOGIES / "studies" / "datacenter_setpoint.yaml")
    design = s.design()
    assert len(s) == 50 and s.variants == ["nominal", "outage"]
    assert list(design.columns) == ["variant", "start.cooler.T_setpoint", "load.scale",
                                    "cooler.failed"]
    assert design.groupby("variant")["cooler.failed"].first().to_dict() == {
        "nominal": False, "outage": True}
    units = {o.name: o.unit for o in s.outputs}
    assert units == {"peak_cpu": "degC", "cooling_energy": "kWh", "time_over_85C": "h",
                     "ride_through": "h"}
    assert len(s.trace_ids) == 10


def test_output_names_may_not_shadow_result_columns(tmp_path, decay_topology):
    path = study(tmp_path, decay_topology, outputs={"status": {"signal": "d.x",
                                                               "stat": "final"}})
    with pytest.raises(cs.StudyError, match="output name 'status' is reserved"):
        cs.load_study(path)


def test_without_a_study_file_traces_stay_in_memory(tmp_path, decay_topology, fmus):
    path = study(tmp_path, decay_topology, grid={"d.k": [1.0, 2.0]}, outputs=XF,
                 traces={"signals": ["d.x"], "scenarios": [1]})
    df = cs.sweep(path, workers=0)
    traces = df.attrs["traces"]
    assert list(traces) == [1] and traces[1]["d.x"].iloc[-1] == df.at[1, "xf"]
    assert df[["xf"]].attrs["traces"] is traces  # shared by derived frames, not copied
