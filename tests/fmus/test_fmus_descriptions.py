"""Model descriptions of the project's FMUs: valid, complete and what the equations say.

The expected variables, units, defaults and dependencies below are transcribed from the
model specifications (docs/fmus.md), not from model.json, so they check the generator and
the JSON files against the intended models.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import zipfile

import pytest
from fmpy import read_model_description
from fmpy.validation import validate_fmu
from fmutest_helpers import ALL_BUILDS, ME_MODELS, MODELS, VERSIONS

# name: (causality, start, unit); start None = calculated by the model
SPEC = {
    "Oscillator": {"m": ("parameter", 1, "kg"), "k": ("parameter", 1, "N/m"),
                   "c": ("parameter", 0, "N.s/m"), "x0": ("parameter", 1, "m"),
                   "v0": ("parameter", 0, "m/s"), "F": ("input", 0, "N"),
                   "x": ("output", None, "m"), "v": ("output", None, "m/s")},
    "Spring": {"k": ("parameter", 1, "N/m"), "c": ("parameter", 0, "N.s/m"),
               "x1": ("input", 0, "m"), "v1": ("input", 0, "m/s"), "x2": ("input", 0, "m"),
               "v2": ("input", 0, "m/s"), "F": ("output", None, "N")},
    "Decay": {"k": ("parameter", 1, "1/s"), "x0": ("parameter", 1, "1"),
              "u": ("input", 0, "1/s"), "x": ("output", None, "1")},
    "Ball": {"g": ("parameter", 9.81, "m/s2"), "e": ("parameter", 0.7, "1"),
             "h0": ("parameter", 1, "m"), "v0": ("parameter", 0, "m/s"),
             "v_min": ("parameter", 0.1, "m/s"), "h": ("output", None, "m"),
             "v": ("output", None, "m/s"), "bounces": ("output", None, None)},
    "Gain": {"k": ("parameter", 1, None), "b": ("parameter", 0, None),
             "u": ("input", 0, None), "y": ("output", None, None)},
    "Rack": {"C_cpu": ("parameter", 4e5, "J/K"), "C_air": ("parameter", 2e4, "J/K"),
             "G_cpu": ("parameter", 500, "W/K"), "cp": ("parameter", 1005, "J/(kg.K)"),
             "T0": ("parameter", 298.15, "K"), "P_it": ("input", 10000, "W"),
             "T_supply": ("input", 291.15, "K"), "m_flow": ("input", 1, "kg/s"),
             "T_out": ("output", None, "K"), "T_cpu": ("output", None, "K"),
             "T_throttle": ("parameter", 358.15, "K"), "T_trip": ("parameter", 373.15, "K"),
             "throttle_min": ("parameter", 0.5, "1"), "throttle": ("output", None, "1"),
             "tripped": ("output", None, None)},
    "Cooler": {"tau": ("parameter", 120, "s"), "m_flow_nominal": ("parameter", 4, "kg/s"),
               "P_fan_nominal": ("parameter", 3000, "W"), "COP": ("parameter", 3.5, "1"),
               "cp": ("parameter", 1005, "J/(kg.K)"), "T0": ("parameter", 291.15, "K"),
               "failed": ("parameter", False, None), "T_return": ("input", 301.15, "K"),
               "T_setpoint": ("input", 291.15, "K"), "fan": ("input", 1, "1"),
               "T_supply": ("output", None, "K"), "P_el": ("output", None, "W"),
               "m_flow": ("output", None, "kg/s")},
    "Faulty": {"u": ("input", 0, None), "y": ("output", None, None),
               "fail_at": ("parameter", 1e300, "s"), "nan_at": ("parameter", 1e300, "s")},
}

# inputs each output depends on directly (direct feedthrough), from the equations
FEEDTHROUGH = {
    "Oscillator": {"x": set(), "v": set()},
    "Spring": {"F": {"x1", "v1", "x2", "v2"}},
    "Decay": {"x": set()},
    "Ball": {"h": set(), "v": set(), "bounces": set()},
    "Gain": {"y": {"u"}},
    "Rack": {"T_out": set(), "T_cpu": set(), "throttle": set(), "tripped": set()},
    "Cooler": {"T_supply": set(), "P_el": {"fan", "T_return"}, "m_flow": {"fan"}},
    "Faulty": {"y": {"u"}},
}

# states and inputs each state derivative depends on (Model Exchange models)
DERIVATIVES = {
    "Oscillator": {"x": {"v"}, "v": {"x", "v", "F"}},
    "Decay": {"x": {"x", "u"}},
    "Ball": {"h": {"v"}, "v": {"h", "v"}},  # der(v) = 0 when resting on the floor
    "Spring": {},  # algebraic: model exchange without states (the ME two-mass cluster)
}

# SI base-unit exponents (kg, m, s, K) of every unit in SPEC
SI = {"kg": (1, 0, 0, 0), "N/m": (1, 0, -2, 0), "N.s/m": (1, 0, -1, 0), "m": (0, 1, 0, 0),
      "m/s": (0, 1, -1, 0), "m/s2": (0, 1, -2, 0), "N": (1, 1, -2, 0), "1/s": (0, 0, -1, 0),
      "1": (0, 0, 0, 0), "J/K": (1, 2, -2, -1), "W/K": (1, 2, -3, -1),
      "J/(kg.K)": (0, 2, -2, -1), "K": (0, 0, 0, 1), "W": (1, 2, -3, 0),
      "kg/s": (1, 0, -1, 0), "s": (0, 0, 1, 0)}

ALL = [(m, v) for m in MODELS for v in VERSIONS]


def xml_root(path) -> ET.Element:
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read("modelDescription.xml"))


@pytest.mark.parametrize("model,version", ALL_BUILDS)
def test_fmu_passes_fmpy_validation(fmus, model, version):
    path = str(fmus[(model, version)])
    read_model_description(path, validate=True)  # XML schema
    assert validate_fmu(path) == []


@pytest.mark.parametrize("model,version", ALL)
def test_header_and_capability_flags(fmus, model, version):
    root = xml_root(fmus[(model, version)])
    assert root.get("fmiVersion") == f"{version}.0"
    assert root.get("modelName") == model
    assert root.get("generationTool") == "cosim fmus"
    assert root.get("description")
    token = root.get("guid" if version == 2 else "instantiationToken")
    assert len(token) == 38 and token.startswith("{") and token.endswith("}")
    cs = root.find("CoSimulation")
    me = root.find("ModelExchange")
    assert (me is not None) == (model in ME_MODELS)
    assert cs.get("modelIdentifier") == model
    assert cs.get("canHandleVariableCommunicationStepSize") == "true"
    for element in filter(lambda e: e is not None, (cs, me)):
        if version == 2:
            assert element.get("canGetAndSetFMUstate") == "true"
            assert element.get("canNotUseMemoryManagementFunctions") == "true"
        else:
            assert element.get("canGetAndSetFMUState") == "true"
    if version == 3:
        events = "true" if model == "Ball" else "false"
        assert cs.get("hasEventMode") == events
        assert cs.get("mightReturnEarlyFromDoStep") == events
        assert cs.get("canReturnEarlyAfterIntermediateUpdate") == "false"


@pytest.mark.parametrize("model,version", ALL)
def test_variables_units_and_defaults(fmus, model, version):
    md = read_model_description(str(fmus[(model, version)]))
    variables = {v.name: v for v in md.modelVariables}
    units = {u.name: u.baseUnit for u in md.unitDefinitions}
    for name, (causality, start, unit) in SPEC[model].items():
        var = variables[name]
        assert var.causality == causality, name
        assert var.description, name
        assert var.unit == unit, name
        if start is None:
            assert var.start is None and var.initial == "calculated", name
        elif isinstance(start, bool):
            assert var.start == "false", name
            assert var.type == "Boolean" and var.variability == "tunable", name
        else:
            assert math.isclose(float(var.start), start), name
            assert var.variability == ("fixed" if causality == "parameter" else "continuous")
    if model == "Ball":
        assert variables["bounces"].type == ("Integer" if version == 2 else "Int32")
        assert variables["bounces"].variability == "discrete"
    # every unit used is defined with the right SI exponents, and no unit is left over
    used = {v.unit for v in md.modelVariables if v.unit}
    assert used == set(units)
    for name in used:
        base = units[name]
        assert (base.kg, base.m, base.s, base.K) == SI[name], name
        assert (base.A, base.mol, base.cd, base.rad, base.factor, base.offset) == (
            0, 0, 0, 0, 1.0, 0.0)
    # value references unique, exactly one independent variable "time"
    assert len({v.valueReference for v in md.modelVariables}) == len(md.modelVariables)
    assert [v.name for v in md.modelVariables if v.causality == "independent"] == ["time"]


@pytest.mark.parametrize("model,version", ALL)
def test_output_dependencies_are_the_direct_feedthrough(fmus, model, version):
    md = read_model_description(str(fmus[(model, version)]))
    declared = {u.variable.name: {d.name for d in u.dependencies} for u in md.outputs}
    assert declared == FEEDTHROUGH[model]
    # every output is also an initial unknown (all outputs are calculated)
    initial = {u.variable.name for u in md.initialUnknowns}
    assert set(FEEDTHROUGH[model]) <= initial


@pytest.mark.parametrize("model,version", [(m, v) for m in ME_MODELS for v in VERSIONS])
def test_model_exchange_structure(fmus, model, version):
    md = read_model_description(str(fmus[(model, version)]))
    expected = DERIVATIVES[model]
    assert md.numberOfContinuousStates == len(expected)
    declared = {u.variable.derivative.name: {d.name for d in u.dependencies}
                for u in md.derivatives}
    assert declared == expected
    for u in md.derivatives:
        assert u.variable.name == f"der({u.variable.derivative.name})"
    initial = {u.variable.name for u in md.initialUnknowns}
    assert initial >= set(expected) | {f"der({x})" for x in expected}
    assert md.numberOfEventIndicators == (1 if model == "Ball" else 0)
    if model == "Ball" and version == 3:
        assert [u.variable.name for u in md.eventIndicators] == ["h"]


@pytest.mark.parametrize("model,version", [(m, v) for m in MODELS if m not in ME_MODELS
                                           for v in VERSIONS])
def test_cs_only_models_expose_no_me_structure(fmus, model, version):
    md = read_model_description(str(fmus[(model, version)]))
    assert md.modelExchange is None
    assert md.derivatives == [] and md.numberOfEventIndicators == 0


@pytest.mark.parametrize("model,version", ALL)
def test_declared_feedthrough_matches_the_binary(instance, model, version):
    """Perturb every input without stepping: exactly the declared outputs must change."""
    # non-zero coefficients so that every structural dependency is visible
    inst = instance(model, version).init(**({"c": 0.5} if model == "Spring" else {}))
    inst.step(0.0, 0.1)
    inputs = [n for n, (c, _, _) in SPEC[model].items() if c == "input"]
    outputs = list(FEEDTHROUGH[model])
    for name in inputs:
        before = {o: inst.get(o) for o in outputs}
        inst.set(**{name: inst.get(name) - 0.37})  # Cooler: fan 1 -> 0.63 (not clipped)
        after = {o: inst.get(o) for o in outputs}
        changed = {o for o in outputs if after[o] != before[o]}
        assert changed == {o for o in outputs if name in FEEDTHROUGH[model][o]}, name


def test_tokens_differ_between_models_and_agree_between_versions(fmus):
    tokens = {}
    for model in MODELS:
        fmi2 = xml_root(fmus[(model, 2)]).get("guid")
        fmi3 = xml_root(fmus[(model, 3)]).get("instantiationToken")
        assert fmi2 == fmi3
        tokens[model] = fmi2
    assert len(set(tokens.values())) == len(MODELS)
