"""What is validated: a run's result file, a run in memory, or an ensemble's bands.

:func:`open_prediction` reads only the signals asked for. A run file gives one value per
signal and time (at events, the right limit: of repeated times the last row). A study
file with prediction bands (``cosim sweep`` of a study with ``bands:``) gives the
ensemble mean as the point prediction, the quantile bands, and the members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..errors import ResultsError
from .engine import Band


@dataclass
class Prediction:
    """Model values on their time grid (strictly increasing), in the model's units."""

    label: str
    time: np.ndarray
    values: dict[str, np.ndarray]
    units: dict[str, str | None]
    bands: dict[str, Band] = field(default_factory=dict)
    members: dict[str, np.ndarray] = field(default_factory=dict)
    kind: str = "run"
    available: list[str] = field(default_factory=list)  # every signal of the source

    @property
    def signals(self) -> list[str]:
        return list(self.values)


def _last_of_repeats(t: np.ndarray) -> np.ndarray:
    """Row indices keeping, of equal consecutive times, the last (the right limit)."""
    keep = np.ones(t.size, dtype=bool)
    keep[:-1] = t[1:] != t[:-1]
    return np.flatnonzero(keep)


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def open_prediction(source: Any, signals: Sequence[str] | None = None) -> Prediction:
    """A run file (``.h5``), a study file with bands, a ``RunData``/``cosim.Result``,
    or a DataFrame indexed by time [s] (units in ``df.attrs["units"]``)."""
    if isinstance(source, str | Path):
        return _from_file(Path(source), signals)
    df = getattr(source, "df", source)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"cannot validate a {type(source).__name__}: give a result file, "
                        "a Result/RunData or a DataFrame indexed by time")
    units = dict(getattr(source, "units", None) or df.attrs.get("units", {}))
    t = np.asarray(df.index, dtype=np.float64)
    rows = _last_of_repeats(t)
    names = [c for c in df.columns if signals is None or c in signals]
    return Prediction(str(getattr(source, "path", None) or "run in memory"), t[rows],
                      {c: df[c].to_numpy(dtype=np.float64)[rows] for c in names},
                      {c: units.get(c) for c in names}, available=[str(c) for c in df.columns])


def _from_file(path: Path, signals: Sequence[str] | None) -> Prediction:
    from ..results.reader import _check_layout, _open
    f = _open(path)
    try:
        with f:
            if "cosim_study_version" in f.attrs:
                return _from_study(path, signals)
            _check_layout(f, path)
            return _read_run(f, path, signals)
    except ResultsError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ResultsError(f"corrupt or truncated result file: {err}", path=str(path)) from err


def _read_run(f: h5py.File, path: Path, signals: Sequence[str] | None) -> Prediction:
    from ..results.reader import _series_names
    names = everything = _series_names(f)
    if signals is not None:
        names = [n for n in names if n in set(signals)]
    n = min([f["time"].shape[0], *(f[name].shape[0] for name in names)])
    t = f["time"][:n].astype(np.float64)
    rows = _last_of_repeats(t)
    whole = rows.size == t.size
    values = {}
    for name in names:
        data = f[name][:n].astype(np.float64, copy=False)
        values[name] = data if whole else data[rows]
    units = {name: (_text(f[name].attrs.get("units", "")) or None) for name in names}
    return Prediction(str(path), t[rows], values, units, available=everything)


def _from_study(path: Path, signals: Sequence[str] | None) -> Prediction:
    from ..studies.bands import read_bands
    bands = read_bands(path)
    if not bands.signals:
        raise ResultsError("this study file has no prediction bands (a study with a "
                           "'bands:' section writes them)", path=str(path))
    names = [s for s in bands.signals if signals is None or s in signals]
    return Prediction(
        str(path), bands.time, {s: bands.mean[s] for s in names},
        {s: bands.units.get(s) for s in names},
        {s: Band(bands.levels, bands.quantiles[s]) for s in names},
        {s: bands.members(s) for s in names}, kind="ensemble", available=bands.signals)
