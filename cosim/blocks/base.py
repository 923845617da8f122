"""Python blocks: subsystems written in Python, stepped by the master like FMUs.

A block declares its ports and parameters as class attributes and implements
:meth:`Block.step`::

    class Heater(Block):
        \"\"\"First-order heater: tau * dT/dt = P / G - T.\"\"\"
        inputs = {"P": Port(unit="W")}
        outputs = {"T": Port(unit="K", start=293.15)}
        parameters = {"tau": Param(60.0, unit="s"), "G": Param(10.0, unit="W/K")}
        feedthrough = {"T": []}          # T does not depend directly on P

        def reset(self, t0):
            self.T = self.outputs["T"].start

        def step(self, t, dt, inputs):
            self.T += dt / self.tau * (inputs["P"] / self.G - self.T)
            return {"T": self.T}

Call order, as the master drives it (times in seconds, float)::

    Block(**parameters)        parameters validated and set as attributes
    interface()                ports (may depend on parameters, e.g. table columns)
    reset(t0)                  initial state
    initialize(t0, inputs)     outputs at t0; default: step(t0, 0.0, inputs)
    step(t, dt, inputs)  ...   advance from t to t + dt with inputs held; return outputs at t + dt
    save_state() / restore_state(s)   at any point between steps (rollback)

``inputs`` is a dict ``{name: float}``; ``step`` returns a mapping ``{name: value}`` or
a sequence in the order of :meth:`interface` outputs. ``step`` with ``dt == 0`` must
return the outputs at ``t`` without advancing the state.

State is saved by deep copy of the instance's attributes, so any block can roll back
like an FMU that can get and set its state.
"""

from __future__ import annotations

import copy
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ConfigError
from ..protocol import NotNative
from ..variables import (
    BOOLEAN,
    INPUT,
    INTEGER,
    OUTPUT,
    PARAMETER,
    REAL,
    STRING,
    Interface,
    Variable,
)


@dataclass(frozen=True)
class Port:
    """An input or output of a block. ``kind`` is real, integer or boolean."""

    unit: str | None = None
    start: float = 0.0
    kind: str = REAL
    description: str = ""
    nominal: float | None = None


@dataclass(frozen=True)
class Param:
    """A block parameter with its default value (any type; numbers carry a unit)."""

    default: Any = None
    unit: str | None = None
    description: str = ""
    required: bool = False


@dataclass
class NativeBlock:
    """A block's compiled form (see :class:`cosim.protocol.NativeForm`): the kernel's
    implementation ``kind``, float64 parameters ``par``, int64 parameters ``ipar``, the
    state the kernel advances, the names of the block's inputs and outputs in the order
    the kernel indexes them, and ``write_back(state)`` putting the state back into the
    block after a compiled run. ``kind="cfunc"``: ``function`` is the address of the
    block's compiled step (see :class:`cosim.blocks.CStep`)."""

    kind: str
    par: Any
    inputs: list[str]
    outputs: list[str]
    ipar: list[int] = field(default_factory=lambda: [0])
    state: list[float] = field(default_factory=lambda: [0.0])
    write_back: Callable[[Any], None] = lambda state: None
    function: int = 0


