"""``extends:`` across folders: a block node taken over from the base keeps the base's
folder for its data files and its module; restated nodes resolve from the new file; a
saved topology rewrites those paths for its own folder."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import yaml

import cosim

BLOCK = '''
from cosim.blocks import Block, Port

class Doubler(Block):
    inputs = {"u": Port()}
    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        return [2.0 * inputs["u"]]
'''


@pytest.fixture
def base(tmp_path, fmu):
    """base/base.yaml: a telemetry table (base/data/load.csv), a block from
    base/doubling.py, and a Decay FMU driven by them."""
    folder = tmp_path / "base"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "load.csv").write_text("time,u\n0,1.0\n1,3.0\n2,5.0\n")
    (folder / "doubling.py").write_text(textwrap.dedent(BLOCK))
    (folder / "base.yaml").write_text(yaml.safe_dump({
        "name": "base", "run": {"stop": 2.0, "step": 0.5},
        "nodes": {"load": {"block": "table", "parameters": {"file": "data/load.csv"}},
                  "twice": {"block": "doubling.py:Doubler"},
                  "d": {"fmu": str(fmu("Decay")), "parameters": {"k": 0.0}}},
        "connections": ["load.u -> twice.u", "twice.y -> d.u"]}))
    return folder / "base.yaml"


def expected_twice(times):
    return 2.0 * np.interp(times, [0.0, 1.0, 2.0], [1.0, 3.0, 5.0])


def test_nodes_taken_over_resolve_from_the_base_folder(tmp_path, base):
    other = tmp_path / "elsewhere" / "deeper"
    other.mkdir(parents=True)
    variant = other / "variant.yaml"
    variant.write_text(yaml.safe_dump({"extends": "../../base/base.yaml", "name": "variant",
                                       "run": {"stop": 1.0}}))
    topo = cosim.load(variant)
    assert topo.node_dir("load") == base.parent.resolve() and topo.base_dir == other.resolve()
    df = cosim.run(topo).df
    np.testing.assert_allclose(df["twice.y"].to_numpy()[1:],
                               expected_twice(df.index.to_numpy()[1:]), rtol=0, atol=1e-12)
    # a chain of extends keeps the folder of the file that wrote the node
    third = tmp_path / "third.yaml"
    third.write_text(yaml.safe_dump({"extends": "elsewhere/deeper/variant.yaml",
                                     "name": "third"}))
    again = cosim.run(cosim.load(third)).df
    np.testing.assert_array_equal(again["twice.y"].to_numpy()[:3], df["twice.y"].to_numpy()[:3])


def test_a_restated_node_resolves_from_the_new_file(tmp_path, base):
    other = tmp_path / "mine"
    (other / "data").mkdir(parents=True)
    (other / "data" / "load.csv").write_text("time,u\n0,10.0\n2,10.0\n")
    variant = other / "variant.yaml"
    variant.write_text(yaml.safe_dump({
        "extends": "../base/base.yaml",
        "nodes": {"load": {"block": "table", "parameters": {"file": "data/load.csv"}}}}))
    topo = cosim.load(variant)
    assert topo.node_dir("load") == other.resolve()
    assert topo.node_dir("twice") == base.parent.resolve()
    assert np.all(cosim.run(topo).df["twice.y"].to_numpy()[1:] == 20.0)


def test_saved_elsewhere_the_paths_follow(tmp_path, base):
    variant = tmp_path / "v" / "variant.yaml"
    variant.parent.mkdir()
    variant.write_text(yaml.safe_dump({"extends": "../base/base.yaml"}))
    topo = cosim.load(variant)
    (tmp_path / "out" / "far").mkdir(parents=True)
    saved = topo.save(tmp_path / "out" / "far" / "saved.yaml")
    data = yaml.safe_load(saved.read_text())
    assert data["nodes"]["load"]["parameters"]["file"] == "../../base/data/load.csv"
    assert data["nodes"]["twice"]["block"] == "../../base/doubling.py:Doubler"
    a, b = cosim.run(topo).df, cosim.run(cosim.load(saved)).df
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_a_missing_file_names_the_base_folder(tmp_path, base):
    (base.parent / "data" / "load.csv").unlink()
    variant = tmp_path / "v.yaml"
    variant.write_text(yaml.safe_dump({"extends": "base/base.yaml"}))
    with pytest.raises(cosim.errors.CosimError, match="load.csv"):
        cosim.run(cosim.load(variant))
