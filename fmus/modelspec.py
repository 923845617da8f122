"""Read and check ``fmus/<Model>/model.json``: the variables and options of one model.

Used by :mod:`fmus.build`; only the standard library.  The keys are documented in
``docs/fmus.md`` ("Adding a model").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FMUBuildError", "ModelSpec", "Variable", "load_spec", "UNITS", "FMI3_TYPES"]

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

FMI3_TYPES = ("Float32", "Float64", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32",
              "Int64", "UInt64", "Boolean", "String", "Binary", "Enumeration", "Clock")
TYPE_ALIASES = {"Real": "Float64", "Integer": "Int32"}
FMI2_TYPES = {"Float64": "Real", "Int32": "Integer", "Boolean": "Boolean", "String": "String",
              "Enumeration": "Enumeration"}
FLOAT_TYPES = ("Float32", "Float64")
INT_RANGES = {f"{s}Int{b}": ((0, 2**b - 1) if s else (-(2 ** (b - 1)), 2 ** (b - 1) - 1))
              for s in ("", "U") for b in (8, 16, 32, 64)}
ARRAYABLE = (*FLOAT_TYPES, *INT_RANGES, "Boolean")
DEFAULT_MAX_SIZE = 256  # bytes of a String (with its terminating NUL) or a Binary
INTERVAL_VARIABILITIES = ("constant", "fixed", "tunable", "changing", "countdown", "triggered")
OMITTABLE = ("fmu_state", "directional_derivatives")

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MODEL_KEYS = {"description", "model_exchange", "h_max", "experiment", "variables",
              "event_indicators", "fmi_versions", "internal_states", "omit", "cs_event_mode",
              "cs_early_return", "enumerations"}
VARIABLE_KEYS = {"name", "type", "causality", "variability", "start", "unit", "description",
                 "depends", "initial_depends", "state", "dimensions", "declared_type",
                 "fmi_versions", "min", "max", "max_size", "clocks", "interval",
                 "interval_variability"}
STATE_KEYS = {"der_unit", "der_depends", "der_initial_depends"}
EXPERIMENT_KEYS = {"startTime", "stopTime", "tolerance", "stepSize"}
CAUSALITIES = ("parameter", "structuralParameter", "input", "output", "local")


class FMUBuildError(Exception):
    """An FMU cannot be built: bad model files, compiler errors, missing gcc or headers."""


@dataclass
class Variable:
    name: str
    vr: int
    type: str  # an FMI 3 type name (FMI3_TYPES)
    causality: str  # independent | structuralParameter | parameter | input | output | local
    variability: str
    description: str
    start: Any = None  # scalar, list (arrays), bytes (Binary) or None (calculated)
    unit: str | None = None
    depends: list[str] | None = None  # outputs / derivatives: direct dependencies
    initial_depends: list[str] | None = None  # initial unknowns
    state: dict | None = None  # continuous states: derivative info
    derivative_of: Variable | None = None
    dims: list[int | str] = field(default_factory=list)  # [] scalar; int or structural param
    declared_type: str | None = None  # Enumeration: its type definition
    fmi_versions: tuple[int, ...] = (2, 3)
    min: float | None = None
    max: float | None = None
    max_size: int | None = None  # String / Binary capacity [bytes]
    clocks: list[str] = field(default_factory=list)
    interval: float | None = None  # Clock with intervalVariability="constant" [s]
    interval_variability: str | None = None

    @property
    def initial(self) -> str | None:
        if self.causality in ("parameter", "structuralParameter"):
            return "exact"
        if self.causality in ("output", "local") and self.type != "Clock":
            return "calculated"
        return None

    @property
    def c_name(self) -> str:
        """The field of the C struct Vars holding the value."""
        return f"der_{self.derivative_of.name}" if self.derivative_of else self.name

    @property
    def in_fmi2(self) -> bool:
        """Part of the FMI 2 model description (FMI 2 has no such types, arrays, clocks)."""
        return (2 in self.fmi_versions and self.type in FMI2_TYPES and not self.dims
                and self.causality != "structuralParameter" and not self.clocks)


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
    fmi_versions: tuple[int, ...] = (2, 3)
    internal_states: int = 0
    omit: tuple[str, ...] = ()
    cs_event_mode: bool = False  # FMI 3 hasEventMode
    cs_early_return: bool = False  # FMI 3 mightReturnEarlyFromDoStep
    enumerations: dict[str, dict[str, int]] = field(default_factory=dict)

    def var(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    def default_count(self, var: Variable) -> int:
        """Element count of a variable at the start values of its structural parameters."""
        return math.prod(d if isinstance(d, int) else int(self.var(d).start) for d in var.dims)

    def capacity(self, var: Variable) -> int:
        """Elements the storage must hold: arrays at the largest extents, String/Binary bytes."""
        if var.type in ("String", "Binary"):
            return var.max_size
        return math.prod(d if isinstance(d, int) else int(self.var(d).max) for d in var.dims)


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


def _versions(value, what: str, spec_file: Path) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not set(value) <= {2, 3}:
        raise _fail(spec_file, f"{what} 'fmi_versions' must be a non-empty list of 2 and/or 3")
    return tuple(sorted(set(value)))


# ------------------------------------------------------------------------ start values


def _bytes_start(value, var: Variable, what: str, spec_file: Path):
    """A String (text) or Binary (hex text) start value, within the variable's capacity."""
    if var.type == "String":
        if not isinstance(value, str) or len(value.encode()) >= var.max_size:
            raise _fail(spec_file, f"{what} must be a string shorter than {var.max_size} bytes")
        return value
    try:
        data = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise _fail(spec_file, f"{what} must be a hex string") from None
    if len(data) > var.max_size:
        raise _fail(spec_file, f"{what} is longer than max_size = {var.max_size}")
    return data


