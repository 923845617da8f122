"""The study file format, as pydantic models (unknown keys are rejected).

A study file (``topologies/studies/*.yaml``)::

    name: setpoint_study
    topology: ../datacenter.yaml          # relative to this file
    run: {stop: 86400, step: 60}          # overrides of the topology's run settings
    parameters: {rack1.C_cpu: 4.0e5}      # fixed for every scenario
    grid:                                 # full factorial, first key varies slowest
      start.cooler.T_setpoint: [289.15, 291.15, 293.15]
      load.scale: [0.8, 1.0, 1.2]
    samples:                              # or/and random designs, crossed with the grid
      method: lhs                         # lhs | sobol | montecarlo
      n: 64
      seed: 1
      parameters:
        rack1.G_cpu: {distribution: uniform, low: 400, high: 600}
    variants:                             # every variant runs every design point
      nominal: {}
      outage: {parameters: {cooler.failed: true}}
    outputs:                              # per-run scalars, each named
      peak_cpu: {signal: mixer.T_cpu_max, stat: max}
      energy: {signal: cooler.P_el, stat: integral, unit: kWh}
    traces: {signals: [mixer.T_cpu_max], scenarios: {variant: outage}}
    bands: {signals: [mixer.T_cpu_max], quantiles: [0.05, 0.5, 0.95]}  # every scenario

``samples`` may instead (or also) draw from a calibration's estimates file:
``calibration: {file: calib.h5, use: covariance | posterior}`` (docs/uncertainty.md).

Override keys are ``node.parameter`` (a parameter) or ``start.node.variable`` (a start
value, e.g. of an unconnected input). See ``docs/studies.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..topology.schema import check_algorithm

Scalar = bool | int | float | str
Value = Scalar | list[Any] | dict[str, Any]
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
STATS = ("final", "min", "max", "mean", "integral", "time_above", "time_below", "first_above",
         "first_below")
THRESHOLD_STATS = ("time_above", "time_below", "first_above", "first_below")
#: Columns of a study's DataFrame that outputs may not be named after.
RESERVED = ("scenario", "variant", "status", "error", "wall_time", "attempts", "worker")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunOverrides(_Strict):
    """Overrides of the topology's run settings, for every scenario of the study."""

    start: float | None = None
    stop: float | None = None
    step: float | None = None
    algorithm: str | None = None

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, value: str | None) -> str | None:
        return None if value is None else check_algorithm(value)


# -- distributions ------------------------------------------------------------------------


class _Dist(_Strict):
    description: str = ""


class Uniform(_Dist):
    distribution: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


class LogUniform(Uniform):
    distribution: Literal["loguniform"]  # type: ignore[assignment]

    @model_validator(mode="after")
    def _positive(self) -> LogUniform:
        if not self.low > 0:
            raise ValueError(f"low ({self.low}) must be > 0 for a log-uniform distribution")
        return self


class Normal(_Dist):
    """Normal, truncated to [low, high] when either is given."""

    distribution: Literal["normal"]
    mean: float
    std: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


class LogNormal(_Dist):
    """``exp(N(mu, sigma))``: ``mu`` and ``sigma`` of the logarithm."""

    distribution: Literal["lognormal"]
    mu: float
    sigma: float = Field(gt=0)


class Triangular(_Dist):
    distribution: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.high > self.low):
            raise ValueError("needs low <= mode <= high and low < high")
        return self


class Choice(_Dist):
    """One of ``values``, each equally likely."""

    distribution: Literal["choice"]
    values: list[Scalar] = Field(min_length=1)


class ScipyDist(_Dist):
    """Any continuous ``scipy.stats`` distribution by name, e.g. ``{name: gamma, a: 2}``."""

    distribution: Literal["scipy"]
    name: str
    params: dict[str, float] = Field(default_factory=dict)


Distribution = Annotated[Uniform | LogUniform | Normal | LogNormal | Triangular | Choice
                         | ScipyDist, Field(discriminator="distribution")]


class CalibrationSamples(_Strict):
    """Parameters drawn from a calibration's result file (``docs/uncertainty.md``).

    ``use: covariance``: a multivariate normal with the estimates as mean and their
    covariance (rows outside ``low``/``high`` of the file are drawn again);
    ``use: posterior``: rows of the posterior samples. ``parameters``: the estimates to
    draw (default: all); the others keep their estimated value.
    """

    file: str
    use: Literal["covariance", "posterior"] = "covariance"
    parameters: list[str] | None = None


class SamplesSpec(_Strict):
    """A random design: ``n`` points drawn by ``method`` (seeded, reproducible)."""

    method: Literal["lhs", "sobol", "montecarlo"]
    n: int = Field(ge=1)
    seed: int = 0
    parameters: dict[str, Distribution] = Field(default_factory=dict)
    calibration: CalibrationSamples | None = None

    @model_validator(mode="after")
    def _something(self) -> SamplesSpec:
        if not self.parameters and self.calibration is None:
            raise ValueError("samples need 'parameters' (distributions) or 'calibration'")
        return self


