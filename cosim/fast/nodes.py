"""Subsystems in the form the kernel runs them: FMU call tables and block parameters.

:func:`native_node` turns one subsystem into a :class:`NativeNode`, or raises
:class:`NotCompilable` saying why it cannot run natively. FMUs qualify when every
exchanged port is a float64 passed by pointer into the coupled system's buffers (so the
kernel calls the FMU exactly as the adapter does, with the same arguments); blocks when
they are exactly one of the built-in classes with a native form. Block state lives in
small numpy arrays during the run and is written back with :meth:`NativeNode.write_back`.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..blocks.constant import Constant
from ..blocks.pid import PID
from ..blocks.signals import Ramp, Step
from ..blocks.surrogate import Surrogate
from ..subsystems.block import BlockSubsystem
from ..subsystems.fmi2 import FMI2Subsystem
from ..subsystems.fmi3 import FMI3Subsystem

K_FMI2, K_FMI3, K_CONSTANT, K_PID, K_POLY, K_STEP, K_RAMP = 1, 2, 3, 4, 5, 6, 7
TICK_LIMIT = 2 ** 62  # block tick parameters beyond this are clamped (never reached)


class NotCompilable(Exception):
    """A subsystem (or the run) has no compiled form; the message says why."""


@dataclass
class NativeNode:
    kind: int
    comp: int = 0
    set: int = 0
    get: int = 0
    step: int = 0
    vr_in: Any = None
    vr_out: Any = None
    flags: tuple[int, int, int, int] = (0, 0, 0, 0)
    set_name: str = ""
    get_name: str = ""
    par: np.ndarray = field(default_factory=lambda: np.zeros(1))
    ipar: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    state: np.ndarray = field(default_factory=lambda: np.zeros(1))
    bin: np.ndarray = field(default_factory=lambda: np.zeros(1))
    bout: np.ndarray = field(default_factory=lambda: np.zeros(1))
    in_map: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    out_map: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    write_back: Callable[[], None] = lambda: None


def native_node(sub, u: np.ndarray, y: np.ndarray, in_lo: int, out_lo: int) -> NativeNode:
    """The kernel's view of ``sub`` (whose buffers are ``u[in_lo:]`` and ``y[out_lo:]``)."""
    kind = type(sub)
    if kind is FMI2Subsystem or kind is FMI3Subsystem:
        return _fmu(sub, u, y, in_lo, out_lo)
    if kind is BlockSubsystem:
        return _block(sub)
    raise NotCompilable(f"node {sub.name}: {kind.__name__} has no compiled form")


# -- FMUs ----------------------------------------------------------------------------


def _address(obj: Any) -> int:
    if isinstance(obj, int):
        return obj
    value = ctypes.cast(obj, ctypes.c_void_p).value
    if not value:
        raise NotCompilable("a null pointer")
    return value


def _float_group(sub, groups, key: str, buffer: np.ndarray, lo: int, what: str):
    """(n, value references, function address, function name) of the one float group."""
    if not groups:
        return 0, None, 0, ""
    if len(groups) > 1 or groups[0][0].key != key:
        types = ", ".join(g.key for g, _ in groups)
        raise NotCompilable(f"node {sub.name}: {what} of type {types} (the compiled loop "
                            f"exchanges float64 ports only)")
    group, fn = groups[0]
    if group.scratch is not None or _address(group.ptr) != buffer.ctypes.data + 8 * lo:
        raise NotCompilable(f"node {sub.name}: {what} are not passed by pointer")
    return group.n, group.vr, _address(fn), fn.__name__


def _fmu(sub, u: np.ndarray, y: np.ndarray, in_lo: int, out_lo: int) -> NativeNode:
    fmi3 = type(sub) is FMI3Subsystem
    try:
        if fmi3 and sub.events_used:
            raise NotCompilable(f"node {sub.name}: FMI 3 event mode")
        if sub.no_rollback is not True or not sub.instantiated:
            raise NotCompilable(f"node {sub.name}: not in step mode")
        key = "Float64" if fmi3 else "real"
        n_in, vr_in, set_fn, set_name = _float_group(sub, sub._in, key, u, in_lo, "inputs")
        n_out, vr_out, get_fn, get_name = _float_group(sub, sub._out, key, y, out_lo, "outputs")
        node = NativeNode(K_FMI3 if fmi3 else K_FMI2, comp=_address(sub._c), set=set_fn,
                          get=get_fn, step=_address(sub._do_step), vr_in=vr_in,
                          vr_out=vr_out, set_name=set_name, get_name=get_name)
        if fmi3:
            node.flags = (*(ctypes.addressof(f) for f in sub._flags),
                          ctypes.addressof(sub._last))
    except AttributeError as err:  # an adapter that no longer looks as expected
        raise NotCompilable(f"node {sub.name}: adapter without {err.name}") from None
    if n_in != len(sub.inputs) or n_out != len(sub.outputs):
        raise NotCompilable(f"node {sub.name}: ports and call tables differ")
    return node


# -- blocks --------------------------------------------------------------------------


@dataclass
class _BlockForm:
    kind: int
    par: list[float]
    inputs: list[str]
    outputs: list[str]
    ipar: list[int] = field(default_factory=lambda: [0])
    state: list[float] = field(default_factory=lambda: [0.0])
    write_back: Callable[[np.ndarray], None] = lambda state: None


def _ticks(value: int) -> int:
    return max(-TICK_LIMIT, min(TICK_LIMIT, int(value)))