def _scalar(value, var: Variable, spec: ModelSpec, spec_file: Path):
    """One start value of `var`, checked against its type."""
    what = f"start of {var.type} '{var.name}'"
    t = var.type
    if t in FLOAT_TYPES:
        return _number(value, what, spec_file)
    if t == "Boolean":
        if not isinstance(value, bool):
            raise _fail(spec_file, f"{what} must be true or false")
        return value
    if t in ("String", "Binary"):
        return _bytes_start(value, var, what, spec_file)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(spec_file, f"{what} must be an integer")
    if t == "Enumeration":
        if value not in spec.enumerations[var.declared_type].values():
            raise _fail(spec_file, f"{what} = {value} is not an item of '{var.declared_type}'")
        return value
    lo, hi = INT_RANGES[t]
    if not lo <= value <= hi:
        raise _fail(spec_file, f"{what} = {value} is outside the range of {t}")
    return value


def _parse_start(raw: dict, var: Variable, spec: ModelSpec, spec_file: Path):
    start = raw.get("start")
    needs = var.causality in ("parameter", "structuralParameter", "input") and var.type != "Clock"
    if needs and start is None:
        raise _fail(spec_file, f"variable '{var.name}' ({var.causality}) needs a start value")
    if not needs and start is not None:
        raise _fail(spec_file, f"variable '{var.name}' is calculated by the model: remove 'start'")
    if start is None:
        return None
    if not var.dims:
        return _scalar(start, var, spec, spec_file)
    count = spec.default_count(var)
    if not isinstance(start, list) or len(start) != count:
        raise _fail(spec_file, f"start of array '{var.name}' must be a list of {count} values "
                               f"(row-major, at the start values of its dimensions)")
    return [_scalar(x, var, spec, spec_file) for x in start]


# ------------------------------------------------------------------------ variables


def _parse_type(raw: dict, name: str, spec: ModelSpec, spec_file: Path) -> tuple[str, str | None]:
    vtype = TYPE_ALIASES.get(raw.get("type", "Real"), raw.get("type", "Real"))
    if vtype not in FMI3_TYPES:
        raise _fail(spec_file, f"variable '{name}': type must be one of "
                               f"{['Real', 'Integer', *FMI3_TYPES]}, not {raw.get('type')!r}")
    declared = raw.get("declared_type")
    if (vtype == "Enumeration") != (declared is not None):
        raise _fail(spec_file, f"variable '{name}': 'declared_type' (a key of 'enumerations') is "
                               f"required for Enumeration variables and only for them")
    if declared is not None and declared not in spec.enumerations:
        raise _fail(spec_file, f"variable '{name}': unknown declared_type {declared!r} (known: "
                               f"{sorted(spec.enumerations)})")
    return vtype, declared


