"""NARX models: the next outputs from lagged outputs and inputs, at the node's step.

With ``y_k`` the outputs at ``t_k`` and ``u_k`` the inputs held over ``[t_k, t_k+1)``::

    y_{k+1} = y_k + f(z_k),   z_k = [y_k, ..., y_{k-ny+1}, u_k, ..., u_{k-nu+1} (, w_k)]

``f`` is a regressor (:mod:`cosim.surrogates.regressors`) fitted on the standardised
regressor vector ``zs = (z - z_mean) / z_scale`` and standardised increments
``(y_{k+1} - y_k - d_mean) / d_scale``; predicting the increment keeps the regressors
well conditioned and makes "nothing changes" the easy answer. Before the first step the
history is at rest: every lag of ``y`` is the initial output, every lag of ``u`` the
first input (training uses the same convention, so start-up transients are learned).

**Warm-up regressor** (``warmup = K`` steps, 0: none). An FMU starts every run from the
same initial state, which its outputs alone do not reveal (a rack at a uniform 25 °C
looks like a rack at rest at 25 °C, but warms up quite differently). With ``K > 0`` the
regressor vector ends with ``w_k = max(0, 1 - k / K)``, the fraction of the first ``K``
steps still ahead, so the model can learn the start-up transient from the initial state;
after ``K`` steps it is 0 and the model is a plain NARX. Every training run starts from
that initial state too (the excitation study runs the node from its start).

The state a block keeps (:meth:`Narx.initial_state`) is one float64 vector
``[k, y lags (ny x n_out, newest first), u lags ((nu - 1) x n_in, newest first)]`` with
``k`` the steps taken (0: the input lags are filled at the first step); the compiled
kernel advances the same vector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Lags:
    """Numbers of output lags ``ny`` (>= 1) and input lags ``nu`` (>= 1), and the
    warm-up steps ``warmup`` (0: no warm-up regressor)."""

    n_out: int
    n_in: int
    ny: int
    nu: int
    warmup: int = 0

    def __post_init__(self) -> None:
        if self.ny < 1 or self.nu < 1 or self.warmup < 0:
            raise ValueError(f"lags must be >= 1 and warmup >= 0, got ny={self.ny}, "
                             f"nu={self.nu}, warmup={self.warmup}")

    @property
    def nz(self) -> int:
        """Length of the regressor vector."""
        return self.ny * self.n_out + self.nu * self.n_in + (1 if self.warmup else 0)

    def warm(self, k: float) -> float:
        """``w_k = max(0, 1 - k / K)`` (as the kernel computes it)."""
        w = 1.0 - k / float(self.warmup)
        return w if w > 0.0 else 0.0

    @property
    def state_size(self) -> int:
        return 1 + self.ny * self.n_out + (self.nu - 1) * self.n_in

    def names(self, outputs: list[str], inputs: list[str]) -> list[str]:
        """Names of the regressor vector's entries (``T_cpu[k-1]``, ``P_it[k]``)."""
        lag = lambda i: "k" if i == 0 else f"k-{i}"  # noqa: E731
        return ([f"{n}[{lag(i)}]" for i in range(self.ny) for n in outputs]
                + [f"{n}[{lag(i)}]" for i in range(self.nu) for n in inputs]
                + (["warm-up"] if self.warmup else []))


def regressor_rows(y: np.ndarray, u: np.ndarray, lags: Lags) -> tuple[np.ndarray, np.ndarray]:
    """Regressor vectors ``z_k`` and increments ``y_{k+1} - y_k`` of one trajectory.

    ``y``: ``(n + 1, n_out)`` outputs at ``t_0 .. t_n``; ``u``: ``(n, n_in)`` inputs held
    over each step. Returns ``(n, nz)`` and ``(n, n_out)``.
    """
    n = len(u)
    yp = np.vstack([np.repeat(y[:1], lags.ny - 1, axis=0), y[:n]])
    up = np.vstack([np.repeat(u[:1], lags.nu - 1, axis=0), u])
    cols = [yp[lags.ny - 1 - i: lags.ny - 1 - i + n] for i in range(lags.ny)]
    cols += [up[lags.nu - 1 - i: lags.nu - 1 - i + n] for i in range(lags.nu)]
    if lags.warmup:
        cols.append(np.array([[lags.warm(float(k))] for k in range(n)]).reshape(n, 1))
    return np.hstack(cols), y[1:n + 1] - y[:n]


@dataclass
class Scaling:
    """Standardisation of the regressor vector and of the increments."""

    z_mean: np.ndarray
    z_scale: np.ndarray
    d_mean: np.ndarray
    d_scale: np.ndarray

    @classmethod
    def fit(cls, z: np.ndarray, d: np.ndarray) -> Scaling:
        def scale(a: np.ndarray) -> np.ndarray:
            s = a.std(axis=0)
            return np.where(s > 0, s, 1.0)
        return cls(z.mean(axis=0), scale(z), d.mean(axis=0), scale(d))

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {prefix + k: np.asarray(getattr(self, k), dtype=np.float64)
                for k in ("z_mean", "z_scale", "d_mean", "d_scale")}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "") -> Scaling:
        return cls(*(np.asarray(arrays[prefix + k], dtype=np.float64)
                     for k in ("z_mean", "z_scale", "d_mean", "d_scale")))


