"""Test functions of global sensitivity analysis as Python blocks (no inputs, one output).

Both have analytic Sobol' indices, so they check the whole chain: design, runs through
the study runners, SALib's estimators (``tests/sensitivity``).
"""

from __future__ import annotations

import math

from cosim import Block, Param, Port


class Ishigami(Block):
    """Ishigami & Homma (1990): ``y = sin x1 + a sin² x2 + b x3⁴ sin x1``, x_i ~ U(-π, π)."""

    outputs = {"y": Port(unit="1")}
    parameters = {"x1": Param(0.0), "x2": Param(0.0), "x3": Param(0.0),
                  "a": Param(7.0), "b": Param(0.1)}

    def step(self, t, dt, inputs):
        s1 = math.sin(self.x1)
        return {"y": s1 + self.a * math.sin(self.x2) ** 2 + self.b * self.x3 ** 4 * s1}


class GFunction(Block):
    """Sobol' G-function (1998): ``y = Π (|4 x_i - 2| + a_i) / (1 + a_i)``, x_i ~ U(0, 1)."""

    outputs = {"y": Port(unit="1")}
    parameters = {"x1": Param(0.5), "x2": Param(0.5), "x3": Param(0.5), "x4": Param(0.5),
                  "a": Param([0.0, 1.0, 4.5, 9.0], description="a_i: small = important")}

    def step(self, t, dt, inputs):
        x = (self.x1, self.x2, self.x3, self.x4)
        y = 1.0
        for xi, ai in zip(x, self.a, strict=True):
            y *= (abs(4.0 * xi - 2.0) + ai) / (1.0 + ai)
        return {"y": y}
