"""``validate(run, telemetry)``: a run (or an ensemble) against measured data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..telemetry import Telemetry, TelemetryError, load_telemetry
from ..telemetry.spec import SignalSpec
from .criteria import Criteria, judge, load_criteria
from .engine import Options, Series, ValidationInputError, validate_series
from .result import ValidationResult
from .sources import Prediction, open_prediction


def validate(run: Any, telemetry: Telemetry | str | Path | Mapping[str, Any], *,
             signals: Mapping[str, str | Mapping[str, Any]] | Sequence[str] | None = None,
             criteria: Criteria | str | Path | Mapping[str, Any] | None = None,
             parameters: int | None = None, window: str = "window",
             bootstrap: int = 1000, block: int | str = "auto", level: float = 0.95,
             seed: int = 0, mape_floor: float | None = None,
             base_dir: str | Path | None = None) -> ValidationResult:
    """Validate ``run`` against ``telemetry``; see ``docs/validation.md``.

    ``run``: a result file, a study file with prediction bands, a ``Result``/``RunData``
    or a DataFrame indexed by time [s]. ``telemetry``: a telemetry spec file (``.yaml``),
    a data file (columns named like signals), a spec mapping or a loaded
    :class:`~cosim.telemetry.Telemetry`. ``signals``: which signals (a list), or a
    mapping ``signal: column`` (or ``{column, unit}``) replacing the telemetry's.
    ``criteria``: a criteria file, mapping, or preset name. ``parameters``: Guideline 14's
    p (default: the criteria file's, else 0). ``window``: ``window``, ``holdout`` or
    ``all``. ``bootstrap``: moving-block bootstrap replicates (0: no intervals), with
    ``block`` samples per block (``auto``: Politis-White) at confidence ``level``.

    Returns a :class:`ValidationResult`; failing criteria are a value (``passed is
    False``), not an exception. Raises ConfigError (exit 2) for unusable input: no
    overlap in time, incompatible units, a signal missing, an undefined metric under a
    criterion, fewer samples than the bootstrap block.
    """
    crit = load_criteria(criteria)
    tel = _telemetry(telemetry, signals, base_dir)
    wanted = list(signals) if signals is not None and not isinstance(signals, Mapping) \
        else None
    pred = open_prediction(run, _requested(tel, wanted))
    chosen = _choose(tel, pred, wanted)
    aligned = tel.align(pred.time, {s: pred.units.get(s) for s in chosen}, chosen)
    series = _series(pred, aligned, chosen, window)
    p = parameters if parameters is not None else (crit.parameters if crit else None) or 0
    opts = Options(p=p, replicates=bootstrap, block=block, level=level, seed=seed)
    if mape_floor is not None:
        opts.mape_floor = mape_floor
    results, info = validate_series(series, opts)
    verdicts = None
    if crit is not None:
        by_name = {v.name: v for v in results}
        rules = crit.resolve([v.name for v in results],
                             lambda s: {k for k in by_name[s].metrics if k != "n"})
        verdicts = judge(
            rules,
            lambda s, m: (by_name[s].metrics.get(m, float("nan")), by_name[s].notes.get(m)),
            lambda s, m: by_name[s].ci.get(m))
    kept = series[0].time
    return ValidationResult(
        run=pred.label, telemetry=tel.label, window=window, signals=results,
        verdicts=verdicts, bootstrap=info, p=p, notes=list(aligned.notes),
        criteria=crit.source if crit else "", kind=pred.kind,
        span=(float(kept[0]), float(kept[-1])), max_gap=aligned.max_gap)


def _telemetry(telemetry: Any, signals: Any, base_dir: Any) -> Telemetry:
    tel = telemetry if isinstance(telemetry, Telemetry) else \
        load_telemetry(telemetry, base_dir=base_dir)
    if not isinstance(signals, Mapping):
        return tel
    mapping = {s: SignalSpec.model_validate({"column": m} if isinstance(m, str) else m)
               for s, m in signals.items()}
    return Telemetry(tel.spec.model_copy(update={"signals": mapping}), tel.base_dir)


def _requested(tel: Telemetry, wanted: list[str] | None) -> list[str]:
    return wanted if wanted is not None else list(tel.signals)


def _choose(tel: Telemetry, pred: Prediction, wanted: list[str] | None) -> list[str]:
    have = set(pred.values)
    if wanted is not None:
        names = wanted
    elif tel.spec.signals:
        names = list(tel.signals)
    else:  # columns named like signals: those the run has
        names = [s for s in tel.signals if s in have]
        if not names:
            raise ValidationInputError(
                f"no telemetry column of {tel.label} is named like a signal of {pred.label} "
                f"(columns: {', '.join(list(tel.signals)[:8])}); map them with 'signals:' "
                "(--signals)")
        return names
    for s in names:
        if s not in tel.signals:
            raise ValidationInputError(f"signal {s!r} is not in the telemetry {tel.label} "
                                       f"(it has: {', '.join(tel.signals)})")
        if s not in have:
            import difflib
            close = difflib.get_close_matches(s, pred.available, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValidationInputError(f"signal {s!r} (telemetry column "
                                       f"{tel.signals[s].column!r}) is not in {pred.label}"
                                       f"{hint}")
    return list(names)


def _series(pred: Prediction, aligned, chosen: list[str], window: str) -> list[Series]:
    keep = aligned.mask(window)
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        raise TelemetryError(f"no time of the run ({pred.time[0]:g}..{pred.time[-1]:g} s) is "
                             f"left after the warm-up ({aligned.warmup:g} s) and the "
                             f"{window!r} window {aligned.windows.get(window)}")
    sl = slice(int(rows[0]), int(rows[-1]) + 1)
    t = pred.time[sl]
    inside = keep[sl]
    out = []
    for s in chosen:
        obs = aligned.values[s][sl]
        if not inside.all():
            obs = np.where(inside, obs, np.nan)
        model = pred.values[s][sl]
        if not np.isfinite(obs).any():
            raise TelemetryError(
                f"{s}: no telemetry sample overlaps the run in the {window!r} window "
                f"({t[0]:g}..{t[-1]:g} s; telemetry column {aligned.columns[s]!r} has data "
                "elsewhere or only gaps longer than max_gap "
                f"{aligned.max_gap:g} s)")
        band = pred.bands.get(s)
        if band is not None:
            band = type(band)(band.levels, band.quantiles[:, sl])
        members = pred.members.get(s)
        out.append(Series(s, aligned.units.get(s), t, model, obs, band,
                          None if members is None else members[:, sl]))
    return out
