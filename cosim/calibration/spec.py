"""The calibration file, as pydantic models (unknown keys rejected).

A calibration file (``topologies/calibration/calibrate.yaml``)::

    name: datacenter_calibration
    topology: datacenter_steps.yaml      # a topology file, or one written here (a
                                         # mapping, usually with extends:)
    telemetry: telemetry_steps.yaml      # a telemetry file, or the section itself
    signals:                             # the signals fitted (default: every mapped one)
      "rack*.T_cpu": {}                  # globs; per signal the noise when the
      cooler.P_el: {relative_sigma: 0.01}  # telemetry states none: sigma (model unit)
                                         # or relative_sigma (of the measured value)
    parameters:
      C_cpu:                             # the estimate's name
        targets: "rack*.C_cpu"           # node.parameter, a glob or a list: one value
                                         # shared by every target (default: the name)
        initial: 4.0e5                   # default: the topology's value
        bounds: [1.0e5, 1.0e6]           # default: the FMU's min/max, else none
        scale: log                       # linear (default) | log
        unit: J/K                        # of initial, bounds, prior (default: the
                                         # parameter's own unit)
        prior: {distribution: normal, mean: 3.0e5, std: 1.0e5}
    method: least-squares                # least-squares | global | bayesian, or a
                                         # mapping {name: ..., options}
    budget: 150                          # simulations at most
    noise: iid                           # iid | ar1 (autocorrelated residuals)
    seed: 0
    identifiability: {max_sd: 1.0, profile: [C_cpu]}

Paths are relative to the calibration file. See ``docs/calibration.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..telemetry.spec import TelemetrySpec

METHODS = ("least-squares", "global", "bayesian")
NOISE_MODELS = ("iid", "ar1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- priors ------------------------------------------------------------------------------


class NormalPrior(_Strict):
    """Normal prior: ``mean`` and ``std`` in the parameter's unit."""

    distribution: Literal["normal"]
    mean: float
    std: float = Field(gt=0)


class LogNormalPrior(_Strict):
    """Log-normal prior: ``ln(value) ~ N(mu, sigma)`` (value in the parameter's unit)."""

    distribution: Literal["lognormal"]
    mu: float
    sigma: float = Field(gt=0)


Prior = Annotated[NormalPrior | LogNormalPrior, Field(discriminator="distribution")]


# -- parameters and signals --------------------------------------------------------------


class ParameterSpec(_Strict):
    """One estimated value, set on every one of its ``targets``."""

    targets: list[str] | None = None
    initial: float | None = None
    bounds: tuple[float | None, float | None] | None = None
    scale: Literal["linear", "log"] = "linear"
    unit: str | None = None
    prior: Prior | None = None
    description: str = ""

    @field_validator("targets", mode="before")
    @classmethod
    def _one_target(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        lo, hi = self.bounds if self.bounds is not None else (None, None)
        if lo is not None and hi is not None and not hi > lo:
            raise ValueError(f"bounds are reversed or empty: the upper bound ({hi:g}) must "
                             f"be above the lower bound ({lo:g})")
        if self.scale == "log":
            bad = [v for v in (lo, self.initial) if v is not None and not v > 0]
            if bad:
                raise ValueError(f"scale: log needs positive values, got {bad[0]:g} (give "
                                 "a positive lower bound and initial value)")
        x = self.initial
        if x is not None and lo is not None and x < lo:
            raise ValueError(f"the initial value {x:g} is below the lower bound {lo:g}")
        if x is not None and hi is not None and x > hi:
            raise ValueError(f"the initial value {x:g} is above the upper bound {hi:g}")
        return self


class SignalNoise(_Strict):
    """How noisy a fitted signal is, when the telemetry does not say: ``sigma`` (the
    standard deviation, in the model's unit of the signal) or ``relative_sigma`` (a
    fraction of each measured value). Neither: estimated from the residuals."""

    sigma: float | None = Field(default=None, gt=0)
    relative_sigma: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> SignalNoise:
        if self.sigma is not None and self.relative_sigma is not None:
            raise ValueError("give sigma or relative_sigma, not both")
        return self


# -- methods -----------------------------------------------------------------------------


class _Method(_Strict):
    diff_step: float = Field(default=1e-6, gt=0, lt=0.1)
    ftol: float = Field(default=1e-8, gt=0)
    xtol: float = Field(default=1e-8, gt=0)
    gtol: float = Field(default=1e-8, gt=0)


class LeastSquaresSpec(_Method):
    """scipy ``least_squares`` (trust-region reflective, bounds), the finite-difference
    Jacobian computed in parallel (``diff_step``: relative step on the search scale);
    ``multistart`` > 1 adds starts from a Latin hypercube in the bounds."""

    name: Literal["least-squares"]
    multistart: int = Field(default=1, ge=1)


class GlobalSpec(_Method):
    """scipy ``differential_evolution`` over the bounds (a population of ``popsize`` x
    parameters, for at most ``maxiter`` generations within ``share`` of the budget),
    then least squares from its best point."""

    name: Literal["global"]
    popsize: int = Field(default=8, ge=4)
    maxiter: int = Field(default=50, ge=1)
    share: float = Field(default=0.7, gt=0, lt=1)


class BayesianSpec(_Method):
    """Least squares, then MCMC with emcee (affine-invariant ensemble) from around its
    optimum: ``walkers`` (default 2 x (parameters + 1), even), ``steps`` per walker,
    ``burn`` steps dropped, ``thin``. Needs the ``mcmc`` extra."""

    name: Literal["bayesian"]
    walkers: int | None = Field(default=None, ge=4)
    steps: int = Field(default=2000, ge=10)
    burn: int = Field(default=500, ge=0)
    thin: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _burn(self) -> BayesianSpec:
        if self.burn >= self.steps:
            raise ValueError(f"burn ({self.burn}) must be below steps ({self.steps})")
        if self.walkers is not None and self.walkers % 2:
            raise ValueError(f"walkers must be even, got {self.walkers}")
        return self


Method = Annotated[LeastSquaresSpec | GlobalSpec | BayesianSpec, Field(discriminator="name")]


class IdentifiabilitySpec(_Strict):
    """A combination of parameters (an eigenvector of the Fisher information, on the
    log scale of each parameter) is flagged when its standard deviation exceeds
    ``max_sd`` (1: the data cannot pin it within a factor e) or its eigenvalue is below
    ``min_ratio`` times the largest. ``profile``: parameters whose profile likelihood
    is computed, at ``points`` values spanning ``span`` standard errors each side."""

    max_sd: float = Field(default=1.0, gt=0)
    min_ratio: float = Field(default=1e-10, gt=0, lt=1)
    profile: list[str] = Field(default_factory=list)
    points: int = Field(default=9, ge=3)
    span: float = Field(default=3.0, gt=0)


class CalibrationSpec(_Strict):
    name: str | None = None
    description: str = ""
    topology: str | dict[str, Any]
    telemetry: str | TelemetrySpec
    signals: dict[str, SignalNoise] | None = None
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    method: Method = Field(default_factory=lambda: LeastSquaresSpec(name="least-squares"))
    budget: int = Field(default=500, ge=2)
    noise: Literal["iid", "ar1"] = "iid"
    seed: int = 0
    identifiability: IdentifiabilitySpec = Field(default_factory=IdentifiabilitySpec)

    @field_validator("method", mode="before")
    @classmethod
    def _method_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("signals", mode="before")
    @classmethod
    def _signal_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return {str(v): {} for v in value}
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value
