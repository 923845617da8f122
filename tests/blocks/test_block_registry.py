"""resolve_block: short names, user modules and files next to a topology, and errors."""

from __future__ import annotations

import sys
import textwrap

import pytest

from cosim.blocks.base import Block
from cosim.blocks.pid import PID
from cosim.blocks.registry import BUILTIN_BLOCKS, resolve_block
from cosim.errors import ConfigError

USER_BLOCK = textwrap.dedent('''
    from cosim.blocks.base import Block, Param, Port

    class Gain(Block):
        inputs = {"u": Port()}
        outputs = {"y": Port()}
        parameters = {"k": Param(2.0)}

        def step(self, t, dt, inputs):
            return {"y": self.k * inputs["u"]}

    NOT_A_CLASS = 3

    class Plain:
        pass
''')


@pytest.fixture
def unique(request):
    """A module name no other test (or earlier run in this process) has imported."""
    name = f"userblocks_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    yield name
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def test_short_names():
    assert resolve_block("pid", []) is PID
    for name, cls in BUILTIN_BLOCKS.items():
        assert resolve_block(name, []) is cls
        assert issubclass(cls, Block)
    assert set(BUILTIN_BLOCKS) == {"constant", "step", "ramp", "table", "pid", "surrogate"}


def test_module_class_from_topology_folder(tmp_path, unique):
    (tmp_path / f"{unique}.py").write_text(USER_BLOCK)
    path_before = list(sys.path)
    cls = resolve_block(f"{unique}:Gain", [tmp_path])
    assert sys.path == path_before  # only prepended while importing
    assert cls.__name__ == "Gain" and issubclass(cls, Block)
    assert cls(k=3.0).step(0.0, 1.0, {"u": 2.0}) == {"y": 6.0}


def test_package_submodule(tmp_path, unique):
    pkg = tmp_path / unique
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ctl.py").write_text(USER_BLOCK)
    cls = resolve_block(f"{unique}.ctl:Gain", [tmp_path])
    assert cls().step(0.0, 1.0, {"u": 1.5}) == {"y": 3.0}


def test_same_module_name_in_two_topology_folders(tmp_path, unique):
    for folder, k in (("a", 2.0), ("b", 5.0)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{unique}.py").write_text(
            USER_BLOCK.replace("Param(2.0)", f"Param({k})"))
    a = resolve_block(f"{unique}:Gain", [tmp_path / "a"])
    b = resolve_block(f"{unique}:Gain", [tmp_path / "b"])
    assert a().k == 2.0 and b().k == 5.0


def test_file_py_class_relative_to_first_search_dir(tmp_path):
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "gain.py").write_text(USER_BLOCK)
    cls = resolve_block("blocks/gain.py:Gain", [tmp_path, tmp_path / "elsewhere"])
    assert cls(k=4.0).step(0.0, 1.0, {"u": 0.5}) == {"y": 2.0}
    assert resolve_block(f"{tmp_path / 'blocks' / 'gain.py'}:Gain", []).__name__ == "Gain"


def test_unknown_short_name_lists_known():
    with pytest.raises(ConfigError) as info:
        resolve_block("pi", [])
    message = str(info.value)
    assert "unknown block 'pi'" in message
    assert "constant, step, ramp, table, pid, surrogate" in message


def test_module_not_importable_shows_import_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        resolve_block("no_such_module_xyz:Thing", [tmp_path])
    message = str(info.value)
    assert "cannot import module 'no_such_module_xyz'" in message
    assert "No module named 'no_such_module_xyz'" in message  # the ImportError text
    assert str(tmp_path) in message  # where it looked


def test_module_raising_on_import(tmp_path, unique):
    (tmp_path / f"{unique}.py").write_text("import missing_dependency_xyz\n")
    with pytest.raises(ConfigError, match="No module named 'missing_dependency_xyz'"):
        resolve_block(f"{unique}:Gain", [tmp_path])
    (tmp_path / "broken.py").write_text("def oops(:\n")
    with pytest.raises(ConfigError, match=r"importing .*broken.py failed: SyntaxError"):
        resolve_block("broken.py:Gain", [tmp_path])


def test_no_such_class_lists_blocks(tmp_path, unique):
    (tmp_path / f"{unique}.py").write_text(USER_BLOCK)
    with pytest.raises(ConfigError, match=r"no class 'Gian' in .*Block subclasses there: Gain"):
        resolve_block(f"{unique}:Gian", [tmp_path])


def test_not_a_block_subclass(tmp_path, unique):
    (tmp_path / f"{unique}.py").write_text(USER_BLOCK)
    with pytest.raises(ConfigError, match="Plain .* is a class Plain, not a subclass of"):
        resolve_block(f"{unique}:Plain", [tmp_path])
    with pytest.raises(ConfigError, match="NOT_A_CLASS .* is a int, not a subclass"):
        resolve_block(f"{unique}:NOT_A_CLASS", [tmp_path])


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found") as info:
        resolve_block("blocks/none.py:Gain", [tmp_path])
    assert info.value.file == str((tmp_path / "blocks" / "none.py").resolve())


@pytest.mark.parametrize("spec", ["", "   ", ":Gain", "mod:", "mod:2bad"])
def test_malformed_specs(spec):
    with pytest.raises(ConfigError):
        resolve_block(spec, [])