def _constant(block: Constant) -> _BlockForm:
    return _BlockForm(K_CONSTANT, [float(block.value)], [], ["y"])


def _pid(block: PID) -> _BlockForm:
    if block.direction not in ("direct", "reverse"):
        raise NotCompilable(f"PID direction {block.direction!r}")
    e_prev = block._e_prev
    state = [block._integral, block._derivative, 0.0 if e_prev is None else e_prev,
             0.0 if e_prev is None else 1.0]

    def write_back(s: np.ndarray) -> None:
        block._integral, block._derivative = float(s[0]), float(s[1])
        block._e_prev = None if s[3] == 0.0 else float(s[2])

    par = [block.kp, block.ki, block.kd, block.derivative_filter, block._lo, block._hi,
           1.0 if block.direction == "reverse" else 0.0]
    return _BlockForm(K_PID, [float(p) for p in par], ["measurement", "setpoint"], ["u"],
                      state=[float(s) for s in state], write_back=write_back)


def _polynomial_value(par: list[float], n: int, x: float) -> float:
    """What the kernel computes for a polynomial node (poly_step), in Python floats."""
    c = par[2:]
    x = par[0] + par[1] * x
    c0 = c[n - 1] + x * 0.0
    for i in range(2, n + 1):
        c0 = c[n - i] + c0 * x
    return c0


def _same(a: float, b: float) -> bool:
    return np.float64(a).tobytes() == np.float64(b).tobytes()


def _surrogate(block: Surrogate) -> _BlockForm:
    from numpy.polynomial import Polynomial
    from numpy.polynomial import polyutils as pu

    model = block._model
    if type(model) is not Polynomial:
        raise NotCompilable(f"Surrogate model of type {type(model).__name__} (the compiled "
                            f"loop runs numpy.polynomial.Polynomial models)")
    if len(block.input_names) != 1 or len(block.output_names) != 1 or block._order != [0]:
        raise NotCompilable("Surrogate polynomial with more than one input or output")
    coef, domain, window = model.coef, model.domain, model.window
    if any(a.dtype != np.float64 or a.ndim != 1 for a in (coef, domain, window)) \
            or coef.size == 0:
        raise NotCompilable("Surrogate polynomial with non-float64 coefficients or domain")
    off, scl = pu.mapparms(domain, window)
    par = [float(off), float(scl), *coef.tolist()]
    n = int(coef.size)
    # The kernel replicates Polynomial.__call__ (mapdomain, then Horner as in polyval);
    # check that this numpy still evaluates it that way, bit for bit.
    for x in (0.0, -0.0, 1.0, -1.5, 0.1, 3.7e3, -2.5e-7, math.inf, math.nan):
        with np.errstate(all="ignore"):
            want = float(block.evaluate([x])[0])
            got = _polynomial_value(par, n, x)
        if not (_same(want, got) or (math.isnan(want) and math.isnan(got))):
            raise NotCompilable("this numpy evaluates Polynomial differently from the kernel")
    return _BlockForm(K_POLY, par, list(block.input_names), list(block.output_names),
                      ipar=[n])


def _step(block: Step) -> _BlockForm:
    return _BlockForm(K_STEP, [float(block.before), float(block.after)], [], ["y"],
                      ipar=[_ticks(block._time_ticks)])


def _ramp(block: Ramp) -> _BlockForm:
    par = [block.start_time, block.duration, block.height, block.offset]
    return _BlockForm(K_RAMP, [float(p) for p in par], [], ["y"],
                      ipar=[_ticks(block._start_ticks), _ticks(block._end_ticks)])


BLOCK_FORMS: dict[type, Callable[[Any], _BlockForm]] = {
    Constant: _constant, PID: _pid, Surrogate: _surrogate, Step: _step, Ramp: _ramp,
}


def _block(sub: BlockSubsystem) -> NativeNode:
    block = sub.block
    former = BLOCK_FORMS.get(type(block))
    if former is None:
        cls = type(block)
        raise NotCompilable(f"node {sub.name}: block {cls.__module__}.{cls.__qualname__} "
                            f"runs in Python (no compiled form)")
    overridden = {"step", "initialize", "evaluate", "value_at", "error"} & set(vars(block))
    if overridden or sub.initializing:
        raise NotCompilable(f"node {sub.name}: block methods replaced on the instance")
    try:
        form = former(block)
    except (AttributeError, TypeError, ValueError) as err:
        raise NotCompilable(f"node {sub.name}: {err}") from None
    try:
        bin_ = np.array([sub.values[name] for name in form.inputs] or [0.0], dtype=np.float64)
        bout = np.array([sub.last[name] for name in form.outputs], dtype=np.float64)
        in_map = np.array([form.inputs.index(n) for n in sub.inputs] or [0], dtype=np.int64)
        out_map = np.array([form.outputs.index(n) for n in sub.outputs] or [0],
                           dtype=np.int64)
    except (KeyError, ValueError) as err:
        raise NotCompilable(f"node {sub.name}: unexpected ports ({err})") from None
    state = np.array(form.state, dtype=np.float64)

    def write_back() -> None:
        sub.values.update(zip(form.inputs, bin_.tolist(), strict=False))
        sub.last.update(zip(form.outputs, bout.tolist(), strict=True))
        form.write_back(state)

    return NativeNode(form.kind, par=np.array(form.par, dtype=np.float64),
                      ipar=np.array(form.ipar, dtype=np.int64), state=state, bin=bin_,
                      bout=bout, in_map=in_map, out_map=out_map, write_back=write_back)
