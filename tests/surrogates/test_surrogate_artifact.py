"""The artifact: round trip bit for bit, every kind; refusal of tampered, foreign and
mismatched files, with messages saying what is wrong."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from surrogate_helpers import write

import cosim
from cosim.errors import ConfigError, TopologyError
from cosim.surrogates.artifact import ArtifactError, load, manifest_digest
from cosim.surrogates.dataset import from_study
from cosim.surrogates.training import Candidate, FitOptions, build, fit


def predictions(art, data, ids) -> np.ndarray:
    """Free-run outputs of the artifact's model, one step at a time (as the block does)."""
    out = []
    for i in ids:
        state = art.model.initial_state(data.y[i][0])
        out.append([art.model.step(state, u) for u in data.u[i]])
    return np.array(out)


def bits(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes()


def test_dataset_holds_the_excitation_the_node_saw(rack_world):
    from cosim.surrogates.excitation import design
    from cosim.surrogates.excite import Plan, load_spec
    data = from_study(rack_world["study"], "rack")
    spec, base = load_spec(rack_world["spec"])
    plan = Plan(spec, base)
    assert len(data) == spec.runs
    assert data.input_names == ["P_it", "T_supply", "m_flow"]
    assert data.output_names == ["T_cpu", "T_out"]
    assert data.step == 60.0 and data.inputs[1].unit == "K"
    assert plan.bounds["T_supply"] == pytest.approx((288.15, 294.15))
    envelope = plan.excitation_topology().graph.nodes["excitation"]["parameters"]
    for i, seed in zip(range(3), data.scenarios, strict=False):
        kind = spec.kinds[(spec.seed + seed) % len(spec.kinds)]
        from cosim.surrogates.excitation import InputRange
        rng = [InputRange(n, lo, hi) for n, lo, hi in
               zip(envelope["names"], envelope["low"], envelope["high"], strict=True)]
        expected = design(rng, kind, spec.seed + seed, plan.n_steps, 60.0, *spec.hold,
                          spec.constraints, envelope["nominal"])
        assert np.array_equal(data.u[i], expected)  # held input = excitation at t_k
    assert np.all(data.y[0][0] == 298.15)  # the Rack's T0
    assert len(data.provenance["data_sha256"]) == 64


@pytest.mark.parametrize("kind", ["poly", "linear"])
def test_round_trip_is_bit_identical(rack_world, kind):
    art = load(rack_world[kind])
    again = load(rack_world[kind])
    data = from_study(rack_world["study"], "rack")
    a, b = predictions(art, data, [0, 5]), predictions(again, data, [0, 5])
    assert bits(a) == bits(b)
    assert again.info["digest"] == json.loads(
        zipfile.ZipFile(rack_world[kind]).read("manifest.json"))["digest"]


@pytest.mark.parametrize("kind", ["lss", "boosting", "mlp", "gp"])
def test_round_trip_of_every_other_kind(rack_world, tmp_path, kind):
    from cosim.surrogates.api import artifact_of
    data = from_study(rack_world["study"], "rack")
    small = {"boosting": {"max_iter": 20}, "mlp": {"hidden": [8]}, "gp": {"n_train": 150},
             "lss": {"max_nfev": 3}}[kind]
    fitted = fit(data, FitOptions(candidates=[Candidate.make(kind, 1, 1, **small)],
                                  folds=2))
    art = artifact_of(data, fitted)
    path = art.save(tmp_path / f"{kind}.surrogate")
    names = set(zipfile.ZipFile(path).namelist())
    assert ("model.skops" in names) == (kind in ("boosting", "mlp", "gp"))
    again = load(path)
    assert bits(predictions(art, data, [1])) == bits(predictions(again, data, [1]))
    assert again.kind == kind


def rewrite(path: Path, target: Path, change) -> Path:
    """Copy the artifact with ``change(name, data) -> data`` applied to every member."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))
    return target


def test_changed_arrays_are_refused(rack_world, tmp_path):
    def change(name, data):
        if name != "arrays.npz":
            return data
        with np.load(io.BytesIO(data)) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays["reg_coef"] = arrays["reg_coef"] * (1 + 1e-12)  # a tiny edit
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()
    bad = rewrite(rack_world["poly"], tmp_path / "bad.surrogate", change)
    with pytest.raises(ArtifactError, match=r"arrays\.npz was changed after the artifact"):
        load(bad)


def test_changed_manifest_is_refused(rack_world, tmp_path):
    def change(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        m["intervals"]["half_width"]["T_cpu"] *= 0.5  # narrower intervals, same digest
        return json.dumps(m).encode()
    bad = rewrite(rack_world["poly"], tmp_path / "bad.surrogate", change)
    with pytest.raises(ArtifactError, match=r"manifest\.json was changed"):
        load(bad)


def test_pickle_in_the_model_member_is_refused_without_running_it(rack_world, tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    def change(name, data):
        return data
    bad = rewrite(rack_world["poly"], tmp_path / "bad.surrogate", change)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("model.pkl", pickle.dumps(Boom()))
    with pytest.raises(ArtifactError, match=r"unexpected member\(s\) model\.pkl"):
        load(bad)
    # a consistent file (hashes recomputed) whose skops member holds a foreign type
    manifest = json.loads(zipfile.ZipFile(rack_world["poly"]).read("manifest.json"))
    import hashlib

    import skops.io as sio
    blob = sio.dumps({"x": Path("/tmp")})
    manifest["model"]["regressor"] = {"kind": "mlp", "options": {}}
    manifest["members"]["model.skops"] = hashlib.sha256(blob).hexdigest()
    manifest["digest"] = manifest_digest(manifest)
    forged = tmp_path / "forged.surrogate"
    with zipfile.ZipFile(rack_world["poly"]) as src, zipfile.ZipFile(forged, "w") as dst:
        dst.writestr("manifest.json", json.dumps(manifest))
        dst.writestr("arrays.npz", src.read("arrays.npz"))
        dst.writestr("model.skops", blob)
    with pytest.raises(ArtifactError, match="types cosim does not load"):
        load(forged)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("content,match", [
    (b"not a zip", "not a readable zip"),
    (None, "lacks arrays.npz"),
])
def test_foreign_files_are_refused(tmp_path, content, match):
    path = tmp_path / "x.surrogate"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("manifest.json", "{}")
    else:
        path.write_bytes(content)
    with pytest.raises(ArtifactError, match=match):
        load(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """A member that unpacks to more than 200x its compressed size (the FMU archives' limit)
    is refused from the zip directory, without reading it into memory."""
    path = tmp_path / "bomb.surrogate"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"{" + b" " * 50_000_000 + b"}")
        zf.writestr("arrays.npz", b"")
    with pytest.raises(ArtifactError, match="'manifest.json' unpacks to 50000002 bytes "
                       r"from \d+ \(ratio \d+, above 200\): refused as a likely zip bomb"):
        load(path)


def test_other_format_version_is_refused(rack_world, tmp_path):
    def change(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        m["version"] = 99
        m["digest"] = manifest_digest(m)
        return json.dumps(m).encode()
    bad = rewrite(rack_world["poly"], tmp_path / "v99.surrogate", change)
    with pytest.raises(ArtifactError, match="version 99 is not supported"):
        load(bad)


def test_mismatched_interface_parameters_and_model_are_refused(rack_world, fmus):
    folder = rack_world["dir"]
    write(folder / "two_racks.yaml", {
        "name": "two", "run": {"stop": 600.0, "step": 60.0},
        "nodes": {"a": {"fmu": str(fmus[("Rack", 2)])},
                  "b": {"fmu": str(fmus[("Rack", 2)]), "parameters": {"C_cpu": 5.0e5}},
                  "c": {"fmu": str(fmus[("Cooler", 2)])},
                  "g": {"fmu": str(fmus[("Gain", 2)])}},
        "connections": ["c.T_supply -> a.T_supply", "a.throttle -> g.u"]})
    variant = write(folder / "variant.yaml", {
        "extends": "two_racks.yaml", "replace": {"a": "poly.surrogate",
                                                 "b": "poly.surrogate"}})
    with pytest.raises(TopologyError) as err:
        cosim.load(variant).check().raise_if_problems()
    text = str(err.value)
    assert "a.throttle" in text and "unknown" in text  # the surrogate has no such output
    assert "trained with other parameters of Rack: C_cpu = 500000.0" in text
    # the cooler is another model: its interface is not the surrogate's
    cooler = write(folder / "v2.yaml", {"extends": "two_racks.yaml",
                                        "replace": {"c": "poly.surrogate"}})
    with pytest.raises(TopologyError, match="is not the model the surrogate was trained on"):
        cosim.load(cooler).check().raise_if_problems()
    # a block or an unknown node cannot be replaced
    with pytest.raises(TopologyError, match="only FMU nodes can be replaced"):
        cosim.load(write(folder / "v3.yaml", {"extends": "two_racks.yaml",
                                               "replace": {"zz": "poly.surrogate"}})
                   ).check().raise_if_problems()


def test_step_other_than_the_trained_one_is_refused_by_check(rack_world):
    """cosim check refuses every run that would give the surrogate (trained at 60 s)
    another step: its own step, a span that ends with a shorter step, adaptive steps,
    a scheduled event or a monitor off its grid."""
    def problems(**changes):
        t = cosim.Topology("steps", stop=changes.pop("stop", 600.0),
                           step=changes.pop("step", 60.0), base_dir=rack_world["dir"])
        t.add_surrogate("r", "poly.surrogate")
        for kind, args in changes.items():
            getattr(t, kind)(*args[0], **args[1])
        return [p.message for p in t.check().problems]
    assert problems() == []
    assert problems(add_event=((120.0, "r.P_it", 9000.0), {})) == []  # on its grid
    head = "it can only step 60 s (the step it was trained at), but "
    assert problems(step=30.0) == [head + "its step is 30 s; run it at 60 s"]
    assert problems(stop=630.0) == [head + "the run from 0 to 630 s ends with a shorter "
                                    "step (not a multiple of 60 s); run it at 60 s"]
    assert problems(add_event=((90.0, "r.P_it", 9000.0), {})) == [
        head + "a scheduled event at 90 s cuts a step short; run it at 60 s"]
    assert problems(add_monitor=(("r.T_cpu > 400",), {})) == [
        head + "a monitor locates its crossings with shorter steps; run it at 60 s"]
    assert head + "cluster me integrates it with variable steps; run it at 60 s" in \
        problems(add_cluster=(("me", ["r"]), {}))
    t = cosim.Topology("adaptive", stop=600.0, step=60.0, base_dir=rack_world["dir"])
    t.run = t.run.model_copy(update={"adaptive": {"tolerance": 1e-3}})
    t.add_surrogate("r", "poly.surrogate")
    assert any("run.adaptive changes the steps" in p.message for p in t.check().problems)


@pytest.mark.parametrize("fast", [False, True])
def test_a_step_cut_at_run_time_is_an_error(rack_world, fmu, fast):
    """An FMU's own time event (FMI 3 Counter: first at 0.1 s) cuts the macro step, which
    no check can foresee: the surrogate refuses the short step, on both loops (the
    compiled one hands the step back to Python, which raises)."""
    t = cosim.Topology("cut", stop=600.0, step=60.0, base_dir=rack_world["dir"])
    t.add_surrogate("r", "poly.surrogate")
    t.add_fmu("c", fmu("Counter", 3))
    assert t.check().problems == []
    with pytest.raises(cosim.errors.SubsystemError, match="trained at a step of 60 s and "
                       "cannot step 0.1 s"):
        cosim.run(t, fast=fast)


def test_build_refuses_unknown_kind():
    with pytest.raises(ConfigError, match="unknown surrogate kind 'spline'"):
        Candidate.make("spline")
    assert build  # imported for the other tests
