"""Excitation signals: input trajectories that make a node show its dynamics.

A design draws, from a seed, one trajectory per input over a declared envelope (each
input's ``[low, high]``), sampled on the node's communication grid ``t_k = t0 + k h``
and held over each step (the value at ``t_k`` is the input over ``[t_k, t_k+1)``):

``steps``
    multi-level random steps: a level drawn uniformly from ``[low, high]``, held for a
    time drawn uniformly from ``[min_hold, max_hold]`` [s], then the next level.
``ramps``
    straight lines between random levels at random knots (the same hold times).
``chirp``
    a sine sweeping from period ``max_hold`` to period ``min_hold`` (logarithmically)
    between ``low`` and ``high``, with a random phase.
``mixed``
    every input draws its own kind among the three (steps twice as likely).

Every value lies in ``[low, high]``. The same seed gives the same trajectories on
every machine (``numpy.random.default_rng``; each input draws from its own stream,
``SeedSequence(seed).spawn``).

**Constraints.** A box lets every input reach its extreme at once, which for many
nodes is no operating point at all (a rack at full power with the least air flow
overheats and trips). ``constraints`` are inequalities over the inputs, written as
arithmetic (``T_supply + P_it / (1005 * m_flow) + P_it / 500 <= 345``; numbers, input
names, ``+ - * / **``, parentheses, ``<=``/``>=``; parsed, never executed as code). A
design sample that violates one is pulled towards the ``nominal`` point (which must
satisfy them all) just enough to satisfy them: ``u = nominal + s (u - nominal)`` with
the largest ``s`` in ``[0, 1]`` found by bisection (40 halvings). Pulled samples stay in
the box (the box is convex).

:class:`Excitation` is the block that plays a design back in a run (one output per
input of the node it excites, named after that input).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..blocks.base import Block, Param, Port
from ..errors import ConfigError

KINDS = ("steps", "ramps", "chirp", "mixed")


@dataclass(frozen=True)
class InputRange:
    """One input of an envelope: ``low <= value <= high`` in ``unit``."""

    name: str
    low: float
    high: float
    unit: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ConfigError(f"envelope of {self.name}: bounds must be finite, got "
                              f"[{self.low}, {self.high}]")
        if not self.high >= self.low:
            raise ConfigError(f"envelope of {self.name}: high ({self.high}) is below low "
                              f"({self.low})")


def trajectory(kind: str, rng: np.random.Generator, low: float, high: float, n: int,
               h: float, min_hold: float, max_hold: float) -> np.ndarray:
    """``n`` values of one input (the value held over step ``k`` at index ``k``)."""
    if kind == "mixed":
        kind = str(rng.choice(["steps", "steps", "ramps", "chirp"]))
    if kind == "steps":
        return _steps(rng, low, high, n, h, min_hold, max_hold)
    if kind == "ramps":
        return _ramps(rng, low, high, n, h, min_hold, max_hold)
    if kind == "chirp":
        return _chirp(rng, low, high, n, h, min_hold, max_hold)
    raise ConfigError(f"unknown excitation kind {kind!r}; choose one of {', '.join(KINDS)}")


def _holds(rng: np.random.Generator, n: int, h: float, min_hold: float,
           max_hold: float) -> list[int]:
    """Lengths [steps] of consecutive holds covering ``n`` steps (each at least 1)."""
    lengths, total = [], 0
    while total < n:
        k = max(1, int(round(rng.uniform(min_hold, max_hold) / h)))
        lengths.append(k)
        total += k
    return lengths


def _steps(rng, low, high, n, h, min_hold, max_hold) -> np.ndarray:
    out = np.empty(n)
    k = 0
    for length in _holds(rng, n, h, min_hold, max_hold):
        out[k:k + length] = rng.uniform(low, high)
        k += length
    return out


def _ramps(rng, low, high, n, h, min_hold, max_hold) -> np.ndarray:
    knots = np.concatenate([[0], np.cumsum(_holds(rng, n, h, min_hold, max_hold))])
    levels = rng.uniform(low, high, size=knots.size)
    return np.clip(np.interp(np.arange(n), knots, levels), low, high)


def _chirp(rng, low, high, n, h, min_hold, max_hold) -> np.ndarray:
    t = np.arange(n) * h
    span = max(t[-1], h) if n else h
    f0, f1 = 1.0 / max_hold, 1.0 / max(min_hold, 2.0 * h)
    # logarithmic sweep: f(t) = f0 (f1/f0)^(t/span); phase = 2 pi * integral of f
    ratio = f1 / f0
    if abs(ratio - 1.0) < 1e-12:
        phase = 2 * math.pi * f0 * t
    else:
        phase = 2 * math.pi * f0 * span * (ratio ** (t / span) - 1.0) / math.log(ratio)
    phase += rng.uniform(0, 2 * math.pi)
    return np.clip(low + (high - low) * 0.5 * (1.0 + np.sin(phase)), low, high)


def design(envelope: Sequence[InputRange], kind: str, seed: int, n: int, h: float,
           min_hold: float, max_hold: float, constraints: Sequence[str] = (),
           nominal: Sequence[float] | None = None) -> np.ndarray:
    """Trajectories ``(n, len(envelope))`` of one scenario, one column per input,
    pulled inside ``constraints`` towards ``nominal`` (see the module docstring)."""
    if not 0 < min_hold <= max_hold:
        raise ConfigError(f"excitation hold times must satisfy 0 < min_hold <= max_hold, got "
                          f"{min_hold} and {max_hold} s")
    streams = np.random.SeedSequence(int(seed)).spawn(len(envelope))
    cols = [trajectory(kind, np.random.default_rng(s), r.low, r.high, n, h, min_hold,
                       max_hold) for r, s in zip(envelope, streams, strict=True)]
    u = np.column_stack(cols) if cols else np.zeros((n, 0))
    if constraints:
        names = [r.name for r in envelope]
        parsed = [Constraint.parse(c, names) for c in constraints]
        if nominal is None:
            nominal = [0.5 * (r.low + r.high) for r in envelope]
        u = pull_inside(u, np.asarray(nominal, dtype=np.float64), parsed, names)
    return u


class Excitation(Block):
    """Plays an excitation design back: output ``name`` holds, over ``[t_k, t_k+1)``,
    the design's value for step ``k`` (``t_k = t0 + k * step``).

    Parameters: ``names``, ``low``, ``high``, ``units`` (one entry per input, in
    order), ``kinds`` (the kind of scenario ``seed`` is ``kinds[seed % len(kinds)]``),
    ``seed``, ``n_steps``, ``dt`` [s] (the step), ``min_hold``, ``max_hold`` [s], ``constraints``
    and ``nominal`` (see the module docstring). Outputs: one per name, no inputs. Past the
    last step the last value is held.
    """

    parameters = {
        "names": Param(None, required=True, description="output names (the node's inputs)"),
        "low": Param(None, required=True, description="lower bound of each output"),
        "high": Param(None, required=True, description="upper bound of each output"),
        "units": Param(None, description="unit of each output"),
        "kinds": Param(["mixed"], description="excitation kinds, cycled by seed"),
        "seed": Param(0, description="scenario seed"),
        "n_steps": Param(360, description="communication steps of the design"),
        "dt": Param(60.0, unit="s", description="communication step"),
        "min_hold": Param(300.0, unit="s", description="shortest hold (fastest period)"),
        "max_hold": Param(5400.0, unit="s", description="longest hold (slowest period)"),
        "constraints": Param([], description="inequalities over the inputs"),
        "nominal": Param(None, description="point samples are pulled towards"),
    }
    @property
    def feedthrough(self) -> dict[str, list[str]]:
        return {name: [] for name in self.names}

    def __init__(self, **params):
        super().__init__(**params)
        names = list(self.names or [])
        units = list(self.units) if self.units is not None else [None] * len(names)
        if not names or not (len(names) == len(self.low) == len(self.high) == len(units)):
            raise ConfigError("Excitation: names, low, high (and units) must be lists of one "
                              "length")
        self.envelope = [InputRange(n, float(lo), float(hi), u)
                         for n, lo, hi, u in zip(names, self.low, self.high, units, strict=True)]
        kinds = [self.kinds] if isinstance(self.kinds, str) else list(self.kinds)
        bad = [k for k in kinds if k not in KINDS]
        if not kinds or bad:
            raise ConfigError(f"Excitation: unknown kind {bad[0] if bad else None!r}; choose "
                              f"from {', '.join(KINDS)}", field="kinds")
        self.kind = kinds[int(self.seed) % len(kinds)]
        self.values = design(self.envelope, self.kind, int(self.seed), int(self.n_steps),
                             float(self.dt), float(self.min_hold), float(self.max_hold),
                             list(self.constraints or []), self.nominal)
        self._t0 = 0.0

    def port_declarations(self):
        outs = {r.name: Port(unit=r.unit, start=float(self.values[0, i]),
                             description=f"excitation ({self.kind})")
                for i, r in enumerate(self.envelope)}
        return {}, outs

    def reset(self, t0: float) -> None:
        self._t0 = t0

    def at(self, t: float) -> np.ndarray:
        """The values held from time ``t`` [s] on."""
        k = int(round((t - self._t0) / float(self.dt)))
        return self.values[min(max(k, 0), len(self.values) - 1)]

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> list[float]:
        return self.at(t + dt).tolist()

    def save_state(self) -> float:
        return self._t0

    def restore_state(self, state: float) -> None:
        self._t0 = state


# -- constraints ---------------------------------------------------------------------------

_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
        ast.Pow: np.power}


@dataclass(frozen=True)
class Constraint:
    """``lhs <= rhs`` (or ``>=``) over input names; :meth:`slack` >= 0 where it holds."""

    text: str
    lhs: ast.AST
    rhs: ast.AST
    sign: float  # +1: lhs <= rhs, -1: lhs >= rhs

    @classmethod
    def parse(cls, text: str, names: Sequence[str]) -> Constraint:
        """Parse ``text``; only numbers, ``names`` and arithmetic are accepted."""
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError as err:
            raise ConfigError(f"constraint {text!r} is not an inequality: {err.msg}") from None
        if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1
                and isinstance(tree.ops[0], ast.LtE | ast.GtE)):
            raise ConfigError(f"constraint {text!r}: write one comparison with <= or >=")
        for side in (tree.left, tree.comparators[0]):
            _check_expr(side, text, set(names))
        sign = 1.0 if isinstance(tree.ops[0], ast.LtE) else -1.0
        return cls(text, tree.left, tree.comparators[0], sign)

    def slack(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """``rhs - lhs`` (or ``lhs - rhs``): >= 0 where the constraint holds."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            diff = _eval(self.rhs, values) - _eval(self.lhs, values)
        return np.nan_to_num(self.sign * diff, nan=-np.inf)


