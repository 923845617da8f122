"""Outputs never overwrite inputs or each other, and never a file that is not a cosim file
without --force. Refusals come before anything is created or truncated."""

from __future__ import annotations

import os
import signal

import h5py
import pytest
from reliability_helpers import (
    Batch,
    committed,
    cosim,
    hostile_topology,
    wait_for_file,
    write_yaml,
)

import cosim as api
from cosim.cli.main import main
from cosim.output_guard import OutputError


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def inputs(tmp_path, fmu):
    """A topology extending a base, with an FMU, a Python block and a table CSV."""
    (tmp_path / "load.csv").write_text("time,u\n0,1.0\n1,1.0\n")
    (tmp_path / "myblock.py").write_text(
        "from cosim import Block, Port\n"
        "class Half(Block):\n"
        "    inputs = {'u': Port()}\n"
        "    outputs = {'y': Port()}\n"
        "    def step(self, t, dt, inputs):\n"
        "        return {'y': inputs['u'] / 2}\n")
    fmu_copy = tmp_path / "Decay.fmu"
    fmu_copy.write_bytes(fmu("Decay").read_bytes())
    write_yaml(tmp_path / "base.yaml", {
        "name": "base", "run": {"stop": 1.0, "step": 0.1},
        "nodes": {"d": {"fmu": "Decay.fmu"}}})
    topo = write_yaml(tmp_path / "topo.yaml", {
        "extends": "base.yaml", "name": "topo",
        "nodes": {"load": {"block": "table", "parameters": {"file": "load.csv",
                                                          "units": {"u": "1/s"}}},
                  "half": {"block": "myblock.py:Half"}},
        "connections": ["load.u -> d.u", {"from": "d.x", "to": "half.u",
                                          "check_units": False}]})
    os.link(topo, tmp_path / "hardlink.yaml")
    os.symlink(fmu_copy, tmp_path / "link.fmu")
    return topo


@pytest.mark.parametrize("target", ["topo.yaml", "base.yaml", "Decay.fmu", "myblock.py",
                                    "load.csv", "hardlink.yaml", "link.fmu"])
def test_output_that_is_an_input_is_refused(tmp_path, inputs, capsys, target):
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    code, _, err = cli(capsys, "run", inputs, "-o", tmp_path / target, "--no-progress")
    assert code == 2
    assert err.startswith(f"cosim run: error: the output file {tmp_path / target} is an "
                          "input of this run") and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_single_fmu_and_input_csv_are_inputs(tmp_path, fmu, capsys):
    decay = tmp_path / "Decay.fmu"
    decay.write_bytes(fmu("Decay").read_bytes())
    csv = tmp_path / "u.csv"
    csv.write_text("time,u\n0,1\n1,1\n")
    assert cli(capsys, "run", decay, "-o", decay)[0] == 2
    code, _, err = cli(capsys, "run", decay, "--input", csv, "-o", csv)
    assert code == 2 and "is an input of this run" in err
    assert csv.read_text() == "time,u\n0,1\n1,1\n" and decay.read_bytes() == \
        fmu("Decay").read_bytes()


def test_study_output_that_is_an_input_is_refused(tmp_path, inputs, capsys):
    study = write_yaml(tmp_path / "study.yaml", {
        "topology": "topo.yaml", "grid": {"d.k": [1.0, 2.0]},
        "outputs": {"x": {"signal": "d.x", "stat": "final"}}})
    text = study.read_text()
    for target in (study, inputs, tmp_path / "load.csv"):
        code, _, err = cli(capsys, "sweep", study, "-o", target, "--workers", "0",
                           "--no-progress")
        assert code == 2 and "is an input of this run" in err, err
    assert study.read_text() == text


def test_replacing_results_and_foreign_files(tmp_path, inputs, capsys):
    out = tmp_path / "out.h5"
    assert cli(capsys, "run", inputs, "-o", out, "--no-progress")[0] == 0
    # a cosim result is replaced, as users expect of -o
    assert cli(capsys, "run", inputs, "-o", out, "--stop", "2", "--no-progress")[0] == 0
    assert api.read(out).attrs["stop"] == 2.0 and len(api.read(out).df) == 21
    # anything else needs --force
    notes = tmp_path / "notes.h5"
    notes.write_text("my notes")
    code, _, err = cli(capsys, "run", inputs, "-o", notes, "--no-progress")
    assert code == 2 and err == (f"cosim run: error: the output file {notes} exists and is "
                                 "not a cosim result; refusing to replace it (choose another "
                                 "file, remove it, or pass --force)\n")
    assert notes.read_text() == "my notes"
    with h5py.File(tmp_path / "other.h5", "w") as f:  # HDF5, but not a cosim file
        f["x"] = 1
    assert cli(capsys, "run", inputs, "-o", tmp_path / "other.h5")[0] == 2
    assert cli(capsys, "run", inputs, "-o", notes, "--force", "--no-progress")[0] == 0
    assert api.read(notes).status == "completed"
    empty = tmp_path / "empty.h5"
    empty.touch()  # an empty file holds nothing to lose
    assert cli(capsys, "run", inputs, "-o", empty, "--no-progress")[0] == 0


def test_python_api_refuses_inputs_before_writing(tmp_path, inputs):
    with pytest.raises(OutputError, match="is an input of this run"):
        api.run(inputs, output=tmp_path / "load.csv")
    assert (tmp_path / "load.csv").read_text() == "time,u\n0,1.0\n1,1.0\n"


@pytest.fixture(scope="module", autouse=True)
def first_writer(tmp_path_factory, fmus):
    """Run A, started before the other tests of this module: it hangs in an FMU, holding
    its output, until the last test interrupts it."""
    folder = tmp_path_factory.mktemp("first")
    topo = hostile_topology(folder, fmus, "first", 4, 0.1)
    batch = Batch()
    batch.start("first", "run", topo, "-o", folder / "shared.h5", "--no-progress")
    yield folder, batch
    batch.close()


def test_second_writer_is_refused_while_the_first_runs(inputs, first_writer):
    """Run B, started while A holds the output, is refused and touches nothing; after
    A, the output is free again."""
    folder, batch = first_writer
    out, first = folder / "shared.h5", batch.procs["first"]
    wait_for_file(out, first)
    with pytest.raises(OutputError, match="being written by another run"):
        api.run(inputs, output=out)  # the Python API honours the same lock
    second = cosim("run", inputs, "-o", out, "--no-progress")
    assert second.code == 2 and second.lines == [
        f"cosim run: error: the output file {out} is being written by another run right "
        "now; wait for it to finish or choose another file (-o)"]
    assert first.poll() is None  # still running (stuck): B was refused while A held it
    first.send_signal(signal.SIGINT)
    done = batch.result("first")
    assert done.code == 130, done.err
    attrs, _ = committed(out)
    assert attrs["name"] == "first" and attrs["status"] == "interrupted"  # A's, untouched
    api.run(inputs, output=out)  # A is gone: its lock with it
    assert api.read(out).name == "topo" and api.read(out).status == "completed"
