"""Python blocks that misbehave: one error naming the block, the output and the time
(exit 3, the file marked failed with the same text); ``sys.exit()`` inside a block never
makes a run succeed; a block that cannot be built is reported by check and run (exit 2)."""

from __future__ import annotations

import pytest
from reliability_helpers import HERE, Batch, committed, write_yaml

import cosim as api
from cosim.cli.main import main
from cosim.errors import SubsystemError


def topology(folder, cls: str, **params):
    return write_yaml(folder / "blocks.yaml", {
        "name": "blocks", "run": {"stop": 1.0, "step": 0.1},
        "nodes": {"b": {"block": f"{HERE / 'misbehaving_blocks.py'}:{cls}", "parameters": params}}})


@pytest.mark.parametrize(("what", "message"), [
    ("undeclared", "b.z at t=0.3 s: Returns.step() returned output 'z', which the block does "
                   "not declare (its outputs: y)"),
    ("none", "b at t=0.3 s: Returns.step() returned None; it must return a mapping "
             "{output: number} or a sequence of 1 numbers in the order ['y']"),
    ("string", "b at t=0.3 s: Returns.step() returned a str ('abc'); it must return a "
               "mapping {output: number} or a sequence of 1 numbers in the order ['y']"),
    ("shape", "b at t=0.3 s: Returns.step() returned 2 values (shape (2,)) for 1 outputs "
              "['y']"),
    ("value_string", "b.y at t=0.3 s: Returns.step() returned a str ('1.5') for output 'y'; "
                     "outputs must be numbers (float, int or bool)"),
    ("value_none", "b.y at t=0.3 s: Returns.step() returned None for output 'y'; outputs "
                   "must be numbers (float, int or bool)"),
    ("value_list", "b.y at t=0.3 s: Returns.step() returned a list ([1.0, 2.0]) for output "
                   "'y'; outputs must be numbers (float, int or bool)"),
])
def test_bad_block_outputs(tmp_path, capsys, what, message):
    out = tmp_path / "out.h5"
    code = main(["run", str(topology(tmp_path, "Returns", what=what)), "-o", str(out),
                 "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 3
    assert err.splitlines() == [f"cosim run: error: {message}",
                                f"partial results (status failed) are in {out}"]
    attrs, series = committed(out)
    assert attrs["status"] == "failed" and attrs["error"] == message
    assert list(series["time"]) == pytest.approx([0.0, 0.1, 0.2, 0.3])  # up to the bad step


@pytest.mark.parametrize(("where", "message"), [
    ("init", "creating block Explodes with its parameters failed: ValueError: calibration "
             "table is missing"),
    ("interface", "Explodes.interface() raised RuntimeError: ports cannot be computed"),
])
@pytest.mark.parametrize("command", ["check", "run"])
def test_block_that_cannot_be_built(tmp_path, capsys, where, message, command):
    topo = topology(tmp_path, "Explodes", where=where)
    line = next(i for i, text in enumerate(topo.read_text().splitlines(), 1)
                if text.strip().startswith("b:"))
    code = main([command, str(topo)])
    _, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert err.splitlines() == [f"cosim {command}: error: topology has 1 problem:",
                                f"  - {topo}:{line}: b: {message}"]


@pytest.fixture(scope="module", autouse=True)
def exits_run(tmp_path_factory):
    """The one CLI subprocess of this module, started first: it runs while the
    in-process tests do."""
    folder = tmp_path_factory.mktemp("exits")
    batch = Batch()
    batch.start("exits", "run", topology(folder, "Exits"), "-o", folder / "out.h5",
                "--no-progress")
    yield folder, batch
    batch.close()


def test_sys_exit_in_a_block_fails_the_run(tmp_path, exits_run):
    """Before, ``cosim run`` exited 0 here while the file said failed."""
    folder, batch = exits_run
    out = folder / "out.h5"
    done = batch.result("exits")
    message = ("b at t=0.5 s: Exits.step() called sys.exit(0); a block must raise an "
               "exception to stop the run")
    assert done.code == 3 and done.lines == [f"cosim run: error: {message}",
                                             f"partial results (status failed) are in {out}"]
    assert committed(out)[0]["status"] == "failed"
    with pytest.raises(SubsystemError, match=r"called sys.exit\(0\)"):
        api.run(topology(tmp_path, "Exits"))  # the Python API: an error, not an exit
