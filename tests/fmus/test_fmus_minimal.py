"""Minimal: the shared library omits the optional functions its capability flags do not claim.

FMI 2.0.5 (2.3) and FMI 3.0.1 require every function to be present; FMI 2.0 and 3.0 were read
as allowing the omission, and real exported FMUs do omit them.  fmpy's wrappers bind every
function when they load a library, so the FMU is driven here through plain ctypes.
"""

from __future__ import annotations

import math
from ctypes import (
    CDLL,
    POINTER,
    byref,
    c_bool,
    c_char_p,
    c_double,
    c_int,
    c_size_t,
    c_uint,
    c_void_p,
)

import pytest
from fmpy import read_model_description
from fmpy.fmi2 import fmi2CallbackFunctions, fmi2CallbackLoggerTYPE
from fmutest_helpers import unzipped

OMITTED = {
    2: ["fmi2GetFMUstate", "fmi2SetFMUstate", "fmi2FreeFMUstate", "fmi2SerializedFMUstateSize",
        "fmi2SerializeFMUstate", "fmi2DeSerializeFMUstate", "fmi2GetDirectionalDerivative"],
    3: ["fmi3GetFMUState", "fmi3SetFMUState", "fmi3FreeFMUState", "fmi3SerializedFMUStateSize",
        "fmi3SerializeFMUState", "fmi3DeserializeFMUState", "fmi3GetDirectionalDerivative",
        "fmi3GetAdjointDerivative"],
}
PRESENT = {2: ["fmi2Instantiate", "fmi2DoStep", "fmi2GetReal", "fmi2GetBooleanStatus"],
           3: ["fmi3InstantiateCoSimulation", "fmi3DoStep", "fmi3GetFloat64", "fmi3Reset"]}


def library(fmus, version, model="Minimal") -> CDLL:
    platform = "linux64" if version == 2 else "x86_64-linux"
    return CDLL(f"{unzipped(fmus, model, version)}/binaries/{platform}/{model}.so")


@pytest.mark.parametrize("version", [2, 3])
def test_optional_functions_are_absent_and_flags_false(fmus, version):
    lib = library(fmus, version)
    for name in OMITTED[version]:
        assert not hasattr(lib, name), name
    for name in PRESENT[version]:
        assert hasattr(lib, name), name
    md = read_model_description(str(fmus[("Minimal", version)]))
    assert md.coSimulation.canGetAndSetFMUstate is False
    assert md.coSimulation.canSerializeFMUstate is False
    assert md.coSimulation.providesDirectionalDerivative in (False, None)
    decay = library(fmus, version, "Decay")  # an ordinary FMU has them all
    assert all(hasattr(decay, name) for name in OMITTED[version])


def test_fmi2_steps_through_ctypes(fmus):
    lib = library(fmus, 2)
    md = read_model_description(str(fmus[("Minimal", 2)]))
    lib.fmi2Instantiate.restype = c_void_p
    lib.fmi2Instantiate.argtypes = [c_char_p, c_int, c_char_p, c_char_p,
                                    POINTER(fmi2CallbackFunctions), c_int, c_int]
    callbacks = fmi2CallbackFunctions()
    callbacks.logger = fmi2CallbackLoggerTYPE(lambda *args: None)
    c = lib.fmi2Instantiate(b"minimal", 1, md.guid.encode(), None, byref(callbacks), 0, 0)
    assert c
    lib.fmi2SetupExperiment.argtypes = [c_void_p, c_int, c_double, c_double, c_int, c_double]
    lib.fmi2DoStep.argtypes = [c_void_p, c_double, c_double, c_int]
    lib.fmi2GetReal.argtypes = [c_void_p, POINTER(c_uint), c_size_t, POINTER(c_double)]
    for f in ("fmi2EnterInitializationMode", "fmi2ExitInitializationMode", "fmi2Terminate",
              "fmi2FreeInstance"):
        getattr(lib, f).argtypes = [c_void_p]
    assert lib.fmi2SetupExperiment(c, 0, 0.0, 0.0, 0, 0.0) == 0
    assert lib.fmi2EnterInitializationMode(c) == 0 and lib.fmi2ExitInitializationMode(c) == 0
    vr, x = (c_uint * 1)(3), (c_double * 1)()
    for i in range(10):
        assert lib.fmi2DoStep(c, i * 0.1, 0.1, 1) == 0
    assert lib.fmi2GetReal(c, vr, 1, x) == 0
    assert x[0] == pytest.approx(math.exp(-1.0), abs=1e-12)
    assert lib.fmi2Terminate(c) == 0
    lib.fmi2FreeInstance(c)


def test_fmi3_steps_through_ctypes(fmus):
    lib = library(fmus, 3)
    md = read_model_description(str(fmus[("Minimal", 3)]))
    lib.fmi3InstantiateCoSimulation.restype = c_void_p
    lib.fmi3InstantiateCoSimulation.argtypes = [c_char_p, c_char_p, c_char_p, c_bool, c_bool,
                                                c_bool, c_bool, c_void_p, c_size_t, c_void_p,
                                                c_void_p, c_void_p]
    c = lib.fmi3InstantiateCoSimulation(b"minimal", md.guid.encode(), None, False, False, False,
                                        False, None, 0, None, None, None)
    assert c
    lib.fmi3EnterInitializationMode.argtypes = [c_void_p, c_bool, c_double, c_double, c_bool,
                                                c_double]
    lib.fmi3DoStep.argtypes = [c_void_p, c_double, c_double, c_bool, POINTER(c_bool),
                               POINTER(c_bool), POINTER(c_bool), POINTER(c_double)]
    lib.fmi3GetFloat64.argtypes = [c_void_p, POINTER(c_uint), c_size_t, POINTER(c_double),
                                   c_size_t]
    for f in ("fmi3ExitInitializationMode", "fmi3Terminate", "fmi3FreeInstance"):
        getattr(lib, f).argtypes = [c_void_p]
    assert lib.fmi3EnterInitializationMode(c, False, 0.0, 0.0, False, 0.0) == 0
    assert lib.fmi3ExitInitializationMode(c) == 0
    flags, last = [c_bool() for _ in range(3)], c_double()
    for i in range(10):
        assert lib.fmi3DoStep(c, i * 0.1, 0.1, True, *map(byref, flags), byref(last)) == 0
    vr, x = (c_uint * 1)(3), (c_double * 1)()
    assert lib.fmi3GetFloat64(c, vr, 1, x, 1) == 0
    assert x[0] == pytest.approx(math.exp(-1.0), abs=1e-12) and last.value == pytest.approx(1.0)
    assert lib.fmi3Terminate(c) == 0
    lib.fmi3FreeInstance(c)
