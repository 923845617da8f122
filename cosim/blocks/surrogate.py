"""The ``surrogate`` block: a fitted model standing in for an expensive subsystem.

The model is a static map from the inputs to the outputs, evaluated at every
communication point with direct feedthrough::

    [y_1, ..., y_m](t) = model(u_1(t), ..., u_n(t))

Accepted models:

* an object with ``predict(X)`` (a scikit-learn regressor or pipeline, ...): called
  with ``X`` of shape ``(1, n_inputs)``; it may return shape ``(1,)``, ``(1, n_out)`` or
  ``(n_out,)``. If the model records ``feature_names_in_`` (fitted on a DataFrame),
  the inputs are passed in the model's column order and the names must match.
* a callable (``numpy.polynomial.Polynomial``, a function): called with the scalar
  input values as positional arguments, ``f(u_1, ..., u_n)``; it returns a scalar or a
  sequence of ``n_out`` values.
* a path to a pickle file (relative to the topology's folder) holding one of these;
  ``joblib`` files are read too when joblib is installed. Unpickling runs code from the
  file: load only files you trust.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..protocol import NotNative
from .base import Block, NativeBlock, Param, Port


class Surrogate(Block):
    """A static surrogate model: ``outputs(t) = model(inputs(t))``.

    Parameters
    ----------
    model
        An object with ``predict``, a callable, or a path to a pickle file with one.
    inputs : list of str
        Names of the input ports, in the order the model expects them. (Stored as
        the attribute ``input_names``: ``inputs`` is the base class's port table.)
    outputs : list of str
        Names of the output ports, in the order the model returns them (attribute
        ``output_names``).
    units : dict or None
        Port name -> unit, for inputs and outputs.

    Every output depends directly on every input. The block has no state.
    """

    parameters = {
        "model": Param(None, required=True, description="fitted model or pickle file"),
        "input_names": Param(None, description="input port names (YAML: inputs)"),
        "output_names": Param(None, description="output port names (YAML: outputs)"),
        "units": Param(None, description="port name -> unit"),
    }
    feedthrough = None

    def __init__(self, *, inputs: Sequence[str] | None = None,
                 outputs: Sequence[str] | None = None, **params: Any):
        for alias, name, value in (("inputs", "input_names", inputs),
                                   ("outputs", "output_names", outputs)):
            if value is not None:
                if params.get(name) is not None:
                    raise ConfigError(f"Surrogate: give {alias!r} or {name!r}, not both",
                                      field=alias)
                params[name] = value
        super().__init__(**params)
        self.input_names = self._names("inputs", self.input_names)
        self.output_names = self._names("outputs", self.output_names)
        both = sorted(set(self.input_names) & set(self.output_names))
        if both:
            raise ConfigError(f"Surrogate: {', '.join(map(repr, both))} is both an input and "
                              f"an output", field="outputs")
        self._check_units()
        self._model = self._load_model(self.model)
        self._order = self._input_order()
        self._quiet = hasattr(self._model, "feature_names_in_")

    # -- set-up --------------------------------------------------------------------------

    def _names(self, alias: str, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if (not isinstance(value, list | tuple) or not value
                or not all(isinstance(v, str) and v for v in value)):
            raise ConfigError(f"Surrogate: parameter {alias!r} must be a non-empty list of "
                              f"port names, got {value!r}", field=alias)
        dupes = sorted({v for v in value if list(value).count(v) > 1})
        clash = sorted(set(value) & set(self.parameters))
        if dupes or clash:
            why = (f"lists {', '.join(dupes)} more than once" if dupes else
                   f"uses the parameter name {', '.join(clash)} as a port name")
            raise ConfigError(f"Surrogate: parameter {alias!r} {why}", field=alias)
        return list(value)

    def _check_units(self) -> None:
        if self.units is None:
            return
        if not isinstance(self.units, Mapping) or not all(
                isinstance(v, str) or v is None for v in self.units.values()):
            raise ConfigError(f"Surrogate: parameter 'units' must map port names to unit "
                              f"strings, got {self.units!r}", field="units")
        unknown = sorted(set(self.units) - set(self.input_names) - set(self.output_names))
        if unknown:
            raise ConfigError(f"Surrogate: parameter 'units' names {', '.join(unknown)}, which "
                              f"is not an input or output", field="units")

    def _load_model(self, model: Any) -> Any:
        if isinstance(model, str | Path):
            model = _unpickle(self.resolve_path(model))
        if callable(getattr(model, "predict", None)) or callable(model):
            return model
        raise ConfigError(f"Surrogate: parameter 'model' must have a predict(X) method or be "
                          f"callable; got {type(model).__name__}", field="model")

    def _input_order(self) -> list[int]:
        """Index into ``input_names`` for each column the model expects."""
        model, n = self._model, len(self.input_names)
        has_predict = callable(getattr(model, "predict", None))
        expected = getattr(model, "n_features_in_", None) if has_predict else None
        if expected is not None and int(expected) != n:
            raise ConfigError(f"Surrogate: the model was fitted on {expected} features but "
                              f"'inputs' lists {n} ({', '.join(self.input_names)})",
                              field="inputs")
        features = getattr(model, "feature_names_in_", None) if has_predict else None
        if features is None:
            return list(range(n))
        features = [str(f) for f in features]
        if sorted(features) != sorted(self.input_names):
            raise ConfigError(f"Surrogate: the model was fitted on features "
                              f"{', '.join(features)} but 'inputs' lists "
                              f"{', '.join(self.input_names)}", field="inputs")
        return [self.input_names.index(f) for f in features]

    def port_declarations(self):
        units = dict(self.units or {})
        ins = {n: Port(unit=units.get(n), description="surrogate input")
               for n in self.input_names}
        outs = {n: Port(unit=units.get(n), description="surrogate output")
                for n in self.output_names}
        return ins, outs

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(self, values: Sequence[float]) -> np.ndarray:
        """The model's outputs (n_out,) for input ``values`` in ``inputs`` order."""
        x = [float(values[i]) for i in self._order]
        model = self._model
        if callable(getattr(model, "predict", None)):
            with warnings.catch_warnings():
                if self._quiet:  # sklearn warns about arrays without feature names
                    warnings.filterwarnings("ignore", message="X does not have valid feature")
                raw = model.predict(np.array([x], dtype=np.float64))
        else:
            raw = model(*x)
        return self._shape(raw)

    def _shape(self, raw: Any) -> np.ndarray:
        m = len(self.output_names)
        try:
            y = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"Surrogate: the model returned {type(raw).__name__}, not "
                              f"numbers: {err}", field="model") from err
        if y.size == m and (y.ndim <= 1 or (y.ndim == 2 and y.shape[0] == 1)):
            return y.reshape(m)
        raise ConfigError(f"Surrogate: the model returned shape {y.shape} for one sample, "
                          f"but 'outputs' declares {m} ({', '.join(self.output_names)}): "
                          f"expected shape (1, {m}) or ({m},)", field="outputs")

    def step(self, t: float, dt: float, inputs: Mapping[str, float]) -> dict[str, float]:
        y = self.evaluate([inputs[n] for n in self.input_names])
        return dict(zip(self.output_names, y.tolist(), strict=True))

    def save_state(self) -> None:
        """Nothing to save: the block is a static map (and the model is never copied)."""
        return None

    def restore_state(self, state: object) -> None:
        pass

    # -- the compiled loop -------------------------------------------------------------

    NATIVE_METHODS = ("step", "initialize", "evaluate", "_shape")

    def native(self) -> NativeBlock:
        """A one-input one-output ``numpy.polynomial.Polynomial`` runs natively:
        ``par = off scl c_0 .. c_{n-1}``, ``ipar = [n]`` (mapdomain, then Horner)."""
        from numpy.polynomial import Polynomial
        from numpy.polynomial import polyutils as pu

        self.require_native(Surrogate)
        model = self._model
        if type(model) is not Polynomial:
            raise NotNative(f"Surrogate model of type {type(model).__name__} (the compiled "
                            f"loop runs numpy.polynomial.Polynomial models)")
        if len(self.input_names) != 1 or len(self.output_names) != 1 or self._order != [0]:
            raise NotNative("Surrogate polynomial with more than one input or output")
        coef, domain, window = model.coef, model.domain, model.window
        if any(a.dtype != np.float64 or a.ndim != 1 for a in (coef, domain, window)) \
                or coef.size == 0:
            raise NotNative("Surrogate polynomial with non-float64 coefficients or domain")
        off, scl = pu.mapparms(domain, window)
        par = [float(off), float(scl), *coef.tolist()]
        n = int(coef.size)
        # The kernel replicates Polynomial.__call__ (mapdomain, then Horner as in polyval);
        # check that this numpy still evaluates it that way, bit for bit.
        for x in (0.0, -0.0, 1.0, -1.5, 0.1, 3.7e3, -2.5e-7, math.inf, math.nan):
            with np.errstate(all="ignore"):
                want = float(self.evaluate([x])[0])
                got = _polynomial_value(par, n, x)
            if not (_same(want, got) or (math.isnan(want) and math.isnan(got))):
                raise NotNative("this numpy evaluates Polynomial differently from the kernel")
        return NativeBlock("polynomial", par, list(self.input_names), list(self.output_names),
                           ipar=[n])


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


def _unpickle(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError("Surrogate: model file not found (parameter 'model')",
                          file=str(path), field="model")
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except Exception as pickle_err:  # unpickling can raise almost anything
        try:
            import joblib
        except ImportError:
            joblib = None
        if joblib is not None:
            try:
                return joblib.load(path)
            except Exception:
                pass
        raise ConfigError(f"Surrogate: cannot load the model from this file (pickle: "
                          f"{type(pickle_err).__name__}: {pickle_err})", file=str(path),
                          field="model") from pickle_err
