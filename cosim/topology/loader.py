"""Load a topology file into a :class:`~cosim.topology.graph.Topology`.

Every schema problem is reported at once, each with ``file:line``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..errors import ConfigError, Problem, TopologyError
from . import parameters, yamlio
from .graph import Topology
from .schema import TopologySpec


def load(path: str | Path, _seen: tuple = ()) -> Topology:
    """Read a topology file (YAML or JSON; an ``.fmu``: a one-node topology around it; or
    an SSP: ``.ssp``/``.ssd``, see :mod:`cosim.ssp`); raise ConfigError/TopologyError if
    invalid.

    ``extends: base.yaml`` (relative to the file) starts from another topology: its run
    settings are updated key by key, its nodes and clusters replaced by name, and connections,
    events and monitors appended. The base's FMU and surrogate paths are rebased onto this
    file's folder; a block node taken over unchanged keeps the base's folder for its
    relative paths (data files, ``file.py:Class`` and ``module:Class`` modules; see
    :meth:`~cosim.topology.graph.Topology.node_dir`).
    ``parameters_from`` files (relative to the file) are applied under the nodes' own
    ``parameters:`` (see :mod:`cosim.topology.parameters`).
    """
    p = Path(path)
    if p.suffix.lower() == ".fmu":
        from .single import around_fmu
        return around_fmu(p)
    if p.suffix.lower() in (".ssp", ".ssd"):  # SSP: its own package, on top of this one
        from ..ssp import load as load_ssp
        return load_ssp(p)
    data, lines, where, _ = yamlio.read_mapping(
        p, "topology file", "'nodes' (and usually 'run' and 'connections')")
    return from_mapping(data, p, where, yamlio.line_of(lines, ("extends",)), _seen)


def from_mapping(data: dict, path: str | Path, where=None, extends_line: int | None = None,
                 _seen: tuple = ()) -> Topology:
    """A topology from the content of a topology file, as if it were written at ``path``
    (relative paths, ``extends`` and blocks resolve from its folder), e.g. a topology
    embedded in another file. ``where(*loc)`` gives ``file:line`` for a location in
    ``data``."""
    p = Path(path)
    shown = str(path)
    where = where or (lambda *loc: shown)
    bases: tuple[Path, ...] = ()
    homes: dict[str, Path] = {}
    if "extends" in data:
        data, bases, homes = _extend(p, data, shown, extends_line, _seen)

    def build(spec: TopologySpec, where) -> Topology:
        topo = Topology.from_spec(spec, base_dir=p.resolve().parent, source=shown,
                                  where=where)
        topo.graph.graph["extends_files"] = bases  # inputs too (cosim.output_guard)
        for name, home in homes.items():
            if name in topo.graph and home != topo.base_dir:
                topo.graph.nodes[name]["home"] = home
        _parameters_from(topo, p, spec.parameters_from, where)
        return topo

    try:
        spec = TopologySpec.model_validate(data)
    except ValidationError as err:  # report the later stages' problems in the same round
        from .salvage import beyond_schema
        raise TopologyError([yamlio.validation_problem(e, where) for e in err.errors()]
                            + beyond_schema(data, err, where, build)) from None
    return build(spec, where)


def _parameters_from(topo: Topology, path: Path, files: list[str], where) -> None:
    """Apply the ``parameters_from`` files: a later file overrides an earlier one, the
    nodes' own ``parameters:`` override them all. Problems join the topology's."""
    problems = topo.graph.graph["problems"]
    merged: dict[str, parameters.ParameterValue] = {}
    for i, name in enumerate(files):
        try:
            values = parameters.read_file(path.parent / name)
        except TopologyError as err:
            problems.extend(err.problems)
            continue
        except ConfigError as err:
            problems.append(Problem(f"parameters_from: {err}", where("parameters_from", i)))
            continue
        merged.update({v.key: v for v in values})
    problems.extend(parameters.assign(topo, list(merged.values()), override=False))


def _extend(path: Path, data: dict, shown: str, line, seen: tuple
            ) -> tuple[dict, tuple[Path, ...], dict[str, Path]]:
    """The merged data, the files it was merged from (the base first), and the folders of
    the block nodes taken over unchanged (their relative paths resolve from there)."""
    base_path = (path.resolve().parent / str(data["extends"])).resolve()
    if base_path in seen or base_path == path.resolve():
        raise ConfigError(f"'extends' forms a cycle through {base_path.name}", file=shown,
                          line=line)
    try:
        base = load(base_path, seen + (path.resolve(),))
    except ConfigError as err:
        raise ConfigError(f"in the topology it extends ({data['extends']}): {err}",
                          file=shown, line=line) from None
    spec = base.to_spec(relative_to=path.resolve().parent, keep_homes=True
                        ).model_dump(by_alias=True)
    merged = dict(spec)
    merged.pop("extends", None)
    for key, value in data.items():
        if key == "extends":
            continue
        if key == "run":
            merged["run"] = {**spec["run"], **value}
        elif key in ("nodes", "clusters"):
            merged[key] = {**(spec.get(key) or {}), **(value or {})}
        elif key in ("connections", "events", "monitors"):
            merged[key] = list(spec.get(key) or []) + list(value or [])
        else:
            merged[key] = value
    restated = set(data.get("nodes") or {})
    homes = {n: base.node_dir(n) for n, d in base.graph.nodes(data=True)
             if d["kind"] == "block" and not d.get("surrogate") and n not in restated}
    return merged, (base_path, *base.graph.graph.get("extends_files", ())), homes
