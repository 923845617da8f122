"""The surrogate as a topology node: flags, warn / raise / fallback, the compiled loop,
the topology syntax, studies, and the closed loop of the flagship (with Rack)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import Delaunay
from surrogate_helpers import write

import cosim
from cosim.errors import SubsystemError
from cosim.surrogates.artifact import load
from cosim.surrogates.block import SurrogateExtrapolation
from cosim.surrogates.dataset import from_study

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fast"))
from fast_helpers import run_both  # noqa: E402

H = 60.0


def driven(world, artifact: str, *, p_height: float, mode: str = "warn", stop=4 * 3600.0,
           pid: bool = False, flow=(0.6, 0.9)) -> cosim.Topology:
    """Sources into a surrogate: P_it ramps from 6 kW by ``p_height`` over 2 h from t = 1 h
    and back down from 2.5 h; T_supply constant; m_flow a step (or a PID on T_cpu)."""
    t = cosim.Topology("driven", stop=stop, step=H, base_dir=world["dir"])
    t.add_block("up", "ramp", parameters={"start_time": 3600.0, "duration": 3600.0,
                                          "height": p_height, "offset": 6000.0})
    t.add_block("down", "ramp", parameters={"start_time": 9000.0, "duration": 1800.0,
                                            "height": -p_height, "offset": 0.0})
    t.add_block("ts", "constant", parameters={"value": 291.15})
    params = {"on_extrapolation": mode}
    if mode == "fallback":
        params["fallback"] = str(world["fmu"])
    t.add_surrogate("rack", artifact, parameters=params)
    t.connect("ts.y", "rack.T_supply")
    if pid:
        t.add_block("ctrl", "pid", parameters={"kp": 0.08, "ki": 0.0004, "u_min": 0.3,
                                               "u_max": 1.0, "direction": "reverse"},
                    start={"setpoint": 318.15})
        t.connect("rack.T_cpu", "ctrl.measurement")
        t.connect("ctrl.u", "rack.m_flow")
    else:
        t.add_block("m", "step", parameters={"time": 5400.0, "before": flow[0],
                                             "after": flow[1]})
        t.connect("m.y", "rack.m_flow")
    return t


def with_power(t: cosim.Topology) -> cosim.Topology:
    """P_it = up + down (summed by a small Python block)."""
    t.add_block("p", "tests_sum_block:Sum")
    t.connect("up.y", "p.a")
    t.connect("down.y", "p.b")
    t.connect("p.y", "rack.P_it")
    return t


@pytest.fixture(scope="module")
def world(rack_world, fmus):
    folder = rack_world["dir"]
    (folder / "tests_sum_block.py").write_text(
        "from cosim import Block, Port\n\n\n"
        "class Sum(Block):\n"
        "    inputs = {'a': Port(unit='W'), 'b': Port(unit='W')}\n"
        "    outputs = {'y': Port(unit='W')}\n\n"
        "    def step(self, t, dt, inputs):\n"
        "        return {'y': inputs['a'] + inputs['b']}\n")
    return {**rack_world, "fmu": fmus[("Rack", 2)]}


def run_python(t: cosim.Topology):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cosim.run(t, fast=False)
    return result, [w for w in caught if issubclass(w.category, SurrogateExtrapolation)]


def test_every_step_outside_the_box_is_flagged_and_warned_once_per_excursion(world):
    art = load(world["linear"])
    t = with_power(driven(world, "linear.surrogate", p_height=9000.0))  # 6 -> 15 kW
    result, caught = run_python(t)
    df = result.df
    held = np.column_stack([df["p.y"], df["ts.y"], df["m.y"]])[1:]  # Gauss-Seidel: new values
    outside = ~((held >= art.envelope.low) & (held <= art.envelope.high)).all(axis=1)
    assert outside.sum() > 10
    assert np.array_equal(df["rack.out_of_envelope"].to_numpy()[1:], outside.astype(float))
    episodes = int(np.sum(np.diff(np.concatenate([[0], outside.astype(int)])) == 1))
    assert len(caught) == episodes == 1
    assert "P_it=" in str(caught[0].message) and "trained on [" in str(caught[0].message)


def test_every_step_outside_the_hull_is_flagged(world):
    art = load(world["poly"])
    assert art.envelope.kind == "hull"
    # 6 -> 12 kW at 0.3 kg/s: inside the box, but a combination the excitation's
    # constraint kept out of training (steady T_cpu above 345 K)
    t = with_power(driven(world, "poly.surrogate", p_height=6000.0, flow=(0.3, 0.35)))
    result, _ = run_python(t)
    df = result.df
    held = np.column_stack([df["p.y"], df["ts.y"], df["m.y"]])[1:]
    data = from_study(world["study"], "rack")
    fitted_on = set(art.info["training_data"]["fit_scenarios"])
    train = np.concatenate([u for u, s in zip(data.u, data.scenarios, strict=True)
                            if s in fitted_on])
    tri = Delaunay(art.envelope.normalise(train))  # independent: a triangulation
    inside = tri.find_simplex(art.envelope.normalise(held)) >= 0
    flags = df["rack.out_of_envelope"].to_numpy()[1:] > 0
    assert flags.any() and (~flags).any()
    assert np.sum(flags == inside) <= 1  # disagreement only within rounding of a facet


def test_raise_stops_at_the_first_step_outside(world):
    t = with_power(driven(world, "linear.surrogate", p_height=9000.0, mode="raise"))
    with pytest.raises(SubsystemError, match=r"rack at t=\d+ s: inputs outside the "
                       r"surrogate's training envelope: P_it=.*on_extrapolation: raise") as err:
        cosim.run(t, fast=False)
    art = load(world["linear"])
    # P_it = 6000 + 9000 (t - 3600) / 3600 leaves [low, high] between t and t + 60 s
    first = 3600.0 + (art.envelope.high[0] - 6000.0) / 9000.0 * 3600.0
    assert err.value.time == np.ceil((first - H) / H) * H  # the step whose end is past it


def test_fallback_answers_with_the_original_model_in_step(world, fmus):
    t = with_power(driven(world, "poly.surrogate", p_height=9000.0, mode="fallback"))
    result, caught = run_python(t)
    sur = result.df
    # the original model under the same (open-loop) inputs
    ref_topo = with_power(driven(world, "poly.surrogate", p_height=9000.0))
    ref_topo.graph.remove_node("rack")
    ref_topo.add_fmu("rack", str(fmus[("Rack", 2)]))
    for src, dst in (("ts.y", "rack.T_supply"), ("m.y", "rack.m_flow"), ("p.y", "rack.P_it")):
        ref_topo.connect(src, dst)
    ref = cosim.run(ref_topo).df
    flags = sur["rack.out_of_envelope"].to_numpy() > 0
    assert flags.sum() > 10 and len(caught) == 1
    for name in ("T_cpu", "T_out"):
        got, want = sur[f"rack.{name}"].to_numpy(), ref[f"rack.{name}"].to_numpy()
        assert np.array_equal(got[flags], want[flags])  # bit for bit: the FMU itself
        assert np.abs(got - want).max() < 0.2  # and the surrogate close elsewhere


def test_compiled_loop_is_bit_identical_to_python(world, tmp_path):
    from cosim.surrogates.api import artifact_of
    from cosim.surrogates.training import Candidate, FitOptions, fit
    data = from_study(world["study"], "rack")
    lss = artifact_of(data, fit(data, FitOptions(candidates=[Candidate.make(
        "lss", 1, max_nfev=5)], folds=2)))
    lss.save(world["dir"] / "lss.surrogate")
    warm = artifact_of(data, fit(data, FitOptions(candidates=[Candidate.make(
        "polynomial", 3, 2, degree=2, warmup=20)], folds=2)))
    warm.save(world["dir"] / "warm.surrogate")
    for name in ("poly", "linear", "lss", "warm"):
        t = driven(world, f"{name}.surrogate", p_height=0.0, pid=True)
        t.connect("up.y", "rack.P_it")
        (tmp_path / name).mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurrogateExtrapolation)
            python, _ = run_both(t, tmp_path / name)  # also the HDF5 files, bit for bit
        assert python.df["ctrl.u"].std() > 0.01  # the loop did something
    # excursions in the compiled loop: flagged identically, warned once with the count
    t = driven(world, "poly.surrogate", p_height=0.0, pid=True)
    t.connect("up.y", "rack.P_it")
    t.graph.nodes["up"]["parameters"]["height"] = 9000.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        python, fast = run_both(t)
    flagged = int(fast.df["rack.out_of_envelope"].sum())
    msgs = [str(w.message) for w in caught if issubclass(w.category, SurrogateExtrapolation)]
    assert flagged > 0
    assert f"at {flagged} steps of the compiled run" in msgs[-1]


def test_surrogate_nodes_in_files_check_save_and_reload(world):
    folder = world["dir"]
    path = write(folder / "node.yaml", {
        "name": "node", "run": {"stop": 600.0, "step": 60.0},
        "nodes": {"r": {"surrogate": "poly.surrogate",
                        "parameters": {"on_extrapolation": "raise", "intervals": False}},
                  "g": {"fmu": str(world["fmu"].parent / "Gain.fmu")}},
        "connections": ["r.T_cpu -> g.u"]})
    topo = cosim.load(path)
    report = topo.check()
    assert report.ok, report.problems
    outs = [v.name for v in report.nodes["r"].interface.outputs]
    assert outs == ["T_cpu", "T_out", "out_of_envelope"]
    (folder / "sub").mkdir(exist_ok=True)
    again = cosim.load(topo.save(folder / "sub" / "saved.yaml"))
    assert again.check().ok
    assert again.graph.nodes["r"]["parameters"]["artifact"] == "../poly.surrogate"
    bad = write(folder / "bad.yaml", {"nodes": {"r": {"surrogate": "x.surrogate",
                                                      "fmu": "y.fmu"}}})
    with pytest.raises(cosim.errors.TopologyError, match="exactly one of 'fmu'"):
        cosim.load(bad)


def test_a_study_ships_the_artifact_to_its_workers(world):
    import cosim.studies as cs
    folder = world["dir"]
    write(folder / "loop.yaml", {
        "name": "loop", "run": {"stop": 3600.0, "step": 60.0},
        "nodes": {"rack": {"surrogate": "poly.surrogate"},
                  "m": {"block": "constant", "parameters": {"value": 0.7}}},
        "connections": ["m.y -> rack.m_flow"]})
    study = write(folder / "study.yaml", {
        "topology": "loop.yaml", "grid": {"start.rack.P_it": [5000.0, 9000.0]},
        "outputs": {"peak": {"signal": "rack.T_cpu", "stat": "max"}}})
    pool = cs.sweep(study, workers=1)
    serial = cs.sweep(study, workers=0)
    assert list(pool["status"]) == ["completed", "completed"]
    assert pool["peak"].tolist() == serial["peak"].tolist()
    assert pool["peak"].iloc[1] > pool["peak"].iloc[0] + 3.0  # more power, hotter


def test_flagship_closed_loop_with_rack_surrogates(world):
    from cosim.surrogates import validate
    validate.MIN_SECONDS = 0.05
    result = validate.closed_loop(world["poly"], cosim.load(
        Path(__file__).resolve().parents[2] / "topologies" / "datacenter.yaml"),
        ["rack1", "rack2", "rack3", "rack4"], repeats=1)
    sig = result["signals"]
    for name in ("rack1.T_cpu", "rack4.T_cpu", "rack2.T_out", "fan_ctrl.u"):
        assert sig[name]["nrmse_range"] < 0.02, (name, sig[name])
    assert result["speed"]["surrogate_node_us"] > 0
