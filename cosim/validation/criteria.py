"""Acceptance criteria: ``signal: {metric: threshold}`` with globs, and presets.

A criteria file (YAML)::

    preset: ashrae14-hourly        # for every validated signal (or a list of presets)
    parameters: 6                  # p in Guideline 14's n - p (calibrated parameters)
    signals:
      "rack*.T_cpu":               # a glob over the validated signals
        bias: 0.3                  # |bias| <= 0.3 K
        r2: 0.9                    # R² >= 0.9
      cooler.P_el:
        preset: ashrae14-hourly
        nmbe: [-5, 5]              # -5 <= NMBE <= 5 (%)
        coverage_90: {min: 0.85}   # explicit bounds

A bare number bounds the metric's size for error metrics (``|value| <= x``) and is a
lower bound for scores where higher is better (``r2``, ``coverage_*``); ``[lo, hi]`` or
``{min, max}`` give both bounds explicitly. When several patterns set the same metric
of a signal, the last one in the file wins (write general patterns first). A pattern
that matches no validated signal is an error, as is a criterion on a metric that is
undefined for its signal (R² of constant telemetry, MAPE near zero).

Presets (ASHRAE Guideline 14-2014, calibrated simulation): ``ashrae14-hourly``: |NMBE|
<= 10 %, CV(RMSE) <= 30 %; ``ashrae14-monthly``: |NMBE| <= 5 %, CV(RMSE) <= 15 %.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .metrics import POINT_METRICS

PRESETS: dict[str, dict[str, tuple[float, float]]] = {
    "ashrae14-hourly": {"nmbe": (-10.0, 10.0), "cv_rmse": (-math.inf, 30.0)},
    "ashrae14-monthly": {"nmbe": (-5.0, 5.0), "cv_rmse": (-math.inf, 15.0)},
}
#: Metrics where higher is better: a bare number is a lower bound.
HIGHER_IS_BETTER = ("r2",)
PROBABILISTIC = re.compile(r"^(coverage|width)_(\d+(?:\.\d+)?)$|^crps$")
_SIGNED = ("bias", "nmbe")


class CriteriaError(ConfigError):
    """A criteria file is wrong, or cannot be applied to the validated signals."""


@dataclass(frozen=True)
class Criterion:
    """``low <= metric <= high`` for one signal (bounds may be infinite)."""

    signal: str
    metric: str
    low: float
    high: float
    source: str = ""  # the pattern or preset it came from

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def text(self) -> str:
        if math.isinf(self.low) and not math.isinf(self.high):
            return f"<= {self.high:g}"
        if math.isinf(self.high):
            return f">= {self.low:g}"
        if self.low == -self.high:
            return f"|x| <= {self.high:g}"
        return f"in [{self.low:g}, {self.high:g}]"


@dataclass
class Verdict:
    """A criterion applied: the value, whether it holds, its confidence interval."""

    criterion: Criterion
    value: float
    passed: bool
    ci: tuple[float, float] | None = None

    @property
    def signal(self) -> str:
        return self.criterion.signal

    @property
    def metric(self) -> str:
        return self.criterion.metric


@dataclass
class Criteria:
    """Parsed criteria: per pattern, metric -> (low, high); presets; Guideline 14's p."""

    rules: list[tuple[str, str, tuple[float, float], str]] = field(default_factory=list)
    parameters: int | None = None
    source: str = ""
    where: Callable[..., str] = field(default=lambda *loc: "")

    def resolve(self, signals: list[str], available: Callable[[str], set[str]]
                ) -> list[Criterion]:
        """The criteria of each validated signal (later rules override earlier ones).

        ``available(signal)`` is the set of metrics computed for it."""
        chosen: dict[tuple[str, str], Criterion] = {}
        for pattern, metric, (lo, hi), origin in self.rules:
            hits = [s for s in signals if fnmatch.fnmatchcase(s, pattern)]
            if not hits:
                raise CriteriaError(f"{pattern!r} matches no validated signal (validated: "
                                    f"{', '.join(signals) or 'none'})",
                                    file=self.where("signals", pattern) or self.source)
            for s in hits:
                if metric not in available(s):
                    raise CriteriaError(
                        f"{s}: no metric {metric!r} (this run has "
                        f"{'no ensemble or bands' if PROBABILISTIC.match(metric) else 'other metrics'}"
                        f"; computed: {', '.join(sorted(available(s)))})",
                        file=self.where("signals", pattern) or self.source)
                chosen[(s, metric)] = Criterion(s, metric, lo, hi, origin)
        order = {s: i for i, s in enumerate(signals)}
        return sorted(chosen.values(), key=lambda c: (order[c.signal], c.metric))


