"""cosim.units against hand-computed conversions: SI prefixes, temperatures (absolute and
relative), derived units, Modelica strings, FMI <BaseUnit> and <DisplayUnit> definitions.

Hand values are exact fractions; a conversion must be that fraction correctly rounded to
a float (exact equality), except where pi is involved (then within 1 ulp-ish, 1e-15).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction as F

import numpy as np
import pytest
from fmpy.model_description import BaseUnit, DisplayUnit, Unit

from cosim import units
from cosim.errors import ConfigError
from cosim.units import UnitDef, UnitError, compatible, conversion, convert

# (from, to, scale, offset): value_to = scale * value_from + offset, computed by hand
CORPUS = [
    # SI prefixes
    ("kW", "W", F(1000), 0), ("W", "kW", F(1, 1000), 0), ("MW", "kW", F(1000), 0),
    ("mW", "W", F(1, 1000), 0), ("kPa", "Pa", F(1000), 0), ("km", "m", F(1000), 0),
    ("mm", "m", F(1, 1000), 0), ("um", "mm", F(1, 1000), 0), ("ns", "s", F(1, 10**9), 0),
    ("mA", "A", F(1, 1000), 0), ("kN", "N", F(1000), 0), ("kOhm", "Ohm", F(1000), 0),
    ("g", "kg", F(1, 1000), 0), ("GJ", "MJ", F(1000), 0),
    # pressure, energy, time, volume, speed
    ("bar", "Pa", F(100000), 0), ("mbar", "hPa", F(1), 0), ("MPa", "bar", F(10), 0),
    ("kWh", "J", F(3_600_000), 0), ("Wh", "kJ", F(18, 5), 0), ("min", "s", F(60), 0),
    ("h", "s", F(3600), 0), ("d", "h", F(24), 0), ("t", "kg", F(1000), 0),
    ("l", "m3", F(1, 1000), 0), ("l/min", "m3/s", F(1, 60000), 0),
    ("km/h", "m/s", F(5, 18), 0), ("inch", "mm", F(254, 10), 0),
    # dimensionless and frequencies
    ("%", "1", F(1, 100), 0), ("1", "%", F(100), 0), ("ppm", "%", F(1, 10000), 0),
    ("Hz", "1/s", F(1), 0), ("1/min", "Hz", F(1, 60), 0), ("s-1", "1/h", F(3600), 0),
    ("rev", "deg", F(360), 0),
    # derived units, Modelica spelling against pint spelling
    ("m/s2", "m/s**2", F(1), 0), ("kg.m2", "g*cm**2", F(10**7), 0),
    ("W/(m2.K)", "W/(cm**2*K)", F(1, 10000), 0), ("N.m", "J", F(1), 0),
    ("J/(kg.K)", "kJ/(kg.K)", F(1, 1000), 0), ("kg/m3", "g/cm3", F(1, 1000), 0),
    ("W/K", "kW/K", F(1, 1000), 0), ("K/min", "K/s", F(1, 60), 0),
    ("degC/s", "K/s", F(1), 0), ("N.s/m", "kg/s", F(1), 0),
    # temperatures, absolute
    ("degC", "K", F(1), F(27315, 100)), ("K", "degC", F(1), -F(27315, 100)),
    ("degF", "degC", F(5, 9), -F(160, 9)), ("degC", "degF", F(9, 5), F(32)),
    ("degF", "K", F(5, 9), F(45967, 180)), ("K", "degF", F(9, 5), -F(45967, 100)),
    ("degR", "K", F(5, 9), 0), ("degC", "degC", F(1), 0),
]

RELATIVE = [  # temperature differences (relativeQuantity): no offset
    ("degC", "K", F(1)), ("K", "degC", F(1)), ("degF", "K", F(5, 9)),
    ("degF", "degC", F(5, 9)), ("degC", "degF", F(9, 5)), ("kW", "W", F(1000)),
]


@pytest.mark.parametrize(("a", "b", "scale", "offset"), CORPUS,
                         ids=[f"{a}->{b}" for a, b, *_ in CORPUS])
def test_conversion_is_the_hand_value_correctly_rounded(a, b, scale, offset):
    assert conversion(a, b) == (float(scale), float(offset))
    assert compatible(a, b) and compatible(b, a)


def test_the_corpus_is_large_enough():
    assert len(CORPUS) + len(RELATIVE) >= 40


@pytest.mark.parametrize(("a", "b", "scale"), RELATIVE, ids=[f"{a}->{b}" for a, b, _ in RELATIVE])
def test_relative_conversion_drops_the_offset(a, b, scale):
    assert conversion(a, b, relative=True) == (float(scale), 0.0)


@pytest.mark.parametrize(("a", "b", "value"), [
    ("rpm", "rad/s", 2 * math.pi / 60), ("deg", "rad", math.pi / 180),
    ("rad/s", "rpm", 60 / (2 * math.pi)), ("rev/min", "deg/s", 6.0)])
def test_angles_keep_pi_to_full_precision(a, b, value):
    scale, offset = conversion(a, b)
    assert scale == pytest.approx(value, rel=1e-15) and offset == 0.0


def test_convert_arrays_and_floats_without_touching_the_input():
    t = np.array([0.0, 20.0, 100.0])
    out = convert(t, "degC", "K")
    assert out.tolist() == [273.15, 293.15, 373.15] and t.tolist() == [0.0, 20.0, 100.0]
    assert convert(1.5, "kW", "W") == 1500.0 and isinstance(convert(1.5, "kW", "W"), float)
    assert convert(10.0, "degC", "K", relative=True) == 10.0
    # round trip through Fahrenheit
    assert convert(convert(t, "K", "degF"), "degF", "K") == pytest.approx(t, abs=1e-12)


INCOMPATIBLE = [("W", "K"), ("Hz", "rad/s"), ("m", "s"), ("kg", "N"), ("J", "W"),
                ("degC", "W"), ("Pa", "N"), ("1", "m"), ("rpm", "Hz"), ("%", "K"),
                ("m/s2", "m/s"), ("kg.m2", "kg.m")]


@pytest.mark.parametrize(("a", "b"), INCOMPATIBLE, ids=[f"{a}-{b}" for a, b in INCOMPATIBLE])
def test_incompatible_pairs_give_one_clear_error(a, b):
    assert not compatible(a, b)
    with pytest.raises(UnitError) as err:
        conversion(a, b)
    msg = str(err.value)
    assert f"cannot convert {a!r}" in msg and f"to {b!r}" in msg
    assert "different dimensions" in msg and msg.count("\n") == 0
    assert isinstance(err.value, ConfigError)


def test_the_message_shows_both_dimensions():
    with pytest.raises(UnitError, match=r"'W' \(kg\*m\^2/s\^3\) to 'K' \(K\)"):
        conversion("W", "K")


@pytest.mark.parametrize("bad", ["foo", "kW/furlongs_per_blorp", "m//s"])
def test_unknown_units_name_the_unit(bad):
    with pytest.raises(UnitError, match=re.escape(repr(bad))):
        units.define(bad)
    with pytest.raises(UnitError, match=re.escape(repr(bad))):
        conversion(bad, "W")


def test_ambiguous_modelica_division_is_refused():
    with pytest.raises(UnitError, match="ambiguous.*J/\\(kg.K\\)"):
        conversion("J/kg.K", "J/(kg.K)")


def test_identical_strings_need_no_reading():
    assert conversion("widgets", "widgets") == (1.0, 0.0) and compatible("zorks", "zorks")


@pytest.mark.parametrize(("modelica", "pint_text"), [
    ("m/s2", "m/s**2"), ("kg.m2", "kg*m**2"), ("W/(m2.K)", "W/(m**2*K)"), ("s-1", "s**-1"),
    ("N.m", "N*m"), ("kOhm", "kohm"), ("%", "percent"), ("1/s", "1/s"), ("degC", "degC"),
    ("m**2", "m**2"), ("kg m^2", "kg m^2")])
def test_modelica_strings_are_translated_for_pint(modelica, pint_text):
    assert units.to_pint(modelica) == pint_text


def test_parse_gives_a_cached_pint_unit():
    u = units.parse("W/(m2.K)")
    assert u is units.parse("W/(m2.K)")
    assert u == units.registry().Unit("W/(m**2*K)")


# -- FMI <UnitDefinitions> --------------------------------------------------------------

def fmi_unit(name, display=(), **base):
    """An FMI unit as fmpy reads it; ``base`` the <BaseUnit> attributes (none: no
    <BaseUnit> element)."""
    unit = Unit(name=name)
    if base:
        unit.baseUnit = BaseUnit(**base)
    unit.displayUnits = [DisplayUnit(name=n, factor=f, offset=o) for n, f, o in display]
    return UnitDef.from_fmi(unit)


def test_fmi_definition_with_offset_converts_exactly():
    deg_c = fmi_unit("degC", K=1, offset=273.15)
    assert deg_c.base == (("K", 1),) and deg_c.offset == F(27315, 100)
    assert conversion(deg_c, "K") == (1.0, 273.15)
    assert conversion("K", deg_c) == (1.0, -273.15)
    assert conversion(deg_c, "K", relative=True) == (1.0, 0.0)


def test_fmi_gauge_pressure_with_factor_and_offset():
    # kPa above atmosphere: value_SI [Pa] = 1000 * value + 101325
    kpa_g = fmi_unit("kPa_g", kg=1, m=-1, s=-2, factor=1000.0, offset=101325.0)
    assert conversion(kpa_g, "Pa") == (1000.0, 101325.0)
    assert conversion(kpa_g, "bar") == (float(F(1, 100)), float(F(101325, 100000)))
    assert conversion(kpa_g, "bar", relative=True) == (0.01, 0.0)


def test_fmi_definition_takes_precedence_over_the_name():
    # an FMU calls its unit "W" but defines it as kilowatts
    mislabeled = fmi_unit("W", kg=1, m=2, s=-3, factor=1000.0)
    assert conversion(mislabeled, "W") == (1000.0, 0.0)
    assert conversion(mislabeled, "kW") == (1.0, 0.0)


def test_two_fmi_definitions_convert_between_each_other():
    milli_kelvin = fmi_unit("mK", K=1, factor=0.001)
    deg_c = fmi_unit("degC", K=1, offset=273.15)
    assert conversion(deg_c, milli_kelvin) == (1000.0, 273150.0)
    rad_s = fmi_unit("rad/s", rad=1, s=-1)
    assert conversion("rpm", rad_s) == pytest.approx((math.pi / 30, 0.0), rel=1e-15)
    per_s = fmi_unit("1/s", s=-1)
    with pytest.raises(UnitError, match="different dimensions"):
        conversion(rad_s, per_s)  # FMI's rad exponent is a dimension


def test_fmi_unit_without_base_unit_is_read_by_name():
    kw = fmi_unit("kW", display=[("MW", 0.001, 0.0)])
    assert kw.base is None
    assert conversion(kw, "W") == (1000.0, 0.0)
    unit = Unit(name="kW")
    assert UnitDef.from_fmi(unit) is None  # no BaseUnit, no display units: nothing to carry


def test_fmi_display_units_are_used_as_declared():
    kelvin = fmi_unit("K", [("degC", 1.0, -273.15), ("degF", 1.8, -459.67)], K=1)
    assert units.display_conversion(kelvin, "degC") == (1.0, -273.15)
    assert units.display_conversion(kelvin, "degF") == (1.8, -459.67)
    assert units.display_conversion(kelvin, "degF", relative=True) == (1.8, 0.0)
    # a display unit it does not declare: converted by pint
    assert units.display_conversion(kelvin, "mK") == (1000.0, 0.0)

