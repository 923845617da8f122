"""Generate the C configuration header and the FMI 2 / FMI 3 model descriptions of a model.

Used by :mod:`fmus.build`; only the standard library.  The header defines the struct ``Vars``
(one field per variable, in its own C type), its start values and the table ``VARS`` the
glue in ``fmus/common/`` reads (see ``common/model.h``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

try:
    from .modelspec import FLOAT_TYPES, FMI2_TYPES, UNITS, ModelSpec, Variable
except ImportError:  # run as a script: python fmus/build.py
    from modelspec import FLOAT_TYPES, FMI2_TYPES, UNITS, ModelSpec, Variable

__all__ = ["config_header", "model_description_fmi2", "model_description_fmi3", "EVENT_TOL",
           "GENERATION_TOOL"]

EVENT_TOL = 1e-12  # event location: width of the final bisection bracket [s]
GENERATION_TOOL = "cosim fmus"
BASE_UNITS = ("kg", "m", "s", "A", "K", "mol", "cd", "rad")
C_TYPES = {"Float32": "float", "Float64": "double", "Int8": "int8_t", "UInt8": "uint8_t",
           "Int16": "int16_t", "UInt16": "uint16_t", "Int32": "int32_t", "UInt32": "uint32_t",
           "Int64": "int64_t", "UInt64": "uint64_t", "Boolean": "bool", "Enumeration": "int64_t",
           "Clock": "bool"}
CAUSALITY_C = {"independent": "C_INDEPENDENT", "structuralParameter": "C_STRUCTURAL",
               "parameter": "C_PARAMETER", "input": "C_INPUT", "output": "C_OUTPUT",
               "local": "C_LOCAL"}
LOG_CATEGORIES = (("logEvents", "Events located and handled, termination requests"),
                  ("logStatusDiscard", "Steps rejected, status not available (Discard)"),
                  ("logStatusError", "Errors (always reported)"))


# ------------------------------------------------------------------------ C header


def _c_number(x: float) -> str:
    return repr(float(x))


def _c_string(s: str) -> str:
    out = []
    for b in s.encode():
        ch = chr(b)
        out.append(ch if 32 <= b < 127 and ch not in '"\\?' else f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def _c_value(x, vtype: str) -> str:
    if vtype in FLOAT_TYPES:
        return _c_number(x) + ("f" if vtype == "Float32" else "")
    if vtype in ("Boolean", "Clock"):
        return "true" if x else "false"
    if vtype in ("Int64", "Enumeration"):
        return "(-INT64_C(9223372036854775807) - 1)" if x == -2**63 else f"INT64_C({x})"
    if vtype == "UInt64":
        return f"UINT64_C({x})"
    return str(int(x))


def _vars_struct(spec: ModelSpec) -> list[str]:
    lines = ["typedef struct {"]
    for v in spec.variables:
        if v.type == "String":
            lines.append(f"    char {v.c_name}[{v.max_size}];")
        elif v.type == "Binary":
            lines += [f"    size_t {v.c_name}__size;",
                      f"    unsigned char {v.c_name}[{v.max_size}];"]
        else:
            shape = f"[{spec.capacity(v)}]" if v.dims else ""
            lines.append(f"    {C_TYPES[v.type]} {v.c_name}{shape};")
    return [*lines, "} Vars;"]


def _start_values(spec: ModelSpec) -> list[str]:
    inits = []
    for v in spec.variables:
        if v.start is None:
            continue
        if v.type == "String":
            inits.append(f".{v.c_name} = {_c_string(v.start)}")
        elif v.type == "Binary":
            data = ", ".join(f"0x{b:02x}" for b in v.start) or "0"
            inits += [f".{v.c_name}__size = {len(v.start)}", f".{v.c_name} = {{{data}}}"]
        elif v.dims:
            inits.append(f".{v.c_name} = {{{', '.join(_c_value(x, v.type) for x in v.start)}}}")
        else:
            inits.append(f".{v.c_name} = {_c_value(v.start, v.type)}")
    return ["static const Vars START = {", *(f"    {i}," for i in inits), "};"]


def _var_info(spec: ModelSpec, v: Variable) -> str:
    dims = [(d, -1) if isinstance(d, int) else (-1, spec.var(d).vr) for d in v.dims]
    fields = [
        f'.name = "{v.name}"', f".type = T_{v.type.upper()}",
        f".causality = {CAUSALITY_C[v.causality]}", f".variability = V_{v.variability.upper()}",
        f".fmi2 = {'true' if v.in_fmi2 else 'false'}", f".offset = offsetof(Vars, {v.c_name})",
        f".capacity = {spec.capacity(v) if v.dims or v.max_size else 1}",
        f".ndims = {len(dims)}",
    ]
    if dims:
        fields += [".dim_size = {" + ", ".join(str(s) for s, _ in dims) + "}",
                   ".dim_vr = {" + ", ".join(str(r) for _, r in dims) + "}"]
    if v.type == "Binary":
        fields.append(f".size_offset = offsetof(Vars, {v.c_name}__size)")
    if v.causality == "structuralParameter":
        fields += [f".min = {_c_number(v.min)}", f".max = {_c_number(v.max)}"]
    if v.type == "Enumeration":
        fields += [f".items = ITEMS_{v.declared_type}",
                   f".n_items = {len(spec.enumerations[v.declared_type])}"]
    if v.interval:
        fields.append(f".interval = {_c_number(v.interval)}")
    return "    {" + ", ".join(fields) + "},"


def _flags(spec: ModelSpec, token: str) -> list[str]:
    structural = [v for v in spec.variables if v.causality == "structuralParameter"]
    return [
        f'#define MODEL_NAME "{spec.name}"',
        f'#define INSTANTIATION_TOKEN "{token}"',
        f"#define MODEL_EXCHANGE {int(spec.model_exchange)}",
        f"#define CS_EVENT_MODE {int(spec.cs_event_mode)}",
        f"#define CS_EARLY_RETURN {int(spec.cs_early_return)}",
        f"#define OMIT_FMU_STATE {int('fmu_state' in spec.omit)}",
        f"#define OMIT_DERIVATIVES {int('directional_derivatives' in spec.omit)}",
        f"#define H_MAX {_c_number(spec.h_max)}",
        f"#define EVENT_TOL {_c_number(EVENT_TOL)}",
        f"#define NV {len(spec.variables)}",
        f"#define NX {sum(spec.capacity(v) for v in spec.states)}",
        f"#define NW {spec.internal_states}",
        f"#define NZ {len(spec.indicators)}",
        f"#define N_STATE_VARS {len(spec.states)}",
        f"#define N_STRUCTURAL {len(structural)}",
        f"#define N_TUNABLE_STRUCTURAL {sum(v.variability == 'tunable' for v in structural)}",
    ]


def config_header(spec: ModelSpec, token: str) -> str:
    """The C header ``model_config.h`` for ``common/model.h``."""
    def array(values: list[str]) -> str:
        return "{" + ", ".join(values or ["0"]) + "}"

    named = [v for v in spec.variables if v.derivative_of is None]
    lines = [f"/* generated by fmus/build.py from {spec.name}/model.json -- do not edit */",
             *_flags(spec, token),
             "enum { " + ", ".join(f"VR_{v.name} = {v.vr}" for v in named) + " };"]
    offset, ix = 0, []
    for v in spec.states:
        ix.append(f"IX_{v.name} = {offset}")
        offset += spec.capacity(v)
    if ix:
        lines.append("enum { " + ", ".join(ix) + " };")
    lines += _vars_struct(spec) + _start_values(spec)
    for name, items in spec.enumerations.items():
        lines.append(f"static const int64_t ITEMS_{name}[] = "
                     f"{{{', '.join(_c_value(x, 'Int64') for x in items.values())}}};")
    lines += ["static const VarInfo VARS[NV] = {", *(_var_info(spec, v) for v in spec.variables),
              "};",
              "static const unsigned STATE_VR[N_STATE_VARS > 0 ? N_STATE_VARS : 1] = "
              + array([f"VR_{v.name}" for v in spec.states]) + ";",
              "static const unsigned STATE_IX[N_STATE_VARS > 0 ? N_STATE_VARS : 1] = "
              + array([f"IX_{v.name}" for v in spec.states]) + ";",
              "static const unsigned DER_VR[NX > 0 ? NX : 1] = "
              + array([str(v.vr) for v in spec.derivatives]) + ";",
              "static const unsigned INDICATOR_VR[NZ > 0 ? NZ : 1] = "
              + array([f"VR_{v.name}" for v in spec.indicators]) + ";", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------ XML


def _sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _xml_number(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _xml_start(v: Variable) -> str | None:
    """The start attribute (String and Binary use <Start> elements in FMI 3)."""
    if v.start is None or v.type in ("String", "Binary"):
        return None
    if v.dims:
        return " ".join(_xml_number(x) for x in v.start)
    return _xml_number(v.start)


def _add_common_head(root: ET.Element, spec: ModelSpec, variables: list[Variable],
                     version: int) -> None:
    units = sorted({v.unit for v in variables if v.unit})
    unit_defs = _sub(root, "UnitDefinitions")
    for name in units:
        exps = UNITS[name]
        _sub(_sub(unit_defs, "Unit", name=name), "BaseUnit",
             **{b: str(exps[b]) for b in BASE_UNITS if b in exps})
    enums = sorted({v.declared_type for v in variables if v.declared_type})
    if enums:
        types = _sub(root, "TypeDefinitions")
        for name in enums:
            items = spec.enumerations[name].items()
            parent = (_sub(_sub(types, "SimpleType", name=name), "Enumeration") if version == 2
                      else _sub(types, "EnumerationType", name=name))
            for item, value in items:
                _sub(parent, "Item", name=item, value=str(value))
    cats = _sub(root, "LogCategories")
    for name, description in LOG_CATEGORIES:
        _sub(cats, "Category", name=name, description=description)
    if spec.experiment:
        _sub(root, "DefaultExperiment",
             **{k: _xml_number(spec.experiment[k]) for k in sorted(spec.experiment)})


def _initial_unknowns(spec: ModelSpec, variables: list[Variable]) -> list[Variable]:
    """Outputs, plus states and derivatives for Model Exchange (clocked variables excluded)."""
    unknowns = {v.vr: v for v in variables if v.causality == "output" and v.type != "Clock"
                and not v.clocks}
    if spec.model_exchange:
        unknowns.update({v.vr: v for v in spec.states + spec.derivatives})
    return [unknowns[vr] for vr in sorted(unknowns)]


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def model_description_fmi2(spec: ModelSpec, token: str) -> str:
    """modelDescription.xml for FMI 2.0: the variables that exist in FMI 2 (index = position)."""
    variables = [v for v in spec.variables if v.in_fmi2]
    index = {v.name: i + 1 for i, v in enumerate(variables)}

    def deps(names: list[str]) -> str:
        return " ".join(str(i) for i in sorted(index[n] for n in names if n in index))

    root = ET.Element("fmiModelDescription", {
        "fmiVersion": "2.0", "modelName": spec.name, "guid": token,
        "description": spec.description, "generationTool": GENERATION_TOOL,
        "variableNamingConvention": "flat",
        "numberOfEventIndicators": str(len(spec.indicators) if spec.model_exchange else 0)})
    state = _flag("fmu_state" not in spec.omit)
    state_attrs = {"canNotUseMemoryManagementFunctions": "true",
                   "canGetAndSetFMUstate": state, "canSerializeFMUstate": state}
    if spec.model_exchange:
        _sub(root, "ModelExchange", modelIdentifier=spec.name,
             completedIntegratorStepNotNeeded="true", **state_attrs)
    _sub(root, "CoSimulation", modelIdentifier=spec.name,
         canHandleVariableCommunicationStepSize="true", **state_attrs)
    _add_common_head(root, spec, variables, 2)
    model_variables = _sub(root, "ModelVariables")
    for v in variables:
        sv = _sub(model_variables, "ScalarVariable", name=v.name, valueReference=str(v.vr),
                  description=v.description, causality=v.causality,
                  variability=v.variability, initial=v.initial)
        _sub(sv, FMI2_TYPES[v.type], declaredType=v.declared_type,
             start=None if v.start is None else (
                 v.start if v.type == "String" else _xml_number(v.start)),
             unit=v.unit, derivative=str(index[v.derivative_of.name]) if v.derivative_of else None)
    structure = _sub(root, "ModelStructure")
    for tag, unknowns, attr in (
            ("Outputs", [v for v in variables if v.causality == "output"], "depends"),
            ("Derivatives", spec.derivatives, "depends"),
            ("InitialUnknowns", _initial_unknowns(spec, variables), "initial_depends")):
        if unknowns:
            element = _sub(structure, tag)
            for v in unknowns:
                _sub(element, "Unknown", index=str(index[v.name]),
                     dependencies=deps(getattr(v, attr)))
    return _serialize(root)


def _fmi3_variable(parent: ET.Element, spec: ModelSpec, v: Variable) -> None:
    element = _sub(
        parent, v.type, name=v.name, valueReference=str(v.vr), description=v.description,
        causality=v.causality, variability=v.variability, initial=v.initial,
        declaredType=v.declared_type, start=_xml_start(v), unit=v.unit,
        min=None if v.min is None else _xml_number(int(v.min)),
        max=None if v.max is None else _xml_number(int(v.max)),
        derivative=str(v.derivative_of.vr) if v.derivative_of else None,
        clocks=" ".join(str(spec.var(c).vr) for c in v.clocks) or None,
        intervalVariability=v.interval_variability,
        intervalDecimal=None if v.interval is None else _xml_number(v.interval),
        maxSize=str(v.max_size) if v.type == "Binary" else None)
    for d in v.dims:
        if isinstance(d, int):
            _sub(element, "Dimension", start=str(d))
        else:
            _sub(element, "Dimension", valueReference=str(spec.var(d).vr))
    if v.start is not None and v.type in ("String", "Binary"):
        _sub(element, "Start", value=v.start if v.type == "String" else v.start.hex())


def model_description_fmi3(spec: ModelSpec, token: str) -> str:
    """modelDescription.xml for FMI 3.0."""
    def deps(names: list[str]) -> str:
        return " ".join(str(vr) for vr in sorted(spec.var(n).vr for n in names))

    root = ET.Element("fmiModelDescription", {
        "fmiVersion": "3.0", "modelName": spec.name, "instantiationToken": token,
        "description": spec.description, "generationTool": GENERATION_TOOL,
        "variableNamingConvention": "flat"})
    state = _flag("fmu_state" not in spec.omit)
    state_attrs = {"canGetAndSetFMUState": state, "canSerializeFMUState": state}
    if spec.model_exchange:
        _sub(root, "ModelExchange", modelIdentifier=spec.name,
             needsCompletedIntegratorStep="false", **state_attrs)
    _sub(root, "CoSimulation", modelIdentifier=spec.name,
         canHandleVariableCommunicationStepSize="true",
         hasEventMode=_flag(spec.cs_event_mode),
         mightReturnEarlyFromDoStep=_flag(spec.cs_early_return),
         canReturnEarlyAfterIntermediateUpdate="false", **state_attrs)
    _add_common_head(root, spec, spec.variables, 3)
    model_variables = _sub(root, "ModelVariables")
    for v in spec.variables:
        _fmi3_variable(model_variables, spec, v)
    structure = _sub(root, "ModelStructure")
    for v in spec.variables:
        if v.causality == "output":
            _sub(structure, "Output", valueReference=str(v.vr), dependencies=deps(v.depends))
    for v in spec.derivatives:
        _sub(structure, "ContinuousStateDerivative", valueReference=str(v.vr),
             dependencies=deps(v.depends))
    for v in _initial_unknowns(spec, spec.variables):
        _sub(structure, "InitialUnknown", valueReference=str(v.vr),
             dependencies=deps(v.initial_depends))
    for v in spec.indicators if spec.model_exchange else []:  # for Model Exchange importers
        _sub(structure, "EventIndicator", valueReference=str(v.vr))
    return _serialize(root)
