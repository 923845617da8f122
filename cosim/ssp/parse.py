"""Read an SSD (and the SSV/SSM files its bindings name) into :mod:`cosim.ssp.model`.

What cannot be used becomes a problem naming the file, the line and the element; what
is read but has no effect on a cosim run (geometry, notes, unknown annotations, meta
data) becomes a note, except pure graphics (geometry and graphical elements), which
never change a simulation and are skipped without a word.

Run settings come from ``DefaultExperiment`` (start, stop) and the step-size
annotations other tools write, in this order of preference: libcosim's
``<osp:Algorithm><osp:FixedStepAlgorithm baseStepSize=.../>`` on the default experiment
(``type="com.opensimulationplatform"``); OMSimulator's ``<oms:SimulationInformation>
<oms:FixedStepMaster stepSize=.../>`` on the root system (``type="org.openmodelica"``;
a ``VariableStepMaster``'s ``initialStepSize``, with a note); the FMUs' default
experiments (see :mod:`cosim.ssp.build`). cosim's own annotation adds what SSP has no
place for (algorithm, recording, display units, ...). A component's
``<osp:StepSizeHint value=.../>`` becomes its node's own step.
"""

from __future__ import annotations

import json

from ..errors import ConfigError, Problem
from . import schema, transformations, values, xmlio
from .archive import Package
from .model import (
    TYPES,
    Binding,
    Component,
    Connection,
    Connector,
    Description,
    ParameterSet,
    System,
)

FMU_TYPE = "application/x-fmu-sharedlibrary"
BLOCK_TYPE = "application/x-cosim-block"
PARAMETER_SET_TYPE = "application/x-ssp-parameter-set"
PARAMETER_MAPPING_TYPE = "application/x-ssp-parameter-mapping"
KINDS = ("input", "output", "parameter", "calculatedParameter", "inout", "local",
         "constant", "structuralParameter", "unspecified")
GRAPHICS = ("ElementGeometry", "SystemGeometry", "GraphicalElements", "ConnectorGeometry",
            "ConnectionGeometry")
ANNOTATION_TYPES = {"cosim": xmlio.COSIM, "com.opensimulationplatform": xmlio.OSP,
                    "org.openmodelica": xmlio.OMS}