def _bounds(metric: str, value: Any, where: str) -> tuple[float, float]:
    def number(x: Any) -> float:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise CriteriaError(f"{metric}: {x!r} is not a number", file=where)
        return float(x)

    if isinstance(value, list):
        if len(value) != 2:
            raise CriteriaError(f"{metric}: give [low, high], got {value!r}", file=where)
        lo, hi = number(value[0]), number(value[1])
    elif isinstance(value, dict):
        unknown = set(value) - {"min", "max"}
        if unknown or not value:
            raise CriteriaError(f"{metric}: bounds are 'min' and/or 'max', got {value!r}",
                                file=where)
        lo = number(value["min"]) if "min" in value else -math.inf
        hi = number(value["max"]) if "max" in value else math.inf
    else:
        x = number(value)
        if metric in HIGHER_IS_BETTER or metric.startswith("coverage_"):
            lo, hi = x, math.inf
        elif metric in _SIGNED:
            lo, hi = -abs(x), abs(x)
        else:
            lo, hi = -math.inf, x
    if lo > hi:
        raise CriteriaError(f"{metric}: the low bound {lo:g} is above the high bound {hi:g}",
                            file=where)
    return lo, hi


def _check_metric(metric: str, where: str) -> None:
    if metric in POINT_METRICS and metric != "n" or PROBABILISTIC.match(metric):
        return
    known = ", ".join(m for m in POINT_METRICS if m != "n")
    raise CriteriaError(f"unknown metric {metric!r} (point metrics: {known}; with an "
                        "ensemble: coverage_<percent>, width_<percent>, crps)", file=where)


def _preset_rules(name: Any, pattern: str, where: str) -> list:
    names = name if isinstance(name, list) else [name]
    rules = []
    for n in names:
        if n not in PRESETS:
            raise CriteriaError(f"unknown preset {n!r} ({', '.join(PRESETS)})", file=where)
        rules += [(pattern, m, b, n) for m, b in PRESETS[n].items()]
    return rules


def parse_criteria(data: Mapping[str, Any], where: Callable[..., str] | None = None,
                   source: str = "") -> Criteria:
    """Criteria from a mapping (the content of a criteria file)."""
    w = where or (lambda *loc: source)
    unknown = set(data) - {"preset", "parameters", "signals", "description"}
    if unknown:
        key = sorted(unknown)[0]
        raise CriteriaError(f"unknown key {key!r} (preset, parameters, signals)", file=w(key))
    rules: list = []
    if data.get("preset") is not None:
        rules += _preset_rules(data["preset"], "*", w("preset"))
    p = data.get("parameters")
    if p is not None and (isinstance(p, bool) or not isinstance(p, int) or p < 0):
        raise CriteriaError(f"parameters must be a whole number >= 0, got {p!r}",
                            file=w("parameters"))
    signals = data.get("signals") or {}
    if not isinstance(signals, Mapping):
        raise CriteriaError("signals must map signal globs to {metric: threshold}",
                            file=w("signals"))
    for pattern, metrics in signals.items():
        here = w("signals", pattern)
        if not isinstance(metrics, Mapping):
            raise CriteriaError(f"{pattern}: give {{metric: threshold}}, got {metrics!r}",
                                file=here)
        for metric, value in metrics.items():
            if metric == "preset":
                rules += _preset_rules(value, str(pattern), w("signals", pattern, metric))
                continue
            _check_metric(str(metric), w("signals", pattern, metric))
            rules.append((str(pattern), str(metric),
                          _bounds(str(metric), value, w("signals", pattern, metric)),
                          str(pattern)))
    return Criteria(rules, p, source, w)


def load_criteria(source: str | Path | Mapping[str, Any] | Criteria | None) -> Criteria | None:
    """Criteria from a file, a mapping, or a preset name (``ashrae14-hourly``)."""
    if source is None or isinstance(source, Criteria):
        return source
    if isinstance(source, Mapping):
        return parse_criteria(source, source="criteria")
    if str(source) in PRESETS:
        return parse_criteria({"preset": str(source)}, source=str(source))
    from ..topology import yamlio
    data, _, where, _ = yamlio.read_mapping(Path(source), "criteria file",
                                            "'signals' and/or 'preset'")
    return parse_criteria(data, where, str(source))


def judge(criteria: list[Criterion], lookup: Callable[[str, str], tuple[float, str | None]],
          intervals: Callable[[str, str], tuple[float, float] | None]) -> list[Verdict]:
    """Apply criteria; ``lookup(signal, metric) -> (value, why NaN)``. A criterion on an
    undefined value (NaN) is an input error naming why."""
    out = []
    for c in criteria:
        value, why = lookup(c.signal, c.metric)
        if not math.isfinite(value):
            raise CriteriaError(f"{c.signal}: cannot judge {c.metric} ({c.text()}): "
                                f"{why or 'it is undefined'}; drop this criterion for "
                                "this signal")
        out.append(Verdict(c, value, c.holds(value), intervals(c.signal, c.metric)))
    return out