# -- variants, outputs, traces ---------------------------------------------------------------


class VariantSpec(_Strict):
    """A scenario variant: overrides applied to every design point.

    ``events`` (scheduled changes during a run) are passed to ``cosim.run(events=...)``
    unchanged; a study using them needs a cosim whose ``run`` accepts ``events``.
    """

    description: str = ""
    parameters: dict[str, Value] = Field(default_factory=dict)
    start: dict[str, Scalar] = Field(default_factory=dict)
    events: list[dict[str, Any]] | None = None


class OutputSpec(_Strict):
    """A scalar computed from one signal (or several, combined point by point)."""

    signal: str
    stat: Literal["final", "min", "max", "mean", "integral", "time_above", "time_below",
                  "first_above", "first_below"]
    threshold: float | None = None
    combine: Literal["max", "min", "mean", "sum"] | None = None
    unit: str | None = None
    scale: float | None = None
    offset: float | None = None
    window: tuple[float, float] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _threshold(self) -> OutputSpec:
        if self.window is not None and not self.window[1] > self.window[0]:
            raise ValueError(f"window: the end ({self.window[1]}) must be after the start "
                             f"({self.window[0]})")
        if self.stat in THRESHOLD_STATS and self.threshold is None:
            raise ValueError(f"stat {self.stat!r} needs a 'threshold' (in the signal's unit)")
        if self.stat not in THRESHOLD_STATS and self.threshold is not None:
            raise ValueError(f"'threshold' applies to {', '.join(THRESHOLD_STATS)} only")
        return self


class TracesSpec(_Strict):
    """Full time series of ``signals`` (globs) for the chosen ``scenarios``.

    ``scenarios``: ``all``, a list of scenario numbers, or a mapping of design columns to
    values (``{variant: outage, load.scale: 1.0}``) that a scenario must all match.
    """

    signals: list[str] = Field(min_length=1)
    scenarios: Literal["all"] | list[int] | dict[str, Scalar] = "all"

    @field_validator("signals", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class BandsSpec(_Strict):
    """Prediction bands of ``signals`` (globs) over every scenario's trace.

    ``quantiles``: probability levels (central intervals come from symmetric pairs,
    e.g. 0.05 and 0.95 for 90 %). ``noise``: a measurement noise σ per signal (in its
    unit) added to each member, for bands that predict measurements. ``seed`` seeds it.
    """

    signals: list[str] = Field(min_length=1)
    quantiles: list[float] = Field(
        default_factory=lambda: [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975], min_length=1)
    noise: dict[str, float] = Field(default_factory=dict)
    seed: int = 0

    @field_validator("signals", mode="before")
    @classmethod
    def _one(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("quantiles")
    @classmethod
    def _levels(cls, levels: list[float]) -> list[float]:
        bad = [q for q in levels if not 0.0 < q < 1.0]
        if bad:
            raise ValueError(f"quantile levels must be between 0 and 1, got {bad[0]}")
        if len(set(levels)) != len(levels):
            raise ValueError("quantile levels must differ")
        return sorted(levels)

    @field_validator("noise")
    @classmethod
    def _noise(cls, noise: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in noise.items() if not v >= 0]
        if bad:
            raise ValueError(f"noise of {bad[0]!r} must be >= 0")
        return noise


class StudySpec(_Strict):
    name: str | None = None
    description: str = ""
    topology: str
    run: RunOverrides = Field(default_factory=RunOverrides)
    parameters: dict[str, Value] = Field(default_factory=dict)
    start: dict[str, Scalar] = Field(default_factory=dict)
    grid: dict[str, list[Value]] = Field(default_factory=dict)
    samples: SamplesSpec | None = None
    variants: dict[str, VariantSpec] = Field(default_factory=dict)
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    traces: TracesSpec | None = None
    bands: BandsSpec | None = None

    @field_validator("grid")
    @classmethod
    def _grid(cls, grid: dict[str, list[Value]]) -> dict[str, list[Value]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid {key!r} has no values")
        return grid

    @field_validator("variants", mode="before")
    @classmethod
    def _empty_variants(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("outputs")
    @classmethod
    def _names(cls, outputs: dict[str, OutputSpec]) -> dict[str, OutputSpec]:
        for name in outputs:
            if not OUTPUT_NAME.match(name):
                raise ValueError(f"output name {name!r} must start with a letter or _ and hold "
                                 "only letters, digits, _ and -")
            if name in RESERVED:
                raise ValueError(f"output name {name!r} is reserved (a column of the results: "
                                 f"{', '.join(RESERVED)})")
        return outputs

    @model_validator(mode="after")
    def _something(self) -> StudySpec:
        if not self.outputs and self.traces is None and self.bands is None:
            raise ValueError("a study needs 'outputs' (or at least 'traces' or 'bands')")
        return self
