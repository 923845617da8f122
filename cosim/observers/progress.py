"""Progress over simulated time on stderr.

On a terminal: a tqdm bar, redrawn a few hundred times per run at most. Anywhere else (a
CI log, a file, a pipe): no bar, but one plain line every :data:`LOG_EVERY` seconds of
wall time for runs that last that long — so a short run writes nothing, and a long one
a few lines a minute, never carriage-return redraws.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .base import Observer, RowKind, RunInfo

LOG_EVERY = 10.0  # [s] of wall time between plain progress lines off a terminal


def is_terminal(file) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached
        return False


class ProgressBar(Observer):
    """``updates``: bar redraws per run at most; ``terminal``: force the bar (True) or
    the plain lines (False); default: the bar only when ``file`` is a terminal."""

    def __init__(self, file=None, updates: int = 400, terminal: bool | None = None,
                 log_every: float = LOG_EVERY):
        self.file = file if file is not None else sys.stderr
        self.updates = updates
        self.terminal = is_terminal(self.file) if terminal is None else terminal
        self.log_every = log_every
        self.bar = None

    def started(self, info: RunInfo) -> None:
        self.start, self.stop, self.name = info.start, info.stop, info.name
        self.every = max(1, (info.n_steps or 1) // self.updates)
        self.count = 0
        self.clock = self.last_line = time.monotonic()
        self.lines = 0
        if not self.terminal:
            return
        from tqdm import tqdm
        self.bar = tqdm(total=info.stop - info.start, unit="s", unit_scale=False,
                        file=self.file, desc=info.name, leave=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.6g}/{total:g} s "
                                   "[{elapsed}<{remaining}]")

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        self.count += 1
        if self.count % self.every == 0:
            self._show(t)

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        if len(times):
            self.count += len(times)
            self._show(float(times[-1]))

    def _show(self, t: float) -> None:
        if self.bar is not None:
            self.bar.n = t - self.start
            self.bar.refresh()
            return
        now = time.monotonic()
        if now - self.last_line >= self.log_every:
            self.last_line = now
            self._line(t, now)

    def _line(self, t: float, now: float) -> None:
        self.lines += 1
        span = self.stop - self.start
        share = 100.0 * (t - self.start) / span if span > 0 else 100.0
        print(f"{self.name}: {share:3.0f}% (t = {t:g} of {self.stop:g} s, "
              f"{now - self.clock:.0f} s wall)", file=self.file, flush=True)

    def finished(self, error: BaseException | None) -> None:
        if self.bar is None and self.lines and error is None:  # the plain lines end at 100 %
            self._line(self.stop, time.monotonic())
        if self.bar is not None:
            if error is None:
                self.bar.n = self.bar.total
                self.bar.refresh()
            self.bar.close()
            self.bar = None


class CountProgress:
    """Progress over a count (scenarios of a study, evaluations of a calibration), with
    tqdm's ``update``/``set_postfix``/``close``: a bar on a terminal, else a plain line
    every :data:`LOG_EVERY` seconds of wall time (and a closing one if any was printed)."""

    def __init__(self, total: int, *, initial: int = 0, unit: str = "it", desc: str = "",
                 file=None, disable: bool = False, terminal: bool | None = None,
                 log_every: float = LOG_EVERY):
        self.file = file if file is not None else sys.stderr
        self.total, self.n, self.unit, self.desc = total, initial, unit, desc
        self.disable, self.log_every = disable, log_every
        self.terminal = is_terminal(self.file) if terminal is None else terminal
        self.postfix: dict = {}
        self.clock = self.last_line = time.monotonic()
        self.lines = 0
        self.bar = None
        if self.terminal and not disable:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=initial, unit=unit, desc=desc or None,
                            file=self.file, dynamic_ncols=True, smoothing=0.1)

    def set_postfix(self, refresh: bool = False, **values) -> None:
        self.postfix.update(values)
        if self.bar is not None:
            self.bar.set_postfix(refresh=refresh, **self.postfix)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if not self.disable and now - self.last_line >= self.log_every:
            self.last_line = now
            self._line(now)

    def _line(self, now: float) -> None:
        self.lines += 1
        extra = "".join(f", {k} {v}" for k, v in self.postfix.items())
        head = f"{self.desc}: " if self.desc else ""
        print(f"{head}{self.n}/{self.total} {self.unit}s{extra} ({now - self.clock:.0f} s "
              "wall)", file=self.file, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.lines and not self.disable:
            self._line(time.monotonic())
            self.lines = 0
