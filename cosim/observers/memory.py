"""Record a run in memory and hand it back as a pandas DataFrame (with units)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SimulationError
from .base import Observer, RowKind, RunInfo

#: Rows allocated at the start of a run (at most; fewer when the run has fewer steps).
INITIAL_ROWS = 4096


class MemoryRecorder(Observer):
    """Keeps every recorded row in a growing float64 block (doubling, amortised O(1)).

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
        self.error: BaseException | None = None

    def started(self, info: RunInfo) -> None:
        self.info = info
        capacity = min((info.n_steps or INITIAL_ROWS) + 1, INITIAL_ROWS)
        self.times = np.empty(capacity)
        self.kinds = np.empty(capacity, np.int8)
        self.data = np.empty((capacity, len(info.signals)))

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        n = self.rows
        if n == len(self.times):
            self._grow()
        self.times[n] = t
        self.kinds[n] = kind
        self.data[n] = values
        self.rows = n + 1

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        n, k = self.rows, len(times)
        while n + k > len(self.times):
            self._grow()
        self.times[n:n + k] = times
        self.kinds[n:n + k] = RowKind.COMMUNICATION_POINT
        self.data[n:n + k] = values
        self.rows = n + k

    def _grow(self) -> None:
        capacity = 2 * len(self.times) + 1
        try:
            times = np.resize(self.times, capacity)
            kinds = np.resize(self.kinds, capacity)
            data = np.empty((capacity, self.data.shape[1]))
        except MemoryError:
            size = self.data.nbytes / 2**30
            raise SimulationError(
                f"out of memory keeping the results in memory ({self.rows} rows, "
                f"{size:.3g} GiB so far); record to an HDF5 file instead "
                "(cosim.run(..., output=..., keep_in_memory=False))") from None
        data[:self.rows] = self.data[:self.rows]
        self.times, self.kinds, self.data = times, kinds, data

    def finished(self, error: BaseException | None) -> None:
        self.error = error

    def dataframe(self) -> pd.DataFrame:
        """Rows so far; index ``time`` [s]; ``df.attrs["units"]`` maps column -> unit."""
        info = self.info
        names = [s.name for s in info.signals] if info else []
        df = pd.DataFrame(self.data[:self.rows].copy(), columns=names,
                          index=pd.Index(self.times[:self.rows].copy(), name="time"))
        for s in info.signals if info else []:
            if s.variable.kind in ("integer", "boolean"):
                df[s.name] = df[s.name].astype("int64")
        df.attrs["units"] = {s.name: s.variable.unit for s in info.signals} if info else {}
        df.attrs["row_kind"] = self.kinds[:self.rows].copy()
        return df
