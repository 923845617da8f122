"""Parameter values from files and overrides, each remembering where it came from.

A parameter file (YAML, read by :mod:`cosim.topology.yamlio`, so ``3.03e5`` and
``1e-3`` are numbers)::

    rack1.C_cpu: 3.03e5                      # node.parameter: value
    rack1.G_cpu: {value: 0.5, unit: kW/K}    # a value in another unit: converted
    cooler:                                  # or grouped by node
      T0: {value: 20, unit: degC}

A value with a ``unit`` is converted into the parameter's own unit (the FMU's or the
block's declaration); a parameter without a unit takes no ``unit``.

Where values come from, lowest priority first (a later source overrides an earlier):

1. the model's defaults (FMU start values of parameters, block ``Param`` defaults);
2. the topology's ``parameters_from:`` files, in the order listed;
3. the node's own ``parameters:`` in the topology file;
4. ``cosim run --params FILE`` (or ``cosim.run(..., parameters=...)``);
5. ``cosim run --param node.name=value``.

Each node keeps ``param_where`` (parameter -> ``file:line`` or ``--param ...``), so a
value that does not fit its parameter is reported where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import units
from ..errors import CosimError, Problem, TopologyError
from ..units import UnitError
from . import yamlio

_QUANTITY_KEYS = {"value", "unit"}


@dataclass(frozen=True)
class ParameterValue:
    """``node.name = value`` (in ``unit`` when given), written at ``where``."""

    node: str
    name: str
    value: Any
    unit: str | None = None
    where: str = ""

    @property
    def key(self) -> str:
        return f"{self.node}.{self.name}"


def read_file(path: str | Path) -> list[ParameterValue]:
    """The values of a parameter file; ConfigError if unreadable, TopologyError listing
    every malformed entry (file:line)."""
    data, _, where, _ = yamlio.read_mapping(path, "parameter file",
                                            "node.parameter: value entries")
    values: list[ParameterValue] = []
    problems: list[Problem] = []
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            problems.append(Problem(f"{key!r} is not node.parameter", where(key)))
        elif "." in key:
            node, _, name = key.partition(".")
            _add(values, problems, node, name, value, where, (key,))
        elif isinstance(value, dict):
            for name, item in value.items():
                _add(values, problems, key, str(name), item, where, (key, name))
        else:
            problems.append(Problem(f"{key!r} is not node.parameter (or a node holding "
                                    "parameter: value entries)", where(key), key))
    if problems:
        raise TopologyError(problems)
    return values


def _add(values, problems, node: str, name: str, raw: Any, where, loc: tuple) -> None:
    try:
        value, unit = quantity(raw)
    except ValueError as err:
        problems.append(Problem(str(err), where(*loc), node, name))
        return
    values.append(ParameterValue(node, name, value, unit, where(*loc)))


def quantity(raw: Any) -> tuple[Any, str | None]:
    """``raw`` or ``{value: v, unit: u}`` as ``(value, unit or None)``; ValueError if bad.

    Any other mapping is a plain value (block parameters may be mappings).
    """
    if not (isinstance(raw, dict) and "value" in raw and set(raw) <= _QUANTITY_KEYS):
        return raw, None
    value, unit = raw["value"], raw.get("unit")
    if unit is not None and (not isinstance(unit, str) or not unit.strip()):
        raise ValueError(f"unit must be a text such as 'degC', got {unit!r}")
    if unit is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"value {value!r} with unit {unit!r} must be a number")
    return value, unit


def from_mapping(values: dict[str, Any], where: str = "") -> list[ParameterValue]:
    """``{"node.name": value or {value, unit}}`` as values; TopologyError if malformed.

    ``where`` names the source in messages (``"--param"``, ``"case.yaml:7"``).
    """
    out, problems = [], []
    for key, raw in values.items():
        node, _, name = str(key).partition(".")
        if not node or not name:
            problems.append(Problem(f"parameter override {key!r} is not node.name", where))
            continue
        try:
            value, unit = quantity(raw)
        except ValueError as err:
            problems.append(Problem(str(err), where, node, name))
            continue
        out.append(ParameterValue(node, name, value, unit, where))
    if problems:
        raise TopologyError(problems)
    return out


def assign(topology, values: list[ParameterValue], *, override: bool = True
           ) -> list[Problem]:
    """Set each value on its node; return the problems (unknown node, unit).

    ``override=False`` keeps parameters the node already sets (the topology's own
    ``parameters:`` win over its ``parameters_from`` files). Values with a unit are
    converted into the parameter's unit.
    """
    problems: list[Problem] = []
    for pv in values:
        if pv.node not in topology.graph:
            known = ", ".join(sorted(topology.graph.nodes)) or "none"
            problems.append(Problem(f"no node {pv.node!r} (nodes: {known})", pv.where,
                                    pv.node, pv.name))
            continue
        data = topology.graph.nodes[pv.node]
        if not override and pv.name in data["parameters"]:
            continue
        value = pv.value
        if pv.unit is not None:
            try:
                value = _converted(topology, pv)
            except (UnitError, ValueError) as err:
                problems.append(Problem(f"value {pv.value!r} {pv.unit}: {err}", pv.where,
                                        pv.node, pv.name))
                continue
        data["parameters"][pv.name] = value
        data.setdefault("param_where", {})[pv.name] = pv.where
    return problems


def apply(topology, values: list[ParameterValue], *, override: bool = True) -> None:
    """:func:`assign`, raising TopologyError with every problem."""
    problems = assign(topology, values, override=override)
    if problems:
        raise TopologyError(problems)


def apply_later(topology, values: list[ParameterValue]) -> None:
    """:func:`assign`; its problems join the topology's, so that ``check()`` reports
    them with every other problem."""
    topology.graph.graph["problems"].extend(assign(topology, values))


def _converted(topology, pv: ParameterValue) -> float:
    """``pv.value`` from ``pv.unit`` into the parameter's declared unit."""
    unit = declared_unit(topology, pv.node, pv.name)
    if unit is None:
        raise ValueError(f"value given in {pv.unit!r}, but the parameter has no unit; "
                         "give the plain number")
    return float(units.convert(float(pv.value), pv.unit, unit))


