"""Record a run in memory and hand it back as a pandas DataFrame (with units).

Numeric rows go into float64 blocks that are never copied while the run goes (never
preallocated for the whole run either); object signals (strings, 64-bit integers) into
lists.
The DataFrame has one column per signal, arrays element by element (``node.y[1]``, ...),
integers and booleans as int64, objects as they came.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from ..errors import SimulationError
from ..results.layout import RowKinds
from ..variables import BOOLEAN, INTEGER
from .base import Observer, RowKind, RunInfo

#: Rows allocated at the start of a run (at most; fewer when the run has fewer steps).
INITIAL_ROWS = 4096
#: The largest block rows one by one fill (later blocks double up to it).
MAX_BLOCK_ROWS = 1 << 20


class MemoryRecorder(Observer):
    """Keeps every recorded row in memory, in blocks: rows one by one fill the open block
    (blocks grow in size, never copied); a block of rows from a compiled loop is kept as
    one block (copied once). The DataFrame joins them.

    Memory grows with the rows actually recorded, never with the rows planned: a run of
    2e9 steps starts as cheaply as a short one, and fails with a SimulationError naming
    the rows kept if memory runs out (record to HDF5 with ``keep_in_memory=False``).
    """

    def __init__(self):
        self.info: RunInfo | None = None
        self.rows = 0
        self.times = np.zeros(0)  # the open block: rows [0, self._n) are filled
        self.kinds = np.zeros(0, np.int8)
        self.data = np.zeros((0, 0))
        self._n = 0
        self._blocks: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []
        self.objects: list[list] = []
        self._pending: list | None = None
        self.error: BaseException | None = None

    def started(self, info: RunInfo) -> None:
        self.info = info
        self._open(min((info.n_steps or INITIAL_ROWS) + 1, INITIAL_ROWS))

    def _open(self, capacity: int) -> None:
        """A new open block of ``capacity`` rows (the filled part of the last one kept)."""
        if self._n:
            self._blocks.append((self.times[:self._n], self.kinds[:self._n],
                                 self.data[:self._n]))
        self._n = 0
        try:
            self.times = np.empty(capacity)
            self.kinds = np.empty(capacity, np.int8)
            self.data = np.empty((capacity, len(self.info.columns)))
        except MemoryError:
            self._out_of_memory()

    def _out_of_memory(self):
        size = sum(b[2].nbytes for b in self._blocks) / 2**30
        raise SimulationError(
            f"out of memory keeping the results in memory ({self.rows} rows, "
            f"{size:.3g} GiB so far); record to an HDF5 file instead "
            "(cosim.run(..., output=..., keep_in_memory=False))") from None

    def stepped_objects(self, t: float, values: list) -> None:
        self._pending = list(values)

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        n = self._n
        if n == len(self.times):
            self._open(min(max(INITIAL_ROWS, self.rows), MAX_BLOCK_ROWS))
            n = 0
        self.times[n] = t
        self.kinds[n] = kind
        self.data[n] = values
        if self._pending is not None:
            self.objects.append(self._pending)
            self._pending = None
        self._n = n + 1
        self.rows += 1

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        k = len(times)
        if self._n + k <= len(self.times):  # fits the open block
            n = self._n
            self.times[n:n + k] = times
            self.kinds[n:n + k] = RowKind.COMMUNICATION_POINT
            self.data[n:n + k] = values
            self._n = n + k
        else:  # a block of its own, communication points all
            if self._n:
                self._open(INITIAL_ROWS)
            try:
                self._blocks.append((np.array(times), None, np.array(values)))
            except MemoryError:
                self._out_of_memory()
        self.rows += k

    def _joined(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, kinds, data) of every row, the blocks joined."""
        blocks = [*self._blocks, (self.times[:self._n], self.kinds[:self._n],
                                  self.data[:self._n])]
        times = np.concatenate([b[0] for b in blocks])
        kinds = np.concatenate([b[1] if b[1] is not None else
                                np.full(len(b[0]), RowKind.COMMUNICATION_POINT, np.int8)
                                for b in blocks])
        data = np.concatenate([b[2] for b in blocks]) if blocks else self.data[:0]
        return times, kinds, data

    def finished(self, error: BaseException | None) -> None:
        self.error = error

    def columns(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(times, {column: values})`` of the numeric columns of every row so far, as
        float64 arrays (views when the rows sit in one block; cheaper than
        :meth:`dataframe` for code that only reads numbers)."""
        names = self.info.columns if self.info is not None else []
        if self._blocks:
            times, _, data = self._joined()
        else:
            times, data = self.times[:self._n], self.data[:self._n]
        return times, {name: data[:, k] for k, name in enumerate(names)}

    def dataframe(self) -> pd.DataFrame:
        """Rows so far; index ``time`` [s]; ``df.attrs["units"]`` maps column -> unit."""
        import pandas as pd

        info = self.info
        times, kinds, data = self._joined()
        index = pd.Index(times, name="time")
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
                column = data[:, k].copy()
                if var.kind in (INTEGER, BOOLEAN):
                    column = column.astype("int64")
                columns[name] = column
                units[name] = var.unit
                k += 1
        df = pd.DataFrame(columns, index=index)
        df.attrs["units"] = units
        df.attrs["row_kind"] = RowKinds(kinds)
        return df
