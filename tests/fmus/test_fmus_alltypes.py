"""AllTypes: every FMI variable type as input and output, stored natively by the glue.

Rules (docs/fmus.md): numeric y = u + 1 (integers wrap around), Boolean y = not u, String
upper case, Binary every byte + 1, Enumeration the next Color item, y_time = "t=<t>".
Inputs are set, a step is made, then outputs are read (the order FMI allows in Step Mode).
"""

from __future__ import annotations

import struct

import pytest
from fmpy.fmi1 import FMICallException
from fmutest_helpers import logged

INTEGERS = {"Int8": 8, "UInt8": 8, "Int16": 16, "UInt16": 16, "Int32": 32, "UInt32": 32,
            "Int64": 64, "UInt64": 64}


def plus_one(value: int, name: str) -> int:
    """u + 1 in the integer type `name`, wrapping around (computed independently of C)."""
    bits = INTEGERS[name]
    x = (value + 1) % 2**bits
    return x - 2**bits if not name.startswith("U") and x >= 2 ** (bits - 1) else x


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def stepped(inst, **inputs):
    inst.set(**inputs)
    t = inst.fmu_time = getattr(inst, "fmu_time", 0.0)
    inst.step(t, 0.25)
    inst.fmu_time = t + 0.25
    return inst


def test_defaults(instance):
    at = stepped(instance("AllTypes", 3).init())
    assert at.get("y_Float32") == 1.5 and at.get("y_Float64") == 2.5
    for name in INTEGERS:
        assert at.get(f"y_{name}") == 1, name
    assert at.get("y_Boolean") is True
    assert at.get("y_String") == "HELLO"
    assert at.get("y_Binary") == bytes([0x01, 0x00])
    assert at.get("y_Enumeration") == 2  # red -> green
    assert at.get("y_time") == "t=0.250"


@pytest.mark.parametrize("name", list(INTEGERS))
def test_integers_wrap_and_keep_all_bits(instance, name):
    bits = INTEGERS[name]
    lo, hi = (0, 2**bits - 1) if name.startswith("U") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    values = [lo, hi, hi - 1, lo + 1, 0]
    if bits == 64:  # beyond the 2^53 a double holds exactly
        values += [2**53 + 1, 2**60 + 3]
    at = instance("AllTypes", 3).init()
    for value in values:
        stepped(at, **{f"u_{name}": value})
        assert at.get(f"u_{name}") == value
        assert at.get(f"y_{name}") == plus_one(value, name), value


def test_floats_in_their_own_precision(instance):
    at = stepped(instance("AllTypes", 3).init(), u_Float32=0.1, u_Float64=0.1)
    assert at.get("u_Float32") == f32(0.1) != 0.1  # stored as single precision
    assert at.get("y_Float32") == f32(f32(0.1) + 1.0)
    assert at.get("y_Float64") == 0.1 + 1.0
    stepped(at, u_Float32=2.0**24)
    assert at.get("y_Float32") == 2.0**24  # 2^24 + 1 is not a float


def test_boolean_string_binary_enumeration(instance):
    at = stepped(instance("AllTypes", 3).init(), u_Boolean=True, u_String="Hello, wörld 1",
                 u_Binary=b"\x00\x7f\xff", u_Enumeration=3)
    assert at.get("y_Boolean") is False
    assert at.get("y_String") == "HELLO, WöRLD 1"  # ASCII letters only; UTF-8 kept intact
    assert at.get("y_Binary") == b"\x01\x80\x00"
    assert at.get("y_Enumeration") == 1  # blue -> red
    stepped(at, u_String="", u_Binary=b"")
    assert at.get("y_String") == "" and at.get("y_Binary") == b""


def test_invalid_values_are_refused(instance):
    at = instance("AllTypes", 3).init()
    for values, message in (({"u_String": "x" * 256}, "too long (at most 255)"),
                            ({"u_Binary": bytes(65)}, "too long (at most 64)"),
                            ({"u_Enumeration": 4}, "4 is not an item of the enumeration")):
        with pytest.raises(FMICallException):
            at.set(**values)
        assert logged(at, 3, message)
    with pytest.raises(FMICallException):  # every getter checks the type
        at.fmu.getInt8([at.vr("u_Int16")])
    assert logged(at, 3, "'u_Int16' (vr 9) is of type Int16, not Int8")
    stepped(at, u_String="x" * 255)  # the longest that fits
    assert at.get("y_String") == "X" * 255


def test_strings_and_binaries_are_copied_into_the_fmu_state(instance):
    at = stepped(instance("AllTypes", 3).init(), u_String="first", u_Binary=b"\x01")
    state = at.fmu.getFMUState()
    stepped(at, u_String="second", u_Binary=b"\x02\x03")
    at.fmu.setFMUState(state)
    at.fmu.freeFMUState(state)
    assert at.get("u_String") == "first" and at.get("u_Binary") == b"\x01"
    assert at.get("y_String") == "FIRST"


def test_string_output_changes_with_time(instance):
    at = instance("AllTypes", 2).init()
    texts = [text for _, text in at.run(1.0, 0.25, ("y_time",))]
    assert texts == ["t=0.250", "t=0.500", "t=0.750", "t=1.000"]


def test_fmi2_has_the_fmi2_types_with_the_same_value_references(instance):
    at2, at3 = instance("AllTypes", 2), instance("AllTypes", 3)
    fmi2 = {"Float64": "Real", "Int32": "Integer", "Boolean": "Boolean", "String": "String",
            "Enumeration": "Enumeration"}
    expected = {"time": "Real", "y_time": "String"}
    for t, t2 in fmi2.items():
        expected |= {f"u_{t}": t2, f"y_{t}": t2}
    assert {n: v.type for n, v in at2.vars.items()} == expected
    for name in expected:
        assert at2.vr(name) == at3.vr(name)
    assert at2.vars["u_Enumeration"].declaredType.name == "Color"
    at2.init(u_Int32=2**31 - 1, u_String="abc", u_Enumeration=2, u_Boolean=True, u_Float64=-1.0)
    at2.step(0.0, 0.25)
    assert (at2.get("y_Int32"), at2.get("y_String"), at2.get("y_Enumeration"),
            at2.get("y_Boolean"), at2.get("y_Float64")) == (-(2**31), "ABC", 3, False, 0.0)
    with pytest.raises(FMICallException):  # FMI 3 only variables do not exist in FMI 2
        at2.fmu.getReal([at3.vr("u_Float32")])
    assert logged(at2, 3, f"unknown value reference {at3.vr('u_Float32')}")
