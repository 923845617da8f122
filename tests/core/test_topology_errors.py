"""Topology checks: every problem is reported at once, naming file:line, node and variable."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import cosim
from cosim.errors import ConfigError, TopologyError

HEADER = """\
name: t
run: {start: 0, stop: 1, step: 0.1}
nodes:
  a: {fmu: FMU_A}
  b: {fmu: FMU_B}
  g: {fmu: FMU_G}
connections:
"""


def write(tmp_path: Path, fmu, body: str, header: str = HEADER) -> Path:
    text = header.replace("FMU_A", str(fmu("Decay"))).replace("FMU_B", str(fmu("Decay", 3)))
    text = text.replace("FMU_G", str(fmu("Gain")))
    p = tmp_path / "t.yaml"
    p.write_text(text + textwrap.dedent(body))
    return p


def problems(path: Path) -> list:
    with pytest.raises(TopologyError) as info:
        cosim.load(path).check().raise_if_problems()
    return info.value.problems


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_valid_topology_has_no_problems(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - {from: a.x, to: b.u, check_units: false}\n")
    report = cosim.load(p).check()
    assert report.ok, report.problems
    assert report.unconnected_inputs == ["a.u", "g.u"]


def test_unknown_variable_names_file_line_node_variable(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - a.xx -> b.u\n")
    [prob] = problems(p)
    assert prob.where == f"{p}:{line_of(p, 'a.xx')}"
    assert (prob.node, prob.variable) == ("a", "xx")
    assert "did you mean 'x'" in str(prob)


def test_unknown_node_is_reported_with_line(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - a.x -> nowhere.u\n")
    [prob] = problems(p)
    assert prob.where.endswith(f":{line_of(p, 'nowhere')}") and prob.node == "nowhere"


def test_connection_must_go_output_to_input(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - a.u -> b.x\n")
    probs = problems(p)
    assert {(q.node, q.variable) for q in probs} == {("a", "u"), ("b", "x")}
    assert all(q.where.endswith(f":{line_of(p, 'a.u -> b.x')}") for q in probs)
    assert any("not an output" in str(q) for q in probs)
    assert any("not an input" in str(q) for q in probs)


def test_incompatible_units(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - a.x -> b.u\n")
    [prob] = problems(p)
    assert "incompatible units" in str(prob) and "'1'" in str(prob) and "'1/s'" in str(prob)
    assert (prob.node, prob.variable) == ("b", "u")
    assert prob.where == f"{p}:{line_of(p, 'a.x -> b.u')}"


COUNTER = """
from cosim import Block, Port

class Counter(Block):
    inputs = {"n": Port(kind="integer")}
    outputs = {"flag": Port(kind="boolean")}

    def step(self, t, dt, inputs):
        return {"flag": inputs["n"] > 0}