def _parse_variability(raw: dict, name: str, vtype: str, causality: str,
                       spec_file: Path) -> str:
    parameter = causality in ("parameter", "structuralParameter")
    default = "fixed" if parameter else ("continuous" if vtype in FLOAT_TYPES else "discrete")
    variability = raw.get("variability", default)
    allowed = ("fixed", "tunable") if parameter else (
        ("continuous", "discrete") if vtype in FLOAT_TYPES else ("discrete",))
    if variability not in allowed:
        raise _fail(spec_file, f"variable '{name}': variability must be one of {allowed}")
    return variability


def _parse_extent(raw: dict, var: Variable, spec_file: Path) -> None:
    """Dimensions, structural-parameter range, String/Binary capacity, clock attributes."""
    dims = raw.get("dimensions", [])
    if dims and (var.type not in ARRAYABLE or not isinstance(dims, list) or not all(
            (isinstance(d, int) and not isinstance(d, bool) and d >= 1) or isinstance(d, str)
            for d in dims) or len(dims) > 4):
        raise _fail(spec_file, f"variable '{var.name}': 'dimensions' must list 1 to 4 extents "
                               f"(integers >= 1 or names of structural parameters) of a numeric "
                               f"or Boolean variable")
    var.dims = list(dims)
    if var.causality == "structuralParameter":
        if var.type != "UInt64" or "min" not in raw or "max" not in raw:
            raise _fail(spec_file, f"structural parameter '{var.name}' must be of type UInt64 "
                                   f"with 'min' and 'max'")
        var.min, var.max = (_number(raw[k], f"{k} of '{var.name}'", spec_file)
                            for k in ("min", "max"))
    if var.type in ("String", "Binary"):
        var.max_size = raw.get("max_size", DEFAULT_MAX_SIZE)
        if isinstance(var.max_size, bool) or not isinstance(var.max_size, int) or var.max_size < 1:
            raise _fail(spec_file, f"variable '{var.name}': max_size must be an integer >= 1")
    _parse_clock(raw, var, spec_file)


def _parse_clock(raw: dict, var: Variable, spec_file: Path) -> None:
    var.clocks = raw.get("clocks", [])
    if var.type != "Clock":
        if "interval" in raw or "interval_variability" in raw:
            raise _fail(spec_file, f"variable '{var.name}': interval settings are for clocks")
        return
    if var.causality not in ("input", "output"):
        raise _fail(spec_file, f"clock '{var.name}' must be an input or an output")
    var.interval_variability = raw.get("interval_variability")
    if var.interval_variability not in INTERVAL_VARIABILITIES:
        raise _fail(spec_file, f"clock '{var.name}': interval_variability must be one of "
                               f"{INTERVAL_VARIABILITIES}")
    if var.interval_variability == "constant":
        var.interval = _number(raw.get("interval"), f"interval of '{var.name}'", spec_file)


def _parse_variable(raw: dict, vr: int, spec: ModelSpec, spec_file: Path) -> Variable:
    if not isinstance(raw, dict) or "name" not in raw:
        raise _fail(spec_file, f"variable #{vr} must be an object with a 'name'")
    name = raw["name"]
    _check_keys(raw, VARIABLE_KEYS, f"variable '{name}'", spec_file)
    if not isinstance(name, str) or not IDENTIFIER.match(name) or name == "time" or \
            name.startswith("der_") or name.endswith("__size"):
        raise _fail(spec_file, f"variable name {name!r} must be a C identifier other than 'time' "
                               f"(not starting with 'der_', not ending in '__size')")
    causality = raw.get("causality")
    if causality not in CAUSALITIES:
        raise _fail(spec_file, f"variable '{name}': causality must be one of {CAUSALITIES}, "
                               f"not {causality!r}")
    vtype, declared = _parse_type(raw, name, spec, spec_file)
    unit = raw.get("unit")
    if unit is not None and (vtype not in FLOAT_TYPES or unit not in UNITS):
        raise _fail(spec_file, f"variable '{name}': unknown unit {unit!r} (known: "
                               f"{sorted(UNITS)}; add it to UNITS in fmus/modelspec.py)")
    if not isinstance(raw.get("description"), str) or not raw["description"]:
        raise _fail(spec_file, f"variable '{name}' needs a description")
    var = Variable(name=name, vr=vr, type=vtype, causality=causality,
                   variability=_parse_variability(raw, name, vtype, causality, spec_file),
                   description=raw["description"], unit=unit, depends=raw.get("depends"),
                   initial_depends=raw.get("initial_depends"), declared_type=declared)
    if "fmi_versions" in raw:
        var.fmi_versions = _versions(raw["fmi_versions"], f"variable '{name}':", spec_file)
        if 3 not in var.fmi_versions:
            raise _fail(spec_file, f"variable '{name}': every variable is in the FMI 3 FMU; "
                                   f"'fmi_versions': [3] leaves one out of FMI 2")
    _parse_extent(raw, var, spec_file)
    _parse_state(var, raw.get("state"), spec.model_exchange, spec_file)
    return var


