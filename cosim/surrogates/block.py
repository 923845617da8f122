"""The dynamic surrogate as a topology node: a :class:`cosim.Block` with state.

In a topology::

    rack3: {surrogate: rack.surrogate}                       # a node of its own
    rack3: {surrogate: rack.surrogate, parameters: {on_extrapolation: fallback,
            fallback: ../fmus/build/fmi2/RackDetailed.fmu}}
    replace: {rack3: rack.surrogate}                          # in a variant (extends:)

Ports: the artifact's inputs and outputs (names, units, start values), so it fits where
the original node was; plus, per output ``y``, ``y_lo`` and ``y_hi`` (the prediction
interval at the artifact's stated coverage; ``intervals: false`` leaves them out), and
``out_of_envelope`` (1.0 for a step whose inputs left the training envelope, else 0.0).
No output depends directly on an input: the outputs at ``t + dt`` come from the inputs
held over the step, like the FMU's.

The block only steps at the artifact's step (the node's step when it was trained);
another step is an error. ``on_extrapolation`` says what a step outside the envelope
does, after flagging it in ``out_of_envelope``:

``warn`` (default)
    warns (:class:`SurrogateExtrapolation`) at the first step of each excursion and
    answers with the surrogate.
``raise``
    stops the run with a :class:`~cosim.errors.SubsystemError` naming the inputs.
``fallback``
    answers with the original FMU (``fallback:``, a path; the model of ``replace:`` by
    default), kept in step lazily (:mod:`cosim.surrogates.fallback`); the surrogate
    continues from the FMU's outputs.

Parameters of the original model the node was given (``source_parameters``, set by
``replace:``) must be those the surrogate was trained with, or the topology is refused.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..blocks.base import Block, NativeBlock, Param, Port
from ..errors import ConfigError, SubsystemError
from .artifact import Artifact, load

MODES = ("warn", "raise", "fallback")
FLAG = "out_of_envelope"


class SurrogateExtrapolation(UserWarning):
    """A surrogate's inputs left its training envelope."""


_CACHE: dict[tuple[str, int, int], Artifact] = {}


def load_cached(path: Path) -> Artifact:
    """An artifact, loaded once per process per file version (path, size, mtime)."""
    st = path.stat() if path.is_file() else None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns) if st else None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    art = load(path)
    if key is not None:
        _CACHE[key] = art
    return art


