"""`cosim check` reports mistakes of every stage in one round (schema, the run's own
rules, the built topology), and a Python block's parameter of the wrong type fails the
check, not the run."""

from __future__ import annotations

import pytest

from cosim.cli.main import main


def check(capsys, path):
    code = main(["check", str(path)])
    return code, capsys.readouterr().err


def test_unknown_key_negative_step_and_missing_fmu_in_one_round(tmp_path, capsys, fmu):
    p = tmp_path / "t.yaml"
    p.write_text(
        "name: t\n"
        "run: {stop: 10, step: -1, bogus: 3}\n"                      # 2: unknown + step
        "nodes:\n"
        "  a: {fmu: nothere.fmu}\n"                                  # 4: missing FMU
        f"  d: {{fmu: {fmu('Decay')}, colour: red}}\n"               # 5: unknown key
        f"  e: {{fmu: {fmu('Decay')}, parameters: {{k: 1e-3, x0: abc}}}}\n"  # 6: type
        "connections:\n"
        "  - {from: d.x, to: e.u, gain: x}\n"                        # 8: not a number
        "  - a.y -> e.u\n"                                           # (a is missing)
        "  - e.xx -> d.u\n")                                         # 10: unknown output
    code, err = check(capsys, p)
    assert code == 2
    lines = [ln.strip() for ln in err.splitlines()[1:]]
    expected = [
        f"- {p}:2: run.bogus: unknown key 'bogus'",
        f"- {p}:5: d: nodes.d.colour: unknown key 'colour'",
        f"- {p}:8: connections.0.gain: Input should be a valid number",
        f"- {p}:2: run: step must be > 0 s, got -1.0",
        f"- {p}:4: a: ",
        f"- {p}:8: e.u: incompatible units: d.x is in '1'",  # the gain's connection too
        f"- {p}:10: e.xx: unknown source variable (did you mean 'x'?)",
        f"- {p}:6: e.x0: value 'abc' does not fit its type real",
    ]
    assert len(lines) == len(expected), err
    for want in expected:
        assert any(line.startswith(want) for line in lines), (want, err)
    assert "FMU file not found" in err
    assert f"topology has {len(expected)} problems" in err


def test_a_removed_bad_value_has_no_consequences_reported(tmp_path, capsys, fmu):
    """A node's bad ``fmu:`` value is one problem, not also 'needs fmu or block', and
    connections to it are not 'unknown node'."""
    p = tmp_path / "t.yaml"
    p.write_text(f"run: {{stop: 1, step: 0.1}}\nnodes:\n  f: {{fmu: 12}}\n"
                 f"  d: {{fmu: {fmu('Decay')}}}\nconnections:\n  - d.x -> f.u\n")
    code, err = check(capsys, p)
    assert code == 2 and "topology has 1 problem:" in err
    assert f"{p}:3: f: nodes.f.fmu: Input should be a valid string" in err


BLOCK = '''
from cosim import Block, Param, Port

class Heater(Block):
    inputs = {"P": Port(unit="W")}
    outputs = {"T": Port(unit="K", start=293.15)}
    parameters = {"tau": Param(60.0, unit="s"), "n": Param(3), "enabled": Param(True),
                  "mode": Param("fast"), "table": Param(None)}

    def reset(self, t0):
        self.T = 293.15

    def step(self, t, dt, inputs):
        self.T += dt / self.tau * inputs["P"]
        return {"T": self.T}
'''


@pytest.mark.parametrize(("value", "error"), [
    ("{tau: abc}", "parameter 'tau' must be a number (like its default 60.0), got 'abc'"),
    ("{tau: true}", "parameter 'tau' must be a number"),
    ("{n: 2.5}", "parameter 'n' must be a whole number (like its default 3), got 2.5"),
    ("{enabled: 'yes'}", "parameter 'enabled' must be true or false"),
    ("{mode: 3}", "parameter 'mode' must be text (a string)"),
    ("{tau: 3.03e5, n: 2.0, enabled: false, mode: slow, table: [1, 2]}", None),
])
def test_block_parameter_of_the_wrong_type_fails_check(tmp_path, capsys, value, error):
    (tmp_path / "heat.py").write_text(BLOCK)
    p = tmp_path / "t.yaml"
    p.write_text("run: {stop: 2, step: 1}\nnodes:\n"
                 "  p: {block: constant, parameters: {value: 100, unit: W}}\n"
                 f"  room: {{block: 'heat:Heater', parameters: {value}}}\n"
                 "connections:\n  - p.y -> room.P\n")
    code, err = check(capsys, p)
    if error is None:
        assert code == 0, err
    else:
        assert code == 2 and f"{p}:4: room: Heater: {error}" in err


def test_yaml_boolean_keys_are_explained(tmp_path, capsys):
    p = tmp_path / "t.yaml"
    p.write_text("run: {stop: 2, step: 1}\nnodes:\n"
                 "  p: {block: constant, parameters: {value: 1, on: 2}}\n")
    code, err = check(capsys, p)
    assert code == 2 and "key True is not a name" in err and "quote the key" in err
