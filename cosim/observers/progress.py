"""A progress bar (tqdm) over simulated time, updated a few hundred times per run."""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from .base import Observer, RowKind, RunInfo


class ProgressBar(Observer):
    def __init__(self, file=None, updates: int = 400):
        self.file = file if file is not None else sys.stderr
        self.updates = updates
        self.bar: tqdm | None = None

    def started(self, info: RunInfo) -> None:
        total = info.stop - info.start
        self.start = info.start
        self.every = max(1, (info.n_steps or 1) // self.updates)
        self.count = 0
        self.bar = tqdm(total=total, unit="s", unit_scale=False, file=self.file,
                        desc=info.name, leave=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.6g}/{total:g} s "
                                   "[{elapsed}<{remaining}]")

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        self.count += 1
        if self.count % self.every == 0 and self.bar is not None:
            self.bar.n = t - self.start
            self.bar.refresh()
            self.last = t

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        if len(times) and self.bar is not None:
            self.count += len(times)
            self.bar.n = float(times[-1]) - self.start
            self.bar.refresh()

    def finished(self, error: BaseException | None) -> None:
        if self.bar is not None:
            if error is None:
                self.bar.n = self.bar.total
                self.bar.refresh()
            self.bar.close()
            self.bar = None
