"""Estimated parameters: targets, units, bounds, the search scale and priors.

The optimizer works on a *search vector* ``z``: ``z = ln(value)`` for ``scale: log``,
``z = value / typical`` for ``scale: linear`` (``typical``: the initial value's
magnitude, else the width of the bounds, else 1), so that every coordinate is of
order one. Values are always in the model's unit of the parameter (the unit its FMU
or block declares); a calibration file's ``unit:`` is converted on loading.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import units
from ..errors import Problem
from ..studies.study import PARAMETER_CAUSALITIES
from ..units import UnitError
from ..variables import REAL
from .spec import LogNormalPrior, NormalPrior, ParameterSpec


@dataclass(frozen=True)
class Prior:
    """``normal``: N(mean, std) of the value; ``lognormal``: N(mu, sigma) of ln(value)."""

    kind: str
    a: float
    b: float

    def residual(self, value: float) -> float:
        """The prior as a least-squares residual: ``(x - a) / b``."""
        x = math.log(value) if self.kind == "lognormal" else value
        return (x - self.a) / self.b

    def log_density(self, value: float) -> float:
        """ln p(value) up to a constant (``-inf`` for a log-normal at value <= 0)."""
        if self.kind == "lognormal":
            if value <= 0:
                return -math.inf
            return -0.5 * self.residual(value) ** 2 - math.log(value)
        return -0.5 * self.residual(value) ** 2


@dataclass(frozen=True)
class Parameter:
    """One estimated value and the ``node.parameter`` keys it sets."""

    name: str
    targets: tuple[str, ...]
    initial: float
    low: float
    high: float
    scale: str
    unit: str
    prior: Prior | None = None
    typical: float = 1.0

    def to_search(self, value: float) -> float:
        return math.log(value) if self.scale == "log" else value / self.typical

    def from_search(self, z: float) -> float:
        return math.exp(z) if self.scale == "log" else z * self.typical

    def derivative(self, z: float) -> float:
        """d value / d z at ``z``."""
        return math.exp(z) if self.scale == "log" else self.typical

    def search_bounds(self) -> tuple[float, float]:
        if self.scale == "log":
            lo = math.log(self.low) if self.low > 0 else -math.inf
            return lo, math.log(self.high) if math.isfinite(self.high) else math.inf
        return self.low / self.typical, self.high / self.typical


class Parameters:
    """The estimated parameters, in order; maps search vectors to values and overrides."""

    def __init__(self, items: Sequence[Parameter]):
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.items]

    @property
    def units(self) -> list[str]:
        return [p.unit for p in self.items]

    def values(self, z: np.ndarray) -> np.ndarray:
        return np.array([p.from_search(float(v)) for p, v in zip(self.items, z, strict=True)])

    def search(self, values: Sequence[float]) -> np.ndarray:
        return np.array([p.to_search(float(v))
                         for p, v in zip(self.items, values, strict=True)])

    def derivatives(self, z: np.ndarray) -> np.ndarray:
        return np.array([p.derivative(float(v)) for p, v in zip(self.items, z, strict=True)])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        pairs = [p.search_bounds() for p in self.items]
        return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])

    def initial(self) -> np.ndarray:
        return self.search([p.initial for p in self.items])

    def overrides(self, values: Sequence[float]) -> dict[str, float]:
        """``{node.parameter: value}`` for every target."""
        return {t: float(v) for p, v in zip(self.items, values, strict=True) for t in p.targets}

    def finite_bounds(self) -> bool:
        lo, hi = self.bounds()
        return bool(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)))


# -- building them from a calibration file ----------------------------------------------


@dataclass
class _Context:
    """What resolving parameters needs from the topology."""

    topology: object
    interfaces: dict  # node -> Interface
    where: Callable[..., str]
    problems: list[Problem]

    def fail(self, message: str, *loc) -> None:
        self.problems.append(Problem(message, self.where(*loc)))


def build(specs: dict[str, ParameterSpec], topology, interfaces: dict,
          where: Callable[..., str], problems: list[Problem]) -> Parameters:
    """The parameters of a calibration file; problems are appended (not raised)."""
    ctx = _Context(topology, interfaces, where, problems)
    items = []
    for name, spec in specs.items():
        item = _parameter(ctx, name, spec)
        if item is not None:
            items.append(item)
    seen: dict[str, str] = {}
    for p in items:
        for t in p.targets:
            if t in seen:
                ctx.fail(f"parameters.{p.name}: {t} is already set by {seen[t]!r}",
                         "parameters", p.name)
            seen[t] = p.name
    return Parameters(items)


def _targets(ctx: _Context, name: str, spec: ParameterSpec) -> list[str]:
    patterns = spec.targets or [name]
    every = [f"{n}.{v.name}" for n, iface in ctx.interfaces.items()
             for v in iface.variables.values()]
    found: list[str] = []
    for pattern in patterns:
        if any(c in pattern for c in "*?["):
            hits = [k for k in every if fnmatch.fnmatchcase(k, pattern)]
            if not hits:
                ctx.fail(f"parameters.{name}: {pattern!r} matches no node.parameter",
                         "parameters", name)
            found += [h for h in hits if h not in found]
        elif pattern not in found:
            found.append(pattern)
    return found


def _parameter(ctx: _Context, name: str, spec: ParameterSpec) -> Parameter | None:
    targets = _targets(ctx, name, spec)
    declared = [_declared(ctx, name, t) for t in targets]
    if not targets or any(d is None for d in declared):
        return None
    units_ = {d[0] for d in declared}
    if len(units_) > 1:
        ctx.fail(f"parameters.{name}: its targets have different units ({', '.join(map(str, units_))})"
                 "; tie only parameters of one unit", "parameters", name)
        return None
    unit = declared[0][0] or ""
    try:
        convert = _converter(spec.unit, unit)
    except UnitError as err:
        ctx.fail(f"parameters.{name}: unit {spec.unit!r} is incompatible with the "
                 f"parameter's unit {unit!r}: {err}", "parameters", name, "unit")
        return None
    initial = convert(spec.initial) if spec.initial is not None else _current(ctx, name,
                                                                              targets)
    if initial is None:
        return None
    lo, hi = _bounds(ctx, name, spec, convert, [d[1] for d in declared])
    if lo is None:
        return None
    if not lo <= initial <= hi:
        ctx.fail(f"parameters.{name}: the initial value {initial:g} {unit} is outside the "
                 f"bounds [{lo:g}, {hi:g}]", "parameters", name)
        return None
    if spec.scale == "log" and not (initial > 0 and lo >= 0):
        ctx.fail(f"parameters.{name}: scale: log needs positive values (initial {initial:g}, "
                 f"lower bound {lo:g})", "parameters", name, "scale")
        return None
    typical = abs(initial) or (hi - lo if math.isfinite(hi - lo) else 1.0)
    return Parameter(name, tuple(targets), float(initial), float(lo), float(hi), spec.scale,
                     unit, _prior(spec, spec.unit, unit), float(typical))


def _declared(ctx: _Context, name: str, target: str) -> tuple[str | None, tuple] | None:
    """``(unit, (fmu min, fmu max))`` of a target, or None with a problem."""
    node, _, var = target.partition(".")
    loc = ("parameters", name, "targets")
    if node not in ctx.interfaces or not var:
        ctx.fail(f"parameters.{name}: no node {node!r} in the topology "
                 f"({target!r} must be node.parameter)", *loc)
        return None
    v = ctx.interfaces[node].get(var)
    if v is None:
        ctx.fail(f"parameters.{name}: node {node!r} has no variable {var!r}", *loc)
        return None
    if v.causality not in PARAMETER_CAUSALITIES or v.variability == "constant":
        what = f"{v.variability} " if v.variability == "constant" else ""
        ctx.fail(f"parameters.{name}: {target} is not settable: it is a {what}{v.causality}, "
                 "not a parameter", *loc)
        return None
    data = ctx.topology.graph.nodes[node]
    if data["kind"] == "fmu" and v.kind != REAL:
        ctx.fail(f"parameters.{name}: {target} is {v.kind}; only real parameters can be "
                 "estimated", *loc)
        return None
    return v.unit, _fmu_range(ctx.topology, node, var)


def _fmu_range(topology, node: str, var: str) -> tuple[float, float]:
    """The ``min``/``max`` an FMU declares for a variable (or its type): ``(-inf, inf)``."""
    data = topology.graph.nodes[node]
    if data["kind"] != "fmu":
        return -math.inf, math.inf
    from ..fmu import description
    md = description.read(topology.fmu_path(node)).description
    for sv in md.modelVariables:
        if sv.name == var:
            dt = getattr(sv, "declaredType", None)
            lo = _number(getattr(sv, "min", None) or getattr(dt, "min", None), -math.inf)
            hi = _number(getattr(sv, "max", None) or getattr(dt, "max", None), math.inf)
            return lo, hi
    return -math.inf, math.inf


def _number(text, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except (TypeError, ValueError):
        return default


def _converter(given: str | None, unit: str) -> Callable[[float], float]:
    if given is None or given == unit:
        return float
    if not unit:
        raise UnitError("the parameter has no unit; give plain numbers")
    scale, offset = units.conversion(given, unit)
    return lambda v: scale * float(v) + offset


def _current(ctx: _Context, name: str, targets: list[str]) -> float | None:
    """The value every target has now (node's parameters, else the model's default)."""
    values = []
    for t in targets:
        node, _, var = t.partition(".")
        given = ctx.topology.graph.nodes[node]["parameters"]
        values.append(given[var] if var in given else ctx.interfaces[node][var].start)
    if any(not isinstance(v, int | float) or isinstance(v, bool) for v in values):
        ctx.fail(f"parameters.{name}: no numeric value to start from; give 'initial'",
                 "parameters", name)
        return None
    if len(set(values)) > 1:
        ctx.fail(f"parameters.{name}: its targets start from different values "
                 f"({', '.join(f'{v:g}' for v in values)}); give 'initial'",
                 "parameters", name)
        return None
    return float(values[0])


def _bounds(ctx: _Context, name: str, spec: ParameterSpec, convert, ranges: list[tuple]
            ) -> tuple[float | None, float | None]:
    fmin = max(r[0] for r in ranges)
    fmax = min(r[1] for r in ranges)
    lo, hi = spec.bounds if spec.bounds is not None else (None, None)
    lo = fmin if lo is None else convert(lo)
    hi = fmax if hi is None else convert(hi)
    if spec.scale == "log" and lo == -math.inf:
        lo = 0.0
    if lo < fmin or hi > fmax:
        ctx.fail(f"parameters.{name}: bounds [{lo:g}, {hi:g}] leave the FMU's range "
                 f"[min {fmin:g}, max {fmax:g}] of its parameter", "parameters", name,
                 "bounds")
        return None, None
    if spec.initial is not None and not fmin <= convert(spec.initial) <= fmax:
        ctx.fail(f"parameters.{name}: the initial value {convert(spec.initial):g} is "
                 f"outside the FMU's range [min {fmin:g}, max {fmax:g}]", "parameters", name,
                 "initial")
        return None, None
    if not hi > lo:
        ctx.fail(f"parameters.{name}: bounds are reversed or empty ([{lo:g}, {hi:g}])",
                 "parameters", name, "bounds")
        return None, None
    return lo, hi


def _prior(spec: ParameterSpec, given: str | None, unit: str) -> Prior | None:
    p = spec.prior
    if p is None:
        return None
    scale, offset = (1.0, 0.0) if given is None or given == unit else \
        units.conversion(given, unit)
    if isinstance(p, NormalPrior):
        return Prior("normal", scale * p.mean + offset, abs(scale) * p.std)
    assert isinstance(p, LogNormalPrior)
    return Prior("lognormal", p.mu + math.log(abs(scale)), p.sigma)
