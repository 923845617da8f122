"""A learned linear state-space model at the node's step.

In standardised units ``us = (u - u_mean) / u_scale``, ``ys = (y - y_mean) / y_scale``::

    x_{k+1} = A x_k + B us_k + c          (us_k: the inputs held over [t_k, t_k+1))
    ys_{k+1} = C x_{k+1}
    x_0 = X0y ys_0 + X0u us_0 + x0c       (at rest: the first input and initial outputs)

Identification, in two stages:

1. an ARX model of order ``na`` (``ys_{k+1}`` from ``na`` lags of ``ys`` and of ``us``),
   fitted by least squares, written as a state space whose state is its lag vector
   (order ``na * n_out + (na - 1) * n_in``); this is exact for the ARX model;
2. every matrix refined by minimising the **free-run** (simulation) error over the
   training trajectories (``scipy.optimize.least_squares``, trust region, finite-difference
   Jacobian), which is what the surrogate is used for; the ARX model only starts it.

All matrix-vector products sum their terms left to right (``c``, then ``A``'s columns,
then ``B``'s), the order the compiled kernel uses, so the two agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Lss:
    """A fitted linear state space (see the module docstring); arrays in float64."""

    a: np.ndarray
    b: np.ndarray
    c_out: np.ndarray
    c: np.ndarray
    x0y: np.ndarray
    x0u: np.ndarray
    x0c: np.ndarray
    u_mean: np.ndarray
    u_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray
    na: int = 2
    info: dict = field(default_factory=dict)

    kind = "lss"
    ARRAYS = ("a", "b", "c_out", "c", "x0y", "x0u", "x0c", "u_mean", "u_scale", "y_mean",
              "y_scale")

    @property
    def order(self) -> int:
        return self.a.shape[0]

    @property
    def n_out(self) -> int:
        return self.c_out.shape[0]

    def describe(self) -> str:
        return (f"linear state space, order {self.order} (from ARX na={self.na}, refined on "
                f"free-run error)")

    # -- one trajectory (the block) ------------------------------------------------------------

    def initial_state(self, y0: np.ndarray) -> np.ndarray:
        """``[primed, x, ys_0]``: ``x`` is set from ``ys_0`` and the first input at the
        first step."""
        ys0 = (np.asarray(y0, dtype=np.float64) - self.y_mean) / self.y_scale
        return np.concatenate([[0.0], np.zeros(self.order), ys0])

    def step(self, state: np.ndarray, u: np.ndarray) -> np.ndarray:
        n = self.order
        us = (np.asarray(u, dtype=np.float64) - self.u_mean) / self.u_scale
        if state[0] == 0.0:
            ys0 = state[1 + n:]
            state[1:1 + n] = _affine(self.x0c, (self.x0y, ys0), (self.x0u, us))
            state[0] = 1.0
        x = _affine(self.c, (self.a, state[1:1 + n]), (self.b, us))
        state[1:1 + n] = x
        ys = _affine(np.zeros(self.n_out), (self.c_out, x))
        return ys * self.y_scale + self.y_mean

    def push(self, state: np.ndarray, u: np.ndarray, y_next: np.ndarray) -> None:
        """After a step answered by another model: the state advances under ``u`` as
        usual (a linear state space has no way to take outputs in; it drifts back)."""
        self.step(state, u)

    # -- many trajectories (fitting, validation) -------------------------------------------------

    def simulate(self, y0: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Free-run outputs ``(m, n + 1, n_out)`` from ``y0`` ``(m, n_out)`` and inputs
        ``u`` ``(m, n, n_in)``."""
        ys0 = (y0 - self.y_mean) / self.y_scale
        us = (u - self.u_mean) / self.u_scale
        ys = _simulate(self.a, self.b, self.c_out, self.c, self.x0y, self.x0u, self.x0c,
                       ys0, us)
        out = ys * self.y_scale + self.y_mean
        return np.concatenate([y0[:, None, :], out], axis=1)

    def one_step(self, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A state-space model has no one-step predictor from measured outputs: its free
        run (an output-error model) is returned, and reported as such."""
        return self.simulate(y[:, 0], u)[:, 1:]

    def params(self) -> dict:
        return {"kind": self.kind, "order": self.order, "na": self.na, **self.info}

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"lss_{k}": np.asarray(getattr(self, k), dtype=np.float64) for k in self.ARRAYS}

    @classmethod
    def restore(cls, params: dict, arrays: dict[str, np.ndarray]) -> Lss:
        values = {k: np.asarray(arrays[f"lss_{k}"], dtype=np.float64) for k in cls.ARRAYS}
        m = cls(**values, na=int(params.get("na", 2)))
        n = m.a.shape[0]
        shapes_ok = (m.a.shape == (n, n) and m.b.shape[0] == n and m.c_out.shape[1] == n
                     and m.c.shape == (n,) and m.x0c.shape == (n,) and m.x0y.shape[0] == n
                     and m.x0u.shape == m.b.shape)
        if not shapes_ok:
            raise ValueError("state-space arrays do not fit together")
        return m


def _affine(const: np.ndarray, *terms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``const + M1 v1 + M2 v2 + ...`` for one vector each, summed left to right."""
    parts = [const[:, None]] + [m * v[None, :] for m, v in terms]
    return np.add.accumulate(np.hstack(parts), axis=1)[:, -1]


def _simulate(a, b, c_out, c, x0y, x0u, x0c, ys0, us) -> np.ndarray:
    """Standardised outputs ``(m, n, n_out)`` of the state space (vectorised over m)."""
    m, n, _ = us.shape
    x = x0c[None, :] + ys0 @ x0y.T + us[:, 0] @ x0u.T
    out = np.empty((m, n, c_out.shape[0]))
    for k in range(n):
        x = x @ a.T + us[:, k] @ b.T + c[None, :]
        out[:, k] = x @ c_out.T
    return out


# -- identification ------------------------------------------------------------------------


def _arx_realisation(ys: np.ndarray, us: np.ndarray, na: int) -> dict[str, np.ndarray]:
    """Least-squares ARX (order na) in standardised units, as a state space whose state
    is ``[ys_k .. ys_{k-na+1}, us_{k-1} .. us_{k-na+1}]``."""
    m, n1, p = ys.shape
    q = us.shape[2]
    rows, targets = [], []
    for i in range(m):
        yp = np.vstack([np.repeat(ys[i, :1], na - 1, axis=0), ys[i]])
        up = np.vstack([np.repeat(us[i, :1], na - 1, axis=0), us[i]])
        n = n1 - 1
        cols = [yp[na - 1 - j: na - 1 - j + n] for j in range(na)]
        cols += [up[na - 1 - j: na - 1 - j + n] for j in range(na)]
        rows.append(np.hstack(cols + [np.ones((n, 1))]))
        targets.append(ys[i, 1:])
    z, t = np.concatenate(rows), np.concatenate(targets)
    w = np.linalg.lstsq(z, t, rcond=None)[0]           # (na p + na q + 1, p)
    ay = [w[j * p:(j + 1) * p].T for j in range(na)]
    bu = [w[na * p + j * q: na * p + (j + 1) * q].T for j in range(na)]
    const = w[-1]
    order = na * p + (na - 1) * q
    a, b, cc = np.zeros((order, order)), np.zeros((order, q)), np.zeros(order)
    for j in range(na):
        a[:p, j * p:(j + 1) * p] = ay[j]
    for j in range(1, na):
        a[:p, na * p + (j - 1) * q: na * p + j * q] = bu[j]
    b[:p] = bu[0]
    cc[:p] = const
    for j in range(1, na):  # shift the output lags
        a[j * p:(j + 1) * p, (j - 1) * p:j * p] = np.eye(p)
    if na > 1:
        b[na * p: na * p + q] = np.eye(q)
        for j in range(2, na):
            a[na * p + (j - 1) * q: na * p + j * q, na * p + (j - 2) * q: na * p + (j - 1) * q] \
                = np.eye(q)
    c_out = np.zeros((p, order))
    c_out[:, :p] = np.eye(p)
    x0y = np.vstack([np.eye(p)] * na + [np.zeros((q, p))] * (na - 1))
    x0u = np.vstack([np.zeros((p, q))] * na + [np.eye(q)] * (na - 1))
    return {"a": a, "b": b, "c_out": c_out, "c": cc, "x0y": x0y, "x0u": x0u,
            "x0c": np.zeros(order)}


def fit(y: np.ndarray, u: np.ndarray, na: int = 2, max_nfev: int = 60) -> Lss:
    """Identify a state space from trajectories ``y`` ``(m, n + 1, n_out)`` and ``u``
    ``(m, n, n_in)`` (see the module docstring)."""
    from scipy.optimize import least_squares
    u_mean, u_scale = _moments(u.reshape(-1, u.shape[2]))
    y_mean, y_scale = _moments(y.reshape(-1, y.shape[2]))
    ys, us = (y - y_mean) / y_scale, (u - u_mean) / u_scale
    start = _arx_realisation(ys, us, na)
    names = list(start)
    shapes = [start[k].shape for k in names]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack(theta: np.ndarray) -> dict[str, np.ndarray]:
        out, i = {}, 0
        for k, s, n in zip(names, shapes, sizes, strict=True):
            out[k] = theta[i:i + n].reshape(s)
            i += n
        return out

    def residuals(theta: np.ndarray) -> np.ndarray:
        p = unpack(theta)
        sim = _simulate(p["a"], p["b"], p["c_out"], p["c"], p["x0y"], p["x0u"], p["x0c"],
                        ys[:, 0], us)
        r = (sim - ys[:, 1:]).ravel()
        return np.nan_to_num(r, nan=1e6, posinf=1e6, neginf=-1e6)

    theta0 = np.concatenate([start[k].ravel() for k in names])
    before = float(np.sqrt(np.mean(residuals(theta0) ** 2)))
    sol = least_squares(residuals, theta0, method="trf", max_nfev=max_nfev, x_scale="jac")
    p = unpack(sol.x)
    after = float(np.sqrt(np.mean(sol.fun ** 2)))
    if not after < before:  # keep the ARX realisation when refinement did not help
        p, after = unpack(theta0), before
    info = {"rms_standardised_arx": before, "rms_standardised_refined": after,
            "evaluations": int(sol.nfev)}
    return Lss(p["a"], p["b"], p["c_out"], p["c"], p["x0y"], p["x0u"], p["x0c"], u_mean,
               u_scale, y_mean, y_scale, na, info)


def _moments(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a.std(axis=0)
    return a.mean(axis=0), np.where(s > 0, s, 1.0)
