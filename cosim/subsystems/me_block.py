"""Python blocks as members of a model-exchange cluster (:mod:`.me_cluster`).

A block in a cluster is an algebraic map: at every evaluation of the cluster's
right-hand side it is called as ``step(t, 0.0, inputs)``, which the block contract
defines as the outputs at ``t`` without advancing the state. It offers the members'
interface with no states, no event indicators and nothing to do in Event Mode.
"""

from __future__ import annotations

import numpy as np

from .block import BlockSubsystem


class BlockMember(BlockSubsystem):
    """A Python block in a cluster: an algebraic map, ``step(t, 0.0, inputs)`` at every
    evaluation (the block contract: outputs at ``t`` without advancing its state)."""

    nx = nz = 0
    needs_completed_step = False

    def set_time(self, t: float) -> None:
        self.time = t

    def set_states(self) -> None:
        pass

    get_states = enter_event_mode = enter_continuous_time_mode = set_states

    def bind_vectors(self, *args) -> None:
        pass

    def hot_calls(self):
        return self.set_time, self.set_states, self.set_states

    def nominals(self) -> np.ndarray:
        return np.ones(0)

    def update_discrete(self):
        return False, False, False, None

    def completed_integrator_step(self):
        return False, False

    def getter(self, names: list[str], buffer: np.ndarray):
        def get() -> None:
            self._store(self._call("step", self.block.step, self.time, 0.0,
                                   dict(self.values)))
            last = self.last
            for k, name in enumerate(names):
                buffer[k] = last[name]
        return get

    def setter(self, names: list[str], buffer: np.ndarray):
        def put() -> None:
            self.values.update(zip(names, buffer.tolist(), strict=True))
        return put

    def get_outputs(self) -> None:
        self.getter(self.outputs, self.y)()
