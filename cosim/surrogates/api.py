"""Fit a surrogate from a study file into an artifact, with its report beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .artifact import Artifact
from .dataset import Dataset, Port, from_study
from .training import FitOptions, Fitted, fit


def fit_study(study: str | Path, node: str, output: str | Path,
              options: FitOptions | None = None, outputs: list[str] | None = None
              ) -> tuple[Artifact, Fitted]:
    """Fit ``node``'s surrogate from the study file ``study``; write the artifact to
    ``output`` and its report beside it (``OUTPUT.report.json`` and ``.html``)."""
    data = from_study(study, node, outputs)
    fitted = fit(data, options)
    art = artifact_of(data, fitted)
    art.save(output)
    from .report import write_report
    write_report(art, Path(output))
    return art, fitted


def artifact_of(data: Dataset, fitted: Fitted) -> Artifact:
    """The artifact of a fit: interface, model, envelope, intervals and the record."""
    ids = fitted.split["train"] + fitted.split["validation"]
    y0s = np.array([data.y[i][0] for i in ids])
    y0 = y0s.mean(axis=0)
    spread = float(np.max(np.ptp(y0s, axis=0))) if len(y0s) > 1 else 0.0
    outputs = [Port(p.name, p.unit, float(v)) for p, v in zip(data.outputs, y0, strict=True)]
    inputs = [Port(p.name, p.unit, p.start) for p in data.inputs]
    if not data.step > 0:
        raise ConfigError("the study's step is unknown: cannot fit a dynamic surrogate")
    info: dict[str, Any] = {
        "source": data.source,
        "training_data": {**{k: v for k, v in data.provenance.items() if k != "scenarios"},
                          "split": {k: len(v) for k, v in fitted.split.items()},
                          "fit_scenarios": sorted(data.scenarios[i] for i in ids),
                          "initial_outputs_spread": spread},
        "metrics": metrics_of(fitted),
    }
    return Artifact(data.node, inputs, outputs, float(data.step), fitted.model,
                    fitted.envelope, fitted.intervals, info)


def metrics_of(fitted: Fitted) -> dict[str, Any]:
    """Validation scores of every candidate, the choice, and the test results."""
    rows = []
    for t in fitted.trials:
        rows.append({"candidate": t.candidate.label, "kind": t.candidate.kind,
                     "score": _finite(t.score), "fit_seconds": round(t.fit_seconds, 3),
                     "free_run": _clean(t.metrics.get("free_run", {})),
                     "one_step": _clean(t.metrics.get("one_step", {})), "error": t.error})
    return {"selection": "mean over outputs of the free-run RMSE / output range on the "
                         "validation trajectories",
            "candidates": rows, "chosen": fitted.candidate.label,
            "test": _clean(fitted.test)}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats as None, numpy numbers as Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    f = float(value)
    return f if np.isfinite(f) else None
