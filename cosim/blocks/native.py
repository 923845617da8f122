"""Compiled steps for your own blocks: a C function the compiled loop calls natively.

A block whose class declares ``c_step = CStep(...)`` runs its ``step`` in the kernel
(:mod:`cosim.fast`) instead of being called back in Python. The C function has one
signature::

    int step(double t, double dt, const double *u, double *y, double *state,
             const double *par);

``u`` holds every input and ``y`` every output of the block, in the order the block
declares them; ``state`` the attributes named in ``state=`` (read before the run,
written back after it); ``par`` the attributes named in ``parameters=``. It advances
from ``t`` to ``t + dt`` [s] and returns 0; any other value asks Python to take this
step instead (``Block.step`` then runs, and raises what it raises) — the kernel restores
``state`` and ``y`` first. Initialization (``initialize``) and ``dt = 0`` evaluations at
events stay in Python.

The C function must compute exactly what ``step`` computes, operation by operation:
cosim compiles it with the kernel's flags (``-O2 -ffp-contract=off -fno-fast-math``: no
fused multiply-add, no reassociation), so C ``a + b * c`` is Python's ``a + b * c`` bit
for bit. :func:`check_step` compares the two on inputs you choose; put it in your tests.

``CStep("file.c", "function")`` compiles ``file.c`` (relative to the module that defines
the block) with the machine's C compiler on first use, into the per-user cache (see
:mod:`cosim.fast.build`); without a compiler, or if it does not compile, the block runs
in Python and ``cosim check`` says why. ``CStep.at(address)`` takes any function
pointer with that signature instead — e.g. a numba ``@cfunc``'s ``.address``.
"""

from __future__ import annotations

import ctypes
import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..protocol import NotNative
from .base import Block, NativeBlock

_c_double_p = ctypes.POINTER(ctypes.c_double)
SIGNATURE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_double, ctypes.c_double, _c_double_p,
                             _c_double_p, _c_double_p, _c_double_p)
_libraries: dict[Path, ctypes.CDLL] = {}  # loaded once per process
_warned: set[tuple[Path, str]] = set()


class CStep:
    """A block's compiled step (see the module docstring).

    ``source``: a C file, relative to the folder of the module defining the block;
    ``function``: the name of the step function in it; ``parameters`` / ``state``:
    names of the block's attributes passed as ``par`` / ``state`` (floats, in order).
    """

    def __init__(self, source: str | Path | None, function: str = "", *,
                 parameters: Sequence[str] = (), state: Sequence[str] = (),
                 address: int | None = None, keep: Any = None):
        self.source = Path(source) if source is not None else None
        self.function = function
        self.parameters, self.state = tuple(parameters), tuple(state)
        self.address, self.keep = address, keep
        self.owner: type[Block] | None = None

    @classmethod
    def at(cls, address: int, *, parameters: Sequence[str] = (), state: Sequence[str] = (),
           keep: Any = None) -> CStep:
        """A compiled step at a function address (``keep``: an object to keep alive as
        long as the step, e.g. the numba cfunc)."""
        return cls(None, f"<function at {address:#x}>", parameters=parameters, state=state,
                   address=address, keep=keep)

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner = owner

    def path(self) -> Path:
        """The C file, resolved against the defining module's folder."""
        module = sys.modules.get(self.owner.__module__) if self.owner else None
        folder = Path(getattr(module, "__file__", "") or ".").resolve().parent
        return self.source if self.source.is_absolute() else folder / self.source

    def function_address(self) -> int:
        """The step function's address (compiling the source on first use)."""
        if self.address is not None:
            return self.address
        from ..fast import build
        path = self.path()
        if path not in _libraries:
            try:
                _libraries[path] = ctypes.CDLL(str(build.library(path)))
            except (build.KernelUnavailable, OSError) as err:
                self._warn(path, str(err))
                raise NotNative(f"compiled step {path.name}:{self.function} unavailable: "
                                f"{err}") from None
        try:
            fn = getattr(_libraries[path], self.function)
        except AttributeError:
            raise NotNative(f"compiled step: {path.name} has no function "
                            f"{self.function!r}") from None
        return ctypes.cast(fn, ctypes.c_void_p).value

    def _warn(self, path: Path, why: str) -> None:
        if (path, self.function) in _warned:
            return
        _warned.add((path, self.function))
        from ..fast import FastPathWarning
        warnings.warn(f"cosim: the compiled step {path.name}:{self.function} of "
                      f"{self.owner.__name__ if self.owner else 'a block'} is unavailable, "
                      f"the block runs in Python ({why[:500]})", FastPathWarning, stacklevel=3)

    def form(self, block: Block) -> NativeBlock:
        """The block's native form: its compiled step, parameters and state."""
        if self.owner is not None:
            block.require_native(self.owner)
        ins, outs = block.port_declarations()
        par = [_float(block, name) for name in self.parameters]
        # (state attributes may not exist before the block's reset: a run refreshes the
        # form after initialization)
        state = [_float(block, name) if hasattr(block, name) else math.nan
                 for name in self.state]

        def write_back(values) -> None:
            for name, value in zip(self.state, np.asarray(values).tolist(), strict=False):
                setattr(block, name, value)

        return NativeBlock("cfunc", par or [0.0], list(ins), list(outs),
                           state=state or [0.0], write_back=write_back,
                           function=self.function_address())


def _float(block: Block, name: str) -> float:
    value = getattr(block, name)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                         np.integer)):
        raise NotNative(f"compiled step: attribute {name!r} of {type(block).__name__} is "
                        f"{type(value).__name__}, not a number")
    return float(value)


def check_step(block: Block, inputs: Mapping[str, float], t: float = 0.0,
               dt: float = 1.0) -> None:
    """Assert that ``block``'s compiled step computes exactly what its ``step`` does for
    these ``inputs`` (a mapping of every input) from ``t`` over ``dt`` [s]: the same
    outputs and the same state afterwards, bit for bit. Raises AssertionError naming
    the first difference. ``block`` is left as its Python step leaves it."""
    import copy

    form = block.native()
    if form.kind != "cfunc":
        raise AssertionError(f"{type(block).__name__} has no compiled step")
    twin = copy.deepcopy(block)
    u = np.array([float(inputs[n]) for n in form.inputs] or [0.0])
    y = np.zeros(max(1, len(form.outputs)))
    state = np.array(form.state, dtype=np.float64)
    par = np.array(form.par, dtype=np.float64)
    fn = SIGNATURE(form.function)
    ptr = [a.ctypes.data_as(_c_double_p) for a in (u, y, state, par)]
    status = fn(float(t), float(dt), *ptr)
    if status != 0:
        raise AssertionError(f"the compiled step returned {status} (Python would take the "
                             "step)")
    got = twin.step(float(t), float(dt), dict(inputs))
    want = got if isinstance(got, Mapping) else dict(zip(form.outputs, got, strict=True))
    for k, name in enumerate(form.outputs):
        _same(f"output {name}", float(want[name]), float(y[k]))
    form.write_back(state)  # the C state into ``block``, the Python one is in ``twin``
    for name in _state_names(block):
        _same(f"state {name}", float(getattr(twin, name)), float(getattr(block, name)))
    block.__dict__.update(twin.__dict__)


def _state_names(block: Block) -> tuple[str, ...]:
    c_step = getattr(type(block), "c_step", None)
    return c_step.state if c_step is not None else ()


def _same(what: str, python: float, native: float) -> None:
    if np.float64(python).tobytes() != np.float64(native).tobytes():
        raise AssertionError(f"{what}: Python step gives {python!r}, the compiled step "
                             f"{native!r}")