class Narx:
    """A NARX model: lags, scaling and a fitted regressor of standardised increments."""

    kind = "narx"

    def __init__(self, lags: Lags, scaling: Scaling, regressor):
        self.lags, self.scaling, self.regressor = lags, scaling, regressor

    @property
    def n_out(self) -> int:
        return self.lags.n_out

    def describe(self) -> str:
        warm = f" warm-up {self.lags.warmup} steps" if self.lags.warmup else ""
        return f"NARX ny={self.lags.ny} nu={self.lags.nu}{warm}, {self.regressor.describe()}"

    # -- one trajectory at a time (the block) ------------------------------------------------

    def initial_state(self, y0: np.ndarray) -> np.ndarray:
        """The state at rest with outputs ``y0`` (inputs filled in at the first step)."""
        lg = self.lags
        s = np.zeros(lg.state_size)
        s[1:1 + lg.ny * lg.n_out] = np.tile(np.asarray(y0, dtype=np.float64), lg.ny)
        return s

    def step(self, state: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Advance ``state`` in place by one step with inputs ``u`` held; return
        ``y_{k+1}``. The arithmetic is what the compiled kernel does, operation by
        operation (for regressors with a compiled form)."""
        lg = self.lags
        ny_end = 1 + lg.ny * lg.n_out
        self._prime(state, u)
        parts = [state[1:ny_end], u, state[ny_end:]]
        if lg.warmup:
            parts.append(np.array([lg.warm(state[0])]))
        z = np.concatenate(parts)
        y_next = self._advance(z[None, :])[0]
        self.push(state, u, y_next)
        return y_next

    def _prime(self, state: np.ndarray, u: np.ndarray) -> None:
        """At the first step: the input lags at rest, at the first input."""
        if state[0] == 0.0:
            state[1 + self.lags.ny * self.lags.n_out:] = np.tile(u, self.lags.nu - 1)

    def push(self, state: np.ndarray, u: np.ndarray, y_next: np.ndarray) -> None:
        """Shift the lags by one step: inputs ``u`` held, outputs ``y_next`` reached
        (the model's own, or another model's after a fallback step); count the step."""
        lg = self.lags
        self._prime(state, u)
        ny_end = 1 + lg.ny * lg.n_out
        state[1 + lg.n_out:ny_end] = state[1:ny_end - lg.n_out].copy()
        state[1:1 + lg.n_out] = y_next
        if lg.nu > 1:
            state[ny_end + lg.n_in:] = state[ny_end:-lg.n_in].copy()
            state[ny_end:ny_end + lg.n_in] = u
        state[0] = state[0] + 1.0

    def _advance(self, z: np.ndarray) -> np.ndarray:
        """``y_{k+1}`` for rows of regressor vectors ``z`` (first ``n_out`` entries: ``y_k``)."""
        sc = self.scaling
        zs = (z - sc.z_mean) / sc.z_scale
        d = self.regressor.predict(zs)
        return z[:, :self.n_out] + (d * sc.d_scale + sc.d_mean)

    # -- many trajectories at once (fitting, validation) -----------------------------------

    def simulate(self, y0: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Free-run outputs ``(m, n + 1, n_out)`` of ``m`` trajectories from initial
        outputs ``y0`` ``(m, n_out)`` under inputs ``u`` ``(m, n, n_in)``."""
        lg = self.lags
        m, n, _ = u.shape
        y = np.empty((m, n + 1, lg.n_out))
        y[:, 0] = y0
        ylags = np.repeat(y0[:, None, :], lg.ny, axis=1)        # newest first
        ulags = np.repeat(u[:, :1, :], lg.nu, axis=1)
        for k in range(n):
            ulags = np.concatenate([u[:, k:k + 1], ulags[:, :-1]], axis=1)
            parts = [ylags.reshape(m, -1), ulags.reshape(m, -1)]
            if lg.warmup:
                parts.append(np.full((m, 1), lg.warm(float(k))))
            z = np.concatenate(parts, axis=1)
            y_next = self._advance(z)
            y[:, k + 1] = y_next
            ylags = np.concatenate([y_next[:, None, :], ylags[:, :-1]], axis=1)
        return y

    def one_step(self, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One-step-ahead predictions ``(m, n, n_out)`` of ``y[:, 1:]`` from measured lags."""
        rows = [regressor_rows(yi, ui, self.lags)[0] for yi, ui in zip(y, u, strict=True)]
        z = np.concatenate(rows)
        return self._advance(z).reshape(u.shape[0], u.shape[1], self.n_out)
