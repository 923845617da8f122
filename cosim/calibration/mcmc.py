"""``bayesian``: posterior samples with emcee (the optional ``mcmc`` extra).

After least squares, an ensemble of walkers samples the parameters on their search
scale ``z`` with emcee's differential-evolution moves (80 % ``DEMove``, 20 %
``DESnookerMove``: for near-Gaussian posteriors their autocorrelation times are a few
steps, several times shorter than the default stretch move's). The likelihood is Gaussian in the whitened
residuals ``e`` (``n`` of them) of the noise model least squares settled on (its
scales, ``ρ`` for ar1), with the common variance ``s²`` unknown: under Jeffreys' prior
``p(s²) ∝ 1/s²`` it integrates out to ``ln L = -(n/2) ln Σe²``, so the noise level's
uncertainty is in the posterior (the Bayesian counterpart of least squares' Student
intervals; ``ρ`` stays at its fitted value). The prior is each
parameter's ``prior`` when given, times a flat density in ``z`` inside the bounds
(flat in ``ln value`` for ``scale: log``). Walkers start in a small Gaussian ball
from the least-squares covariance; each half-ensemble's proposals run as one parallel
batch (``vectorize``). The sampler's random state is seeded, so a chain is
reproducible (and a resumed one replays its journal).

Diagnostics: acceptance fraction, the integrated autocorrelation time ``τ`` of each
parameter and the chain length in units of it (emcee recommends > 50), and split-R̂
over the walkers (Gelman et al.), which should be < 1.05.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .objective import Objective

INSTALL_HINT = "method bayesian needs emcee: pip install cosim[mcmc]"


@dataclass
class Chain:
    """Samples after burn-in and thinning: values in model units, ``[sample, param]``."""

    samples: np.ndarray
    log_prob: np.ndarray
    acceptance: np.ndarray      # per walker
    tau: np.ndarray             # per parameter, in steps
    rhat: np.ndarray            # per parameter
    steps: int
    burn: int
    thin: int
    walkers: int

    @property
    def tau_ratio(self) -> float:
        """Kept chain length over the longest autocorrelation time."""
        return float((self.steps - self.burn) / np.max(self.tau)) if self.tau.size else np.inf


def _emcee():
    try:
        import emcee
    except ImportError as err:
        raise ConfigError(f"{INSTALL_HINT} ({err})") from None
    return emcee


def walkers_for(spec, p: int) -> int:
    return spec.walkers or max(8, 2 * (p + 1) + (2 * (p + 1)) % 2)


def sample(objective: Objective, z_hat: np.ndarray, cov_z: np.ndarray, spec,
           seed: int) -> Chain:
    """Run the ensemble from around ``z_hat``; see the module docstring."""
    emcee = _emcee()
    p = objective.p
    lo, hi = objective.parameters.bounds()
    walkers = walkers_for(spec, p)
    rng = np.random.default_rng(seed)
    start = _ball(z_hat, cov_z, lo, hi, walkers, rng)

    def log_prob(zs: np.ndarray) -> np.ndarray:
        zs = np.atleast_2d(zs)
        out = np.full(zs.shape[0], -np.inf)
        inside = np.flatnonzero(np.all((zs >= lo) & (zs <= hi), axis=1))
        if inside.size:
            evals = objective.evaluate([zs[i] for i in inside], "mcmc")
            for i, e in zip(inside, evals, strict=True):
                if e.ok and np.isfinite(e.cost):
                    out[i] = _log_posterior(objective, zs[i], e)
        return out

    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(walkers, p, log_prob, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(start, spec.steps, progress=False)
    chain = sampler.get_chain()                       # (steps, walkers, p)
    kept = chain[spec.burn::spec.thin]
    flat = kept.reshape(-1, p)
    lp = sampler.get_log_prob()[spec.burn::spec.thin].reshape(-1)
    tau = emcee.autocorr.integrated_time(chain[spec.burn:], quiet=True)
    values = np.array([objective.values(z) for z in flat])
    return Chain(values, lp, np.asarray(sampler.acceptance_fraction), np.asarray(tau),
                 split_rhat(chain[spec.burn:]), spec.steps, spec.burn, spec.thin, walkers)


def _log_posterior(objective: Objective, z: np.ndarray, e) -> float:
    """ln L + ln prior (a density in z): the cost holds the data and the prior
    residuals; the data part has the noise variance integrated out (see the module
    docstring), the prior part is in the priors' own units."""
    r_prior = objective.prior_residuals(z)
    prior_cost = 0.5 * float(r_prior @ r_prior)
    data_cost = e.cost - prior_cost
    extra = 0.0
    v = objective.values(z)
    for i, prior in objective.priors:  # the prior as a density in z
        if prior.kind == "lognormal":
            extra -= np.log(v[i])          # p(value) of a log-normal has 1/value
        if objective.parameters.items[i].scale == "log":
            extra += np.log(v[i])          # |d value / d z| = value
    ssr = max(2.0 * data_cost, np.finfo(float).tiny)  # Σe² (0 only without any noise)
    return -0.5 * objective.noise.n * np.log(ssr) - prior_cost + extra


def _ball(z_hat, cov_z, lo, hi, walkers, rng) -> np.ndarray:
    p = z_hat.size
    cov = np.array(cov_z, dtype=float)
    if not np.all(np.isfinite(cov)):
        cov = np.diag(np.full(p, 1e-6))
    try:
        L = np.linalg.cholesky(0.5 * (cov + cov.T) + 1e-18 * np.eye(p))
    except np.linalg.LinAlgError:
        L = np.diag(np.sqrt(np.clip(np.diag(cov), 1e-18, None)))
    start = z_hat + 0.5 * rng.standard_normal((walkers, p)) @ L.T
    return np.clip(start, lo + 1e-12 * np.abs(lo), hi - 1e-12 * np.abs(hi))


def split_rhat(chain: np.ndarray) -> np.ndarray:
    """Split-R̂ per parameter of ``chain`` (steps, walkers, p): each walker's half-chains
    as separate chains (Gelman et al., Bayesian Data Analysis, 3rd ed., 11.4)."""
    n = chain.shape[0] // 2
    if n < 2:
        return np.full(chain.shape[2], np.nan)
    halves = np.concatenate([chain[:n], chain[n:2 * n]], axis=1)  # (n, 2W, p)
    means = halves.mean(axis=0)
    within = halves.var(axis=0, ddof=1).mean(axis=0)
    between = n * means.var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var_plus / within)