class Block:
    """Base class for Python blocks; see the module docstring for the contract."""

    #: methods a compiled form replicates; a subclass or an instance that replaces one of
    #: them runs in Python (its behaviour is no longer the kernel's)
    NATIVE_METHODS: ClassVar[tuple[str, ...]] = ("step", "initialize")

    inputs: ClassVar[dict[str, Port]] = {}
    outputs: ClassVar[dict[str, Port]] = {}
    parameters: ClassVar[dict[str, Param]] = {}
    feedthrough: ClassVar[dict[str, list[str]] | None] = None
    """Output name -> inputs it depends on directly. ``None``: every output on every input."""

    _RESERVED = frozenset({"inputs", "outputs", "parameters", "feedthrough", "base_dir",
                           "step", "reset", "initialize", "interface", "save_state",
                           "restore_state", "resolve_path", "c_step", "native",
                           "fixed_step", "time_range"})

    def __init__(self, *, base_dir: str | Path | None = None, **params: Any):
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            known = ", ".join(sorted(self.parameters)) or "none"
            raise ConfigError(
                f"{type(self).__name__} has no parameter {', '.join(map(repr, unknown))} "
                f"(its parameters: {known})", field=unknown[0])
        wrong = {n: why for n, v in params.items() if (why := _wrong_type(self.parameters[n], v))}
        if wrong:
            raise ConfigError(f"{type(self).__name__}: " + "; ".join(
                f"parameter {n!r} {why}" for n, why in wrong.items()), field=next(iter(wrong)))
        for name, spec in self.parameters.items():
            if name in self._RESERVED:
                raise ConfigError(f"{type(self).__name__}: parameter name {name!r} is reserved")
            if name not in params and spec.required:
                raise ConfigError(f"{type(self).__name__} needs parameter {name!r}", field=name)
            setattr(self, name, copy.deepcopy(params.get(name, spec.default)))

    # -- declaration -----------------------------------------------------------------

    def port_declarations(self) -> tuple[dict[str, Port], dict[str, Port]]:
        """Inputs and outputs as declared; override when ports depend on parameters."""
        return dict(self.inputs), dict(self.outputs)

    def interface(self) -> Interface:
        ins, outs = self.port_declarations()
        variables: list[Variable] = []
        for name, port in ins.items():
            variables.append(_port_variable(name, port, INPUT))
        feed = self.feedthrough
        for name, port in outs.items():
            deps = tuple(ins) if feed is None or name not in feed else tuple(feed[name])
            variables.append(_port_variable(name, port, OUTPUT, deps))
        for name, spec in self.parameters.items():
            value = getattr(self, name)
            kind = (BOOLEAN if isinstance(value, bool) else INTEGER if isinstance(value, int)
                    else REAL if isinstance(value, float) or value is None else STRING)
            variables.append(Variable(name, PARAMETER, kind, spec.unit, value,
                                      variability="fixed", description=spec.description))
        return Interface.of(variables)

    def fixed_step(self) -> float | None:
        """The only step [s] this block can take (a model learnt at one step), or None
        (any step). ``cosim check`` refuses a run that would give it another one: another
        node step, a run span that is no multiple of it, adaptive steps, events off its
        grid."""
        return None

    def time_range(self) -> tuple[float, float] | None:
        """The times [s] the block can be asked about, (first, last), or None (any):
        ``cosim check`` refuses a run from start to stop outside them."""
        return None

    # -- behaviour ---------------------------------------------------------------------

    def reset(self, t0: float) -> None:  # noqa: B027 - optional hook
        """Set the initial state at start time ``t0`` [s]."""

    def initialize(self, t: float, inputs: Mapping[str, float]) -> Mapping[str, Any] | Sequence:
        """Outputs at ``t`` for the given inputs, before the first step."""
        return self.step(t, 0.0, inputs)

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> Mapping | Sequence:
        """Advance from ``t`` to ``t + dt`` [s] with ``inputs`` held; return outputs."""
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    def save_state(self) -> Any:
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "base_dir"})

    def restore_state(self, state: Any) -> None:
        self.__dict__.update(copy.deepcopy(state))

    # -- the compiled loop ----------------------------------------------------------------

    def native(self) -> NativeBlock:
        """This block's compiled form; raises :class:`~cosim.protocol.NotNative` saying
        why there is none (the block then runs in Python). The default: the class's
        compiled step ``c_step`` (a :class:`~cosim.blocks.CStep`), if it declares one."""
        cls = type(self)
        c_step = getattr(cls, "c_step", None)
        if c_step is not None:
            return c_step.form(self)
        raise NotNative(f"block {_where(cls)} has no compiled step "
                        "(a Python block: see CStep in docs/blocks.md)")

    def require_native(self, owner: type) -> None:
        """Raise NotNative unless the methods ``owner``'s compiled form replicates are
        still ``owner``'s own (not replaced by a subclass or on the instance)."""
        cls = type(self)
        for name in self.NATIVE_METHODS:
            if name in vars(self) or getattr(cls, name, None) is not getattr(owner, name, None):
                raise NotNative(f"block {_where(cls)} replaces "
                                f"{name}() of {owner.__name__}: it runs in Python")

    # -- helpers -----------------------------------------------------------------------

    def resolve_path(self, path: str | Path) -> Path:
        """A path relative to the topology file's folder (``base_dir``)."""
        p = Path(path)
        return p if p.is_absolute() else self.base_dir / p


def _wrong_type(spec: Param, value: Any) -> str:
    """Why ``value`` does not fit the kind of the parameter's default (a number for a
    number, a whole number for an int, true/false for a bool, text for a str), so that
    a wrong value fails ``cosim check``, not the run; "" if it fits. A default of None
    (or a list, a dict, ...) accepts anything: the block checks those itself."""
    default = spec.default
    if value is None or default is None:
        return ""
    if isinstance(default, bool):
        ok, want = isinstance(value, bool), "true or false"
    elif isinstance(default, numbers.Real):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        want = "a number"
        if ok and isinstance(default, numbers.Integral):
            ok, want = float(value).is_integer(), "a whole number"
    elif isinstance(default, str):
        ok, want = isinstance(value, str), "text (a string)"
    else:
        return ""
    return "" if ok else f"must be {want} (like its default {default!r}), got {value!r}"


def _where(cls: type) -> str:
    """``Class (module.py)`` or ``module.Class``: a block class as people name it (a block
    loaded from a file lives in a module whose name cosim made up)."""
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if file and cls.__module__.startswith("cosim_user_block_"):
        return f"{cls.__qualname__} ({Path(file).name})"
    return f"{cls.__module__}.{cls.__qualname__}"


def _port_variable(name: str, port: Port, causality: str,
                   depends_on: tuple[str, ...] | None = None) -> Variable:
    kind = port.kind if port.kind in (REAL, INTEGER, BOOLEAN) else REAL
    return Variable(name, causality, kind, port.unit, port.start, port.nominal,
                    "discrete" if kind != REAL else "continuous", port.description,
                    depends_on=depends_on)
