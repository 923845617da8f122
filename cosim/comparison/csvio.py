"""CSV in the FMI cross-check convention (``<Model>_ref.csv``), both ways.

The convention: comma separated; the first line holds the variable names in double
quotes, the first column is ``time`` (non-decreasing; a repeated time is an event);
numbers unquoted as C floating-point literals; booleans as 0/1. ``compare`` reads such
files (any ``*.csv``) as results or references; :func:`export_csv` writes a run in it.
"""

from __future__ import annotations

import csv
import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, ResultsError
from .sources import CSVSource, open_source

_ROWS = 1 << 16


def read_csv(path: str | Path) -> pd.DataFrame:
    """A cross-check CSV as a DataFrame indexed by time [s] (ResultsError if invalid)."""
    src = CSVSource(path)
    return pd.DataFrame({name: src.values(name, 0, src.n) for name in src.signals},
                        index=pd.Index(src.time(0, src.n), name="time"))


def export_csv(run: Any, path: str | Path, signals: str | Sequence[str] | None = None) -> int:
    """Write ``run`` (an HDF5 result file, RunData or DataFrame) as cross-check CSV.

    ``signals``: globs selecting the columns (default all). Streams the file in slices,
    so memory does not grow with the run length. Returns the number of data rows.
    """
    out = Path(path)
    with open_source(run, "result") as src:
        names = src.signals
        if signals is not None:
            patterns = [signals] if isinstance(signals, str) else list(signals)
            names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
            if not names:
                raise ConfigError(f"no signal of {src.label} matches {patterns}")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
                writer.writerow(["time", *names])
                for i0 in range(0, src.n, _ROWS):
                    i1 = min(src.n, i0 + _ROWS)
                    cols = {"time": src.time(i0, i1)}
                    for name in names:
                        cols[name] = np.array(src.values(name, i0, i1))
                    pd.DataFrame(cols).to_csv(f, header=False, index=False, na_rep="nan",
                                              lineterminator="\n")
        except OSError as err:
            raise ResultsError(f"cannot write CSV: {err}", path=str(out)) from err
        return src.n