def _check_expr(node: ast.AST, text: str, names: set[str]) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        _check_expr(node.left, text, names)
        _check_expr(node.right, text, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check_expr(node.operand, text, names)
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        pass
    elif isinstance(node, ast.Name):
        if node.id not in names:
            raise ConfigError(f"constraint {text!r}: {node.id!r} is not an input (inputs: "
                              f"{', '.join(sorted(names))})")
    else:
        raise ConfigError(f"constraint {text!r}: only numbers, input names, + - * / ** and "
                          f"parentheses are allowed")


def _eval(node: ast.AST, values: Mapping[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, ast.BinOp):
        return _OPS[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Constant):
        return np.asarray(float(node.value))
    return np.asarray(values[node.id], dtype=np.float64)


def satisfied(constraints: Sequence[Constraint], names: Sequence[str],
              u: np.ndarray) -> np.ndarray:
    """Rows of ``u`` (samples x inputs) that satisfy every constraint."""
    ok = np.ones(len(u), dtype=bool)
    values = {n: u[:, i] for i, n in enumerate(names)}
    for c in constraints:
        ok &= c.slack(values) >= 0
    return ok


def pull_inside(u: np.ndarray, nominal: np.ndarray, constraints: Sequence[Constraint],
                names: Sequence[str], halvings: int = 40) -> np.ndarray:
    """``u`` (samples x inputs) with each violating row moved towards ``nominal`` just
    enough to satisfy every constraint (bisection on the scale ``s``)."""
    if not constraints:
        return u
    nominal = np.asarray(nominal, dtype=np.float64)
    if not satisfied(constraints, names, nominal[None, :])[0]:
        raise ConfigError(f"the nominal point {dict(zip(names, nominal.tolist(), strict=True))} violates "
                          f"the excitation constraints; choose start values inside them")
    bad = ~satisfied(constraints, names, u)
    if not bad.any():
        return u
    out = u.copy()
    d = u[bad] - nominal
    lo, hi = np.zeros(len(d)), np.ones(len(d))  # lo: feasible scale, hi: infeasible
    for _ in range(halvings):
        mid = 0.5 * (lo + hi)
        ok = satisfied(constraints, names, nominal + mid[:, None] * d)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    out[bad] = nominal + lo[:, None] * d
    return out
