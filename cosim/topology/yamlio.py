"""YAML with line numbers: every mapping key and list item remembers where it stood."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import ConfigError

Path_ = tuple[Any, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e6`` and ``1.0e6`` as floats (YAML 1.2 does;
    PyYAML's YAML 1.1 rules would make them strings)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def load(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML; return the data and ``{path: line}`` (1-based) for every value.

    Malformed YAML raises ConfigError with the file, line and column.
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        raise ConfigError(f"malformed YAML{col}: {err.problem or err}", file=file,
                          line=line) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"malformed YAML: {err}", file=file) from None
    lines: dict[Path_, int] = {}
    if root is None:
        return None, lines
    return _convert(root, (), lines, file), lines


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, file)
            if key in out:
                raise ConfigError(f"duplicate key {key!r}", file=file,
                                  line=key_node.start_mark.line + 1)
            out[key] = _convert(value_node, path + (key,), lines, file)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node, file)


def _scalar(node: yaml.Node, file: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError("mapping keys must be plain values", file=file,
                          line=node.start_mark.line + 1)
    loader = _Loader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def line_of(lines: dict[Path_, int], loc: tuple[Any, ...]) -> int | None:
    """The line of the longest prefix of ``loc`` that has one."""
    for n in range(len(loc), -1, -1):
        if tuple(loc[:n]) in lines:
            return lines[tuple(loc[:n])]
    return None


def read_mapping(path, what: str, hint: str) -> tuple[dict, dict[Path_, int], Any, str]:
    """Read a YAML file that must hold a mapping: ``(data, lines, where, text)``.

    ``what`` names the kind of file in messages ("topology file"); ``hint`` says what
    the mapping needs. ``where(*loc)`` gives ``file:line`` for a location in the data.
    """
    from pathlib import Path

    shown = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=shown) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {what}: {err}", file=shown) from None
    data, lines = load(text, shown)
    if not isinstance(data, dict):
        raise ConfigError(f"a {what} must be a mapping with {hint}", file=shown, line=1)

    def where(*loc) -> str:
        line = line_of(lines, loc)
        return f"{shown}:{line}" if line else shown

    return data, lines, where, text


def validation_problem(error: dict, where, *, ignore: tuple[str, ...] = ()):
    """A pydantic error as a :class:`~cosim.errors.Problem` at its ``file:line``.

    ``ignore``: location tokens that are not keys of the file (union tags). A problem
    under ``nodes.<name>`` names that node.
    """
    from ..errors import Problem
    loc = tuple(x for x in error["loc"] if not (isinstance(x, str) and (
        x.startswith("function-") or x in ignore)))
    node = loc[1] if len(loc) > 1 and loc[0] == "nodes" else None
    field = ".".join(str(x) for x in loc)
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r}"
    elif error["type"] == "missing":
        msg = f"missing required key {loc[-1]!r}"
    return Problem(f"{field}: {msg}" if field else msg, where(*loc), node)
