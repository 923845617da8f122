"""Tube sizes: csv-compare's defaults, per-signal overrides by glob, TOML files.

A tolerance file (``reference_results/<case>/tolerances.toml``)::

    [defaults]
    tol = 1e-5              # relative: X = tol*max(t_end - t_start, |t_start|),
                            #           Y = tol*max(range, |min|, nominal)
    # x = 0.5               # absolute half-width in time [s] for every signal
    # y = 1e-3              # absolute half-height in value for every signal

    [[signal]]              # overrides, applied in file order, later entries win
    pattern = "rack*.T_cpu" # fnmatch glob on "node.variable"
    y = 0.05                # any of: tol, x, y, discrete

Resolution, for X and for Y separately: start from ``tol = 0.002``; walk ``[defaults]``
and then every ``[[signal]]`` whose pattern matches, in order; an entry's ``tol`` sets
both to relative with that tol, its ``x`` (``y``) sets X (Y) to that absolute value
(``x`` beats ``tol`` within one entry). ``discrete = true/false`` overrides the kind
found in the result file.
"""

from __future__ import annotations

import fnmatch
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

DEFAULT_TOL = 0.002
DEFAULT_NOMINAL = 1e-3

_ENTRY_KEYS = {"tol", "x", "y", "discrete"}


@dataclass(frozen=True)
class Rule:
    """Tube settings of one entry (None: not set by this entry)."""

    tol: float | None = None
    x: float | None = None
    y: float | None = None
    discrete: bool | None = None


@dataclass(frozen=True)
class SignalRule(Rule):
    """A ``[[signal]]`` override: ``pattern`` is a glob on ``node.variable``."""

    pattern: str = "*"


@dataclass(frozen=True)
class Resolved:
    """The tube rule for one signal: X and Y either absolute or relative (``tol``)."""

    x_abs: float | None
    x_tol: float
    y_abs: float | None
    y_tol: float
    discrete: bool | None

    def x(self, t_start: float, t_end: float) -> float:
        if self.x_abs is not None:
            return self.x_abs
        return self.x_tol * max(t_end - t_start, abs(t_start))

    @property
    def y_fixed(self) -> bool:
        """Y does not depend on the reference values (absolute, or tol = 0)."""
        return self.y_abs is not None or self.y_tol == 0.0

    def y(self, y_min: float, y_max: float, nominal: float | None) -> float:
        if self.y_abs is not None:
            return self.y_abs
        if self.y_tol == 0.0:
            return 0.0
        nom = abs(nominal) if nominal is not None and math.isfinite(nominal) and nominal \
            else DEFAULT_NOMINAL
        if not (math.isfinite(y_min) and math.isfinite(y_max)):
            return self.y_tol * nom
        return self.y_tol * max(y_max - y_min, abs(y_min), nom)


@dataclass(frozen=True)
class Tolerances:
    """Default tube sizes plus per-signal overrides (see the module docstring).

    ``Tolerances()`` is csv-compare's default (tol = 0.002); ``Tolerances.exact()`` is
    tol = 0 (the result must reproduce the reference exactly, at the same times).
    """

    defaults: Rule = field(default_factory=lambda: Rule(tol=DEFAULT_TOL))
    signals: tuple[SignalRule, ...] = ()
    source: str = ""

    @classmethod
    def exact(cls) -> Tolerances:
        return cls(defaults=Rule(tol=0.0), source="exact")

    @classmethod
    def load(cls, path: str | Path) -> Tolerances:
        """Read a TOML tolerance file; ConfigError (exit 2) naming the file if invalid."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("no such tolerance file", file=str(p)) from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read tolerance file: {err}", file=str(p)) from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"invalid TOML: {err}", file=str(p)) from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> Tolerances:
        """``{"defaults": {...}, "signal": [{"pattern": ..., ...}, ...]}``."""
        unknown = sorted(set(data) - {"defaults", "signal"})
        if unknown:
            raise ConfigError(f"unknown top-level key(s) {unknown} (expected [defaults] "
                              "and [[signal]])", file=source or None)
        defaults = _rule(data.get("defaults", {}), "[defaults]", source)
        if defaults.tol is None:
            defaults = Rule(tol=DEFAULT_TOL, x=defaults.x, y=defaults.y,
                            discrete=defaults.discrete)
        entries = data.get("signal", [])
        if not isinstance(entries, list):
            raise ConfigError("'signal' must be an array of tables ([[signal]])",
                              file=source or None)
        signals = []
        for n, entry in enumerate(entries, 1):
            where = f"[[signal]] #{n}"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("pattern"), str):
                raise ConfigError(f"{where}: needs pattern = \"node.variable glob\"",
                                  file=source or None)
            rule = _rule({k: v for k, v in entry.items() if k != "pattern"}, where, source)
            signals.append(SignalRule(pattern=entry["pattern"], tol=rule.tol, x=rule.x,
                                      y=rule.y, discrete=rule.discrete))
        return cls(defaults=defaults, signals=tuple(signals), source=source)

    def resolve(self, name: str) -> Resolved:
        """The rule for signal ``name``: defaults, then matching overrides in order."""
        x_abs = y_abs = None
        x_tol = y_tol = DEFAULT_TOL
        discrete = None
        rules: list[Rule] = [self.defaults]
        rules += [r for r in self.signals if fnmatch.fnmatchcase(name, r.pattern)]
        for rule in rules:
            if rule.tol is not None:
                x_abs = y_abs = None
                x_tol = y_tol = rule.tol
            if rule.x is not None:
                x_abs = rule.x
            if rule.y is not None:
                y_abs = rule.y
            if rule.discrete is not None:
                discrete = rule.discrete
        return Resolved(x_abs, x_tol, y_abs, y_tol, discrete)

    def to_dict(self) -> dict[str, Any]:
        def entry(rule: Rule) -> dict[str, Any]:
            return {k: getattr(rule, k) for k in ("tol", "x", "y", "discrete")
                    if getattr(rule, k) is not None}
        return {"defaults": entry(self.defaults),
                "signal": [{"pattern": r.pattern, **entry(r)} for r in self.signals]}


def _number(value: Any, key: str, where: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}",
                          file=source or None)
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(f"{where}: {key} must be finite and >= 0, got {value}",
                          file=source or None)
    return value


def _rule(data: Any, where: str, source: str) -> Rule:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table", file=source or None)
    unknown = sorted(set(data) - _ENTRY_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} (allowed: discrete, tol, x, "
                          "y; and pattern in [[signal]])", file=source or None)
    values: dict[str, Any] = {}
    for key in ("tol", "x", "y"):
        if key in data:
            values[key] = _number(data[key], key, where, source)
    if "discrete" in data:
        if not isinstance(data["discrete"], bool):
            raise ConfigError(f"{where}: discrete must be true or false",
                              file=source or None)
        values["discrete"] = data["discrete"]
    return Rule(**values)


def as_tolerances(value: Tolerances | Mapping[str, Any] | str | Path | None) -> Tolerances:
    """Accept a Tolerances, a dict (TOML structure), a TOML path, or None (defaults)."""
    if value is None:
        return Tolerances()
    if isinstance(value, Tolerances):
        return value
    if isinstance(value, Mapping):
        return Tolerances.from_dict(value)
    if isinstance(value, str | Path):
        return Tolerances.load(value)
    raise TypeError(f"tolerances must be a Tolerances, a dict or a path, not "
                    f"{type(value).__name__}")
