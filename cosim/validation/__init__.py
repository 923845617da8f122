"""Validation of a twin against telemetry: metrics, intervals, criteria, verdicts.

Works on arrays and files only (like ``cosim.comparison``): a CI gate never runs a
model. ::

    import cosim.validation as cv

    result = cv.validate("out/run.h5", "telemetry.yaml", criteria="criteria.yaml")
    result.passed            # every criterion holds
    result.df                # one row per signal, one column per metric
    result.report("out/validation.html")

See ``docs/validation.md``.
"""

from .api import validate
from .bootstrap import MovingBlockBootstrap, auto_block_length
from .criteria import PRESETS, Criteria, CriteriaError, Criterion, Verdict, load_criteria
from .engine import (
    Band,
    Options,
    Series,
    SignalValidation,
    ValidationInputError,
    validate_series,
)
from .metrics import POINT_METRICS, PointMetrics, point_metrics
from .probabilistic import coverage, crps_ensemble, pit_ensemble, pit_histogram, pit_quantiles
from .result import ValidationResult

__all__ = [
    "POINT_METRICS", "PRESETS", "Band", "Criteria", "CriteriaError", "Criterion",
    "MovingBlockBootstrap", "Options", "PointMetrics", "Series", "SignalValidation",
    "ValidationInputError", "ValidationResult", "Verdict", "auto_block_length", "coverage",
    "crps_ensemble", "load_criteria", "pit_ensemble", "pit_histogram", "pit_quantiles",
    "point_metrics", "validate", "validate_series",
]
