"""Regressors of a NARX model: ``f(zs) -> standardised increments`` (rows in, rows out).

=============  ===========================================================  ==========
kind           what                                                         compiled
=============  ===========================================================  ==========
``linear``     ridge regression on ``zs`` (an ARX model)                     yes
``polynomial`` ridge regression on every monomial of ``zs`` up to ``degree``  yes
``gp``         scikit-learn Gaussian process (constant x ARD RBF + white     no
               noise), fitted on a random subsample
``boosting``   scikit-learn histogram gradient boosting, one per output      no
``mlp``        scikit-learn multi-layer perceptron                           no
=============  ===========================================================  ==========

The polynomial (and linear) regressor evaluates, for each row, the monomials as
products of entries of ``[zs, 1]`` in a fixed order and sums ``coef[t] * term[t]``
sequentially; the compiled kernel does the same operations in the same order, so the
two agree bit for bit. Its ridge fit solves the normal equations accumulated in blocks
of rows (``alpha`` relative to the mean diagonal), so large data sets never build the
whole feature matrix.

scikit-learn models are stored with skops and loaded only if every type in the file is
one skops trusts or one of :data:`TRUSTED_TYPES` (never pickle).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
from typing import Any

import numpy as np

from ..errors import ConfigError

#: types outside skops' defaults that the scikit-learn regressors here consist of
TRUSTED_TYPES = (
    "sklearn.gaussian_process.kernels.ConstantKernel",
    "sklearn.gaussian_process.kernels.Product",
    "sklearn.gaussian_process.kernels.RBF",
    "sklearn.gaussian_process.kernels.Sum",
    "sklearn.gaussian_process.kernels.WhiteKernel",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
SKLEARN_KINDS = ("gp", "boosting", "mlp")
KINDS = ("linear", "polynomial", *SKLEARN_KINDS)
ROW_BLOCK = 4096


class Polynomial:
    """``d = sum_t coef[t] * prod_q ext[terms[t, q]]`` with ``ext = [zs, 1]``."""

    native = True

    def __init__(self, degree: int = 2, alpha: float = 1e-8, terms: np.ndarray | None = None,
                 coef: np.ndarray | None = None):
        if degree < 1:
            raise ValueError(f"polynomial degree must be >= 1, got {degree}")
        self.degree, self.alpha = int(degree), float(alpha)
        self.terms, self.coef = terms, coef

    @property
    def kind(self) -> str:
        return "linear" if self.degree == 1 else "polynomial"

    def describe(self) -> str:
        n = 0 if self.terms is None else len(self.terms)
        what = "linear (ARX)" if self.degree == 1 else f"polynomial degree {self.degree}"
        return f"{what}, {n} terms, ridge alpha {self.alpha:g}"

    @staticmethod
    def make_terms(nz: int, degree: int) -> np.ndarray:
        """Every monomial up to ``degree`` as ``degree`` indices into ``[zs, 1]``."""
        combos = itertools.combinations_with_replacement(range(nz + 1), degree)
        return np.array(list(combos), dtype=np.int64).reshape(-1, degree)

    def features(self, zs: np.ndarray) -> np.ndarray:
        ext = np.empty((zs.shape[0], zs.shape[1] + 1))
        ext[:, :-1] = zs
        ext[:, -1] = 1.0
        cols = self.__dict__.get("_cols")
        if cols is None or len(cols) != self.degree:
            cols = self._cols = [np.ascontiguousarray(self.terms[:, q])
                                 for q in range(self.degree)]
        f = ext[:, cols[0]]
        for q in range(1, self.degree):
            f = f * ext[:, cols[q]]
        return f

    def fit(self, zs: np.ndarray, d: np.ndarray) -> Polynomial:
        import scipy.linalg
        self.terms = self.make_terms(zs.shape[1], self.degree)
        self.__dict__.pop("_cols", None)
        n_t = len(self.terms)
        gram, rhs = np.zeros((n_t, n_t)), np.zeros((n_t, d.shape[1]))
        for lo in range(0, len(zs), ROW_BLOCK):
            f = self.features(zs[lo:lo + ROW_BLOCK])
            gram += f.T @ f
            rhs += f.T @ d[lo:lo + ROW_BLOCK]
        ridge = self.alpha * max(float(np.mean(np.diag(gram))), 1e-300)
        gram[np.diag_indices(n_t)] += ridge
        try:
            self.coef = scipy.linalg.solve(gram, rhs, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            self.coef = scipy.linalg.lstsq(gram, rhs)[0]
        return self

    def predict(self, zs: np.ndarray) -> np.ndarray:
        prods = self.features(zs)[:, :, None] * self.coef[None, :, :]
        return np.add.accumulate(prods, axis=1)[:, -1, :]

    # -- storage -------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        return {"kind": self.kind, "degree": self.degree, "alpha": self.alpha}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"terms": self.terms, "coef": self.coef}

    @classmethod
    def restore(cls, params: dict[str, Any], arrays: dict[str, np.ndarray],
                blob: bytes | None) -> Polynomial:
        terms = np.asarray(arrays["terms"], dtype=np.int64)
        coef = np.asarray(arrays["coef"], dtype=np.float64)
        degree = int(params["degree"])
        if terms.ndim != 2 or terms.shape[1] != degree or coef.shape[0] != terms.shape[0]:
            raise ValueError(f"polynomial arrays do not fit: terms {terms.shape}, coef "
                             f"{coef.shape}, degree {degree}")
        return cls(degree, float(params["alpha"]), terms, coef)


class SklearnRegressor:
    """A scikit-learn regressor of one of :data:`SKLEARN_KINDS`."""

    native = False

    def __init__(self, kind: str, options: dict[str, Any] | None = None, model: Any = None):
        if kind not in SKLEARN_KINDS:
            raise ValueError(f"unknown regressor kind {kind!r}")
        self.kind, self.options, self.model = kind, dict(options or {}), model

    def describe(self) -> str:
        names = {"gp": "Gaussian process", "boosting": "gradient boosting", "mlp": "MLP"}
        extra = ", ".join(f"{k} {v}" for k, v in self.options.items())
        return names[self.kind] + (f" ({extra})" if extra else "")

    def fit(self, zs: np.ndarray, d: np.ndarray, seed: int = 0) -> SklearnRegressor:
        _need("sklearn")
        rng = np.random.default_rng(seed)
        if self.kind == "gp":
            n = int(self.options.setdefault("n_train", 1500))
            if len(zs) > n:
                pick = rng.choice(len(zs), n, replace=False)
                zs, d = zs[pick], d[pick]
        self.model = self._estimator(zs.shape[1], seed)
        self.model.fit(zs, d)
        return self

    def _estimator(self, nz: int, seed: int) -> Any:
        if self.kind == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
            kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(nz), (1e-2, 1e3))
                      + WhiteKernel(1e-4, (1e-10, 1.0)))
            return GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)
        if self.kind == "boosting":
            from sklearn.ensemble import HistGradientBoostingRegressor
            from sklearn.multioutput import MultiOutputRegressor
            it = int(self.options.setdefault("max_iter", 300))
            return MultiOutputRegressor(HistGradientBoostingRegressor(
                max_iter=it, learning_rate=0.1, random_state=seed))
        from sklearn.neural_network import MLPRegressor
        layers = tuple(self.options.setdefault("hidden", [64, 64]))
        return MLPRegressor(hidden_layer_sizes=layers, max_iter=400, early_stopping=True,
                            random_state=seed, tol=1e-6, n_iter_no_change=20)

    def predict(self, zs: np.ndarray) -> np.ndarray:
        with one_thread():
            out = np.asarray(self.model.predict(zs), dtype=np.float64)
        return out.reshape(zs.shape[0], -1)

    # -- storage -------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        return {"kind": self.kind, "options": self.options}

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    def blob(self) -> bytes:
        sio = _need("skops.io")
        if self.kind == "mlp":
            self.model._optimizer = None  # training state only (warm starts); not stored
        return sio.dumps(self.model)

    @classmethod
    def restore(cls, params: dict[str, Any], arrays: dict[str, np.ndarray],
                blob: bytes | None) -> SklearnRegressor:
        if blob is None:
            raise ValueError(f"a {params['kind']} regressor needs its model.skops member")
        return cls(params["kind"], params.get("options"), load_skops(blob))


_CONTROLLER: list = []


def one_thread():
    """A context limiting native thread pools (OpenMP, BLAS) to one thread: the many small
    calls of a free run only lose time to threads (a hundredfold on a busy machine). The
    pools are found once per process (:class:`threadpoolctl.ThreadpoolController`)."""
    if not _CONTROLLER:
        try:
            import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime the pools include
            from threadpoolctl import ThreadpoolController
        except ImportError:  # without scikit-learn: numpy's BLAS only, left alone
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    if _CONTROLLER[0] is None:
        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1)


def _need(module: str):
    """Import ``module`` or say which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"this surrogate needs {module.split('.')[0]}: pip install "
                          f"cosim[surrogates]") from None


