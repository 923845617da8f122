"""Bad input gets one precise message, a documented exit code, no traceback; results
already written stay readable with status failed; nothing is left in the temporary
folder but this process's FMU extraction cache (removed at exit, see
tests/core/test_extraction_cache.py)."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cosim
from cosim.cli.main import main
from cosim.errors import FMICallError, FMUError, NonFiniteError, SubsystemError, TopologyError
from cosim.fmu import cache


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """FMUs extract into a private temp folder, so leftovers can be counted."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    left = [p for p in scratch.iterdir() if p != cache.root()]
    assert left == [], "temporary folders left behind"
    assert all(p.name.startswith(f"{os.getpid()}-") for p in cache.root().iterdir())


def rezip(src: Path, dst: Path, rename=None, extra=None, replace=None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            name = rename(info.filename) if rename else info.filename
            if replace and info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(name, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def one_node(tmp_path: Path, fmu_file: Path, **params) -> Path:
    p = tmp_path / "one.yaml"
    p.write_text(f"run: {{stop: 1, step: 0.1}}\nnodes:\n  n: {{fmu: {fmu_file}, "
                 f"parameters: {params or {}}}}\n")
    return p


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_corrupt_fmu(tmp_path, capsys):
    bad = tmp_path / "bad.fmu"
    bad.write_bytes(b"this is not a zip file")
    code, _, err = run_cli(["run", str(one_node(tmp_path, bad))], capsys)
    assert code == 2
    assert "not a zip archive" in err and "bad.fmu" in err and "Traceback" not in err


def test_fmu_without_binary_for_this_platform(tmp_path, fmu, capsys):
    other = rezip(fmu("Gain"), tmp_path / "win.fmu",
                  rename=lambda n: n.replace("binaries/linux64", "binaries/win64"))
    with pytest.raises(TopologyError) as info:
        cosim.load(one_node(tmp_path, other)).check().raise_if_problems()
    msg = str(info.value)
    assert "no binary for this platform" in msg and "win64" in msg and "n:" in msg


def test_archive_entry_escaping_is_rejected_before_extraction(tmp_path, fmu, capsys):
    evil = rezip(fmu("Gain"), tmp_path / "evil.fmu", extra={"../../escaped.txt": b"gotcha"})
    code, _, err = run_cli(["run", str(one_node(tmp_path, evil))], capsys)
    assert code == 2 and "escapes the extraction folder" in err and "../../escaped.txt" in err
    assert not list(tmp_path.parent.rglob("escaped.txt"))


def test_entity_expansion_is_rejected(tmp_path, fmu):
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">' \
           b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'

    def inject(data: bytes) -> bytes:
        return bomb + data.split(b"?>", 1)[1]

    evil = rezip(fmu("Gain"), tmp_path / "bomb.fmu", replace={"modelDescription.xml": inject})
    with pytest.raises(FMUError, match="DTD or XML entities"):
        cosim.load(one_node(tmp_path, evil)).check().raise_if_problems() if False else \
            cosim.fmu.description.read(evil)


def test_fmu_error_during_run_keeps_partial_results(tmp_path, fmu, capsys):
    topo = one_node(tmp_path, fmu("Faulty"), fail_at=0.5)
    out = tmp_path / "run.h5"
    with pytest.raises(FMICallError) as info:
        cosim.run(topo, output=out)
    err = info.value
    assert err.node == "n" and err.time == pytest.approx(0.5) and "fmi2DoStep" in str(err)
    assert "n at t=0.5 s" in str(err)
    data = cosim.read(out)
    assert data.status == "failed" and "fmi2DoStep" in data.error
    assert data.df.index[-1] == pytest.approx(0.5) and len(data.df) == 6
    code, _, msg = run_cli(["run", str(topo), "-o", str(tmp_path / "cli.h5")], capsys)
    assert code == 3 and "partial results" in msg and "Traceback" not in msg


RAISING = """
from cosim import Block, Port

class Bomb(Block):
    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        if t >= 0.3 - 1e-9:
            raise ZeroDivisionError("boom at " + str(t))
        return {"y": t}
"""


def test_python_block_that_raises(tmp_path, private_tmp):
    (tmp_path / "bomb.py").write_text(RAISING)
    p = tmp_path / "b.yaml"
    p.write_text("run: {stop: 1, step: 0.1}\nnodes:\n  bomb: {block: bomb:Bomb}\n")
    with pytest.raises(SubsystemError) as info:
        cosim.run(p, output=tmp_path / "b.h5")
    err = info.value
    assert err.node == "bomb" and err.time == pytest.approx(0.3)
    assert "Bomb.step() raised ZeroDivisionError: boom" in str(err)
    data = cosim.read(tmp_path / "b.h5")
    assert data.status == "failed" and len(data.df) == 4  # t = 0, 0.1, 0.2, 0.3? no: 0..0.3
    np.testing.assert_allclose(data.df["bomb.y"].to_numpy(), [0.0, 0.0, 0.1, 0.2])


def test_nan_output_is_an_error_naming_node_and_variable(tmp_path, fmu):
    topo = one_node(tmp_path, fmu("Faulty"), nan_at=0.3)
    with pytest.raises(NonFiniteError) as info:
        cosim.run(topo)
    err = info.value
    assert (err.node, err.variable) == ("n", "y") and err.time == pytest.approx(0.3)
    assert "allow_nonfinite" in str(err)
    allowed = cosim.load(topo)
    allowed.run.allow_nonfinite = True
    df = cosim.run(allowed).df
    assert np.isnan(df["n.y"].iloc[-1]) and not np.isnan(df["n.y"].iloc[0])


def test_missing_topology_file(capsys):
    code, _, err = run_cli(["run", "nope/missing.yaml"], capsys)
    assert code == 2 and "nope/missing.yaml" in err and "not found" in err
