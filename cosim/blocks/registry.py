"""Finding block classes by name: built-in short names, modules and files.

A topology names a node's block with ``block:``, one of

``"pid"``
    a short name from :data:`BUILTIN_BLOCKS`;
``"module:Class"`` or ``"package.module:Class"``
    imported with the topology's folder (``search_dirs``) first on ``sys.path``, so a
    topology can ship its own blocks next to it;
``"path/to/file.py:Class"``
    a Python file, relative to the first search dir (the topology's folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

from ..errors import ConfigError
from .base import Block
from .constant import Constant
from .pid import PID
from .signals import Ramp, Step
from .surrogate import Surrogate
from .table import TimeTable

BUILTIN_BLOCKS: dict[str, type[Block]] = {
    "constant": Constant,
    "step": Step,
    "ramp": Ramp,
    "table": TimeTable,
    "pid": PID,
    "surrogate": Surrogate,
}


def resolve_block(spec: str, search_dirs: Sequence[Path | str] = ()) -> type[Block]:
    """The :class:`Block` subclass named by ``spec`` (see the module docstring).

    Raises :class:`ConfigError` saying what was not found and where it was looked for.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"block must be a name such as 'pid' or 'module:Class', got {spec!r}",
                          field="block")
    spec = spec.strip()
    dirs = [Path(d) for d in search_dirs]
    if ":" not in spec:
        try:
            return BUILTIN_BLOCKS[spec]
        except KeyError:
            raise ConfigError(
                f"unknown block {spec!r}: built-in blocks are {', '.join(BUILTIN_BLOCKS)}; "
                f"for your own block write 'module:Class' or 'file.py:Class'",
                field="block") from None
    where, _, class_name = spec.rpartition(":")
    if not where or not class_name.isidentifier():
        raise ConfigError(f"block {spec!r}: expected 'module:Class' or 'file.py:Class'",
                          field="block")
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _import_file(spec, where, dirs)
    else:
        module = _import_module(spec, where, dirs)
    return _block_class(spec, module, class_name)


def _tried(dirs: Sequence[Path]) -> str:
    return ", ".join(str(d) for d in dirs) if dirs else "no topology folder"


@contextlib.contextmanager
def _on_sys_path(dirs: Sequence[Path]) -> Iterator[None]:
    added = [str(d.resolve()) for d in dirs]
    saved = list(sys.path)
    sys.path[:0] = added
    importlib.invalidate_caches()  # see files written since the last import
    try:
        yield
    finally:
        sys.path[:] = saved


def _forget_shadowed(module_name: str, dirs: Sequence[Path]) -> None:
    """Drop a cached module of the same name imported from elsewhere.

    Two topologies in one process may each have their own ``controllers.py``; the one
    next to the topology being loaded wins, as it would in a fresh process.
    """
    top = module_name.split(".")[0]
    cached = sys.modules.get(top)
    if cached is None:
        return
    local = [d / f"{top}.py" for d in dirs] + [d / top / "__init__.py" for d in dirs]
    local = [p.resolve() for p in local if p.is_file()]
    origin = getattr(cached, "__file__", None)
    if not local or (origin and Path(origin).resolve() in local):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _import_module(spec: str, module_name: str, dirs: Sequence[Path]) -> ModuleType:
    with _on_sys_path(dirs):
        _forget_shadowed(module_name, dirs)
        try:
            return importlib.import_module(module_name)
        except ImportError as err:
            raise ConfigError(f"block {spec!r}: cannot import module {module_name!r}: {err} "
                              f"(searched {_tried(dirs)}, then sys.path)",
                              field="block") from err
        except Exception as err:  # the module itself failed while running
            raise ConfigError(f"block {spec!r}: importing module {module_name!r} failed: "
                              f"{type(err).__name__}: {err}", field="block") from err


def _import_file(spec: str, file_name: str, dirs: Sequence[Path]) -> ModuleType:
    path = Path(file_name)
    if not path.is_absolute():
        path = (dirs[0] if dirs else Path.cwd()) / path
    path = path.resolve()
    if not path.is_file():
        raise ConfigError(f"block {spec!r}: file not found: {path}", file=str(path),
                          field="block")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    name = f"cosim_user_block_{path.stem}_{digest}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"block {spec!r}: cannot load {path} as a Python module",
                          file=str(path), field="block")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses, pickle and typing look the module up
    try:
        with _on_sys_path([path.parent, *dirs]):
            module_spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise ConfigError(f"block {spec!r}: importing {path} failed: "
                          f"{type(err).__name__}: {err}", file=str(path), field="block") from err
    return module


def _block_class(spec: str, module: ModuleType, class_name: str) -> type[Block]:
    where = getattr(module, "__file__", None) or module.__name__
    obj = getattr(module, class_name, None)
    if obj is None:
        blocks = sorted(n for n, v in vars(module).items()
                        if inspect.isclass(v) and issubclass(v, Block) and v is not Block)
        listed = ", ".join(blocks) if blocks else "none"
        raise ConfigError(f"block {spec!r}: no class {class_name!r} in {where} "
                          f"(Block subclasses there: {listed})", field="block")
    if not (inspect.isclass(obj) and issubclass(obj, Block)):
        kind = f"class {obj.__name__}" if inspect.isclass(obj) else type(obj).__name__
        raise ConfigError(f"block {spec!r}: {class_name} in {where} is a {kind}, not a "
                          f"subclass of cosim.blocks.Block", field="block")
    return obj