"""


def test_type_mismatch(tmp_path, fmu):
    (tmp_path / "counter.py").write_text(COUNTER)
    text = HEADER.replace("  g: {fmu: FMU_G}", "  g: {fmu: FMU_G}\n  c: {block: counter.py:Counter}")
    p = write(tmp_path, fmu, "  - a.x -> c.n\n  - c.flag -> g.u\n", header=text)
    [prob] = problems(p)
    assert "type mismatch" in str(prob) and "real" in str(prob) and "integer" in str(prob)
    assert (prob.node, prob.variable) == ("c", "n")
    assert prob.where.endswith(f":{line_of(p, 'a.x -> c.n')}")


def test_input_driven_twice(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - g.y -> b.u\n  - {from: a.x, to: b.u, check_units: false}\n")
    probs = [q for q in problems(p) if "driven by 2" in str(q)]
    assert len(probs) == 1
    assert (probs[0].node, probs[0].variable) == ("b", "u")
    assert f":{line_of(p, 'g.y -> b.u')}" in str(probs[0])


def no_rollback(src: Path, dst: Path) -> Path:
    """A copy of an FMU whose model description says it cannot get/set its state."""
    import zipfile
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "modelDescription.xml":
                data = data.replace(b'canGetAndSetFMUstate="true"',
                                    b'canGetAndSetFMUstate="false"')
            zout.writestr(info, data)
    return dst


def test_algebraic_loop_through_a_node_without_rollback(tmp_path, fmu):
    stiff = no_rollback(fmu("Gain"), tmp_path / "stiff.fmu")
    text = HEADER.replace("  b: {fmu: FMU_B}", f"  h: {{fmu: {stiff}}}")
    p = write(tmp_path, fmu, "  - g.y -> h.u\n  - h.y -> g.u\n", header=text)
    [prob] = problems(p)
    assert "algebraic loop" in str(prob) and "h cannot save and restore its state" in str(prob)
    assert "g.y -> h.u -> h.y -> g.u -> g.y" in str(prob)
    assert prob.node == "g" and prob.where.endswith(f":{line_of(p, '  g: ')}")


def test_solvable_algebraic_loop_is_not_a_problem(tmp_path, fmu):
    text = HEADER.replace("  b: {fmu: FMU_B}", "  h: {fmu: FMU_G}")
    p = write(tmp_path, fmu, "  - g.y -> h.u\n  - h.y -> g.u\n", header=text)
    report = cosim.load(p).check()
    assert report.ok and report.loops == [["g.y", "h.u", "h.y", "g.u"]]


def test_delayed_edge_breaks_the_loop(tmp_path, fmu):
    stiff = no_rollback(fmu("Gain"), tmp_path / "stiff.fmu")
    text = HEADER.replace("  b: {fmu: FMU_B}", f"  h: {{fmu: {stiff}}}")
    p = write(tmp_path, fmu, "  - g.y -> h.u\n  - {from: h.y, to: g.u, delayed: true}\n",
              header=text)
    assert cosim.load(p).check().ok


def test_all_problems_at_once(tmp_path, fmu):
    p = write(tmp_path, fmu, "  - a.nope -> b.u\n  - a.x -> b.nope\n  - g.y -> ghost.u\n")
    probs = problems(p)
    assert len(probs) == 3
    assert {q.variable for q in probs if q.variable} == {"nope"}


def test_bad_parameter_names_and_types(tmp_path, fmu):
    text = HEADER.replace("  a: {fmu: FMU_A}",
                          "  a: {fmu: FMU_A, parameters: {kk: 1, k: fast}, start: {k: 2}}")
    probs = problems(write(tmp_path, fmu, "  []\n".replace("  []", ""), header=text))
    msgs = {(q.variable, str(q)) for q in probs}
    assert any(v == "kk" and "did you mean 'k'" in m for v, m in msgs)
    assert any(v == "k" and "does not fit" in m for v, m in msgs)
    assert any(v == "k" and "parameters:" in m for v, m in msgs)


def test_schema_errors_have_lines(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("name: t\nrun: {stop: 1, step: 0.1, colour: red}\nnodes:\n"
                 "  a: {fmu: x.fmu, block: pid}\n  b: {}\n")
    probs = problems(p)
    text = "\n".join(map(str, probs))
    assert f"{p}:2" in text and "unknown key 'colour'" in text
    assert f"{p}:4" in text and "exactly one of 'fmu'" in text
    assert any(q.node == "b" for q in probs)


def test_malformed_yaml_names_line_and_column(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("name: t\nnodes:\n  a: {fmu: x.fmu\n  b: [\n")
    with pytest.raises(ConfigError) as info:
        cosim.load(p)
    assert str(p) in str(info.value) and "column" in str(info.value)
    assert info.value.line is not None


def test_missing_fmu_file(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("run: {stop: 1, step: 0.1}\nnodes:\n  a: {fmu: missing.fmu}\n")
    [prob] = problems(p)
    assert "FMU file not found" in str(prob) and prob.node == "a"
    assert prob.where == f"{p}:3"


def test_record_pattern_matching_nothing(tmp_path, fmu):
    text = HEADER.replace("run: {start: 0, stop: 1, step: 0.1}",
                          "run: {start: 0, stop: 1, step: 0.1, record: ['a.*', 'zz.*']}")
    probs = problems(write(tmp_path, fmu, "", header=text))
    assert len(probs) == 1 and "'zz.*'" in str(probs[0])
