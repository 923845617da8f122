"""The build script: API, cache, atomicity and clear errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fmpy.validation import validate_fmu
from fmutest_helpers import ALL_BUILDS, ALL_MODELS

from fmus.build import DEFAULT_OUT_DIR, MODELS_DIR, FMUBuildError, build, fmu_path, list_models

ROOT = Path(__file__).resolve().parents[2]


def test_build_returns_every_model_and_version(fmus):
    assert set(list_models()) == set(ALL_MODELS)
    assert set(fmus) == set(ALL_BUILDS)
    for (model, version), path in fmus.items():
        assert path == DEFAULT_OUT_DIR / f"fmi{version}" / f"{model}.fmu"
        with zipfile.ZipFile(path) as zf:
            platform = "linux64" if version == 2 else "x86_64-linux"
            assert set(zf.namelist()) == {"modelDescription.xml",
                                          f"binaries/{platform}/{model}.so"}


def test_fmu_path_uses_the_cache(fmus):
    path = fmu_path("Oscillator", 3)
    assert path == fmus[("Oscillator", 3)]
    before = {p: p.stat().st_mtime_ns for p in fmus.values()}
    assert build() == fmus
    assert {p: p.stat().st_mtime_ns for p in fmus.values()} == before
    with pytest.raises(ValueError):
        fmu_path("Oscillator", 1)


@pytest.fixture
def source_root(tmp_path):
    """A private copy of two models, built into a private output folder."""
    root = tmp_path / "src"
    for model in ("Gain", "Decay"):
        shutil.copytree(MODELS_DIR / model, root / model)
    return root


def test_cache_rebuilds_corrupt_or_stale_entries(source_root, tmp_path):
    out = tmp_path / "out"
    paths = build(["Gain"], source_root=source_root, out_dir=out)
    fmu = paths[("Gain", 2)]
    stamp = fmu.with_name("Gain.fmu.json")
    assert json.loads(stamp.read_text())["fmu_sha256"]
    mtime = fmu.stat().st_mtime_ns

    build(["Gain"], source_root=source_root, out_dir=out)  # cached
    assert fmu.stat().st_mtime_ns == mtime

    fmu.write_bytes(b"not a zip file")  # corrupt FMU
    build(["Gain"], source_root=source_root, out_dir=out)
    assert validate_fmu(str(fmu)) == []

    data = bytearray(fmu.read_bytes())  # a flipped byte: zip may still open
    data[len(data) // 2] ^= 0xFF
    fmu.write_bytes(bytes(data))
    build(["Gain"], source_root=source_root, out_dir=out)
    assert validate_fmu(str(fmu)) == []

    info = json.loads(stamp.read_text())  # stamp from other sources: hash mismatch
    info["source_hash"] = "0" * 64
    stamp.write_text(json.dumps(info))
    mtime = fmu.stat().st_mtime_ns
    build(["Gain"], source_root=source_root, out_dir=out)
    assert json.loads(stamp.read_text())["source_hash"] != "0" * 64

    stamp.unlink()  # missing stamp
    build(["Gain"], source_root=source_root, out_dir=out)
    assert stamp.exists()
    # nothing half-built left lying around
    assert sorted(p.name for p in out.iterdir()) == [".lock", "fmi2", "fmi3"]
    assert sorted(p.name for p in (out / "fmi2").iterdir()) == ["Gain.fmu", "Gain.fmu.json"]


def test_source_change_rebuilds_with_new_token(source_root, tmp_path):
    out = tmp_path / "out"
    first = build(["Gain"], source_root=source_root, out_dir=out)[("Gain", 3)]
    token = zipfile.ZipFile(first).read("modelDescription.xml")
    model_c = source_root / "Gain" / "model.c"
    model_c.write_text(model_c.read_text().replace("V(k) * V(u) + V(b)", "V(k) * V(u) - V(b)"))
    second = build(["Gain"], source_root=source_root, out_dir=out)[("Gain", 3)]
    assert zipfile.ZipFile(second).read("modelDescription.xml") != token


def test_token_names_the_model_not_the_build(source_root, tmp_path, monkeypatch):
    """The guid/instantiationToken follows the model's sources only: another compiler
    (flags, version) rebuilds the FMU but keeps its identity, which trained surrogates
    record; a changed model gets a new one (test above)."""
    import fmus.build as fb
    first = build(["Gain"], source_root=source_root, out_dir=tmp_path / "a")[("Gain", 2)]
    monkeypatch.setattr(fb, "CFLAGS", [*fb.CFLAGS, "-O1"])
    second = build(["Gain"], source_root=source_root, out_dir=tmp_path / "b")[("Gain", 2)]
    assert fb.source_hash("Gain", source_root, fb.fmi_headers_dir()) != json.loads(
        (tmp_path / "a" / "fmi2" / "Gain.fmu.json").read_text())["source_hash"]
    assert zipfile.ZipFile(first).read("modelDescription.xml") == \
        zipfile.ZipFile(second).read("modelDescription.xml")


def test_syntax_error_names_model_and_file(source_root, tmp_path):
    broken = source_root / "Broken"
    shutil.copytree(source_root / "Gain", broken)
    (broken / "model.c").write_text('#include "model.h"\nstatic void outputs(Model *m) {\n'
                                    "    V(y) = V(k) * V(u) +;\n}\n"
                                    "const ModelFunctions MODEL = {.outputs = outputs};\n")
    out = tmp_path / "out"
    with pytest.raises(FMUBuildError) as err:
        build(["Broken", "Gain"], source_root=source_root, out_dir=out)
    message = str(err.value)
    assert "model 'Broken'" in message
    assert f"{broken / 'model.c'}:3:" in message
    assert "Gain" not in message.split("\n")[0]
    # the good model was still built; no Broken FMU (or temp file) landed
    assert (out / "fmi2" / "Gain.fmu").exists()
    assert not list(out.glob("fmi*/Broken*"))
    assert not [p for p in out.iterdir() if p.name.startswith(".Broken")]


def test_bad_model_json_is_reported(source_root, tmp_path):
    spec = source_root / "Gain" / "model.json"
    data = json.loads(spec.read_text())
    data["variables"][0]["unit"] = "furlong"
    spec.write_text(json.dumps(data))
    with pytest.raises(FMUBuildError, match=r"model 'Gain'.*model\.json.*furlong"):
        build(["Gain"], source_root=source_root, out_dir=tmp_path / "out")
    spec.write_text("{ not json")
    with pytest.raises(FMUBuildError, match=r"model 'Gain'.*model\.json"):
        build(["Gain"], source_root=source_root, out_dir=tmp_path / "out")


def test_wrong_dependency_is_reported(source_root, tmp_path):
    spec = source_root / "Gain" / "model.json"
    data = json.loads(spec.read_text())
    data["variables"][-1]["depends"] = ["k"]  # a parameter is not a direct-feedthrough input
    spec.write_text(json.dumps(data))
    with pytest.raises(FMUBuildError, match=r"depends of 'y'.*'k'"):
        build(["Gain"], source_root=source_root, out_dir=tmp_path / "out")


def test_missing_header_names_header_and_fix(source_root, tmp_path):
    headers = tmp_path / "headers"
    headers.mkdir()
    with pytest.raises(FMUBuildError) as err:
        build(["Decay"], source_root=source_root, out_dir=tmp_path / "out", fmi_headers=headers)
    message = str(err.value)
    assert "model 'Decay'" in message and "fmi2Functions.h" in message
    assert "pip install" in message and "fmpy" in message


def test_missing_compiler_says_what_to_install(source_root, tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-gcc"))
    with pytest.raises(FMUBuildError) as err:
        build(["Decay"], source_root=source_root, out_dir=tmp_path / "out")
    message = str(err.value)
    assert "model 'Decay'" in message and "apt-get install gcc" in message


def test_unknown_model():
    with pytest.raises(FMUBuildError, match="unknown model.*Nope"):
        build(["Nope"])


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MODELS_DIR / "build.py"), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_cli_builds_and_reports_errors_without_traceback(fmus, source_root, tmp_path):
    ok = cli("Gain", "Ball", "--list")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == [str(fmus[(m, v)]) for m in ("Ball", "Gain") for v in (2, 3)]
    cached = cli("Gain", "Ball")  # up to date: nothing to say
    assert cached.returncode == 0 and cached.stdout == "" and cached.stderr == ""
    fresh = cli("Gain", "--out", str(tmp_path / "fresh"))
    assert fresh.stdout.splitlines() == [f"built {tmp_path / 'fresh' / f'fmi{v}' / 'Gain.fmu'}"
                                         for v in (2, 3)]
    bad = cli("Nope")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: unknown model") and "Traceback" not in bad.stderr
    model_c = source_root / "Gain" / "model.c"
    model_c.write_text(model_c.read_text().replace(";", "", 1))
    broken = cli("Gain", "--source", str(source_root), "--out", str(tmp_path / "out"))
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("error: model 'Gain' does not compile")
    assert str(model_c) in broken.stderr


BAD_VARIABLES = [  # (extra variable, text the error must contain)
    ({"name": "n", "type": "UInt64", "causality": "structuralParameter", "start": 2,
      "description": "no max"}, "structural parameter 'n' must be of type UInt64 with 'min' "
                                "and 'max'"),
    ({"name": "a", "causality": "parameter", "dimensions": ["k"], "start": [1.0],
      "description": "k is no structural parameter"}, "dimension 'k' of 'a' is not a structural"),
    ({"name": "a", "causality": "parameter", "dimensions": [3], "start": [1.0, 2.0],
      "description": "wrong start length"}, "start of array 'a' must be a list of 3 values"),
    ({"name": "e", "type": "Enumeration", "causality": "parameter", "start": 1,
      "description": "no type"}, "'declared_type'"),
    ({"name": "i", "type": "Int8", "causality": "parameter", "start": 300,
      "description": "too big"}, "start of Int8 'i' = 300 is outside the range of Int8"),
    ({"name": "s", "type": "String", "causality": "parameter", "start": "x" * 300,
      "description": "too long"}, "shorter than 256 bytes"),
    ({"name": "c", "type": "Clock", "causality": "input", "description": "no interval"},
     "interval_variability must be one of"),
    ({"name": "v", "causality": "parameter", "start": 1.0, "fmi_versions": [2],
      "description": "FMI 2 only"}, "every variable is in the FMI 3 FMU"),
]


@pytest.mark.parametrize("extra,message", BAD_VARIABLES)
def test_bad_variable_options_are_reported(source_root, tmp_path, extra, message):
    spec = source_root / "Gain" / "model.json"
    data = json.loads(spec.read_text())
    data["variables"].append(extra)
    spec.write_text(json.dumps(data))
    with pytest.raises(FMUBuildError) as err:
        build(["Gain"], source_root=source_root, out_dir=tmp_path / "out")
    assert "model 'Gain'" in str(err.value) and message in str(err.value)
