"""A topology written as an SSP 1.0 archive (``cosim export TOPOLOGY -o system.ssp``).

The archive holds:

* ``SystemStructure.ssd``: one root system; a component per node; connectors for every
  output and every connected input, typed, with units (``<ssd:Units>`` defines each);
  a connection per edge: gain/offset as ``ssc:LinearTransformation`` (applied after unit
  conversion, as in cosim), ``check_units: false`` as ``suppressUnitConversion``, a
  mapping table as ``Boolean``/``IntegerMappingTransformation``; start and stop in
  ``DefaultExperiment`` with the step as libcosim's ``osp:FixedStepAlgorithm``; a node's
  own step as ``osp:StepSizeHint``;
* ``resources/parameters.ssv``: every FMU parameter and start value the topology sets,
  as ``node.variable`` (bound on the root system), with its unit;
* ``resources/*.fmu``: each FMU once (nodes sharing an FMU share the entry);
* ``resources/cosim/``: the Python modules of blocks and the data files their parameters
  name (relative to the topology's folder), so the archive is self-contained.

Python blocks become components of type ``application/x-cosim-block`` with a ``cosim``
annotation (the block and its parameters, as JSON) that cosim reads back; other tools
see an unknown component, and the export warns. What only cosim understands (run
settings beyond start/stop/step, events, monitors, delayed connections, extrapolation)
goes into ``cosim`` annotations, with a warning where other tools would run the system
differently. Every XML file is validated against the SSP 1.0 XSDs before the archive
is written (atomically: a temporary file renamed into place).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import units
from .._version import __version__
from ..errors import ConfigError
from ..units import UnitDef, UnitError
from ..variables import BOOLEAN, INPUT, INTEGER, OUTPUT, REAL, STRING
from . import schema
from . import ssdwrite as w
from .build import COSIM_FILES
from .parse import BLOCK_TYPE, FMU_TYPE

SSV_NAME = "resources/parameters.ssv"
#: the SSP 1.0 type of each cosim variable kind (connectors and SSV values)
_SSP_TYPE = {REAL: "Real", INTEGER: "Integer", BOOLEAN: "Boolean", STRING: "String"}


@dataclass
class ExportReport:
    """What :func:`export` wrote, and what other tools will not see as cosim does."""

    path: Path
    entries: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _State:
    topology: Any
    report: Any  # the topology's CheckReport
    files: dict[str, Path] = field(default_factory=dict)  # archive entry -> file on disk
    fmus: dict[str, str] = field(default_factory=dict)  # FMU SHA-256 -> archive entry
    units: dict[str, UnitDef] = field(default_factory=dict)
    values: list = field(default_factory=list)  # (name, SSV type, value, unit)
    enums: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def export(topology, path: str | Path) -> ExportReport:
    """Write ``topology`` as an SSP 1.0 archive at ``path`` (see the module docstring).

    The topology is checked first (TopologyError listing every problem); the files are
    validated against the SSP XSDs (needs xmlschema: ``pip install cosim[ssp]``).
    """
    report = topology.check()
    report.raise_if_problems()
    state = _State(topology, report)
    state.values = _parameter_values(state)
    ssd = _ssd(state)
    documents = {"SystemStructure.ssd": (ssd, "ssd")}
    ssv = _ssv(state)
    if ssv is not None:
        documents[SSV_NAME] = (ssv, "ssv")
    _validate(documents)
    out = Path(path)
    entries = _write(out, {name: w.serialize(root) for name, (root, _) in documents.items()},
                     state.files)
    return ExportReport(out, entries, state.warnings)


# -- the SSD ----------------------------------------------------------------------------


def _generation() -> dict[str, str]:
    return {"generationTool": f"cosim {__version__}"}


def _ssd(state: _State):
    topo = state.topology
    root = w.element(None, w.SSD, "SystemStructureDescription",
                     {"version": "1.0", "name": topo.name, **_generation()}, nsmap=w.NSMAP)
    system = w.element(root, w.SSD, "System", {"name": topo.name,
                                               "description": _text(topo)})
    if state.values:
        bindings = w.element(system, w.SSD, "ParameterBindings")
        w.element(bindings, w.SSD, "ParameterBinding", {"source": SSV_NAME})
    elements = w.element(system, w.SSD, "Elements")
    for node in topo.nodes:
        _component(state, elements, node)
    connections = list(topo.connections())
    if connections:
        holder = w.element(system, w.SSD, "Connections")
        for c in connections:
            _connection(state, holder, c)
    w.enumerations(root, state.enums)
    w.units(root, w.SSD, state.units)
    _experiment(state, root)
    annotations = w.element(root, w.SSD, "Annotations")
    w.annotation(annotations, "cosim", w.COSIM, "Topology", "cosim", data=_topology_data(state))
    return root


def _text(topo) -> str | None:
    return topo.graph.graph.get("description") or None


def _topology_data(state: _State) -> dict:
    topo = state.topology
    events = [e.model_dump(mode="json", exclude_none=True) for e in topo.events]
    monitors = [m.model_dump(mode="json", exclude_none=True) for m in topo.monitors]
    if events or monitors:
        state.warnings.append(f"{len(events)} scheduled event(s) and {len(monitors)} "
                              "monitor(s) are kept in a cosim annotation; other tools run "
                              "without them")
    data = {"format": 1, "run": topo.run.model_dump(mode="json"), "events": events,
            "monitors": monitors}
    if _text(topo):
        data["description"] = _text(topo)
    return data


def _experiment(state: _State, root) -> None:
    run = state.topology.run
    exp = w.element(root, w.SSD, "DefaultExperiment", {"startTime": w.number(run.start),
                                                       "stopTime": w.number(run.stop)})
    annotations = w.element(exp, w.SSD, "Annotations")
    algorithm = w.annotation(annotations, "com.opensimulationplatform", w.OSP, "Algorithm",
                             "osp")
    w.element(algorithm, w.OSP, "FixedStepAlgorithm", {"baseStepSize": w.number(run.step)})


def _component(state: _State, elements, node: str) -> None:
    topo, info = state.topology, state.report.nodes[node]
    data = topo.graph.nodes[node]
    if data["kind"] == "fmu":
        source = _fmu_entry(state, node, info)
        comp = w.element(elements, w.SSD, "Component", {"name": node, "type": FMU_TYPE,
                                                        "source": source})
    else:
        spec, source = _block_source(state, node, data)
        comp = w.element(elements, w.SSD, "Component", {"name": node, "type": BLOCK_TYPE,
                                                        "source": source})
    if data.get("description"):
        comp.set("description", data["description"])
    _connectors(state, comp, node)
    annotations = None
    if data.get("step") is not None:
        annotations = w.element(comp, w.SSD, "Annotations")
        w.annotation(annotations, "com.opensimulationplatform", w.OSP, "StepSizeHint", "osp",
                     {"value": w.number(data["step"])})
    if data["kind"] == "block":
        annotations = annotations if annotations is not None else \
            w.element(comp, w.SSD, "Annotations")
        block = {"block": spec, "parameters": _bundled_parameters(state, node, data),
                 "start": dict(data["start"])}
        w.annotation(annotations, "cosim", w.COSIM, "Block", "cosim", data=block)
        state.warnings.append(f"{node}: a Python block ({spec}); other tools see an unknown "
                              f"component of type {BLOCK_TYPE}")


def _connectors(state: _State, comp, node: str) -> None:
    iface = state.report.nodes[node].interface
    driven = {c.target_var for c in state.topology.connections() if c.target_node == node}
    ports = [v for v in iface.outputs] + [v for v in iface.inputs if v.name in driven]
    order = {name: k for k, name in enumerate(iface.variables)}
    ports.sort(key=lambda v: order[v.name])
    if not ports:
        return
    holder = w.element(comp, w.SSD, "Connectors")
    for v in ports:
        kind = "output" if v.causality == OUTPUT else INPUT
        ssp_type, enum = _ssp_type(state, node, v)
        unit = _unit(state, node, v) if ssp_type == "Real" else None
        w.connector(holder, v.name, kind, ssp_type, unit, enum)


def _ssp_type(state: _State, node: str, v) -> tuple[str | None, str | None]:
    """The SSP 1.0 type element of a variable (None: left to the importer, for FMI 3's
    sized types, which SSP 1.0 cannot name)."""
    if v.fmi_type == "Enumeration":
        info = state.report.nodes[node].fmu
        fmi_var = next(x for x in info.description.modelVariables if x.name == v.name)
        declared = fmi_var.declaredType
        state.enums.setdefault(declared.name, {i.name: int(i.value) for i in declared.items})
        return "Enumeration", declared.name
    if v.fmi_type not in (None, "Real", "Float64", "Integer", "Int32", "Boolean", "String"):
        return None, None
    return _SSP_TYPE[v.kind], None


def _unit(state: _State, node: str, v) -> str | None:
    """The unit name for a connector or value, defined in the SSD's (and SSV's) units."""
    if not v.unit:
        return None
    try:
        d = units.define(v.unit_spec)
    except UnitError as err:
        state.warnings.append(f"{node}.{v.name}: unit {v.unit!r} left out ({err})")
        return None
    known = state.units.get(v.unit)
    if known is not None and (known.base, known.factor, known.offset) != (d.base, d.factor,
                                                                           d.offset):
        state.warnings.append(f"{node}.{v.name}: unit {v.unit!r} is defined differently by "
                              "another FMU; the first definition is written")
    state.units.setdefault(v.unit, UnitDef(v.unit, d.base, d.factor, d.offset))
    return v.unit


def _connection(state: _State, holder, c) -> None:
    el = w.element(holder, w.SSD, "Connection", {
        "startElement": c.source_node, "startConnector": c.source_var,
        "endElement": c.target_node, "endConnector": c.target_var,
        "suppressUnitConversion": None if c.check_units else "true"})
    target = state.report.nodes[c.target_node].interface[c.target_var]
    mapping = dict(c.mapping) if c.mapping is not None else None
    w.transformation(el, mapping, target.kind == BOOLEAN, c.gain, c.offset)
    extra = {k: v for k, v in (("delayed", c.delayed), ("extrapolation", c.extrapolation))
             if v}
    if extra:
        annotations = w.element(el, w.SSD, "Annotations")
        w.annotation(annotations, "cosim", w.COSIM, "Connection", "cosim", data=extra)
        state.warnings.append(f"{c}: {', '.join(f'{k} {v}' for k, v in extra.items())} is "
                              "kept in a cosim annotation; other tools connect it directly")


# -- files: FMUs, block modules, data -----------------------------------------------------


def _fmu_entry(state: _State, node: str, info) -> str:
    """The archive entry of a node's FMU: one per content (SHA-256), named after the
    file (``X-2.fmu`` when two different FMUs share a name)."""
    sha = info.fmu.sha256
    if sha in state.fmus:
        return state.fmus[sha]
    path = state.topology.fmu_path(node)
    stem, name, k = path.stem, f"resources/{path.name}", 2
    while name in state.files:
        name, k = f"resources/{stem}-{k}.fmu", k + 1
    state.files[name] = path
    state.fmus[sha] = name
    return name


def _bundle(state: _State, relative: Path, source: Path) -> str:
    name = f"{COSIM_FILES}/{relative.as_posix()}"
    state.files[name] = source
    return name


def _block_source(state: _State, node: str, data: dict) -> tuple[str, str]:
    """The block's spec (``pid``, ``module:Class``) and the component's source URI (the
    bundled module, or ``cosim:block/<spec>`` for a built-in block)."""
    source = data["source"]
    spec = source if isinstance(source, str) else f"{source.__module__}:{source.__qualname__}"
    if ":" not in spec:
        return spec, f"cosim:block/{spec}"
    where, _, _ = spec.rpartition(":")
    base = state.topology.base_dir.resolve()
    home = state.topology.node_dir(node).resolve()
    if where.endswith(".py") or "/" in where:
        candidate = Path(where) if Path(where).is_absolute() else home / where
    else:
        candidate = home / (where.replace(".", "/") + ".py")
    try:
        relative = candidate.resolve().relative_to(base)
    except ValueError:
        relative = None
    if relative is None or not candidate.is_file():
        state.warnings.append(f"{node}: the module of block {spec} is not in the topology's "
                              "folder and is not bundled; the importing side needs it on "
                              "its Python path")
        return spec, f"cosim:block/{spec}"
    _bundle_c_step(state, node, spec, relative, candidate)
    return spec, _bundle(state, relative, candidate)


def _bundle_c_step(state: _State, node: str, spec: str, relative: Path, module: Path
                   ) -> None:
    """The C file of the block's compiled step (``CStep``), beside its module."""
    from ..topology.interfaces import block_class
    try:
        c_step = getattr(block_class(state.topology, spec, node), "c_step", None)
    except ConfigError:
        return
    source = getattr(c_step, "source", None)
    if source is not None and not source.is_absolute() and (module.parent / source).is_file():
        _bundle(state, relative.parent / source, module.parent / source)


