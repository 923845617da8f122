"""Python blocks for the reliability corpus (misbehaving on purpose, by parameter)."""

from __future__ import annotations

import sys
import time

from cosim import Block, Param, Port


class Passthrough(Block):
    """y = u (a Python block: the run takes the Python loop)."""

    inputs = {"u": Port()}
    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        return {"y": inputs["u"]}


class Returns(Block):
    """Returns ``what`` from step() once t >= 0.3 s: a misbehaving block."""

    outputs = {"y": Port()}
    parameters = {"what": Param("ok")}

    BAD = {"undeclared": {"y": 1.0, "z": 2.0}, "none": None, "string": "abc",
           "shape": [1.0, 2.0], "value_string": {"y": "1.5"}, "value_none": {"y": None},
           "value_list": {"y": [1.0, 2.0]}}

    def step(self, t, dt, inputs):
        if t >= 0.3 - 1e-12:
            return self.BAD[self.what]
        return {"y": t}


class Exits(Block):
    """Calls sys.exit(0) at t >= 0.5 s."""

    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        if t >= 0.5 - 1e-12:
            sys.exit(0)
        return {"y": t}


class Explodes(Block):
    """Its constructor (or interface) raises."""

    outputs = {"y": Port()}
    parameters = {"where": Param("init")}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.where == "init":
            raise ValueError("calibration table is missing")

    def interface(self):
        if self.where == "interface":
            raise RuntimeError("ports cannot be computed")
        return super().interface()

    def step(self, t, dt, inputs):
        return {"y": 0.0}


class Sleeper(Block):
    """Sleeps ``pause`` seconds per step from ``t_hang`` on (a Python-level hang that a
    signal handler can interrupt); y = t."""

    outputs = {"y": Port()}
    parameters = {"t_hang": Param(1e300), "pause": Param(3600.0)}

    def step(self, t, dt, inputs):
        if t + dt > self.t_hang:
            time.sleep(self.pause)
        return {"y": t + dt}


class Interrupts(Block):
    """Raises KeyboardInterrupt at t >= 0.3 s (as Ctrl-C would in-process)."""

    outputs = {"y": Port()}

    def step(self, t, dt, inputs):
        if t >= 0.3 - 1e-12:
            raise KeyboardInterrupt
        return {"y": t + dt}
