"""Error-controlled macro steps by step doubling.

From a saved state at ``t`` the system takes one step ``H`` and, after rolling back, two
steps ``H/2``. Their difference estimates the local error of the two half steps:

    err = max over exchanged real outputs of |y_half - y_full| / (atol + rtol * |y_half|)

``err <= 1``: the half-step result is accepted (the system is left in that state) and
the next step grows by ``safety * err^(-1/(p+1))`` (at most 5x); otherwise the step is
rejected, the system rolled back, and ``H`` shrinks (at least to 1/5). ``p`` is the
order of the coupling: 1 with hold, 2 with linear or quadratic extrapolation. Steps stay
within ``[min_step, max_step]``; a step already at ``min_step`` is accepted even if its
error is too large (counted in ``stats["forced"]``).
"""

from __future__ import annotations

import numpy as np

from ..clock import to_seconds, to_ticks
from .options import AdaptiveOptions


class StepController:
    def __init__(self, spec: AdaptiveOptions, run_step: float, span: float, order: int):
        self.spec = spec
        self.h = to_ticks(spec.initial_step or run_step)
        self.h_min = max(1, to_ticks(spec.min_step))
        self.h_max = to_ticks(spec.max_step or span)
        self.exponent = 1.0 / (order + 1)
        self.stats = {"accepted": 0, "rejected": 0, "forced": 0, "substeps": 0}

    def error(self, y_full: np.ndarray, y_half: np.ndarray) -> float:
        scale = self.spec.atol + self.spec.rtol * np.abs(y_half)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.abs(y_half - y_full) / scale
        return float(np.nanmax(ratio)) if ratio.size else 0.0

    def factor(self, err: float) -> float:
        if err <= 0:
            return 5.0
        return min(5.0, max(0.2, self.spec.safety * err ** -self.exponent))

    def advance(self, loop, t: int, limit: int):
        """Take one accepted step from ``t`` (at most to ``limit``); return its end."""
        system = loop.system
        mask = system.real_outputs
        while True:
            h = max(min(self.h, self.h_max, limit - t), 1)
            end, mid = t + h, t + h // 2
            saved = system.save()
            try:
                loop.macro_step(t, end)
                y_full = system.y[mask].copy()
                system.restore(saved)
                loop.macro_step(t, mid)
                loop.macro_step(mid, end)
                self.stats["substeps"] += 3
                err = self.error(y_full, system.y[mask])
                forced = h <= self.h_min
                if err <= 1.0 or forced:
                    self.stats["accepted"] += 1
                    self.stats["forced"] += int(err > 1.0)
                    if h == self.h or h == self.h_max:  # not a step cut short by a limit
                        self.h = max(self.h_min, min(self.h_max, int(h * self.factor(err))))
                    return end
                self.stats["rejected"] += 1
                self.h = max(self.h_min, int(h * self.factor(err)))
                system.restore(saved)
            finally:
                system.free(saved)

    def settings(self) -> dict:
        return {**self.spec.as_dict(), "min_step_ticks": self.h_min,
                "initial_step": to_seconds(self.h)}
