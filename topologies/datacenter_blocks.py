"""Python blocks used by the datacenter twin (``topologies/datacenter.yaml``)."""

from __future__ import annotations

from cosim import Block, Param, Port
from cosim.blocks import CStep


class ReturnAirMixer(Block):
    """Mixes the racks' outlet air into the cooler's return air and finds the hottest CPU.

    The racks get equal shares of the air flow, so the mixed return temperature is the
    mean of their outlet temperatures [K]. ``T_cpu_max`` is the hottest CPU [K], the
    quantity the fan controller holds.
    """

    parameters = {"n": Param(4, description="number of racks")}
    # the same step in C (datacenter_blocks.c), run natively by the compiled loop
    c_step = CStep("datacenter_blocks.c", "return_air_mixer", parameters=["n"])

    def port_declarations(self):
        inputs = {f"T_out_{i}": Port(unit="K", start=298.15) for i in range(1, self.n + 1)}
        inputs.update({f"T_cpu_{i}": Port(unit="K", start=298.15)
                       for i in range(1, self.n + 1)})
        outputs = {"T_return": Port(unit="K", start=298.15),
                   "T_cpu_max": Port(unit="K", start=298.15)}
        return inputs, outputs

    @property
    def feedthrough(self):
        return {"T_return": [f"T_out_{i}" for i in range(1, self.n + 1)],
                "T_cpu_max": [f"T_cpu_{i}" for i in range(1, self.n + 1)]}

    def step(self, t, dt, inputs):
        outs = [inputs[f"T_out_{i}"] for i in range(1, self.n + 1)]
        cpus = [inputs[f"T_cpu_{i}"] for i in range(1, self.n + 1)]
        return {"T_return": sum(outs) / len(outs), "T_cpu_max": max(cpus)}