def declared_unit(topology, node: str, name: str):
    """The unit (definition or name) a node declares for its parameter ``name``."""
    from .interfaces import block_class
    data = topology.graph.nodes[node]
    try:
        if data["kind"] == "fmu":
            from ..fmu import description
            var = description.read(topology.fmu_path(node)).interface.get(name)
            return var.unit_spec if var is not None else _unknown(node, name)
        spec = block_class(topology, data["source"], node).parameters.get(name)
    except UnitError:
        raise
    except CosimError as err:
        raise ValueError(f"cannot read the parameter's unit: {err}") from None
    return spec.unit if spec is not None else _unknown(node, name)


def _unknown(node: str, name: str):
    raise ValueError(f"{node} has no parameter {name!r}")


def sources(topology, node: str) -> dict[str, str]:
    """Where each parameter set on ``node`` came from: ``file:line``, an option such as
    ``--param ...``, or ``"topology"`` (set in Python)."""
    data = topology.graph.nodes[node]
    located = data.get("param_where", {})
    return {k: located.get(k) or data.get("where") or "topology" for k in data["parameters"]}


def used(topology, infos: dict, nodes: list[str]
         ) -> tuple[dict[str, tuple[Any, str | None]], dict[str, str]]:
    """Every parameter value a run uses, defaults included, for provenance.

    Returns ``{"node.name": (value, unit)}`` (the values set on the node, then the
    model's defaults: FMU start values of parameters, block ``Param`` values) and
    ``{"node.name": source}`` (``file:line`` or option where set, ``"default"``).
    Parameters without a value (no start) are left out.
    """
    values: dict[str, tuple[Any, str | None]] = {}
    where: dict[str, str] = {}
    for node in nodes:
        data, iface = topology.graph.nodes[node], infos[node].interface
        given, located = data["parameters"], sources(topology, node)
        for key, value in given.items():
            var = iface.get(key)
            values[f"{node}.{key}"] = (value, var.unit if var else None)
            where[f"{node}.{key}"] = located[key]
        for var in iface.parameters:  # ('/' cannot name an HDF5 dataset: left out)
            if var.name not in given and var.start is not None and "/" not in var.name:
                values[f"{node}.{var.name}"] = (var.start, var.unit)
                where[f"{node}.{var.name}"] = "default"
    return values, where