def _parse_state(var: Variable, state, model_exchange: bool, spec_file: Path) -> None:
    if state in (None, False):
        return
    if var.type != "Float64" or var.variability != "continuous" or var.causality not in (
            "output", "local"):
        raise _fail(spec_file, f"state '{var.name}' must be a continuous Float64 output or local")
    if state is True:
        state = {}
    if not isinstance(state, dict):
        raise _fail(spec_file, f"'state' of '{var.name}' must be true or an object")
    _check_keys(state, STATE_KEYS, f"state of '{var.name}'", spec_file)
    if model_exchange and (set(state) != STATE_KEYS or var.dims):
        raise _fail(spec_file, f"state '{var.name}' of a Model Exchange model must be a scalar "
                               f"with {sorted(STATE_KEYS)}")
    if model_exchange and state["der_unit"] not in UNITS:
        raise _fail(spec_file, f"state '{var.name}': unknown der_unit {state['der_unit']!r}")
    var.state = state


# ------------------------------------------------------------------------ cross-checks


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
    knowns = {n: v for n, v in by_name.items()
              if v.causality in ("parameter", "structuralParameter", "input")}
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


def _check_shapes(spec: ModelSpec, spec_file: Path) -> None:
    """Dimensions name structural parameters; clocks name clocks; FMI 2 variables make sense."""
    by_name = {v.name: v for v in spec.variables}
    for var in spec.variables:
        for d in var.dims:
            if isinstance(d, str) and (d not in by_name or
                                       by_name[d].causality != "structuralParameter"):
                raise _fail(spec_file, f"dimension {d!r} of '{var.name}' is not a structural "
                                       f"parameter of the model")
        for c in var.clocks:
            if c not in by_name or by_name[c].type != "Clock":
                raise _fail(spec_file, f"'clocks' of '{var.name}': {c!r} is not a clock")
        if var.causality == "structuralParameter" and not (
                0 <= var.min <= var.start <= var.max):
            raise _fail(spec_file, f"structural parameter '{var.name}': need "
                                   f"0 <= min <= start <= max")
    if 2 in spec.fmi_versions and spec.model_exchange and any(
            not v.in_fmi2 for v in spec.states):
        raise _fail(spec_file, "every state of an FMI 2 Model Exchange model must be in FMI 2")


# ------------------------------------------------------------------------ the model


def _parse_enumerations(data, spec_file: Path) -> dict[str, dict[str, int]]:
    enums = data.get("enumerations", {})
    ok = isinstance(enums, dict) and all(
        IDENTIFIER.match(name) and isinstance(items, dict) and items and all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in items.items()) and len(set(items.values())) == len(items)
        for name, items in enums.items())
    if not ok:
        raise _fail(spec_file, "'enumerations' must map type names to {item: distinct integer}")
    return enums


def _parse_header(data, spec_file: Path) -> ModelSpec:
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
    spec = ModelSpec(spec_file.parent.name, spec_file.parent, description, model_exchange,
                     h_max, experiment, enumerations=_parse_enumerations(data, spec_file))
    _parse_options(data, spec, spec_file)
    return spec


