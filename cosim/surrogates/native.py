"""The compiled form of a dynamic surrogate: the kernel's ``surrogate`` node kind.

Polynomial and linear NARX models and linear state spaces run in the compiled loop
(``cosim/fast/kernel.c``, ``surrogate_step``) when ``on_extrapolation`` is ``warn``
(``raise`` and ``fallback`` need Python at the step that leaves the envelope). The
kernel does the block's arithmetic operation by operation, in the same order, so results
are bit-identical (``tests/surrogates/test_surrogate_native.py`` holds it). It counts the
steps outside the envelope in the state; the block warns once when the compiled run
hands back (how many steps, the first time), where the Python loop warns at the first
step of each excursion. The ``out_of_envelope`` output is the same in both.

Layout (all float64 unless noted; ``n_in``/``n_out`` inputs/outputs, ``nz`` regressor
length, ``T`` terms, ``D`` degree, ``F`` hull facets, ``H`` hull dimensions)::

    ipar (int64): model (1 narx, 2 lss), n_in, n_out, intervals (0/1), hull (0/1), F, H,
                  then narx: ny, nu, D, T, warm-up steps, terms[T x D]  |  lss: order n
                  then dims[H]
    par:  low[n_in] high[n_in] span[n_in] a[F x H] b[F] half_width[n_out] step
          then narx: z_mean[nz] z_scale[nz] d_mean[n_out] d_scale[n_out] coef[T x n_out]
          |  lss: u_mean[n_in] u_scale[n_in] y_mean[n_out] y_scale[n_out] A[n x n]
                  B[n x n_in] C[n_out x n] c[n] X0y[n x n_out] X0u[n x n_in] x0c[n]
    state: excursions, first excursion time (NaN: none), outside before (0/1), flag,
           reserved (0: a step other than the trained one is REDO, and Python raises),
           y[n_out], the model's state (Narx/Lss.initial_state layout), then scratch
           (narx: z[nz], ext[nz + 1], acc[n_out]; lss: us[n_in], x[n])
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..blocks.base import NativeBlock
from ..protocol import NotNative
from .lss import Lss
from .regressors import Polynomial

HEADER = 5  # excursions, first time, outside before, flag, reserved


def native_form(block) -> NativeBlock:
    """The kernel form of a :class:`~cosim.surrogates.block.DynamicSurrogate`."""
    art = block.art
    if block.on_extrapolation != "warn":
        raise NotNative(f"surrogate with on_extrapolation: {block.on_extrapolation} runs in "
                        "Python (the compiled loop only warns)")
    model, env = art.model, art.envelope
    n_in, n_out = len(art.inputs), len(art.outputs)
    hull = env.kind == "hull"
    dims = env.dims if hull else np.zeros(0, np.int64)
    a = env.a if hull else np.zeros((0, 0))
    b = env.b if hull else np.zeros(0)
    ipar = [0, n_in, n_out, int(bool(block.intervals)), int(hull), len(b), len(dims)]
    par = [*env.low, *env.high, *env.span(), *a.ravel(), *b, *art.intervals.half_width,
           art.step]
    if isinstance(model, Lss):
        ipar[0] = 2
        ipar.append(model.order)
        par += [*model.u_mean, *model.u_scale, *model.y_mean, *model.y_scale,
                *model.a.ravel(), *model.b.ravel(), *model.c_out.ravel(), *model.c,
                *model.x0y.ravel(), *model.x0u.ravel(), *model.x0c]
        scratch = n_in + model.order
    else:
        reg = model.regressor
        if not isinstance(reg, Polynomial):
            raise NotNative(f"surrogate with a {reg.kind} regressor runs in Python (the "
                            "compiled loop runs linear and polynomial ones)")
        lg, sc = model.lags, model.scaling
        ipar[0] = 1
        ipar += [lg.ny, lg.nu, reg.degree, len(reg.terms), lg.warmup,
                 *reg.terms.ravel().tolist()]
        par += [*sc.z_mean, *sc.z_scale, *sc.d_mean, *sc.d_scale, *reg.coef.ravel()]
        scratch = lg.nz + (lg.nz + 1) + n_out
    ipar += [int(d) for d in dims]
    first = math.nan if block.first_excursion is None else float(block.first_excursion)
    state = [float(block.excursions), first, float(block._outside_before), block._flag, 0.0,
             *block._y.tolist(), *block._state.tolist(), *([0.0] * scratch)]
    names_in = art.input_names
    names_out = list(block.port_declarations()[1])
    n_model = len(block._state)
    seen = [block.excursions]  # excursions already warned about

    def write_back(s) -> None:
        block.excursions = int(s[0])
        block.first_excursion = None if math.isnan(s[1]) else float(s[1])
        block._outside_before = bool(s[2])
        block._flag = float(s[3])
        block._y = np.array(s[HEADER:HEADER + n_out], dtype=np.float64)
        block._state = np.array(s[HEADER + n_out:HEADER + n_out + n_model], dtype=np.float64)
        new = block.excursions - seen[0]
        seen[0] = block.excursions
        if new > 0:
            from .block import SurrogateExtrapolation
            warnings.warn(f"surrogate inputs outside the training envelope at {new} step"
                          f"{'s' if new != 1 else ''} of the compiled run (first at t="
                          f"{block.first_excursion:g} s); extrapolating", SurrogateExtrapolation,
                          stacklevel=2)

    return NativeBlock("surrogate", [float(x) for x in par], names_in, names_out,
                       ipar=[int(i) for i in ipar], state=state, write_back=write_back)
