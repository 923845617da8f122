#!/usr/bin/env python3
"""Build the project's own FMUs (FMI 2.0 and FMI 3.0) from ``fmus/<Model>/`` with gcc.

Each model folder holds two files: ``model.c`` (the equations, see ``common/model.h``) and
``model.json`` (the variables).  From ``model.json`` this script generates the C
configuration header and both ``modelDescription.xml`` files, compiles the model together
with the glue in ``common/`` against the FMI headers shipped with fmpy, and packs

    fmus/build/fmi2/<Model>.fmu   (binaries/linux64/<Model>.so)
    fmus/build/fmi3/<Model>.fmu   (binaries/x86_64-linux/<Model>.so)

An FMU is rebuilt only when its sources change: a hash over ``common/``, the model folder,
this script, the FMI headers and the compiler flags is stored beside the FMU
(``<Model>.fmu.json``) together with the FMU's own SHA-256, so a corrupt FMU is rebuilt too.
FMUs are written to a temporary file and renamed, so a half-built FMU never lands in the
cache.  Only the standard library and fmpy are used.

Usage::

    python fmus/build.py [MODEL ...] [--force] [--out DIR]

From Python::

    from fmus.build import build, fmu_path
    fmu_path("Oscillator", 3)          # -> Path to the FMI 3 FMU, built if needed
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FMUBuildError", "build", "fmu_path", "list_models", "MODELS_DIR", "DEFAULT_OUT_DIR"]

MODELS_DIR = Path(__file__).resolve().parent
COMMON_DIR = MODELS_DIR / "common"
DEFAULT_OUT_DIR = MODELS_DIR / "build"

FMI_VERSIONS = (2, 3)
PLATFORM_DIR = {2: "linux64", 3: "x86_64-linux"}
FMI_HEADERS = {
    2: ("fmi2Functions.h", "fmi2FunctionTypes.h", "fmi2TypesPlatform.h"),
    3: ("fmi3Functions.h", "fmi3FunctionTypes.h", "fmi3PlatformTypes.h"),
}
CFLAGS = ("-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden",
          "-Wl,-z,defs")
EVENT_TOL = 1e-12  # event location: width of the final bisection bracket [s]
GENERATION_TOOL = "cosim fmus"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed: identical sources give identical FMUs

# SI base-unit exponents of every unit a model may use (add new units here)
UNITS: dict[str, dict[str, int]] = {
    "1": {},
    "s": {"s": 1},
    "1/s": {"s": -1},
    "kg": {"kg": 1},
    "kg/s": {"kg": 1, "s": -1},
    "m": {"m": 1},
    "m/s": {"m": 1, "s": -1},
    "m/s2": {"m": 1, "s": -2},
    "N": {"kg": 1, "m": 1, "s": -2},
    "N/m": {"kg": 1, "s": -2},
    "N.s/m": {"kg": 1, "s": -1},
    "K": {"K": 1},
    "K/s": {"K": 1, "s": -1},
    "W": {"kg": 1, "m": 2, "s": -3},
    "J/K": {"kg": 1, "m": 2, "s": -2, "K": -1},
    "W/K": {"kg": 1, "m": 2, "s": -3, "K": -1},
    "J/(kg.K)": {"m": 2, "s": -2, "K": -1},
}
BASE_UNITS = ("kg", "m", "s", "A", "K", "mol", "cd", "rad")

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MODEL_KEYS = {"description", "model_exchange", "h_max", "experiment", "variables",
              "event_indicators"}
VARIABLE_KEYS = {"name", "type", "causality", "variability", "start", "unit", "description",
                 "depends", "initial_depends", "state"}
STATE_KEYS = {"der_unit", "der_depends", "der_initial_depends"}
EXPERIMENT_KEYS = {"startTime", "stopTime", "tolerance", "stepSize"}


class FMUBuildError(Exception):
    """An FMU cannot be built: bad model files, compiler errors, missing gcc or headers."""


# ------------------------------------------------------------------------ model spec


@dataclass
class Variable:
    name: str
    vr: int
    type: str  # Real | Integer | Boolean
    causality: str  # independent | parameter | input | output | local
    variability: str
    description: str
    start: float | int | bool | None = None
    unit: str | None = None
    depends: list[str] | None = None  # outputs / derivatives: direct dependencies
    initial_depends: list[str] | None = None  # initial unknowns
    state: dict | None = None  # continuous states: derivative info
    derivative_of: Variable | None = None

    @property
    def initial(self) -> str | None:
        if self.causality == "parameter":
            return "exact"
        if self.causality in ("output", "local"):
            return "calculated"
        return None


@dataclass
class ModelSpec:
    name: str
    folder: Path
    description: str
    model_exchange: bool
    h_max: float
    experiment: dict[str, float]
    variables: list[Variable] = field(default_factory=list)  # ordered by value reference
    states: list[Variable] = field(default_factory=list)
    derivatives: list[Variable] = field(default_factory=list)  # ME only
    indicators: list[Variable] = field(default_factory=list)

    def var(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)


def _fail(spec_file: Path, message: str) -> FMUBuildError:
    return FMUBuildError(f"model '{spec_file.parent.name}': {spec_file}: {message}")


def _number(value, what: str, spec_file: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(spec_file, f"{what} must be a finite number, not {value!r}")
    return float(value)


def _check_keys(data: dict, allowed: set[str], what: str, spec_file: Path) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise _fail(spec_file, f"unknown key(s) {sorted(unknown)} in {what} "
                               f"(allowed: {sorted(allowed)})")


def _parse_start(raw: dict, vtype: str, spec_file: Path):
    name, start = raw["name"], raw.get("start")
    if raw["causality"] in ("parameter", "input"):
        if start is None:
            raise _fail(spec_file, f"variable '{name}' ({raw['causality']}) needs a start value")
    elif start is not None:
        raise _fail(spec_file, f"variable '{name}' is calculated by the model: remove 'start'")
    if start is None:
        return None
    if vtype == "Boolean":
        if not isinstance(start, bool):
            raise _fail(spec_file, f"start of Boolean '{name}' must be true or false")
        return start
    if vtype == "Integer":
        if isinstance(start, bool) or not isinstance(start, int) or abs(start) >= 2**31:
            raise _fail(spec_file, f"start of Integer '{name}' must be a 32-bit integer")
        return start
    return _number(start, f"start of '{name}'", spec_file)


def _parse_variable(raw: dict, vr: int, model_exchange: bool, spec_file: Path) -> Variable:
    if not isinstance(raw, dict) or "name" not in raw:
        raise _fail(spec_file, f"variable #{vr} must be an object with a 'name'")
    name = raw["name"]
    _check_keys(raw, VARIABLE_KEYS, f"variable '{name}'", spec_file)
    if not isinstance(name, str) or not IDENTIFIER.match(name) or name == "time":
        raise _fail(spec_file, f"variable name {name!r} must be a C identifier other than 'time'")
    causality = raw.get("causality")
    if causality not in ("parameter", "input", "output", "local"):
        raise _fail(spec_file, f"variable '{name}': causality must be parameter, input, "
                               f"output or local, not {causality!r}")
    vtype = raw.get("type", "Real")
    if vtype not in ("Real", "Integer", "Boolean"):
        raise _fail(spec_file, f"variable '{name}': type must be Real, Integer or Boolean")
    default = "fixed" if causality == "parameter" else (
        "continuous" if vtype == "Real" else "discrete")
    variability = raw.get("variability", default)
    allowed = ("fixed", "tunable") if causality == "parameter" else (
        ("continuous", "discrete") if vtype == "Real" else ("discrete",))
    if variability not in allowed:
        raise _fail(spec_file, f"variable '{name}': variability must be one of {allowed}")
    unit = raw.get("unit")
    if unit is not None and (vtype != "Real" or unit not in UNITS):
        raise _fail(spec_file, f"variable '{name}': unknown unit {unit!r} (known: "
                               f"{sorted(UNITS)}; add it to UNITS in build.py)")
    if not isinstance(raw.get("description"), str) or not raw["description"]:
        raise _fail(spec_file, f"variable '{name}' needs a description")
    var = Variable(name=name, vr=vr, type=vtype, causality=causality, variability=variability,
                   description=raw["description"], start=_parse_start(raw, vtype, spec_file),
                   unit=unit, depends=raw.get("depends"),
                   initial_depends=raw.get("initial_depends"))
    _parse_state(var, raw.get("state"), model_exchange, spec_file)
    return var


def _parse_state(var: Variable, state, model_exchange: bool, spec_file: Path) -> None:
    if state in (None, False):
        return
    if var.type != "Real" or var.variability != "continuous" or var.causality not in (
            "output", "local"):
        raise _fail(spec_file, f"state '{var.name}' must be a continuous Real output or local")
    if state is True:
        state = {}
    if not isinstance(state, dict):
        raise _fail(spec_file, f"'state' of '{var.name}' must be true or an object")
    _check_keys(state, STATE_KEYS, f"state of '{var.name}'", spec_file)
    if model_exchange and set(state) != STATE_KEYS:
        raise _fail(spec_file, f"state '{var.name}' of a Model Exchange model needs "
                               f"{sorted(STATE_KEYS)}")
    if model_exchange and state["der_unit"] not in UNITS:
        raise _fail(spec_file, f"state '{var.name}': unknown der_unit {state['der_unit']!r}")
    var.state = state


def _check_names(names, allowed: dict[str, Variable], kind: str, what: str,
                 spec_file: Path) -> None:
    if not isinstance(names, list):
        raise _fail(spec_file, f"{what} must be a list of variable names")
    for name in names:
        if name not in allowed:
            raise _fail(spec_file, f"{what}: {name!r} is not one of the model's {kind} "
                                   f"({sorted(allowed)})")


def _check_dependencies(spec: ModelSpec, spec_file: Path) -> None:
    by_name = {v.name: v for v in spec.variables}
    inputs = {n: v for n, v in by_name.items() if v.causality == "input"}
    knowns = {n: v for n, v in by_name.items() if v.causality in ("parameter", "input")}
    states = {v.name: v for v in spec.states}
    for var in spec.variables:
        if var.causality == "output":
            if var.depends is None or var.initial_depends is None:
                raise _fail(spec_file, f"output '{var.name}' needs 'depends' (the inputs it "
                                       f"depends on directly) and 'initial_depends'")
            _check_names(var.depends, inputs, "inputs", f"depends of '{var.name}'", spec_file)
        elif var.depends is not None and var.derivative_of is None:
            raise _fail(spec_file, f"'depends' is only for outputs, not '{var.name}'")
        if var.initial_depends is not None:
            _check_names(var.initial_depends, knowns, "parameters and inputs",
                         f"initial_depends of '{var.name}'", spec_file)
    for der in spec.derivatives:
        _check_names(der.depends, {**states, **inputs}, "states and inputs",
                     f"der_depends of '{der.derivative_of.name}'", spec_file)
        _check_names(der.initial_depends, knowns, "parameters and inputs",
                     f"der_initial_depends of '{der.derivative_of.name}'", spec_file)
    for state in spec.states:
        if spec.model_exchange and state.initial_depends is None:
            raise _fail(spec_file, f"state '{state.name}' needs 'initial_depends'")


def _parse_header(data, spec_file: Path) -> tuple[str, bool, float, dict[str, float]]:
    if not isinstance(data, dict):
        raise _fail(spec_file, "must contain a JSON object")
    _check_keys(data, MODEL_KEYS, "the model", spec_file)
    description = data.get("description")
    if not isinstance(description, str) or not description:
        raise _fail(spec_file, "needs a 'description'")
    model_exchange = data.get("model_exchange", False)
    if not isinstance(model_exchange, bool):
        raise _fail(spec_file, "'model_exchange' must be true or false")
    h_max = _number(data.get("h_max", 1.0), "h_max", spec_file)
    if h_max <= 0:
        raise _fail(spec_file, "h_max must be > 0")
    experiment = data.get("experiment", {})
    if not isinstance(experiment, dict):
        raise _fail(spec_file, "'experiment' must be an object")
    _check_keys(experiment, EXPERIMENT_KEYS, "experiment", spec_file)
    experiment = {k: _number(v, f"experiment {k}", spec_file) for k, v in experiment.items()}
    return description, model_exchange, h_max, experiment


def load_spec(model: str, source_root: Path | None = None) -> ModelSpec:
    """Read and check ``<source_root>/<model>/model.json``."""
    folder = Path(source_root or MODELS_DIR) / model
    spec_file = folder / "model.json"
    try:
        data = json.loads(spec_file.read_text())
    except FileNotFoundError:
        raise FMUBuildError(f"model '{model}': {spec_file} does not exist") from None
    except (OSError, ValueError) as exc:
        raise _fail(spec_file, f"cannot read: {exc}") from None
    description, model_exchange, h_max, experiment = _parse_header(data, spec_file)
    if "h_max" not in data and any(v.get("state") for v in data.get("variables", [])
                                   if isinstance(v, dict)):
        raise _fail(spec_file, "a model with continuous states needs 'h_max' (internal step)")
    spec = ModelSpec(model, folder, description, model_exchange, h_max, experiment)
    spec.variables.append(Variable("time", 0, "Real", "independent", "continuous",
                                   "Simulation time", unit="s"))
    raw_vars = data.get("variables")
    if not isinstance(raw_vars, list) or not raw_vars:
        raise _fail(spec_file, "needs a non-empty list 'variables'")
    for raw in raw_vars:
        var = _parse_variable(raw, len(spec.variables), model_exchange, spec_file)
        if any(v.name == var.name for v in spec.variables):
            raise _fail(spec_file, f"variable '{var.name}' is defined twice")
        spec.variables.append(var)
    spec.states = [v for v in spec.variables if v.state is not None]
    if model_exchange:
        for state in spec.states:
            der = Variable(f"der({state.name})", len(spec.variables), "Real", "local",
                           "continuous", f"Time derivative of {state.name}",
                           unit=state.state["der_unit"], depends=state.state["der_depends"],
                           initial_depends=state.state["der_initial_depends"],
                           derivative_of=state)
            spec.variables.append(der)
            spec.derivatives.append(der)
    indicators = data.get("event_indicators", [])
    by_name = {v.name: v for v in spec.variables}
    if not isinstance(indicators, list) or any(
            by_name.get(n) is None or by_name[n].type != "Real" for n in indicators):
        raise _fail(spec_file, "'event_indicators' must list Real variables of the model")
    if indicators and "h_max" not in data:
        raise _fail(spec_file, "a model with event indicators needs 'h_max' (internal step)")
    spec.indicators = [by_name[n] for n in indicators]
    _check_dependencies(spec, spec_file)
    return spec


# ------------------------------------------------------------------------ generated text


def _c_number(x: float) -> str:
    return repr(float(x))


def _xml_number(x) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def config_header(spec: ModelSpec, token: str) -> str:
    """The C header ``model_config.h`` for ``common/model.h``."""
    ctype = {"Real": "T_REAL", "Integer": "T_INTEGER", "Boolean": "T_BOOLEAN"}
    caus = {"independent": "C_INDEPENDENT", "parameter": "C_PARAMETER", "input": "C_INPUT",
            "output": "C_OUTPUT", "local": "C_LOCAL"}
    var = {"fixed": "V_FIXED", "tunable": "V_TUNABLE", "discrete": "V_DISCRETE",
           "continuous": "V_CONTINUOUS"}

    def array(values: list[str]) -> str:
        return "{" + ", ".join(values or ["0"]) + "}"

    named = [v for v in spec.variables if v.derivative_of is None]
    lines = [
        f"/* generated by fmus/build.py from {spec.name}/model.json -- do not edit */",
        f'#define MODEL_NAME "{spec.name}"',
        f'#define INSTANTIATION_TOKEN "{token}"',
        f"#define MODEL_EXCHANGE {int(spec.model_exchange)}",
        f"#define H_MAX {_c_number(spec.h_max)}",
        f"#define EVENT_TOL {_c_number(EVENT_TOL)}",
        f"#define NV {len(spec.variables)}",
        f"#define NX {len(spec.states)}",
        f"#define NZ {len(spec.indicators)}",
        "enum { " + ", ".join(f"VR_{v.name} = {v.vr}" for v in named) + " };",
    ]
    if spec.states:
        lines.append("enum { " + ", ".join(f"IX_{v.name} = {i}"
                                           for i, v in enumerate(spec.states)) + " };")
    lines.append("static const VarInfo VARS[NV] = {")
    for v in spec.variables:
        start = _c_number(v.start) if v.start is not None else "0.0"
        lines.append(f'    {{"{v.name}", {ctype[v.type]}, {caus[v.causality]}, '
                     f"{var[v.variability]}, {start}}},")
    lines += [
        "};",
        "static const unsigned STATE_VR[NX > 0 ? NX : 1] = "
        + array([f"VR_{v.name}" for v in spec.states]) + ";",
        "static const unsigned DER_VR[NX > 0 ? NX : 1] = "
        + array([str(v.vr) for v in spec.derivatives]) + ";",
        "static const unsigned INDICATOR_VR[NZ > 0 ? NZ : 1] = "
        + array([f"VR_{v.name}" for v in spec.indicators]) + ";",
        "",
    ]
    return "\n".join(lines)


def _sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _add_common_head(root: ET.Element, spec: ModelSpec) -> None:
    units = sorted({v.unit for v in spec.variables if v.unit})
    unit_defs = _sub(root, "UnitDefinitions")
    for name in units:
        exps = UNITS[name]
        _sub(_sub(unit_defs, "Unit", name=name), "BaseUnit",
             **{b: str(exps[b]) for b in BASE_UNITS if b in exps})
    cats = _sub(root, "LogCategories")
    _sub(cats, "Category", name="logEvents", description="State events located and handled")
    _sub(cats, "Category", name="logStatusError", description="Errors (always reported)")
    if spec.experiment:
        _sub(root, "DefaultExperiment",
             **{k: _xml_number(spec.experiment[k]) for k in sorted(EXPERIMENT_KEYS)
                if k in spec.experiment})


def _initial_unknowns(spec: ModelSpec) -> list[Variable]:
    unknowns = {v.vr: v for v in spec.variables if v.causality == "output"}
    if spec.model_exchange:
        unknowns.update({v.vr: v for v in spec.states + spec.derivatives})
    return [unknowns[vr] for vr in sorted(unknowns)]


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def model_description_fmi2(spec: ModelSpec, token: str) -> str:
    """modelDescription.xml for FMI 2.0 (value reference = index - 1)."""
    def deps(names: list[str]) -> str:
        return " ".join(str(i) for i in sorted(spec.var(n).vr + 1 for n in names))

    root = ET.Element("fmiModelDescription", {
        "fmiVersion": "2.0", "modelName": spec.name, "guid": token,
        "description": spec.description, "generationTool": GENERATION_TOOL,
        "variableNamingConvention": "flat",
        "numberOfEventIndicators": str(len(spec.indicators))})
    state_attrs = {"canNotUseMemoryManagementFunctions": "true",
                   "canGetAndSetFMUstate": "true", "canSerializeFMUstate": "true"}
    if spec.model_exchange:
        _sub(root, "ModelExchange", modelIdentifier=spec.name,
             completedIntegratorStepNotNeeded="true", **state_attrs)
    _sub(root, "CoSimulation", modelIdentifier=spec.name,
         canHandleVariableCommunicationStepSize="true", **state_attrs)
    _add_common_head(root, spec)
    variables = _sub(root, "ModelVariables")
    for v in spec.variables:
        sv = _sub(variables, "ScalarVariable", name=v.name, valueReference=str(v.vr),
                  description=v.description, causality=v.causality,
                  variability=v.variability, initial=v.initial)
        _sub(sv, v.type, start=None if v.start is None else _xml_number(v.start), unit=v.unit,
             derivative=str(v.derivative_of.vr + 1) if v.derivative_of else None)
    structure = _sub(root, "ModelStructure")
    for tag, unknowns, attr in (
            ("Outputs", [v for v in spec.variables if v.causality == "output"], "depends"),
            ("Derivatives", spec.derivatives, "depends"),
            ("InitialUnknowns", _initial_unknowns(spec), "initial_depends")):
        if unknowns:
            element = _sub(structure, tag)
            for v in unknowns:
                _sub(element, "Unknown", index=str(v.vr + 1), dependencies=deps(getattr(v, attr)))
    return _serialize(root)


def model_description_fmi3(spec: ModelSpec, token: str) -> str:
    """modelDescription.xml for FMI 3.0."""
    def deps(names: list[str]) -> str:
        return " ".join(str(vr) for vr in sorted(spec.var(n).vr for n in names))

    root = ET.Element("fmiModelDescription", {
        "fmiVersion": "3.0", "modelName": spec.name, "instantiationToken": token,
        "description": spec.description, "generationTool": GENERATION_TOOL,
        "variableNamingConvention": "flat"})
    state_attrs = {"canGetAndSetFMUState": "true", "canSerializeFMUState": "true"}
    if spec.model_exchange:
        _sub(root, "ModelExchange", modelIdentifier=spec.name,
             needsCompletedIntegratorStep="false", **state_attrs)
    has_events = bool(spec.indicators)
    _sub(root, "CoSimulation", modelIdentifier=spec.name,
         canHandleVariableCommunicationStepSize="true", hasEventMode=_flag(has_events),
         mightReturnEarlyFromDoStep=_flag(has_events),
         canReturnEarlyAfterIntermediateUpdate="false", **state_attrs)
    _add_common_head(root, spec)
    variables = _sub(root, "ModelVariables")
    fmi3_type = {"Real": "Float64", "Integer": "Int32", "Boolean": "Boolean"}
    for v in spec.variables:
        _sub(variables, fmi3_type[v.type], name=v.name, valueReference=str(v.vr),
             description=v.description, causality=v.causality, variability=v.variability,
             initial=v.initial, start=None if v.start is None else _xml_number(v.start),
             unit=v.unit, derivative=str(v.derivative_of.vr) if v.derivative_of else None)
    structure = _sub(root, "ModelStructure")
    for v in spec.variables:
        if v.causality == "output":
            _sub(structure, "Output", valueReference=str(v.vr), dependencies=deps(v.depends))
    for v in spec.derivatives:
        _sub(structure, "ContinuousStateDerivative", valueReference=str(v.vr),
             dependencies=deps(v.depends))
    for v in _initial_unknowns(spec):
        _sub(structure, "InitialUnknown", valueReference=str(v.vr),
             dependencies=deps(v.initial_depends))
    for v in spec.indicators:
        _sub(structure, "EventIndicator", valueReference=str(v.vr))
    return _serialize(root)


# ------------------------------------------------------------------------ build machinery


def fmi_headers_dir() -> Path:
    """The folder with the FMI 2 / FMI 3 C headers shipped with fmpy."""
    try:
        import fmpy
    except ImportError:
        raise FMUBuildError("fmpy is not installed; it provides the FMI headers needed to "
                            "build the FMUs: pip install 'fmpy>=0.3.20'") from None
    return Path(fmpy.__file__).parent / "c-code"


def list_models(source_root: Path | None = None) -> list[str]:
    """Names of the model folders (with model.json) under ``source_root``."""
    root = Path(source_root or MODELS_DIR)
    return sorted(p.parent.name for p in root.glob("*/model.json"))


def _common_dir(source_root: Path) -> Path:
    own = source_root / "common"
    return own if own.is_dir() else COMMON_DIR


def _header_files(headers: Path, model: str) -> list[Path]:
    files = [headers / name for v in FMI_VERSIONS for name in FMI_HEADERS[v]]
    for f in files:
        if not f.is_file():
            raise FMUBuildError(
                f"model '{model}': FMI header {f.name} not found in {headers}: install fmpy "
                f"with its C headers (pip install 'fmpy>=0.3.20')")
    return files


def _compiler() -> str:
    return os.environ.get("CC", "gcc")


def source_hash(model: str, source_root: Path, headers: Path) -> str:
    """Hash over everything an FMU is built from."""
    h = hashlib.sha256(b"cosim-fmus-1\0")
    h.update(Path(__file__).read_bytes())
    h.update(" ".join((_compiler(), *CFLAGS)).encode())
    common = _common_dir(source_root)
    folder = source_root / model
    for base in (common, folder):
        for f in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(f"\0{base.name}/{f.relative_to(base)}\0".encode())
            h.update(f.read_bytes())
    for f in _header_files(headers, model):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def token_from_hash(digest: str) -> str:
    d = digest
    return f"{{{d[0:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}}}"


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp_path(fmu: Path) -> Path:
    return fmu.with_name(fmu.name + ".json")


def _cache_valid(fmu: Path, digest: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(fmu).read_text())
        if stamp.get("source_hash") != digest or stamp.get("fmu_sha256") != _sha256_file(fmu):
            return False
        with zipfile.ZipFile(fmu) as zf:
            return zf.testzip() is None and "modelDescription.xml" in zf.namelist()
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _compile(spec: ModelSpec, version: int, workdir: Path, common: Path, headers: Path) -> Path:
    cc = _compiler()
    cc_path = shutil.which(cc)
    if cc_path is None:
        raise FMUBuildError(f"model '{spec.name}': C compiler '{cc}' not found: install gcc "
                            f"(apt-get install gcc) or set CC")
    out = workdir / f"fmi{version}" / f"{spec.name}.so"
    out.parent.mkdir(parents=True, exist_ok=True)
    sources = [common / "core.c", common / f"fmi{version}.c", spec.folder / "model.c"]
    cmd = [cc_path, *CFLAGS, f"-I{workdir}", f"-I{common}", f"-I{headers}", *map(str, sources),
           "-o", str(out), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        match = re.search(r"^(.+?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$", proc.stderr, re.M)
        where = f"{match.group(1)}:{match.group(2)}: {match.group(3)}" if match else \
            f"{spec.folder / 'model.c'}"
        raise FMUBuildError(f"model '{spec.name}' does not compile for FMI {version}: {where}\n"
                            f"--- {' '.join(cmd)}\n{proc.stderr.strip()}")
    if proc.stderr.strip():
        print(f"warning: compiling model '{spec.name}' for FMI {version}:\n{proc.stderr}",
              file=sys.stderr)
    return out


def _pack(spec: ModelSpec, version: int, library: Path, description: str) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        entries = [("modelDescription.xml", description.encode(), 0o644),
                   (f"binaries/{PLATFORM_DIR[version]}/{spec.name}.so", library.read_bytes(),
                    0o755)]
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _validate(spec: ModelSpec, version: int, data: bytes, workdir: Path) -> None:
    from fmpy.validation import validate_fmu

    path = workdir / f"{spec.name}.fmi{version}.fmu"
    path.write_bytes(data)
    problems = validate_fmu(str(path))
    if problems:
        raise FMUBuildError(f"model '{spec.name}': the generated FMI {version} model description "
                            f"is invalid (check {spec.folder / 'model.json'}):\n  "
                            + "\n  ".join(problems))


def _build_model(model: str, source_root: Path, out_dir: Path, headers: Path,
                 force: bool) -> dict[tuple[str, int], Path]:
    digest = source_hash(model, source_root, headers)
    targets = {(model, v): out_dir / f"fmi{v}" / f"{model}.fmu" for v in FMI_VERSIONS}
    if not force and all(_cache_valid(p, digest) for p in targets.values()):
        return targets
    spec = load_spec(model, source_root)
    token = token_from_hash(digest)
    workdir = Path(tempfile.mkdtemp(prefix=f".{model}-", dir=out_dir))
    try:
        (workdir / "model_config.h").write_text(config_header(spec, token))
        common = _common_dir(source_root)
        generate = {2: model_description_fmi2, 3: model_description_fmi3}
        packed = {}
        for v in FMI_VERSIONS:
            library = _compile(spec, v, workdir, common, headers)
            packed[v] = _pack(spec, v, library, generate[v](spec, token))
            _validate(spec, v, packed[v], workdir)
        for v, data in packed.items():
            fmu = targets[(model, v)]
            fmu.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(fmu, data)
            stamp = {"model": model, "fmi_version": v, "source_hash": digest,
                     "fmu_sha256": hashlib.sha256(data).hexdigest()}
            _write_atomic(_stamp_path(fmu), (json.dumps(stamp, indent=1) + "\n").encode())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return targets


@contextlib.contextmanager
def _locked(out_dir: Path):
    """Serialize builds into one output folder across processes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build(models: list[str] | tuple[str, ...] | str | None = None, force: bool = False, *,
          source_root: str | os.PathLike | None = None,
          out_dir: str | os.PathLike | None = None,
          fmi_headers: str | os.PathLike | None = None,
          jobs: int = 2) -> dict[tuple[str, int], Path]:
    """Build (or take from the cache) the FMUs of ``models`` (default: all).

    Returns ``{(model, fmi_version): path}`` for FMI versions 2 and 3.  ``source_root`` is
    the folder with the model folders (default: ``fmus/``; its ``common/`` is used if it has
    one, else the project's), ``out_dir`` where the FMUs land (default: ``fmus/build``),
    ``fmi_headers`` the FMI header folder (default: fmpy's).  Raises FMUBuildError.
    """
    root = Path(source_root or MODELS_DIR).resolve()
    out = Path(out_dir or DEFAULT_OUT_DIR).resolve()
    headers = Path(fmi_headers) if fmi_headers else fmi_headers_dir()
    available = list_models(root)
    if isinstance(models, str):
        models = [models]
    models = list(available if models is None else models)
    unknown = [m for m in models if m not in available]
    if unknown:
        raise FMUBuildError(f"unknown model(s) {unknown}: no model.json in "
                            f"{[str(root / m) for m in unknown]}; available: {available}")
    bad = [m for m in models if not IDENTIFIER.match(m)]
    if bad:
        raise FMUBuildError(f"model folder name(s) {bad} must be C identifiers")
    results: dict[tuple[str, int], Path] = {}
    errors: list[str] = []
    with _locked(out), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_build_model, m, root, out, headers, force) for m in models]
        for future in futures:
            try:
                results.update(future.result())
            except FMUBuildError as exc:
                errors.append(str(exc))
    if errors:
        raise FMUBuildError("\n".join(errors))
    return results


def fmu_path(model: str, fmi_version: int = 2, *, source_root: str | os.PathLike | None = None,
             out_dir: str | os.PathLike | None = None) -> Path:
    """Path of the FMU of ``model`` for FMI ``fmi_version`` (2 or 3), built if needed."""
    if fmi_version not in FMI_VERSIONS:
        raise ValueError(f"fmi_version must be 2 or 3, not {fmi_version!r}")
    return build([model], source_root=source_root, out_dir=out_dir)[(model, fmi_version)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the project's FMUs (FMI 2 and FMI 3) into fmus/build/.")
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="models to build (default: all)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output folder (default: {DEFAULT_OUT_DIR})")
    parser.add_argument("--source", type=Path, default=None,
                        help=f"folder with the model folders (default: {MODELS_DIR})")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel builds (default 2)")
    args = parser.parse_args(argv)
    try:
        paths = build(args.models or None, args.force, source_root=args.source,
                      out_dir=args.out, jobs=args.jobs)
    except FMUBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for (_, _), path in sorted(paths.items()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
