"""YAML with line numbers: every mapping key and list item remembers where it stood.

Every YAML file cosim reads goes through :func:`load`, which refuses what a hostile file
could do to a plain YAML loader, each with one :class:`~cosim.errors.ConfigError` at
``file:line``:

* aliases that expand to more than :data:`MAX_ALIAS_VALUES` values beyond those the
  file writes out (an "alias bomb": a few hundred bytes that expand to gigabytes);
* recursive aliases (an anchor used inside itself);
* nesting deeper than :data:`MAX_DEPTH` levels;
* tags other than the YAML core schema's (``!!python/object``, ``!custom``, ...).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..errors import ConfigError

Path_ = tuple[Any, ...]

#: Deepest nesting of mappings and lists accepted.
MAX_DEPTH = 64
#: Values that aliases may add beyond the ones written out in the file.
MAX_ALIAS_VALUES = 100_000
_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map",
                                             "seq", "timestamp"))


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e6`` and ``1.0e6`` as floats (YAML 1.2 does;
    PyYAML's YAML 1.1 rules would make them strings), and stops composing at
    :data:`MAX_DEPTH` levels (PyYAML's composer recurses: deep input would exhaust the
    Python stack)."""

    def compose_node(self, parent, index):
        depth = getattr(self, "_depth", 0) + 1
        if depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _TooDeep(mark)
        self._depth = depth
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth - 1


class _TooDeep(Exception):
    def __init__(self, mark):
        super().__init__(mark)
        self.mark = mark


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def load(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML; return the data and ``{path: line}`` (1-based) for every value.

    Malformed YAML raises ConfigError with the file, line and column; so do alias
    bombs, recursive aliases, too deep nesting and unsupported tags (module docstring).
    """
    try:
        root = yaml.compose(text, Loader=_Loader)
    except _TooDeep as err:
        raise ConfigError(f"nesting deeper than {MAX_DEPTH} levels (column "
                          f"{err.mark.column + 1}); cosim refuses such files",
                          file=file, line=err.mark.line + 1) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        raise ConfigError(f"malformed YAML{col}: {err.problem or err}", file=file,
                          line=line) from None
    except (yaml.YAMLError, RecursionError) as err:
        raise ConfigError(f"malformed YAML: {err}", file=file) from None
    lines: dict[Path_, int] = {}
    if root is None:
        return None, lines
    return _Converter(file, lines).convert(root, (), 1), lines


class _Converter:
    """Nodes to Python values, expanding aliases under a budget and refusing cycles."""

    def __init__(self, file: str, lines: dict[Path_, int]):
        self.file, self.lines = file, lines
        self.seen: set[int] = set()  # nodes converted at least once
        self.active: set[int] = set()  # nodes being converted (on the stack)
        self.extra = 0  # values produced by aliases (nodes converted again)

    def fail(self, node: yaml.Node, message: str, line: int | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, line=line or node.start_mark.line + 1)

    def convert(self, node: yaml.Node, path: Path_, site: int) -> Any:
        """``site``: the line of the innermost value written out in the file (not reached
        through an alias), where an alias bomb is reported."""
        key = id(node)
        if key in self.active:
            raise self.fail(node, "recursive alias: an anchor is used inside itself")
        if node.tag not in ALLOWED_TAGS:
            raise self.fail(node, f"unsupported tag {node.tag.replace(_CORE, '!!')!r}: "
                            "cosim reads plain YAML values only")
        if key in self.seen:
            self.extra += 1
            if self.extra > MAX_ALIAS_VALUES:
                raise self.fail(node, f"aliases expand to more than {MAX_ALIAS_VALUES} "
                                "values (an alias bomb?); write the values out or use "
                                "fewer aliases", site)
        else:
            site = node.start_mark.line + 1
        self.seen.add(key)
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node, self.file)
        self.active.add(key)
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path, site)
            return [self.convert(item, path + (i,), site) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(key)

    def _mapping(self, node: yaml.MappingNode, path: Path_, site: int) -> dict:
        out = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "mapping keys must be plain values")
            if key_node.tag not in ALLOWED_TAGS:
                raise self.fail(key_node, f"unsupported tag "
                                f"{key_node.tag.replace(_CORE, '!!')!r}")
            key = _scalar(key_node, self.file)
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r}")
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, path + (key,), site)
        return out


def _scalar(node: yaml.ScalarNode, file: str) -> Any:
    loader = _Loader("")
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as err:
        # e.g. !!int "abc", or a timestamp that is no date
        why = getattr(err, "problem", None) or err
        raise ConfigError(f"invalid {node.tag.replace(_CORE, '!!')} value {node.value!r}: "
                          f"{why}", file=file, line=node.start_mark.line + 1) from None
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
    elif "[key]" in error["loc"] and isinstance(error.get("input"), bool):
        msg = (f"key {error['input']!r} is not a name: YAML reads unquoted yes/no/on/off/"
               "true/false as booleans; quote the key ('on': ...)")
        field = ".".join(str(x) for x in loc[:max(0, loc.index("[key]") - 1)])
    return Problem(f"{field}: {msg}" if field else msg, where(*loc), node)


def validation_message(error: Exception) -> str:
    """A pydantic ``ValidationError`` (or any error) in one line: ``field: why; ...``,
    without pydantic's input dump and documentation links."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return str(error)
    parts = []
    for e in errors():
        field = ".".join(str(x) for x in e["loc"] if not str(x).startswith("function-"))
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {msg}" if field else msg)
    return "; ".join(parts)
