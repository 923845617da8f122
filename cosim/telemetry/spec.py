"""The telemetry section, as pydantic models (unknown keys rejected).

Usable on its own (a telemetry file, ``cosim validate RUN.h5 telemetry.yaml``) or
embedded in another file (a calibration file's ``telemetry:`` key)::

    file: data/telemetry.csv            # or a list of files; CSV, HDF5 or Parquet
    format: csv                         # default: from the extension
    group: /                            # HDF5: the group holding the columns
    time:
      column: timestamp                 # default "time", else the first column
      format: iso                       # iso (datetimes) | seconds (numbers) | auto
      unit: s                           # numbers: s, ms, min, h, d
      origin: "2026-06-01T00:00:00Z"    # the instant that is t = 0 of the run
    signals:                            # model signal: telemetry column
      rack1.T_cpu: {column: T_cpu_1, unit: degC, sigma: 0.2}
      cooler.P_el: P_el                 # column only: unit from the file
    units: {P_el: kW}                   # units of columns, if the file has none
    method: linear                      # linear | previous | mean
    max_gap: 300                        # s: never interpolate across a longer gap
    warmup: 3600                        # s after the run's start left out
    window: [0, 64800]                  # compared / fitted (s or ISO datetimes)
    holdout: [64800, 86400]             # held out for validation

Paths are relative to the file that holds the section (``base_dir``). Times in windows
are seconds of the run's time axis, or ISO datetimes (converted with ``time.origin``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TimeValue = float | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: Seconds per unit of numeric timestamps.
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0, "d": 86400.0}


class TimeSpec(_Strict):
    """How to read the timestamps.

    ``column``: default ``time`` if the data has such a column, else the first column.

    ``origin``: the instant that is ``t = 0`` on the run's time axis: an ISO datetime
    (for ``iso`` timestamps; naive ones are taken as UTC) or a number in ``unit``
    (numeric timestamps). Default: the first timestamp of the data for ``iso``, 0 for
    numbers.
    """

    column: str | None = None
    format: Literal["auto", "seconds", "iso"] = "auto"
    unit: Literal["s", "ms", "min", "h", "d"] = "s"
    origin: float | str | None = None


class SignalSpec(_Strict):
    """Where a model signal is in the telemetry: its column, unit and noise.

    ``sigma``: the measurement noise's standard deviation, in ``unit`` (the column's);
    None when unknown (a calibration may estimate it).
    """

    column: str
    unit: str | None = None
    sigma: float | None = Field(default=None, gt=0)
    description: str = ""


class TelemetrySpec(_Strict):
    file: list[str] = Field(min_length=1)
    format: Literal["csv", "hdf5", "parquet"] | None = None
    group: str = "/"
    time: TimeSpec = Field(default_factory=TimeSpec)
    signals: dict[str, SignalSpec] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    method: Literal["linear", "previous", "mean"] = "linear"
    max_gap: float | None = Field(default=None, gt=0)
    warmup: float = Field(default=0.0, ge=0)
    window: tuple[TimeValue, TimeValue] | None = None
    holdout: tuple[TimeValue, TimeValue] | None = None
    description: str = ""

    @field_validator("file", mode="before")
    @classmethod
    def _one_file(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("signals", mode="before")
    @classmethod
    def _column_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"column": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _windows(self) -> TelemetrySpec:
        for name in ("window", "holdout"):
            span = getattr(self, name)
            if span is None:
                continue
            a, b = span
            if isinstance(a, int | float) and isinstance(b, int | float) and not b > a:
                raise ValueError(f"{name}: the end ({b}) must be after the start ({a})")
        return self
