"""Conventions every command keeps: --help explains each argument and ends with an
example, -q/-v exist everywhere, errors are one message with a documented exit code —
never a traceback, whatever goes wrong."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from cosim.cli import main as cli_main
from cosim.cli.examples import EXAMPLES
from cosim.cli.main import build_parser, main
from tests.conftest import ROOT, TOPOLOGIES


def _leaves(parser: argparse.ArgumentParser, prefix: str = ""):
    """``(command as typed, parser)`` for every subcommand, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                key = f"{prefix}{name}"
                yield key, sub
                yield from _leaves(sub, f"{key} ")


COMMANDS = dict(_leaves(build_parser()))


def test_every_command_is_known():
    for expected in ("run", "check", "inspect", "graph", "compare", "regress", "sweep",
                     "plot", "export", "validate", "sensitivity", "calibrate", "surrogate",
                     "surrogate excite", "surrogate fit", "surrogate validate",
                     "surrogate show"):
        assert expected in COMMANDS


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_explains_every_argument_and_ends_with_an_example(command):
    parser = COMMANDS[command]
    text = parser.format_help()
    assert "examples:" in text and f"cosim {command}" in text.split("examples:")[1], command
    assert command in EXAMPLES
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.dest == "help":
            continue
        assert action.help, f"cosim {command}: argument {action.dest!r} has no help"


@pytest.mark.parametrize("command", sorted(c for c, p in COMMANDS.items()
                                            if not any(isinstance(a, argparse._SubParsersAction)
                                                       for a in p._actions)))
def test_quiet_and_verbose_on_every_command(command):
    options = COMMANDS[command]._option_string_actions
    assert {"-q", "--quiet", "-v", "--verbose"} <= set(options), command


def test_examples_only_name_commands_that_exist():
    for key in EXAMPLES:
        assert key in COMMANDS, key


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_graph_writes_dot_svg_into_missing_folders(tmp_path, capsys, fmus):
    dot = tmp_path / "new" / "deeper" / "two_mass.dot"
    code, out, err = cli(capsys, "graph", TOPOLOGIES / "two_mass.yaml", "-o", dot)
    assert code == 0 and err == "" and f"graph: {dot}" in out
    text = dot.read_text()
    assert text.startswith('digraph "two_mass" {') and text.rstrip().endswith("}")
    # one edge per connection of the file (6), each labelled output -> input
    assert text.count(" -> ") - text.count('label="') == 6
    assert '"spring" -> "mass1" [label="F -> F"];' in text
    svg = tmp_path / "other" / "g.svg"
    assert cli(capsys, "graph", TOPOLOGIES / "two_mass.yaml", "-o", svg)[0] == 0
    assert b"<svg" in svg.read_bytes()[:400]


def test_graph_with_unknown_format_is_bad_input(tmp_path, capsys, fmus):
    code, out, err = cli(capsys, "graph", TOPOLOGIES / "two_mass.yaml", "-o",
                         tmp_path / "x.txt")
    assert code == 2 and "Traceback" not in err
    assert err.count("\n") == 1 and "*.png, *.svg, *.pdf" in err and "*.dot" in err


def test_unwritable_output_is_one_message_with_exit_2(tmp_path, capsys, fmus):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = cli(capsys, "graph", TOPOLOGIES / "two_mass.yaml", "-o",
                       blocker / "x.png")
    assert code == 2 and "Traceback" not in err and err.startswith("cosim graph: error: ")
    assert str(blocker) in err and err.count("\n") == 1


def test_a_bug_is_reported_as_an_internal_error_with_exit_3(capsys, monkeypatch):
    def broken(args):
        return {}["no such key"]  # a bug inside a command
    args = argparse.Namespace(command="check", quiet=False, verbose=0)
    code = cli_main.handle(args, broken)
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    assert err.startswith("cosim check: internal error: KeyError: 'no such key'")
    assert "COSIM_TRACEBACK=1" in err and "bug in cosim" in err
    monkeypatch.setenv("COSIM_TRACEBACK", "1")
    assert cli_main.handle(args, broken) == 3
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_quiet_prints_nothing_and_verbose_prints_more(tmp_path, capsys, fmu):
    args = [fmu("Decay"), "--stop", "1", "--step", "0.01", "-o", tmp_path / "d.h5"]
    code, out, err = cli(capsys, "run", *args, "-q")
    assert code == 0 and out == "" and err == ""
    assert (tmp_path / "d.h5").stat().st_size > 0
    _, normal, _ = cli(capsys, "run", *args, "--force")
    _, check_out, _ = cli(capsys, "check", TOPOLOGIES / "two_mass.yaml", "-q")
    assert check_out == "" and "final values" in normal


