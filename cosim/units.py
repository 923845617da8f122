"""Units: read unit strings and FMI unit definitions, convert values between units.

pint is the unit engine: it knows the units, prefixes and their factors (cosim has no
conversion table of its own). In front of it sits a small adapter for the unit strings
FMUs and Modelica tools write and pint's grammar does not read: ``m/s2``, ``kg.m2``,
``W/(m2.K)``, ``s-1`` (Modelica: ``.`` multiplies, a trailing integer is an exponent)
and a few names (``Ohm``, ``rev``).

Every unit is reduced to a :class:`UnitDef`: exponents of the SI base units (kg, m, s,
A, K, mol, cd, rad) and an affine map onto them, ``value_SI = factor * value + offset``,
exactly as an FMI ``<Unit><BaseUnit .../></Unit>`` defines it. Conversion composes two
such maps; factors are exact rationals (pint's definitions read as fractions), so a
conversion is the float nearest to the exact value (``degF -> degC`` gives scale
``5/9`` and offset ``-160/9`` correctly rounded).

Two units are compatible when their base exponents are equal. Unlike pint, cosim
keeps the radian as a dimension of its own (as FMI's ``rad`` exponent does), so
``rpm`` converts to ``rad/s`` (factor 2π/60) but ``Hz`` does not silently become
``rad/s`` with factor 1.

``relative=True`` converts differences (FMI ``relativeQuantity="true"``): the offsets
are dropped, so a temperature difference of 1 K is 1 degC, and 1 degF is 5/9 K.

Example::

    >>> conversion("kW", "W")
    (1000.0, 0.0)
    >>> conversion("K", "degC")
    (1.0, -273.15)
    >>> conversion("K", "degC", relative=True)
    (1.0, 0.0)
    >>> float(convert(20.0, "degC", "K"))
    293.15
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import ConfigError

#: SI base units as FMI's <BaseUnit> names them, in FMI's order.
BASE_UNITS = ("kg", "m", "s", "A", "K", "mol", "cd", "rad")
#: pint's root units -> FMI base-unit names (pint's mass root is the gram).
_PINT_ROOTS = {"gram": "kg", "meter": "m", "second": "s", "ampere": "A", "kelvin": "K",
               "mole": "mol", "candela": "cd", "radian": "rad"}
#: Names in Modelica / FMI unit strings that pint spells otherwise.
ALIASES = {"Ohm": "ohm", "rev": "revolution", "%": "percent"}
_PREFIXES = ("Y", "Z", "E", "P", "T", "G", "M", "k", "h", "da", "d", "c", "m", "u", "n",
             "p", "f", "a", "z", "y")

Base = tuple[tuple[str, int], ...]


class UnitError(ConfigError):
    """A unit string cannot be read, or two units cannot be converted into each other."""


@dataclass(frozen=True)
class DisplayUnitDef:
    """An FMI ``<DisplayUnit>``: ``value_display = factor * value_unit + offset``."""

    name: str
    factor: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)


@dataclass(frozen=True)
class UnitDef:
    """A unit as SI base-unit exponents and an exact affine map onto them.

    ``value_SI = factor * value + offset``; ``base`` lists ``(base unit, exponent)``
    pairs with non-zero exponents, in FMI order (kg, m, s, A, K, mol, cd, rad; then
    any other pint root unit such as ``bit``); ``None`` when the FMU declares the unit
    without a ``<BaseUnit>`` (then the name is read as a unit string). ``display`` holds
    the FMI display units declared with the unit.
    """

    name: str
    base: Base | None = ()
    factor: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)
    display: tuple[DisplayUnitDef, ...] = ()

    @classmethod
    def from_fmi(cls, unit: Any) -> UnitDef | None:
        """The definition in an fmpy ``Unit`` (``<UnitDefinitions><Unit>``).

        None when the unit has no ``<BaseUnit>`` (then its name is all there is).
        Display units are kept either way (see :func:`display_conversion`).
        """
        display = tuple(DisplayUnitDef(d.name, _exact(d.factor), _exact(d.offset))
                        for d in getattr(unit, "displayUnits", None) or () if d.name)
        b = getattr(unit, "baseUnit", None)
        if b is None:
            return UnitDef(unit.name, None, display=display) if display else None
        base = tuple((k, int(getattr(b, k))) for k in BASE_UNITS if int(getattr(b, k)))
        return cls(unit.name, base, _exact(b.factor), _exact(b.offset), display)

    @property
    def dimension(self) -> str:
        """The base exponents as text, e.g. ``kg*m^2/s^3`` (``1`` when dimensionless)."""
        return dimension_text(self.base or ())


def _exact(x: float | int | str) -> Fraction:
    """A number as written (``1e5`` -> 100000, ``273.15`` -> 5463/20), not its binary."""
    return Fraction(repr(float(x))) if not isinstance(x, str) else Fraction(x)


def dimension_text(base: Base) -> str:
    num = [f"{b}^{e}" if e != 1 else b for b, e in base if e > 0]
    den = [f"{b}^{-e}" if e != -1 else b for b, e in base if e < 0]
    text = "*".join(num) or "1"
    if den:
        text += "/" + ("*".join(den) if len(den) == 1 else f"({'*'.join(den)})")
    return text


# -- reading unit strings ---------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<sym>[^\d\s./()*^+\-]+)(?P<exp>[+-]?\d+)?|(?P<num>\d+)"
                    r"|(?P<op>[./()]))")


def to_pint(unit: str) -> str:
    """Translate a Modelica/FMI unit string into pint's grammar.

    ``m/s2`` -> ``m/s**2``, ``kg.m2`` -> ``kg*m**2``, ``W/(m2.K)`` -> ``W/(m**2*K)``,
    ``s-1`` -> ``s**-1``, ``kOhm`` -> ``kohm``. Strings in pint's own grammar (with
    ``*``, ``^`` or spaces) pass unchanged. ``J/kg.K`` is refused as ambiguous.
    """
    text = unit.strip()
    if any(c in text for c in "*^ "):
        return text
    out: list[str] = []
    pos, after_slash = 0, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos or (m["op"] in ("/", ".") and out and out[-1] in "/*"):
            raise UnitError(f"cannot read unit {unit!r}: unexpected {text[pos:]!r}")
        pos = m.end()
        if m["sym"]:
            out.append(_alias(m["sym"]) + (f"**{int(m['exp'])}" if m["exp"] else ""))
            after_slash = after_slash + 1 if after_slash else 0
        elif m["num"]:
            out.append(m["num"])
        elif m["op"] == ".":
            if after_slash == 2:
                raise UnitError(f"unit {unit!r} is ambiguous: after '/' write one factor or "
                                "parentheses, e.g. 'J/(kg.K)'")
            out.append("*")
        else:
            out.append(m["op"])
            after_slash = 1 if m["op"] == "/" else 0
    return "".join(out)


def _alias(symbol: str) -> str:
    if symbol in ALIASES:
        return ALIASES[symbol]
    for name, pint_name in ALIASES.items():
        prefix = symbol[: -len(name)]
        if symbol.endswith(name) and prefix in _PREFIXES:
            return prefix + pint_name
    return symbol


@lru_cache(maxsize=1)
def registry():
    """The pint UnitRegistry of :func:`parse` (float magnitudes, built on first use)."""
    import pint
    return pint.UnitRegistry()


@lru_cache(maxsize=1)
def _exact_registry():
    """A second registry with exact (Fraction) magnitudes, for conversion factors."""
    import pint
    return pint.UnitRegistry(non_int_type=Fraction)


def _pint_unit(reg, unit: str):
    import pint
    try:
        expr = to_pint(unit)
        return reg.Unit(expr if expr != "1" else "dimensionless")
    except UnitError:
        raise
    except (pint.errors.PintError, AttributeError, TypeError, ValueError, SyntaxError,
            AssertionError) as err:
        raise UnitError(f"unknown unit {unit!r} ({err}); write it as pint or Modelica does "
                        "(e.g. 'kW', 'degC', 'W/(m2.K)', 'kg.m2', 'rpm'), or define it in the "
                        "FMU's <UnitDefinitions>") from None


@lru_cache(maxsize=1024)
def parse(unit: str):
    """``unit`` as a pint ``Unit`` (cached); :class:`UnitError` naming it if unknown."""
    return _pint_unit(registry(), unit)


@lru_cache(maxsize=1024)
def _define_name(unit: str) -> UnitDef:
    import pint
    reg = _exact_registry()
    parsed = _pint_unit(reg, unit)
    try:
        return _reduce(reg, unit, parsed)
    except pint.errors.PintError as err:
        raise UnitError(f"cannot use unit {unit!r}: {err}") from None


def _reduce(reg, unit: str, parsed) -> UnitDef:
    """A parsed unit as SI base exponents and an exact factor and offset."""
    factor, root = reg.get_root_units(parsed)
    exps: dict[str, int] = {}
    for name, exp in reg.Quantity(Fraction(1), root).unit_items():
        base = _PINT_ROOTS.get(name, name)
        exps[base] = int(exp)
        if name == "gram":
            factor = Fraction(factor) / Fraction(1000) ** int(exp)
    order = {b: i for i, b in enumerate(BASE_UNITS)}
    base = tuple(sorted(((b, e) for b, e in exps.items() if e),
                        key=lambda be: (order.get(be[0], len(order)), be[0])))
    # an offset unit (degC, degF) alone: where its zero lies on the SI scale
    offset = Fraction(reg.Quantity(Fraction(0), parsed).to(root).magnitude)
    return UnitDef(unit, base, Fraction(factor), offset)


def define(unit: str | UnitDef) -> UnitDef:
    """The :class:`UnitDef` of a unit string (or a definition, returned as is)."""
    if isinstance(unit, UnitDef):
        if unit.base is None:
            named = _define_name(unit.name)
            return UnitDef(unit.name, named.base, named.factor, named.offset, unit.display)
        return unit
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(f"a unit must be a non-empty string, got {unit!r}")
    return _define_name(unit)


# -- converting ---------------------------------------------------------------------------

def _name(unit: str | UnitDef) -> str:
    return unit.name if isinstance(unit, UnitDef) else unit


def _same_name(a: str | UnitDef, b: str | UnitDef) -> bool:
    """True when ``a`` and ``b`` are the same unit without converting anything: the same
    name with no (or identical) definitions, or one FMI definition and the same name
    that pint does not know (then the definition is what the name means)."""
    if _name(a) != _name(b):
        return False
    defs = [u for u in (a, b) if isinstance(u, UnitDef) and u.base is not None]
    if len(defs) == 2:
        return (defs[0].base, defs[0].factor, defs[0].offset) == (
            defs[1].base, defs[1].factor, defs[1].offset)
    if defs:
        try:
            define(_name(a))
        except UnitError:
            return True
        return False
    return True


def exact_conversion(from_unit: str | UnitDef, to_unit: str | UnitDef, *,
                     relative: bool = False) -> tuple[Fraction, Fraction]:
    """:func:`conversion` as exact fractions."""
    if _same_name(from_unit, to_unit):
        return Fraction(1), Fraction(0)  # same name: nothing to read or convert
    a, b = define(from_unit), define(to_unit)
    if a.base != b.base:
        raise UnitError(f"cannot convert {_name(from_unit)!r} ({a.dimension}) to "
                        f"{_name(to_unit)!r} ({b.dimension}): different dimensions")
    scale = a.factor / b.factor
    offset = Fraction(0) if relative else (a.offset - b.offset) / b.factor
    return scale, offset


def conversion(from_unit: str | UnitDef, to_unit: str | UnitDef, *,
               relative: bool = False) -> tuple[float, float]:
    """``(scale, offset)`` with ``value_in_to = scale * value_in_from + offset``.

    Units are strings (pint or Modelica syntax) or :class:`UnitDef` (an FMI unit
    definition, which takes precedence over its name). ``relative=True`` converts
    differences: offset 0. Identical strings give ``(1.0, 0.0)`` without being read.
    Raises :class:`UnitError` for an unknown unit or different dimensions.
    """
    scale, offset = exact_conversion(from_unit, to_unit, relative=relative)
    return float(scale), float(offset)


def convert(values, from_unit: str | UnitDef, to_unit: str | UnitDef, *,
            relative: bool = False):
    """``values`` (a float or numpy array; never modified) in ``to_unit``."""
    scale, offset = conversion(from_unit, to_unit, relative=relative)
    return _affine(values, scale, offset)


def _affine(values, scale: float, offset: float):
    """``scale * values + offset``: a float for a number, else a new float array."""
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        return scale * float(values) + offset
    return scale * np.asarray(values, dtype=float) + offset


def compatible(a: str | UnitDef, b: str | UnitDef) -> bool:
    """Whether ``a`` converts to ``b`` (same base exponents); UnitError if unknown."""
    if _same_name(a, b):
        return True
    return define(a).base == define(b).base


def display_conversion(unit: str | UnitDef, display: str, *,
                       relative: bool = False) -> tuple[float, float]:
    """``(scale, offset)`` from ``unit`` to the display unit ``display``.

    A display unit the FMU declares for this unit (``<DisplayUnit>``) is used as
    defined; any other is converted by :func:`conversion`.
    """
    if isinstance(unit, UnitDef):
        for d in unit.display:
            if d.name == display:
                return float(d.factor), 0.0 if relative else float(d.offset)
    return conversion(unit, display, relative=relative)


@dataclass(frozen=True)
class Display:
    """How a signal is shown: in ``unit``, as ``scale * value + offset``.

    Only for people (plots, reports, listings): stored values stay in their own unit.
    """

    unit: str
    scale: float = 1.0
    offset: float = 0.0

    def apply(self, values):
        """``values`` (float or array, never modified) in the display unit."""
        return _affine(values, self.scale, self.offset)

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "scale": self.scale, "offset": self.offset}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Display:
        return cls(str(data["unit"]), float(data.get("scale", 1.0)),
                   float(data.get("offset", 0.0)))
