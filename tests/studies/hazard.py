"""A block that misbehaves on purpose, for the failure-isolation tests of studies.

``mode``: ``ok`` (y = value), ``raise`` (RuntimeError), ``nan`` (y = NaN), ``kill``
(SIGKILL to its own process) or ``interrupt`` (KeyboardInterrupt, as Ctrl-C would) once
``t + dt >= when``. ``kill_flag``: with mode
``ok``, kill the process when this file exists and ``value == kill_value`` (an
interruption at a known scenario, for the resume tests).
"""

from __future__ import annotations

import math
import os
import signal

from cosim import Block, Param, Port


class Hazard(Block):
    outputs = {"y": Port()}
    parameters = {
        "mode": Param("ok"),
        "when": Param(0.5, unit="s"),
        "value": Param(0.0),
        "kill_flag": Param(""),
        "kill_value": Param(-1.0),
    }

    def step(self, t, dt, inputs):
        if dt > 0 and t + dt >= self.when:
            if self.mode == "raise":
                raise RuntimeError("Hazard raises on purpose")
            if self.mode == "nan":
                return {"y": math.nan}
            if self.mode == "interrupt":
                raise KeyboardInterrupt
            if self.mode == "kill" or (self.kill_flag and self.value == self.kill_value
                                       and os.path.exists(self.kill_flag)):
                os.kill(os.getpid(), signal.SIGKILL)
        return {"y": float(self.value)}