def test_progress_is_quiet_off_a_terminal(tmp_path, fmus):
    """Run as a program with stderr to a file (a CI log): no bar redraws at all for a
    short run; the summary still goes to stdout."""
    proc = subprocess.run([sys.executable, "-m", "cosim", "run",
                           str(TOPOLOGIES / "datacenter.yaml"), "--stop", "7200"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "datacenter: 121 points" in proc.stdout


def test_progress_lines_off_a_terminal_are_plain_and_few():
    import io

    import numpy as np

    from cosim.observers.base import RunInfo
    from cosim.observers.progress import ProgressBar
    sink = io.StringIO()
    bar = ProgressBar(file=sink, updates=10, log_every=0.0)  # a line at every update
    assert bar.terminal is False
    info = RunInfo.__new__(RunInfo)
    info.__dict__.update(name="t", start=0.0, stop=10.0, n_steps=1000)
    bar.started(info)
    for k in range(1, 1001):
        bar.stepped(k * 0.01, np.zeros(1))
    bar.finished(None)
    lines = sink.getvalue().splitlines()
    assert "\r" not in sink.getvalue()
    assert len(lines) == 11  # 10 updates of 100 steps each, then the closing line
    assert lines[0].startswith("t:  10% (t = 1 of 10 s") and lines[-1].startswith("t: 100%")
    quiet = io.StringIO()  # the default: a line every 10 s of wall time, none here
    bar = ProgressBar(file=quiet)
    bar.started(info)
    for k in range(1, 1001):
        bar.stepped(k * 0.01, np.zeros(1))
    bar.finished(None)
    assert quiet.getvalue() == ""


def test_input_columns_that_drive_nothing_are_listed(tmp_path, capsys, fmu):
    csv = tmp_path / "in.csv"
    csv.write_text("time,u,uu,speed\n0,1,2,3\n10,1,2,3\n")
    code, _, err = cli(capsys, "run", fmu("Decay"), "--input", csv)
    assert code == 2 and "Traceback" not in err
    assert "2 columns of the --input CSV name no input of Decay.fmu: 'uu' (did you mean " \
           "'u'?), 'speed'" in err


def test_run_help_says_how_inputs_are_interpolated():
    text = COMMANDS["run"].format_help()
    assert "interpolated linearly" in " ".join(text.split())


def test_inspect_json_lists_variables_with_descriptions(capsys, fmu):
    import json

    from fmpy import read_model_description
    code, out, _ = cli(capsys, "inspect", fmu("Rack"), "--json")
    assert code == 0
    doc = json.loads(out)
    md = read_model_description(str(fmu("Rack")))  # fmpy's own reading, independently
    assert doc["model_name"] == "Rack" and doc["fmi_version"] == "2.0"
    assert doc["guid"] == md.guid
    expected = {v.name: v.description for v in md.modelVariables}
    got = {v["name"]: v["description"] for v in doc["variables"]}
    assert got == expected and all(got.values())
    t_cpu = next(v for v in doc["variables"] if v["name"] == "T_cpu")
    assert t_cpu["causality"] == "output" and t_cpu["unit"] == "K"
    assert doc["co_simulation"]["canGetAndSetFMUstate"] is True


@pytest.fixture(scope="module")
def two_mass_h5(fmus, tmp_path_factory):
    import cosim
    out = tmp_path_factory.mktemp("outputs") / "two_mass.h5"
    cosim.run(TOPOLOGIES / "two_mass.yaml", output=out, stop=1.0)
    return out


@pytest.mark.parametrize(("args", "written"), [
    (["run", TOPOLOGIES / "two_mass.yaml", "--stop", "0.5", "-o", "{new}/a/r.h5",
      "--plot", "{new}/b/r.png"], ["a/r.h5", "b/r.png"]),
    (["graph", TOPOLOGIES / "two_mass.yaml", "-o", "{new}/g.pdf"], ["g.pdf"]),
    (["compare", "{run}", "{run}", "--report", "{new}/c.html"], ["c.html"]),
    (["compare", "{run}", "{run}", "--report", "{new}/c.json"], ["c.json"]),
    (["compare", "{run}", "--export-csv", "{new}/c.csv"], ["c.csv"]),
    (["plot", "{run}", "-o", "{new}/p.png"], ["p.png"]),
    (["export", TOPOLOGIES / "two_mass.yaml", "-o", "{new}/s.ssp"], ["s.ssp"]),
    (["regress", ROOT / "reference_results" / "two_mass", "--report", "{new}/r.json"],
     ["r.json"]),
])
def test_outputs_go_into_folders_created_for_them(args, written, two_mass_h5, tmp_path,
                                                  capsys):
    new = tmp_path / "not" / "yet"
    argv = [str(a).format(new=new, run=two_mass_h5) for a in args]
    code, _, err = cli(capsys, *argv)
    assert code == 0, err
    for name in written:
        assert (new / name).stat().st_size > 0, name


def test_verbose_run_lists_every_value(capsys, fmus):
    args = ["run", TOPOLOGIES / "datacenter.yaml", "--stop", "600"]
    _, normal, _ = cli(capsys, *args)
    _, verbose, _ = cli(capsys, *args, "-v")
    assert "... and 2 more" in normal and "mixer.T_cpu_max" not in normal
    assert "... and" not in verbose and "mixer.T_cpu_max" in verbose


@pytest.mark.parametrize("command", ["sweep", "sensitivity", "calibrate", "surrogate excite"])
def test_commands_that_run_studies_share_their_runner_options(command, capsys, tmp_path):
    """One definition (cosim/cli/runner_options.py): the same options, checked the same way
    before the input file is read (it does not exist here)."""
    missing = tmp_path / "missing.yaml"
    for bad in (["--workers", "-1"], ["--dask-local", "0"]):
        with pytest.raises(SystemExit) as exit_:  # argparse: one usage error
            main([*command.split(), str(missing), *bad])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "usage:" in err and bad[0] in err, (command, err)
    code, _, err = cli(capsys, *command.split(), missing, "--workers", "2", "--dask-local", "2")
    assert code == 2 and "--workers is for local processes" in err, (command, err)
    assert "missing.yaml" not in err