def load_skops(blob: bytes) -> Any:
    """A scikit-learn model from skops bytes, refused if it holds an unexpected type."""
    sio = _need("skops.io")
    untrusted = [t for t in sio.get_untrusted_types(data=blob) if t not in TRUSTED_TYPES]
    if untrusted:
        raise ValueError(f"the model holds types cosim does not load: {', '.join(untrusted)}")
    return sio.loads(blob, trusted=list(TRUSTED_TYPES))


def make(kind: str, **options: Any):
    """A new, unfitted regressor of ``kind`` (see the module docstring)."""
    if kind == "linear":
        return Polynomial(1, options.get("alpha", 1e-8))
    if kind == "polynomial":
        return Polynomial(int(options.get("degree", 2)), options.get("alpha", 1e-8))
    if kind in SKLEARN_KINDS:
        return SklearnRegressor(kind, options)
    raise ValueError(f"unknown regressor kind {kind!r}; choose one of {', '.join(KINDS)}")


def restore(params: dict[str, Any], arrays: dict[str, np.ndarray], blob: bytes | None):
    kind = params.get("kind")
    if kind in ("linear", "polynomial"):
        return Polynomial.restore(params, arrays, blob)
    if kind in SKLEARN_KINDS:
        return SklearnRegressor.restore(params, arrays, blob)
    raise ValueError(f"unknown regressor kind {kind!r}")
