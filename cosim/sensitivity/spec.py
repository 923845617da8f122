"""The sensitivity study file, as pydantic models (unknown keys are rejected).

::

    name: ishigami_sobol
    topology: ishigami.yaml               # relative to this file
    run: {stop: 1, step: 1}               # overrides of the topology's run settings
    parameters: {f.a: 7.0}                # fixed overrides (and start: {...})
    method: sobol                         # sobol | morris | rbd_fast | pawn
    n: 4096                               # sobol: base samples N (runs: N (d + 2), or
                                          # N (2d + 2) with second order); morris:
                                          # trajectories (runs: n (d + 1)); rbd_fast,
                                          # pawn: runs
    seed: 1
    second_order: false                   # sobol: also S2 (pairwise)
    levels: 4                             # morris: grid levels
    resamples: 1000                       # bootstrap resamples of the intervals
    confidence: 0.95
    factors:                              # the varied inputs (override keys)
      f.x1: {low: -3.14159, high: 3.14159}          # uniform
      f.x3: {distribution: normal, mean: 0, std: 1}  # any study distribution
      "rack*.C_cpu": {low: 3.0e5, high: 5.0e5}       # tied: one value for every rack
    outputs:                              # scalars per run, as in studies
      y: {signal: f.y, stat: final}
    time_resolved:                        # indices per time window of a trajectory
      window: 3600                        # s
      outputs: {T_cpu: {signal: mixer.T_cpu_max, stat: mean}}

A factor key is ``node.parameter`` or ``start.node.variable``; a ``*`` in the node part
ties the parameter of every matching node to one factor.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..studies.schema import (
    LogNormal,
    LogUniform,
    Normal,
    OutputSpec,
    RunOverrides,
    Scalar,
    ScipyDist,
    Triangular,
    Uniform,
    Value,
)

METHODS = ("sobol", "morris", "rbd_fast", "pawn")
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Range(_Strict):
    """A uniform range: ``{low, high}``."""

    low: float
    high: float
    description: str = ""

    @model_validator(mode="after")
    def _order(self) -> Range:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


Distribution = Annotated[Uniform | LogUniform | Normal | LogNormal | Triangular | ScipyDist,
                         Field(discriminator="distribution")]


class TimeResolvedSpec(_Strict):
    """Outputs computed per window ``[start + k window, start + (k + 1) window]``."""

    window: float = Field(gt=0)
    outputs: dict[str, OutputSpec] = Field(min_length=1)

    @field_validator("outputs")
    @classmethod
    def _no_window(cls, outputs: dict[str, OutputSpec]) -> dict[str, OutputSpec]:
        for name, out in outputs.items():
            if out.window is not None:
                raise ValueError(f"{name}: time-resolved outputs get their windows from "
                                 "'window'; remove the output's own")
        return outputs


class SensitivitySpec(_Strict):
    name: str | None = None
    description: str = ""
    topology: str
    run: RunOverrides = Field(default_factory=RunOverrides)
    parameters: dict[str, Value] = Field(default_factory=dict)
    start: dict[str, Scalar] = Field(default_factory=dict)
    method: Literal["sobol", "morris", "rbd_fast", "pawn"]
    n: int = Field(ge=2)
    seed: int = 0
    second_order: bool = False
    levels: int = Field(default=4, ge=2)
    resamples: int = Field(default=1000, ge=10)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    factors: dict[str, Range | Distribution] = Field(min_length=1)
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    time_resolved: TimeResolvedSpec | None = None
    convergence_tolerance: float = Field(default=0.05, gt=0)

    @field_validator("factors", mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"low": v[0], "high": v[1]} if isinstance(v, list) and len(v) == 2
                        else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self) -> SensitivitySpec:
        if not self.outputs and self.time_resolved is None:
            raise ValueError("a sensitivity study needs 'outputs' (or 'time_resolved')")
        names = list(self.outputs) + (list(self.time_resolved.outputs)
                                      if self.time_resolved else [])
        for name in names:
            if not OUTPUT_NAME.match(name):
                raise ValueError(f"output name {name!r} must start with a letter or _ and "
                                 "hold only letters, digits and _")
        if len(set(names)) != len(names):
            raise ValueError("an output name is used twice (outputs and time_resolved)")
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ValueError(f"sobol needs n a power of 2 (Sobol' sequence balance), got "
                             f"{self.n}")
        if len(self.factors) < 2 and self.method in ("sobol", "morris"):
            raise ValueError(f"{self.method} needs at least 2 factors")
        return self
