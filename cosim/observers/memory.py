"""Record a run in memory and hand it back as a pandas DataFrame (with units).

Numeric rows go into a float64 block that grows by doubling (amortised O(1), never
preallocated for the whole run); object signals (strings, 64-bit integers) into lists.
The DataFrame has one column per signal, arrays element by element (``node.y[1]``, ...),
integers and booleans as int64, objects as they came.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SimulationError
from ..results.layout import RowKinds
from ..variables import BOOLEAN, INTEGER
from .base import Observer, RowKind, RunInfo

#: Rows allocated at the start of a run (at most; fewer when the run has fewer steps).
INITIAL_ROWS = 4096


class MemoryRecorder(Observer):
    """Keeps every recorded row in a growing block (doubling, amortised O(1)).

    Memory grows with the rows actually recorded, never with the rows planned: a run of
    2e9 steps starts as cheaply as a short one, and fails with a SimulationError naming
    the rows kept if memory runs out (record to HDF5 with ``keep_in_memory=False``).
    """

    def __init__(self):
        self.info: RunInfo | None = None
        self.rows = 0
        self.times = np.zeros(0)
        self.kinds = np.zeros(0, np.int8)
        self.data = np.zeros((0, 0))
        self.objects: list[list] = []
        self._pending: list | None = None
        self.error: BaseException | None = None

    def started(self, info: RunInfo) -> None:
        self.info = info
        capacity = min((info.n_steps or INITIAL_ROWS) + 1, INITIAL_ROWS)
        self.times = np.empty(capacity)
        self.kinds = np.empty(capacity, np.int8)
        self.data = np.empty((capacity, len(info.columns)))

    def stepped_objects(self, t: float, values: list) -> None:
        self._pending = list(values)

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        n = self.rows
        if n == len(self.times):
            self._grow(n + 1)
        self.times[n] = t
        self.kinds[n] = kind
        self.data[n] = values
        if self._pending is not None:
            self.objects.append(self._pending)
            self._pending = None
        self.rows = n + 1

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        n, k = self.rows, len(times)
        if n + k > len(self.times):
            self._grow(n + k)
        self.times[n:n + k] = times
        self.kinds[n:n + k] = RowKind.COMMUNICATION_POINT
        self.data[n:n + k] = values
        self.rows = n + k

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * len(self.times) + 1)
        try:
            times = np.empty(capacity)
            kinds = np.empty(capacity, np.int8)
            data = np.empty((capacity, self.data.shape[1]))
        except MemoryError:
            size = self.data.nbytes / 2**30
            raise SimulationError(
                f"out of memory keeping the results in memory ({self.rows} rows, "
                f"{size:.3g} GiB so far); record to an HDF5 file instead "
                "(cosim.run(..., output=..., keep_in_memory=False))") from None
        times[:self.rows] = self.times[:self.rows]
        kinds[:self.rows] = self.kinds[:self.rows]
        data[:self.rows] = self.data[:self.rows]
        self.times, self.kinds, self.data = times, kinds, data

    def finished(self, error: BaseException | None) -> None:
        self.error = error

    def columns(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(times, {column: values})`` of the numeric columns as float64 views of the
        rows so far (cheaper than :meth:`dataframe` for code that only reads numbers)."""
        names = self.info.columns if self.info is not None else []
        n = self.rows
        return self.times[:n], {name: self.data[:n, k] for k, name in enumerate(names)}

    def dataframe(self) -> pd.DataFrame:
        """Rows so far; index ``time`` [s]; ``df.attrs["units"]`` maps column -> unit."""
        info = self.info
        index = pd.Index(self.times[:self.rows].copy(), name="time")
        if info is None:
            return pd.DataFrame(index=index)
        columns: dict[str, object] = {}
        units: dict[str, str | None] = {}
        k, j = 0, 0
        for sig in info.signals:
            var = sig.variable
            if var.channel == "object":
                values = [row[j] for row in self.objects[:self.rows]]
                columns[sig.name] = pd.Series(values, index=index, dtype=object)
                units[sig.name] = var.unit
                j += 1
                continue
            for element in var.element_names():
                name = f"{sig.node}.{element}"
                column = self.data[:self.rows, k].copy()
                if var.kind in (INTEGER, BOOLEAN):
                    column = column.astype("int64")
                columns[name] = column
                units[name] = var.unit
                k += 1
        df = pd.DataFrame(columns, index=index)
        df.attrs["units"] = units
        df.attrs["row_kind"] = RowKinds(self.kinds[:self.rows])
        return df
