"""Every problem of a topology file in one round, even when its schema fails.

Pydantic reports all field errors of a file at once, but a model's own checks (a
negative ``run.step``) run only once its fields are valid, and the checks of the built
topology (a missing FMU, an unknown variable) only once the whole file is. So a file
with an unknown key, a negative step and a missing FMU would take three rounds of
``cosim check``. Instead, :func:`beyond_schema` removes each faulty entry from (a copy
of) the data and validates again — for a few rounds, as long as removals make progress
— then builds the topology from what is left and checks it, reporting every problem
found on the way except the consequences of the removals themselves (a node that needs
exactly one of ``fmu``/``block`` after its bad ``fmu`` value was removed, connections
to a removed node).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..errors import CosimError, Problem
from . import yamlio

MAX_ROUNDS = 8


class _Pruned:
    """A copy of the data with entries removed; locations are translated back to the
    original data's (list items shift when an earlier one is removed)."""

    def __init__(self, data: dict):
        self.data = copy.deepcopy(data)
        self.index: dict[tuple, list[int]] = {}  # list path -> original index per item
        self.removed: list[tuple[tuple, bool]] = []  # (original loc, may have consequences)

    def resolve(self, loc: tuple) -> tuple:
        """The part of a pydantic ``loc`` that exists in the current data, translated to
        original list indices (pydantic adds tokens such as union tags and ``[key]``)."""
        node: Any = self.data
        out: list = []
        for token in loc:
            if isinstance(node, dict) and token in node:
                node = node[token]
                out.append(token)
            elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
                node = node[token]
                out.append(self._original_index(tuple(out), token))
            elif isinstance(node, (dict, list)):
                continue  # a token that is no key of the file
            else:
                break
        return tuple(out)

    def _original_index(self, path: tuple, current: int) -> int:
        mapping = self.index.get(path)
        return mapping[current] if mapping is not None else current

    def remove(self, loc: tuple, consequential: bool) -> bool:
        """Remove the entry at the original location ``loc``; False if there is none."""
        if not loc:
            return False
        node: Any = self.data
        for depth, token in enumerate(loc):
            path = loc[:depth]
            if isinstance(node, list):
                mapping = self.index.setdefault(path, list(range(len(node))))
                if token not in mapping:
                    return False
                token = mapping.index(token)
            last = depth == len(loc) - 1
            if last:
                if isinstance(node, list):
                    del node[token]
                    del self.index[path][token]
                else:
                    node.pop(token)
                self.removed.append((loc, consequential))
                return True
            node = node[token]
        return False

    def is_consequence(self, loc: tuple) -> bool:
        """A problem at ``loc`` follows from an earlier removal at or below it."""
        return any(removed[:len(loc)] == loc for removed, consequential in self.removed
                   if consequential)

    def removed_nodes(self) -> set[str]:
        return {loc[1] for loc, _ in self.removed if len(loc) == 2 and loc[0] == "nodes"}


def beyond_schema(data: dict, error: ValidationError, where: Callable[..., str],
                  build: Callable) -> list[Problem]:
    """Problems besides those of ``error`` (the schema's first round, already reported).

    ``build(spec, where)`` makes the topology from a validated spec (the loader's steps:
    the graph, ``parameters_from``), with ``where`` translated to the original file.
    """
    from .schema import TopologySpec
    pruned = _Pruned(data)
    for e in error.errors():
        pruned.remove(pruned.resolve(e["loc"]), e["type"] != "extra_forbidden")
    problems: list[Problem] = []
    for _ in range(MAX_ROUNDS):
        try:
            spec = TopologySpec.model_validate(pruned.data)
            break
        except ValidationError as err:
            progress = False
            for e in err.errors():
                loc = pruned.resolve(e["loc"])
                if not pruned.is_consequence(loc):
                    problems.append(yamlio.validation_problem({**e, "loc": loc}, where))
                progress |= pruned.remove(loc, e["type"] != "extra_forbidden")
            if not progress:
                return problems
    else:
        return problems
    try:
        topo = build(spec, lambda *loc: where(*_original(pruned, loc)))
        report = topo.check()
    except CosimError:  # what is left cannot even be built: the problems so far
        return problems
    gone = pruned.removed_nodes()
    return problems + [p for p in report.problems if p.node not in gone]


def _original(pruned: _Pruned, loc: tuple) -> tuple:
    out = []
    for token in loc:
        path = tuple(out)
        if isinstance(token, int) and path in pruned.index:
            token = pruned.index[path][token] if token < len(pruned.index[path]) else token
        out.append(token)
    return tuple(out)