def _bundled_parameters(state: _State, node: str, data: dict) -> dict:
    """Block parameters; those naming a file in the topology's folder bundle the file."""
    base = state.topology.base_dir.resolve()
    home = state.topology.node_dir(node).resolve()
    params = dict(data["parameters"])
    for name, value in data["parameters"].items():
        if not isinstance(value, str) or not value or "\n" in value:
            continue
        candidate = Path(value) if Path(value).is_absolute() else home / value
        if not candidate.is_file():
            continue
        try:
            relative = candidate.resolve().relative_to(base)
        except ValueError:
            state.warnings.append(f"{node}.{name}: file {value} is outside the topology's "
                                  "folder and is not bundled")
            continue
        if not Path(value).is_absolute():
            _bundle(state, relative, candidate)
            if home != base:  # a node extends took over: its path from the topology's folder
                params[name] = relative.as_posix()
    return params


# -- the SSV ------------------------------------------------------------------------------


def _parameter_values(state: _State) -> list[tuple[str, str, Any, str | None]]:
    """``(name, SSV type, value, unit)`` of every FMU parameter and start value set."""
    values = []
    for node in state.topology.nodes:
        data = state.topology.graph.nodes[node]
        if data["kind"] != "fmu":
            continue
        iface = state.report.nodes[node].interface
        for var, value in [*data["parameters"].items(), *data["start"].items()]:
            v = iface[var]
            kind = _SSP_TYPE[v.kind]
            values.append((f"{node}.{var}", kind, value,
                           _unit(state, node, v) if kind == "Real" else None))
    return values


def _ssv(state: _State):
    if not state.values:
        return None
    used = {u for *_, u in state.values if u}
    defs = {name: d for name, d in state.units.items() if name in used}
    return w.parameter_set(state.topology.name, state.values, defs, _generation())


# -- validation and writing ---------------------------------------------------------------


def _validate(documents: dict) -> None:
    """Every file against its SSP 1.0 XSD; a deviation is cosim's bug, said as such."""
    try:
        found = {name: schema.errors(root, kind) for name, (root, kind) in documents.items()}
    except schema.SchemaUnavailable as err:
        raise ConfigError(f"cannot export SSP: {err}") from None
    bad = [f"{name}: {msg}" for name, errs in found.items() for _, msg in errs]
    if bad:
        raise ConfigError("the SSP cosim wrote does not validate against the SSP 1.0 schema "
                          "(a bug in cosim, please report it): " + "; ".join(bad[:5]))


def _write(out: Path, xml: dict[str, bytes], files: dict[str, Path]) -> list[str]:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in xml.items():
                zf.writestr(name, data)
            for name, path in sorted(files.items()):
                zf.write(path, name)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return [*xml, *sorted(files)]