class DynamicSurrogate(Block):
    """A trained dynamic surrogate (see the module docstring)."""

    parameters = {
        "artifact": Param(None, required=True, description="the .surrogate file"),
        "on_extrapolation": Param("warn", description="warn | raise | fallback"),
        "fallback": Param(None, description="FMU stepped when the inputs leave the envelope"),
        "intervals": Param(True, description="add <output>_lo and <output>_hi outputs"),
        "source_parameters": Param(None, description="parameters the replaced node had"),
    }

    def __init__(self, **params: Any):
        super().__init__(**params)
        if self.on_extrapolation not in MODES:
            raise ConfigError(f"on_extrapolation must be one of {', '.join(MODES)}, got "
                              f"{self.on_extrapolation!r}", field="on_extrapolation")
        path = self.resolve_path(str(self.artifact))
        self.art = load_cached(path)
        self._check_source_parameters()
        if self.on_extrapolation == "fallback" and not self.fallback:
            raise ConfigError("on_extrapolation: fallback needs 'fallback': the FMU the "
                              f"surrogate replaces ({self.art.info.get('source', {}).get('fmu')})",
                              field="fallback")
        if self.fallback:
            from .fallback import check_fallback
            check_fallback(self.resolve_path(str(self.fallback)), self.art)
        self._y0 = np.array([float(p.start) for p in self.art.outputs])
        self._fmu = None
        self.excursions = 0          # steps outside the envelope, this run
        self.first_excursion: float | None = None
        self.fallback_steps = 0
        self._reset_state()

    # -- declaration -------------------------------------------------------------------

    def _check_source_parameters(self) -> None:
        given = dict(self.source_parameters or {})
        trained = dict(self.art.info.get("source", {}).get("parameters", {}))
        differ = [k for k in sorted(set(given) | set(trained))
                  if not _same_value(given.get(k), trained.get(k))]
        if differ:
            what = ", ".join(f"{k} = {given.get(k, 'default')!r} (trained with "
                             f"{trained.get(k, 'default')!r})" for k in differ)
            raise ConfigError(f"the surrogate was trained with other parameters of "
                              f"{self.art.info.get('source', {}).get('model', 'the model')}: "
                              f"{what}; fit one for these values", field="parameters")

    def fixed_step(self) -> float:
        """The step the surrogate was trained at [s]: it cannot take another."""
        return float(self.art.step)

    @property
    def feedthrough(self) -> dict[str, list[str]]:
        """No output depends directly on an input (like the FMUs it stands for)."""
        return {name: [] for name in self.port_declarations()[1]}

    def port_declarations(self):
        ins = {p.name: Port(unit=p.unit, start=float(p.start or 0.0),
                            description="surrogate input") for p in self.art.inputs}
        outs = {}
        w = self.art.intervals.half_width
        for p, width in zip(self.art.outputs, w, strict=True):
            outs[p.name] = Port(unit=p.unit, start=float(p.start),
                                description=f"surrogate of {p.name}")
            if self.intervals:
                cov = f"{self.art.intervals.coverage:.0%}"
                outs[f"{p.name}_lo"] = Port(unit=p.unit, start=float(p.start) - float(width),
                                            description=f"{cov} interval, lower end")
                outs[f"{p.name}_hi"] = Port(unit=p.unit, start=float(p.start) + float(width),
                                            description=f"{cov} interval, upper end")
        outs[FLAG] = Port(unit="1", start=0.0,
                          description="1 when the step's inputs left the training envelope")
        return ins, outs

    # -- behaviour -----------------------------------------------------------------------

    def _reset_state(self) -> None:
        self._state = self.art.model.initial_state(self._y0)
        self._y = self._y0.copy()
        self._flag = 0.0
        self._outside_before = False

    def reset(self, t0: float) -> None:
        self._reset_state()
        self.excursions, self.first_excursion, self.fallback_steps = 0, None, 0
        if self.on_extrapolation == "fallback":
            self._fallback().start(t0)

    def _fallback(self):
        if self._fmu is None:
            from .fallback import FmuFallback
            source = self.art.info.get("source", {})
            self._fmu = FmuFallback(self.resolve_path(str(self.fallback)), self.art.node,
                                    self.art.input_names, self.art.output_names,
                                    dict(source.get("parameters", {})), source)
        return self._fmu

    def outputs_now(self) -> list[float]:
        out: list[float] = []
        w = self.art.intervals.half_width
        for j, y in enumerate(self._y.tolist()):
            out.append(y)
            if self.intervals:
                out += [y - float(w[j]), y + float(w[j])]
        out.append(self._flag)
        return out

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> list[float]:
        if dt == 0.0:
            return self.outputs_now()
        self._check_step(t, dt)
        u = np.array([inputs[n] for n in self.art.input_names], dtype=np.float64)
        outside = self.art.envelope.outside_one(u)
        self._flag = 1.0 if outside else 0.0
        if outside:
            self._extrapolating(t, u)
        if outside and self.on_extrapolation == "fallback":
            self._y = self._fallback().step(t, dt, u)
            self.art.model.push(self._state, u, self._y)
            self.fallback_steps += 1
        else:
            self._y = self.art.model.step(self._state, u)
            if self.on_extrapolation == "fallback":
                self._fallback().remember(t, dt, u)
        self._outside_before = outside
        return self.outputs_now()

    def _check_step(self, t: float, dt: float) -> None:
        h = self.art.step
        if not math.isclose(dt, h, rel_tol=1e-9, abs_tol=1e-9):
            raise SubsystemError(f"the surrogate was trained at a step of {h:g} s and cannot "
                                 f"step {dt:g} s; run the topology at {h:g} s (or fit "
                                 f"another surrogate)", time=t)

    def _extrapolating(self, t: float, u: np.ndarray) -> None:
        self.excursions += 1
        if self.first_excursion is None:
            self.first_excursion = t
        env = self.art.envelope
        which = env.which(u) or [f"{', '.join(f'{n}={v:.6g}' for n, v in zip(env.names, u, strict=True))}"
                                 f" (each in its range, but outside the {env.kind} of the "
                                 f"training inputs)"]
        text = f"inputs outside the surrogate's training envelope: {'; '.join(which)}"
        if self.on_extrapolation == "raise":
            raise SubsystemError(text + " (on_extrapolation: raise; use warn or fallback to "
                                 "go on)", time=t)
        if not self._outside_before:
            action = ("the original model answers (fallback)"
                      if self.on_extrapolation == "fallback" else "extrapolating")
            warnings.warn(f"surrogate {Path(str(self.artifact)).name} at t={t:g} s: {text}; "
                          f"{action}",
                          SurrogateExtrapolation, stacklevel=2)

    # -- state ---------------------------------------------------------------------------

    def save_state(self) -> Any:
        fmu = self._fmu.save() if self._fmu is not None and self._fmu.started else None
        return (self._state.copy(), self._y.copy(), self._flag, self._outside_before,
                self.excursions, self.first_excursion, self.fallback_steps, fmu)

    def restore_state(self, state: Any) -> None:
        (s, y, self._flag, self._outside_before, self.excursions, self.first_excursion,
         self.fallback_steps, fmu) = state
        self._state, self._y = s.copy(), y.copy()
        if fmu is not None:
            self._fmu.restore(fmu)

    def __del__(self) -> None:
        fmu = getattr(self, "_fmu", None)
        if fmu is not None:
            with contextlib.suppress(Exception):  # at interpreter shutdown
                fmu.close()

    # -- the compiled loop ---------------------------------------------------------------

    NATIVE_METHODS = ("step", "initialize", "outputs_now", "reset")

    def native(self) -> NativeBlock:
        from .native import native_form
        self.require_native(DynamicSurrogate)
        return native_form(self)


def _same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