class Reader:
    """Reads one SSD of a package; collects problems and notes on the description."""

    def __init__(self, package: Package):
        self.package = package
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.version = ""

    # -- reporting -----------------------------------------------------------------------

    def problem(self, message: str, where: str) -> None:
        self.problems.append(Problem(message, where))

    def note(self, message: str, where: str) -> None:
        self.notes.append(f"{where}: {message}" if where else message)

    def unexpected(self, element, parent, src: xmlio.Source) -> None:
        if xmlio.local(element) in GRAPHICS and xmlio.namespace(element) == xmlio.SSD:
            return
        if xmlio.local(element) in ("MetaData", "Signature"):
            self.note(f"{xmlio.describe(element)} in {xmlio.describe(parent)} ignored "
                      "(cosim does not use meta data or signatures)", src.at(element))
            return
        self.note(f"{xmlio.describe(element)} in {xmlio.describe(parent)} ignored (not an "
                  "element cosim reads)", src.at(element))

    # -- files ---------------------------------------------------------------------------

    def document(self, name: str, kind: str):
        """Parse and validate one XML file of the package; ``(root, source)``."""
        src = self.package.source(name)
        root = xmlio.parse(self.package.read(name), src)
        self.validate(root, kind, src)
        return root, src

    def validate(self, element, kind: str, src: xmlio.Source) -> None:
        """Schema deviations of a 1.x file become notes (tools often write files that
        deviate a little; cosim reads what it understands and says what it did not)."""
        version = element.get("version", self.version)
        if not version.startswith("1."):
            return
        found = schema.quick_errors(element, kind)
        for line, message in found[:10]:
            self.note(f"does not conform to the SSP 1.0 schema: {message}",
                      src.at(line=line or element.sourceline))
        if len(found) > 10:
            self.note(f"... and {len(found) - 10} more schema deviations", src.shown)

    # -- the description -----------------------------------------------------------------

    def read(self) -> Description:
        root, src = self.document(self.package.ssd, "ssd")
        if root.tag != xmlio.tag(xmlio.SSD, "SystemStructureDescription"):
            raise ConfigError(f"not an SSD: the root element is {xmlio.describe(root)}, not "
                              "<ssd:SystemStructureDescription>", file=src.shown,
                              line=root.sourceline)
        self.version = root.get("version", "")
        if not (self.version.startswith("1.") or self.version.startswith("2.")):
            self.problem(f"{xmlio.describe(root)}: version {self.version!r} is not SSP 1.x "
                         "or 2.x", src.at(root))
        elif self.version.startswith("2."):
            self.note(f"SSP {self.version}: read by cosim's reader, which reports every "
                      "element it does not support (the SSP 2.0 XSDs are not shipped, so "
                      "the file is not validated against them)", src.at(root))
        system_el = xmlio.child(root, xmlio.SSD, "System")
        if system_el is None:
            raise ConfigError("the SSD has no <ssd:System>", file=src.shown,
                              line=root.sourceline)
        desc = Description(root.get("name", ""), self.version, src.at(root),
                           self.system(system_el, src))
        for el in xmlio.children(root):
            self._top(el, root, src, desc)
        desc.problems, desc.notes = self.problems, self.notes
        return desc

    def _top(self, el, root, src: xmlio.Source, desc: Description) -> None:
        name = xmlio.local(el)
        if name == "System" or xmlio.namespace(el) != xmlio.SSD:
            if name != "System":
                self.unexpected(el, root, src)
            return
        if name == "Units":
            desc.units, found = values.read_units(el, src)
            self.problems.extend(found)
        elif name == "Enumerations":
            desc.enumerations, found = values.read_enumerations(el, src)
            self.problems.extend(found)
        elif name == "DefaultExperiment":
            self._experiment(el, src, desc)
        elif name == "Annotations":
            for kind, content in self.annotations(el, src, root):
                if kind == xmlio.COSIM and xmlio.local(content) == "Topology":
                    desc.cosim = self._json(content, src)
                else:
                    self._ignored(content, root, src)
        else:
            self.unexpected(el, root, src)

    def _experiment(self, el, src: xmlio.Source, desc: Description) -> None:
        try:
            desc.start = xmlio.attr_float(el, "startTime")
            desc.stop = xmlio.attr_float(el, "stopTime")
        except ValueError as err:
            self.problem(f"{xmlio.describe(el)}: {err}", src.at(el))
        annotations = xmlio.child(el, xmlio.SSD, "Annotations")
        for kind, content in self.annotations(annotations, src, el) if annotations is not None \
                else ():
            step = None
            if kind == xmlio.OSP and xmlio.local(content) == "Algorithm":
                fixed = xmlio.child(content, xmlio.OSP, "FixedStepAlgorithm")
                step = self._float(fixed, "baseStepSize", src) if fixed is not None else None
            if step is not None:
                desc.step, desc.step_from = step, f"{src.at(content)} (libcosim's " \
                    "osp:FixedStepAlgorithm baseStepSize)"
            else:
                self._ignored(content, el, src)

    # -- annotations ---------------------------------------------------------------------

    def annotations(self, element, src: xmlio.Source, owner) -> list[tuple[str, object]]:
        """``(namespace, content element)`` of each ``ssc:Annotation`` of a known type;
        unknown types become notes."""
        out = []
        for a in xmlio.children(element, xmlio.SSC, "Annotation"):
            kind = a.get("type", "")
            content = xmlio.children(a)
            if kind not in ANNOTATION_TYPES:
                self.note(f"annotation of type {kind!r} on {xmlio.describe(owner)} ignored",
                          src.at(a))
                continue
            out.extend((ANNOTATION_TYPES[kind], c) for c in content)
        return out

    def _ignored(self, content, owner, src: xmlio.Source) -> None:
        self.note(f"annotation {xmlio.describe(content)} on {xmlio.describe(owner)} ignored",
                  src.at(content))

    def _json(self, content, src: xmlio.Source) -> dict:
        try:
            data = json.loads(content.text or "{}")
        except json.JSONDecodeError as err:
            self.problem(f"{xmlio.describe(content)}: not valid JSON ({err})", src.at(content))
            return {}
        if not isinstance(data, dict):
            self.problem(f"{xmlio.describe(content)}: expected a JSON object", src.at(content))
            return {}
        return data

    def _float(self, el, name: str, src: xmlio.Source) -> float | None:
        try:
            value = xmlio.attr_float(el, name)
        except ValueError:
            value = None
        if value is None or not value > 0:
            self.problem(f"{xmlio.describe(el)}: {name} must be a number > 0, got "
                         f"{el.get(name)!r}", src.at(el))
            return None
        return value

    # -- systems and components ------------------------------------------------------------

    def system(self, el, src: xmlio.Source) -> System:
        s = System(el.get("name", ""), src.at(el))
        for c in xmlio.children(el):
            name = xmlio.local(c)
            if xmlio.namespace(c) != xmlio.SSD:
                self.unexpected(c, el, src)
            elif name == "Connectors":
                s.connectors = self.connectors(c, src)
            elif name == "ParameterBindings":
                s.bindings = self.bindings(c, src)
            elif name == "Elements":
                s.elements = self.elements(c, src)
            elif name == "Connections":
                s.connections = [self.connection(x, src)
                                 for x in xmlio.children(c, xmlio.SSD, "Connection")]
            elif name == "SignalDictionaries":
                self.note(f"{xmlio.describe(c)} of system {s.name!r} ignored: cosim does not "
                          "support signal dictionaries (a reference to one is an error)",
                          src.at(c))
            elif name == "Annotations":
                self._system_annotations(c, el, s, src)
            else:
                self.unexpected(c, el, src)
        return s

    def _system_annotations(self, el, owner, s: System, src: xmlio.Source) -> None:
        for kind, content in self.annotations(el, src, owner):
            info = xmlio.child(content, xmlio.OMS, "SimulationInformation") \
                if kind == xmlio.OMS and xmlio.local(content) == "Annotations" else None
            fixed = xmlio.child(info, xmlio.OMS, "FixedStepMaster") if info is not None \
                else None
            variable = xmlio.child(info, xmlio.OMS, "VariableStepMaster") if info is not None \
                else None
            if fixed is not None:
                s.step = self._float(fixed, "stepSize", src)
            elif variable is not None:
                s.step = self._float(variable, "initialStepSize", src)
                self.note(f"{xmlio.describe(variable)}: cosim steps with a fixed step, its "
                          f"initialStepSize ({variable.get('initialStepSize')} s)",
                          src.at(variable))
            else:
                self._ignored(content, owner, src)

    def elements(self, el, src: xmlio.Source) -> list[Component | System]:
        out: list[Component | System] = []
        for c in xmlio.children(el):
            name = xmlio.local(c)
            if name == "Component":
                out.append(self.component(c, src))
            elif name == "System":
                out.append(self.system(c, src))
            elif name == "SignalDictionaryReference":
                self.problem(f"{xmlio.describe(c)}: signal dictionaries are not supported; "
                             "connect the components directly", src.at(c))
            else:
                self.unexpected(c, el, src)
        return out

    def component(self, el, src: xmlio.Source) -> Component:
        where = src.at(el)
        comp = Component(el.get("name", ""), where, el.get("type", FMU_TYPE), el.get("source"),
                         el.get("implementation", "any"), description=el.get("description", ""))
        self._check_component(el, comp, where)
        for c in xmlio.children(el):
            name = xmlio.local(c)
            if xmlio.namespace(c) != xmlio.SSD:
                self.unexpected(c, el, src)
            elif name == "Connectors":
                comp.connectors = self.connectors(c, src)
            elif name == "ParameterBindings":
                comp.bindings = self.bindings(c, src)
            elif name == "Annotations":
                self._component_annotations(c, el, comp, src)
            else:
                self.unexpected(c, el, src)
        if comp.type == BLOCK_TYPE and comp.block is None:
            self.problem(f"{xmlio.describe(el)}: a cosim block without its <cosim:Block> "
                         "annotation", where)
        return comp

    def _check_component(self, el, comp: Component, where: str) -> None:
        if comp.type not in (FMU_TYPE, BLOCK_TYPE):
            what = {"application/x-ssp-definition": "another SSD",
                    "application/x-ssp-package": "another SSP"}.get(comp.type.split(";")[0],
                                                                    f"type {comp.type!r}")
            self.problem(f"{xmlio.describe(el)}: components referencing {what} are not "
                         "supported (cosim runs FMUs; put the referenced system in as an "
                         "<ssd:System>)", where)
        if comp.source is None:
            self.problem(f"{xmlio.describe(el)} has no source (an implementation-less "
                         "component cannot run)", where)
        if comp.implementation not in ("any", "CoSimulation"):
            self.problem(f"{xmlio.describe(el)}: implementation {comp.implementation!r} is "
                         "not supported (cosim runs the CoSimulation interface)", where)

    def _component_annotations(self, el, owner, comp: Component, src: xmlio.Source) -> None:
        for kind, content in self.annotations(el, src, owner):
            name = xmlio.local(content)
            if kind == xmlio.OSP and name == "StepSizeHint":
                comp.step = self._float(content, "value", src)
            elif kind == xmlio.COSIM and name == "Block":
                comp.block = self._json(content, src)
            else:
                self._ignored(content, owner, src)

    def connectors(self, el, src: xmlio.Source) -> list[Connector]:
        out = []
        for c in xmlio.children(el, xmlio.SSD, "Connector"):
            where = src.at(c)
            kind = c.get("kind", "")
            if kind not in KINDS:
                self.problem(f"{xmlio.describe(c)}: kind {kind!r} is not an SSP connector kind "
                             f"({', '.join(KINDS)})", where)
            typed = [t for t in xmlio.children(c, xmlio.SSC) if xmlio.local(t) in TYPES]
            extra = [t for t in xmlio.children(c) if xmlio.local(t) in ("Dimension", "Clock")]
            if extra:
                self.problem(f"{xmlio.describe(c)}: array and clocked connectors "
                             f"(<{xmlio.local(extra[0])}>) are not supported", where)
            t = typed[0] if typed else None
            out.append(Connector(c.get("name", ""), kind, where,
                                 xmlio.local(t) if t is not None else None,
                                 t.get("unit") if t is not None else None,
                                 t.get("name") if t is not None else None))
        return out

    def connection(self, el, src: xmlio.Source) -> Connection:
        where = src.at(el)
        t, found = transformations.read(el, src)
        self.problems.extend(found)
        try:
            suppress = xmlio.attr_bool(el, "suppressUnitConversion")
        except ValueError as err:
            self.problem(f"{xmlio.describe(el)}: suppressUnitConversion: {err}", where)
            suppress = False
        if el.get("startIndices") is not None or el.get("endIndices") is not None:
            self.problem(f"{xmlio.describe(el)}: connections of array elements "
                         "(startIndices/endIndices) are not supported", where)
        conn = Connection(el.get("startElement"), el.get("startConnector", ""),
                          el.get("endElement"), el.get("endConnector", ""), where, t, suppress)
        annotations = xmlio.child(el, xmlio.SSD, "Annotations")
        for kind, content in self.annotations(annotations, src, el) \
                if annotations is not None else ():
            if kind == xmlio.COSIM and xmlio.local(content) == "Connection":
                conn.cosim = self._json(content, src)
            else:
                self._ignored(content, el, src)
        return conn

    # -- parameter bindings --------------------------------------------------------------

    def bindings(self, el, src: xmlio.Source) -> list[Binding]:
        out = []
        for b in xmlio.children(el, xmlio.SSD, "ParameterBinding"):
            binding = self.binding(b, src)
            if binding is not None:
                out.append(binding)
        return out

    def binding(self, b, src: xmlio.Source) -> Binding | None:
        where = src.at(b)
        if b.get("type", PARAMETER_SET_TYPE) != PARAMETER_SET_TYPE:
            self.problem(f"{xmlio.describe(b)}: parameter sources of type {b.get('type')!r} "
                         f"are not supported ({PARAMETER_SET_TYPE} is)", where)
            return None
        if b.get("sourceBase", "SSD") != "SSD":
            self.problem(f"{xmlio.describe(b)}: sourceBase=\"component\" (parameter files "
                         "inside an FMU) is not supported", where)
            return None
        inline = xmlio.child(b, xmlio.SSD, "ParameterValues")
        if b.get("source") is not None:
            parameter_set = self._parameter_file(b, src)
        elif inline is not None and xmlio.child(inline, xmlio.SSV, "ParameterSet") is not None:
            parameter_set = self._parameter_set(xmlio.child(inline, xmlio.SSV, "ParameterSet"),
                                                src)
        else:
            self.problem(f"{xmlio.describe(b)} has neither a source nor inline "
                         "<ssv:ParameterSet>", where)
            return None
        binding = Binding(where, parameter_set, b.get("prefix", ""))
        mapping = xmlio.child(b, xmlio.SSD, "ParameterMapping")
        if mapping is not None:
            binding.mapping = self._mapping(mapping, src)
        return binding

    def _parameter_file(self, b, src: xmlio.Source) -> ParameterSet | None:
        name = self._resolve(b, src)
        if name is None:
            return None
        try:
            root, file_src = self.document(name, "ssv")
        except ConfigError as err:
            self.problem(f"{xmlio.describe(b)}: {err}", src.at(b))
            return None
        if root.tag != xmlio.tag(xmlio.SSV, "ParameterSet"):
            self.problem(f"{name}: the root element is {xmlio.describe(root)}, not "
                         "<ssv:ParameterSet>", file_src.at(root))
            return None
        return self._parameter_set(root, file_src, validated=True)

    def _parameter_set(self, el, src: xmlio.Source, validated: bool = False
                       ) -> ParameterSet:
        if not validated:
            self.validate(el, "ssv", src)
        result, found = values.parameter_set(el, src)
        self.problems.extend(found)
        return result

    def _mapping(self, el, src: xmlio.Source):
        if el.get("type", PARAMETER_MAPPING_TYPE) != PARAMETER_MAPPING_TYPE:
            self.problem(f"{xmlio.describe(el)}: mappings of type {el.get('type')!r} are not "
                         f"supported ({PARAMETER_MAPPING_TYPE} is)", src.at(el))
            return []
        if el.get("source") is not None:
            name = self._resolve(el, src)
            if name is None:
                return []
            try:
                root, file_src = self.document(name, "ssm")
            except ConfigError as err:
                self.problem(f"{xmlio.describe(el)}: {err}", src.at(el))
                return []
        else:
            root, file_src = xmlio.child(el, xmlio.SSM, "ParameterMapping"), src
            if root is None:
                self.problem(f"{xmlio.describe(el)} has neither a source nor inline "
                             "<ssm:ParameterMapping>", src.at(el))
                return []
            self.validate(root, "ssm", src)
        entries, found = values.parameter_mapping(root, file_src)
        self.problems.extend(found)
        return entries

    def _resolve(self, el, src: xmlio.Source) -> str | None:
        try:
            return self.package.resolve(el.get("source", ""), self.package.ssd)
        except ValueError as err:
            self.problem(f"{xmlio.describe(el)}: {err}", src.at(el))
            return None


def read(package: Package) -> Description:
    """The SSD of ``package``; ConfigError if it cannot be read at all (not XML, not an
    SSD); every other problem is in ``Description.problems``."""
    return Reader(package).read()