def _parse_options(data: dict, spec: ModelSpec, spec_file: Path) -> None:
    if "fmi_versions" in data:
        spec.fmi_versions = _versions(data["fmi_versions"], "the model's", spec_file)
    spec.internal_states = data.get("internal_states", 0)
    if isinstance(spec.internal_states, bool) or not isinstance(spec.internal_states, int) or \
            spec.internal_states < 0 or (spec.internal_states and spec.model_exchange):
        raise _fail(spec_file, "'internal_states' must be an integer >= 0 (co-simulation only)")
    omit = data.get("omit", [])
    if not isinstance(omit, list) or not set(omit) <= set(OMITTABLE):
        raise _fail(spec_file, f"'omit' must list some of {OMITTABLE}")
    spec.omit = tuple(omit)
    for key in ("cs_event_mode", "cs_early_return"):
        if not isinstance(data.get(key, False), bool):
            raise _fail(spec_file, f"'{key}' must be true or false")


def _finish(spec: ModelSpec, data: dict, spec_file: Path) -> None:
    """States, derivatives, indicators, event flags, and the cross-checks."""
    spec.states = [v for v in spec.variables if v.state is not None]
    if (spec.states or spec.internal_states) and "h_max" not in data:
        raise _fail(spec_file, "a model with continuous states needs 'h_max' (internal step)")
    if spec.model_exchange:
        for state in spec.states:
            der = Variable(f"der({state.name})", len(spec.variables), "Float64", "local",
                           "continuous", f"Time derivative of {state.name}",
                           unit=state.state["der_unit"], depends=state.state["der_depends"],
                           initial_depends=state.state["der_initial_depends"],
                           derivative_of=state)
            spec.variables.append(der)
            spec.derivatives.append(der)
    by_name = {v.name: v for v in spec.variables}
    indicators = data.get("event_indicators", [])
    if not isinstance(indicators, list) or any(
            by_name.get(n) is None or by_name[n].type != "Float64" or by_name[n].dims
            for n in indicators):
        raise _fail(spec_file, "'event_indicators' must list scalar Float64 variables")
    if indicators and "h_max" not in data:
        raise _fail(spec_file, "a model with event indicators needs 'h_max' (internal step)")
    spec.indicators = [by_name[n] for n in indicators]
    spec.cs_event_mode = data.get("cs_event_mode", bool(indicators))
    spec.cs_early_return = data.get("cs_early_return", bool(indicators) and spec.cs_event_mode)
    if spec.cs_early_return and not spec.cs_event_mode:
        raise _fail(spec_file, "'cs_early_return' needs 'cs_event_mode'")
    _check_shapes(spec, spec_file)
    _check_dependencies(spec, spec_file)


def load_spec(model: str, source_root: Path) -> ModelSpec:
    """Read and check ``<source_root>/<model>/model.json``."""
    spec_file = Path(source_root) / model / "model.json"
    try:
        data = json.loads(spec_file.read_text())
    except FileNotFoundError:
        raise FMUBuildError(f"model '{model}': {spec_file} does not exist") from None
    except (OSError, ValueError) as exc:
        raise _fail(spec_file, f"cannot read: {exc}") from None
    spec = _parse_header(data, spec_file)
    spec.variables.append(Variable("time", 0, "Float64", "independent", "continuous",
                                   "Simulation time", unit="s"))
    raw_vars = data.get("variables")
    if not isinstance(raw_vars, list) or not raw_vars:
        raise _fail(spec_file, "needs a non-empty list 'variables'")
    pending = []
    for raw in raw_vars:
        var = _parse_variable(raw, len(spec.variables), spec, spec_file)
        if any(v.name == var.name for v in spec.variables):
            raise _fail(spec_file, f"variable '{var.name}' is defined twice")
        spec.variables.append(var)
        pending.append((raw, var))
    # scalars first: the start of an array is checked against its dimensions' start values
    for raw, var in sorted(pending, key=lambda item: bool(item[1].dims)):
        _check_start_dims(var, spec, spec_file)
        var.start = _parse_start(raw, var, spec, spec_file)
    _finish(spec, data, spec_file)
    return spec


def _check_start_dims(var: Variable, spec: ModelSpec, spec_file: Path) -> None:
    for d in var.dims:
        if isinstance(d, str) and (d not in {v.name for v in spec.variables} or
                                   spec.var(d).causality != "structuralParameter"):
            raise _fail(spec_file, f"dimension {d!r} of '{var.name}' is not a structural "
                                   f"parameter of the model")
