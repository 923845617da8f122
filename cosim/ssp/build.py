"""An SSP read into a :class:`cosim.Topology`: parse, flatten, compose, bind, check.

Everything the SSP itself gets wrong (a missing FMU, a connector the FMU does not have,
a kind or type that does not match the FMU's variable, an unknown unit, an unsupported
element, a parameter value that does not fit) is collected and raised at once as a
:class:`~cosim.errors.TopologyError`, each problem at ``file:line`` with the element.
What the topology's own check finds afterwards (units of different dimensions, loops,
...) is reported by ``check()`` as for any topology. Notes (what was read but ignored,
or interpreted) are kept in ``topology.graph.graph["notes"]``; ``cosim check`` prints
them.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from pydantic import ValidationError

from .. import units
from ..errors import CosimError, Problem, TopologyError
from ..fmu import description as fmu_description
from ..topology import RunSpec, Topology
from ..topology.schema import EventSpec, MonitorSpec
from ..units import UnitError
from ..variables import BOOLEAN, INTEGER, REAL, STRING
from . import archive, flatten, parse
from .bindings import Binder
from .flatten import Flat, Owner, Port, article
from .links import Link, compose
from .model import INTEGER_TYPES, REAL_TYPES, Connector, Description

COSIM_FILES = "resources/cosim"  # where cosim's export puts block modules and data files
_TYPE_KIND = {**dict.fromkeys(REAL_TYPES, REAL), **dict.fromkeys(INTEGER_TYPES, INTEGER),
              "Enumeration": INTEGER, "Boolean": BOOLEAN, "String": STRING}


class Builder:
    """Builds the topology of one parsed SSD."""

    def __init__(self, package: archive.Package, desc: Description):
        self.package, self.desc = package, desc
        self.flat = Flat()
        self.problems: list[Problem] = list(desc.problems)
        self.notes: list[str] = list(desc.notes)
        self.fmus: dict[tuple[str, ...], fmu_description.FMUInfo] = {}
        self.fmi_variables: dict[tuple[str, ...], dict] = {}  # owner path -> name -> fmpy var
        self.files: dict[tuple[str, ...], Path] = {}

    # -- what each port is ---------------------------------------------------------------

    def unit_spec(self, name: str | None, where: str):
        """A connector's unit: the SSD's definition, else the name read by pint."""
        if not name:
            return None
        if name in self.desc.units:
            return self.desc.units[name]
        units.define(name)  # UnitError if unknown
        self.notes.append(f"{where}: unit {name!r} is not defined in <ssd:Units> (SSP requires "
                          "it); read by name")
        return name

    def unit_of(self, port: Port):
        owner = self.flat.owners[port[0]]
        if owner.interface is not None:
            var = owner.interface.get(port[1])
            return (var.unit_spec, var.relative_quantity) if var is not None else (None, False)
        conn = owner.connectors.get(port[1])
        if conn is None or not conn.unit:
            return None, False
        return self.desc.units.get(conn.unit, conn.unit), False

    def enum_of(self, port: Port) -> dict[str, int] | None:
        owner = self.flat.owners[port[0]]
        if port[0] in self.fmus:
            var = self.fmi_variables[port[0]].get(port[1])
            declared = getattr(var, "declaredType", None) if var is not None else None
            items = getattr(declared, "items", None)
            return {i.name: int(i.value) for i in items} if items else None
        conn = owner.connectors.get(port[1])
        return self.desc.enumerations.get(conn.enumeration) if conn and conn.enumeration \
            else None

    def variable_of(self, owner: Owner, name: str):
        if owner.path not in self.fmus or owner.interface is None or name not in owner.interface:
            return None
        return owner.interface[name], self.fmi_variables[owner.path].get(name)

    def connector_of(self, owner: Owner, name: str) -> Connector | None:
        if name in owner.connectors:
            return owner.connectors[name]
        var = owner.interface.get(name) if owner.interface is not None else None
        if var is None:
            return None
        self.notes.append(f"{owner.element.where}: connector {name!r} of component "
                          f"{'.'.join(owner.path)!r} is not declared; taken from the FMU")
        conn = Connector(name, var.causality, owner.element.where)
        owner.connectors[name] = conn
        return conn

    # -- steps ---------------------------------------------------------------------------

    def build(self) -> Topology:
        flatten.owners(self.desc, self.flat)
        for owner in self.flat.components():
            self._component(owner)
        for owner in list(self.flat.owners.values()):
            self._check_connectors(owner)
        flatten.edges(self.flat, self.connector_of)
        links = self._links()
        self._root_inputs()
        binder = Binder(self.flat, self.unit_of, self.enum_of, self.variable_of)
        binder.apply_all()
        run = self._run()
        self.problems += self.flat.problems + binder.problems
        self.notes += self.flat.notes + binder.notes
        if self.problems:
            raise TopologyError(sorted(self.problems, key=_place))
        return self._topology(run, links, binder.assignments)

    def _component(self, owner: Owner) -> None:
        comp = owner.element
        if comp.source is None or comp.type != parse.FMU_TYPE:
            return
        try:
            name = self.package.resolve(comp.source, self.package.ssd)
        except ValueError as err:
            self.problems.append(Problem(f"component {comp.name!r}: {err}", comp.where))
            return
        if not self.package.has(name):
            self.problems.append(Problem(f"component {comp.name!r}: its FMU {name!r} is not "
                                         f"{self._in_package(name)}", comp.where))
            return
        path = self.package.file(name)
        try:
            info = fmu_description.read(path)
        except CosimError as err:
            text = str(err).replace(str(path), self.package.source(name).shown)
            self.problems.append(Problem(f"component {comp.name!r}: {text}", comp.where))
            return
        self.fmus[owner.path], self.files[owner.path] = info, path
        self.fmi_variables[owner.path] = {  # by name (the first of a name wins)
            v.name: v for v in reversed(info.description.modelVariables)}
        owner.interface = info.interface

    def _in_package(self, name: str) -> str:
        folder = self.package.file(name).parent
        if self.package.archive:
            there = sorted(p.name for p in folder.glob("*.fmu")) if folder.is_dir() else []
            return f"in the archive (FMUs beside it: {', '.join(there) or 'none'})"
        return f"found (looked for {self.package.file(name)})"

    def _check_connectors(self, owner: Owner) -> None:
        for conn in list(owner.connectors.values()):
            try:
                spec = self.unit_spec(conn.unit, conn.where)
            except UnitError as err:
                self.problems.append(Problem(f"connector {conn.name!r}: unknown unit "
                                             f"{conn.unit!r}: {err}", conn.where))
                continue
            if owner.interface is not None:
                self._against_fmu(owner, conn, spec)

    def _against_fmu(self, owner: Owner, conn: Connector, spec) -> None:
        var = owner.interface.get(conn.name)
        label = f"connector {conn.name!r} of component {'.'.join(owner.path)!r}"
        if var is None:
            close = difflib.get_close_matches(conn.name, list(owner.interface.variables), 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.problems.append(Problem(f"{label}: the FMU has no variable {conn.name!r}"
                                         f"{hint}", conn.where))
            return
        if conn.kind not in ("unspecified", var.causality):
            self.problems.append(Problem(f"{label}: kind {conn.kind!r} does not match the FMU "
                                         f"variable's causality {var.causality!r}", conn.where))
        if conn.type is not None and not _same_type(conn.type, var):
            self.problems.append(Problem(f"{label}: mismatched types: the connector is "
                                         f"{conn.type} but the FMU variable is "
                                         f"{var.fmi_type or var.kind}", conn.where))
        if spec is not None and var.unit:
            try:
                same = units.conversion(spec, var.unit_spec) == (1.0, 0.0)
            except UnitError:
                same = False
            if not same:
                self.problems.append(Problem(f"{label}: the connector's unit {conn.unit!r} is "
                                             f"not the FMU variable's unit {var.unit!r}",
                                             conn.where))

    def _links(self) -> list[tuple[flatten.Path, Link]]:
        out = []
        for path in flatten.paths(self.flat):
            source = self.connector_of(self.flat.owners[path.source[0]], path.source[1])
            target = self.connector_of(self.flat.owners[path.target[0]], path.target[1])
            where = path.edges[0].connection.where
            if source.kind not in ("output", "unspecified"):
                self.problems.append(Problem(
                    f"{'.'.join(path.source[0])}.{source.name} is {article(source.kind)}: cosim "
                    "connects outputs to inputs (parameters are set by bindings)", where))
                continue
            if target.kind not in ("input", "unspecified"):
                self.problems.append(Problem(
                    f"{'.'.join(path.target[0])}.{target.name} is {article(target.kind)}, not an "
                    "input", path.edges[-1].connection.where))
                continue
            link, problem = compose(path, self.unit_of, self.enum_of)
            if problem is not None:
                self.problems.append(problem)
            else:
                out.append((path, link))
        return out

    def _root_inputs(self) -> None:
        root = self.flat.owners[()]
        for conn in root.connectors.values():
            if conn.kind == "input" and self.flat.outgoing.get(((), conn.name)):
                self.notes.append(f"{conn.where}: input {conn.name!r} of the root system is "
                                  "driven by nothing in cosim: the inputs it feeds keep their "
                                  "start values")

    # -- run settings --------------------------------------------------------------------

    def _run(self) -> RunSpec | None:
        desc = self.desc
        if "run" in desc.cosim:  # cosim's own settings; the standard's places win
            given = {k: v for k, v in (("start", desc.start), ("stop", desc.stop),
                                       ("step", desc.step)) if v is not None}
            try:
                return RunSpec.model_validate({**desc.cosim["run"], **given})
            except ValidationError as err:
                self.problems.append(Problem(f"cosim run settings: {err}", desc.where))
                return None
        start = desc.start if desc.start is not None else 0.0
        experiments = [i.description.defaultExperiment for i in self.fmus.values()
                       if i.description.defaultExperiment is not None]
        stop, step = desc.stop, desc.step
        if stop is None:
            stops = [float(e.stopTime) for e in experiments if e.stopTime]
            stop = max(stops) if stops else start + 1.0
            self.notes.append(f"{desc.where}: no stopTime in <ssd:DefaultExperiment>; stop "
                              f"{stop:g} s ({'the FMUs' if stops else 'default'})")
        if step is None and desc.system.step is not None:
            step = desc.system.step
        if step is None:
            steps = [float(e.stepSize) for e in experiments if e.stepSize]
            step = min(steps) if steps else (stop - start) / 500
            self.notes.append(f"{desc.where}: no step-size annotation; step {step:g} s "
                              f"({'the smallest FMU default step' if steps else '1/500 of the run'}"
                              ")")
        for sub in self._systems():
            if sub.step is not None and sub is not desc.system:
                self.notes.append(f"{sub.where}: the step of system {sub.name!r} is ignored "
                                  "(cosim steps all systems with the root's step)")
        try:
            return RunSpec(start=start, stop=stop, step=step)
        except ValidationError as err:
            self.problems.append(Problem(f"run settings: {err.errors()[0]['msg']}", desc.where))
            return None

    def _systems(self):
        return [o.element for o in self.flat.owners.values() if o.is_system]

    # -- the topology --------------------------------------------------------------------

    def _topology(self, run, links, assignments) -> Topology:
        desc, pkg = self.desc, self.package
        base = pkg.root / COSIM_FILES if (pkg.root / COSIM_FILES).is_dir() else pkg.root
        topo = Topology(desc.name or pkg.path.stem, description=desc.cosim.get("description", ""),
                        base_dir=base, source=str(pkg.path), run=run)
        by_node: dict[str, list] = {}
        for (node, var), a in assignments.items():
            by_node.setdefault(node, []).append((var, a))
        for owner in self.flat.components():
            self._node(topo, owner, by_node.get(owner.node, []))
        for path, link in links:
            c = path.edges[-1].connection
            extra = {k: c.cosim[k] for k in ("delayed", "extrapolation") if k in c.cosim}
            topo.connect(f"{self.flat.owners[path.source[0]].node}.{path.source[1]}",
                         f"{self.flat.owners[path.target[0]].node}.{path.target[1]}",
                         gain=link.gain, offset=link.offset, check_units=link.check_units,
                         mapping=link.mapping, where=c.where, **extra)
        for event in desc.cosim.get("events", []):
            spec = EventSpec.model_validate(event)
            topo.add_event(spec.at, spec.set, spec.value, until=spec.until, name=spec.name,
                           where=desc.where)
        for monitor in desc.cosim.get("monitors", []):
            spec = MonitorSpec.model_validate(monitor)
            topo.add_monitor(spec.when, action=spec.action, set=spec.set, value=spec.value,
                             name=spec.name, where=desc.where)
        topo.graph.graph["notes"] = self.notes
        topo.graph.graph["ssp"] = {"version": desc.version, "package": str(pkg.path),
                                   "root": str(pkg.root)}
        return topo

    def _node(self, topo: Topology, owner: Owner, assignments: list) -> None:
        """Add ``owner``'s node with its ``(variable, Assignment)`` pairs."""
        comp = owner.element
        parameters, start, located = {}, {}, {}
        block = comp.block or {}
        parameters.update(block.get("parameters", {}))
        start.update(block.get("start", {}))
        for var, a in assignments:
            (start if a.start else parameters)[var] = a.value
            located[var] = a.where
        if comp.type == parse.BLOCK_TYPE:
            topo.add_block(owner.node, block.get("block", ""), parameters=parameters,
                           start=start, step=comp.step, where=comp.where,
                           description=comp.description)
        else:
            topo.add_fmu(owner.node, self.files[owner.path], parameters=parameters, start=start,
                         step=comp.step, where=comp.where, description=comp.description)
        topo.graph.nodes[owner.node]["param_where"] = {
            k: v for k, v in located.items() if k in parameters}


def _place(problem: Problem) -> tuple[str, int]:
    """Sort key: file, then line (problems read in the order of the files)."""
    file, _, line = problem.where.rpartition(":")
    return (file, int(line)) if line.isdigit() else (problem.where, 0)


def _same_type(ssp_type: str, var) -> bool:
    if ssp_type == "Enumeration" or var.fmi_type == "Enumeration":
        return ssp_type == var.fmi_type == "Enumeration"
    return _TYPE_KIND.get(ssp_type) == var.kind


def load(path: str | Path, limits: archive.Limits | None = None) -> Topology:
    """Read an ``.ssp`` or ``.ssd`` into a topology (see :mod:`cosim.ssp`)."""
    package = archive.open_package(path, limits)
    return Builder(package, parse.read(package)).build()
