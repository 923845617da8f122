"""The least-squares objective: residuals and their Jacobian on the search scale.

The optimizer's vector is ``x = (z, ρ)``: ``z`` the parameters on their search scale
(:mod:`cosim.calibration.parameters`), ``ρ`` the AR(1) coefficient of each signal
(``noise: ar1`` only). ``residuals(x)`` are the whitened residuals of every fitted
point (:mod:`cosim.calibration.noise`) followed by one residual per prior
(``(value - mean) / std``, or of ``ln value`` for a log-normal prior); the cost is
half their sum of squares.

The Jacobian is by forward differences in ``z`` — step ``diff_step * max(1, |z_j|)``,
backwards at an upper bound — with every shifted point run in one parallel batch;
its ``ρ`` columns are exact (no simulation). A run that fails gives residuals far
above any seen (so a trust-region step there is rejected); a failure at the very
first point, or at both sides of a difference, is an error.
"""

from __future__ import annotations

import numpy as np

from ..errors import SimulationError
from .evaluate import Evaluation, Evaluator
from .noise import RHO_LIMIT, NoiseModel
from .parameters import Parameters


class Objective:
    """Residuals ``r(x)`` and Jacobian ``J(x)`` of a calibration problem."""

    def __init__(self, parameters: Parameters, noise: NoiseModel, evaluator: Evaluator,
                 diff_step: float = 1e-6):
        self.parameters, self.noise, self.evaluator = parameters, noise, evaluator
        self.diff_step = diff_step
        self.p = len(parameters)
        self.priors = [(i, q.prior) for i, q in enumerate(parameters) if q.prior is not None]
        self.worst = 1.0
        self.last_jacobian: tuple[np.ndarray, np.ndarray] | None = None

    # -- vectors -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self.p + self.noise.n_rho

    def start(self, z: np.ndarray) -> np.ndarray:
        return np.concatenate([z, self.noise.rho[:self.noise.n_rho]])

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.asarray(x[:self.p], dtype=np.float64)
        rho = self.noise.rho.copy()
        if self.noise.n_rho:
            rho[:] = x[self.p:]
        return z, rho

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.parameters.bounds()
        k = self.noise.n_rho
        return (np.concatenate([lo, np.full(k, -RHO_LIMIT)]),
                np.concatenate([hi, np.full(k, RHO_LIMIT)]))

    def values(self, z: np.ndarray) -> np.ndarray:
        return self.parameters.values(z)

    # -- residuals ---------------------------------------------------------------------------

    def data_residuals(self, e: Evaluation, rho: np.ndarray) -> np.ndarray:
        return self.noise.residuals(e.predictions, rho)

    def prior_residuals(self, z: np.ndarray) -> np.ndarray:
        v = self.values(z)
        return np.array([prior.residual(float(v[i])) for i, prior in self.priors])

    def residuals_of(self, e: Evaluation, z: np.ndarray, rho: np.ndarray) -> np.ndarray:
        return np.concatenate([self.data_residuals(e, rho), self.prior_residuals(z)])

    def cost(self, e: Evaluation, z: np.ndarray | None = None) -> float:
        """Half the sum of squared residuals at the current noise model."""
        z = self.parameters.search(e.values) if z is None else z
        r = self.residuals_of(e, z, self.noise.rho)
        return 0.5 * float(r @ r)

    def evaluate(self, zs: list[np.ndarray], stage: str) -> list[Evaluation]:
        return self.evaluator.evaluate([self.values(z) for z in zs], stage,
                                       score=lambda e: self.cost(e))

    def residuals(self, x: np.ndarray, stage: str = "step") -> np.ndarray:
        z, rho = self.split(x)
        (e,) = self.evaluate([z], stage)
        if not e.ok:
            if self.last_jacobian is None and stage in ("start", "step"):
                raise SimulationError(f"the model fails at the initial parameters "
                                      f"{self.describe(z)}: {e.error}")
            return self._penalty()
        r = self.residuals_of(e, z, rho)
        self.worst = max(self.worst, float(r @ r))
        return r

    def _penalty(self) -> np.ndarray:
        n = self.noise.n + len(self.priors)
        return np.full(n, np.sqrt(1e6 * self.worst / n))

    # -- the Jacobian ------------------------------------------------------------------------

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d residuals / d x, the z columns by forward differences in one batch."""
        z, rho = self.split(x)
        (base,) = self.evaluate([z], "step")
        if not base.ok:
            raise SimulationError(f"cannot take a Jacobian at {self.describe(z)}: {base.error}")
        steps = self._steps(z)
        shifted = self.evaluate([z + np.eye(self.p)[j] * steps[j] for j in range(self.p)],
                                "jacobian")
        bad = [j for j, e in enumerate(shifted) if not e.ok]
        if bad:  # the other side
            steps[bad] = -steps[bad]
            again = self.evaluate([z + np.eye(self.p)[j] * steps[j] for j in bad], "jacobian")
            for j, e in zip(bad, again, strict=True):
                if not e.ok:
                    raise SimulationError(
                        f"the model fails on both sides of {self.parameters.names[j]} = "
                        f"{self.values(z)[j]:g} (step {steps[j]:g} on the search scale): "
                        f"{e.error}")
                shifted[j] = e
        columns = [(e.predictions - base.predictions) / steps[j]
                   for j, e in enumerate(shifted)]
        J = self.noise.jacobian(columns, base.predictions, rho)
        if self.priors:
            J = np.vstack([J, self._prior_jacobian(z)])
        self.last_jacobian = (np.array(x, dtype=np.float64), J)
        return J

    def _steps(self, z: np.ndarray) -> np.ndarray:
        lo, hi = self.parameters.bounds()
        h = self.diff_step * np.maximum(1.0, np.abs(z))
        return np.where(z + h > hi, -h, h)

    def _prior_jacobian(self, z: np.ndarray) -> np.ndarray:
        rows = np.zeros((len(self.priors), self.size))
        v, d = self.values(z), self.parameters.derivatives(z)
        for k, (i, prior) in enumerate(self.priors):
            scale = 1.0 / v[i] if prior.kind == "lognormal" else 1.0
            rows[k, i] = scale * d[i] / prior.b
        return rows

    def describe(self, z: np.ndarray) -> str:
        v = self.values(z)
        return "(" + ", ".join(f"{n} = {x:.6g}" for n, x in
                               zip(self.parameters.names, v, strict=True)) + ")"
