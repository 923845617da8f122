"""Python blocks as subsystems: the adapter between a :class:`~cosim.blocks.Block` and
the master. Unconnected inputs keep their start values; anything a block raises is
reported as a :class:`~cosim.errors.SubsystemError` naming the node and the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..blocks.base import Block
from ..errors import CosimError, SubsystemError
from .base import STEP_OK, Capabilities, StepOutcome, Subsystem

#: What a block may return as an output value (bool is an int).
_NUMBER = (float, int, np.floating, np.integer, np.bool_)


def _scalar_array(value: Any) -> bool:
    """A 0-d numeric numpy array (what some numpy expressions return for one number)."""
    return isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fiub"


def _shown(value: Any) -> str:
    """A returned value for a message: its type, and a short repr."""
    text = repr(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return "None" if value is None else f"a {type(value).__name__} ({text})"


class BlockSubsystem(Subsystem):
    kind = "block"
    capabilities = Capabilities(can_roll_back=True, can_vary_step=True)

    def __init__(self, name: str, block: Block, start: dict[str, Any] | None = None):
        super().__init__(name, block.interface())
        self.block = block
        self.values = {v.name: float(v.start or 0.0) for v in self.interface.inputs}
        self.values.update({k: float(v) for k, v in (start or {}).items()})
        self.all_outputs = [v.name for v in self.interface.outputs]
        self.last: dict[str, float] = {v.name: float(v.start or 0.0)
                                       for v in self.interface.outputs}
        self.time = 0.0
        self.initializing = False
        self._declared = frozenset(self.all_outputs)

    def setup(self, start: float, stop: float | None) -> None:
        self.time = start
        self.initializing = True
        self._call("reset", self.block.reset, start)

    def exit_initialization(self) -> None:
        self.initializing = False

    def _call(self, what: str, fn, *args):
        try:
            return fn(*args)
        except CosimError as err:
            if isinstance(err, SubsystemError):
                err.locate(node=self.name, time=self.time)
            raise
        except SystemExit as err:  # sys.exit() in a block must never end a run quietly
            raise SubsystemError(f"{type(self.block).__name__}.{what}() called "
                                 f"sys.exit({err.code!r}); a block must raise an exception "
                                 "to stop the run", node=self.name, time=self.time) from None
        except Exception as err:
            raise SubsystemError(f"{type(self.block).__name__}.{what}() raised "
                                 f"{type(err).__name__}: {err}", node=self.name,
                                 time=self.time) from err

    def _store(self, outputs: Mapping | Any) -> None:
        if isinstance(outputs, Mapping):
            if not self._declared.issuperset(outputs):
                self._bad_output(outputs, "")
            missing = [n for n in self.outputs if n not in outputs]
            if missing:
                raise SubsystemError(f"{type(self.block).__name__}.step() returned no value "
                                     f"for output {missing[0]!r}", node=self.name,
                                     variable=missing[0], time=self.time)
            for value in outputs.values():
                if not isinstance(value, _NUMBER) and not _scalar_array(value):
                    self._bad_output(outputs, "")
            self.last.update(outputs)
            return
        if outputs is None or isinstance(outputs, str | bytes):
            self._bad_output(outputs, "")
        try:
            values = np.atleast_1d(np.asarray(outputs, dtype=float))
        except (TypeError, ValueError) as err:
            self._bad_output(outputs, f" ({err})")
        if values.shape != (len(self.all_outputs),):
            raise SubsystemError(f"{type(self.block).__name__}.step() returned "
                                 f"{values.size} values (shape {values.shape}) for "
                                 f"{len(self.all_outputs)} outputs {self.all_outputs}",
                                 node=self.name, time=self.time)
        self.last.update(zip(self.all_outputs, values.tolist(), strict=True))

    def _bad_output(self, outputs: Any, detail: str) -> None:
        """Raise the SubsystemError that says what is wrong with a block's return value."""
        block = f"{type(self.block).__name__}.step()"
        if isinstance(outputs, Mapping):
            unknown = [k for k in outputs if k not in self._declared]
            if unknown:
                raise SubsystemError(
                    f"{block} returned output {unknown[0]!r}, which the block does not "
                    f"declare (its outputs: {', '.join(self.all_outputs) or 'none'})",
                    node=self.name, variable=str(unknown[0]), time=self.time)
            name, value = next((k, v) for k, v in outputs.items()
                               if not isinstance(v, _NUMBER) and not _scalar_array(v))
            raise SubsystemError(f"{block} returned {_shown(value)} for output {name!r}; "
                                 "outputs must be numbers (float, int or bool)",
                                 node=self.name, variable=name, time=self.time)
        raise SubsystemError(f"{block} returned {_shown(outputs)}{detail}; it must return "
                             f"a mapping {{output: number}} or a sequence of "
                             f"{len(self.all_outputs)} numbers in the order "
                             f"{self.all_outputs}", node=self.name, time=self.time)

    # -- the hot path ----------------------------------------------------------------

    def set_inputs(self) -> None:
        if self.inputs:
            self.values.update(zip(self.inputs, self.u.tolist(), strict=True))

    def get_outputs(self) -> None:
        if self.initializing:
            self._store(self._call("initialize", self.block.initialize, self.time,
                                   dict(self.values)))
        last = self.last
        for i, name in enumerate(self.outputs):
            self.y[i] = last[name]

    def do_step(self, t: float, dt: float) -> StepOutcome:
        self.time = t
        self._store(self._call("step", self.block.step, t, dt, dict(self.values)))
        self.time = t + dt
        return STEP_OK

    # -- the rest --------------------------------------------------------------------

    def set_value(self, name: str, value: Any) -> None:
        if name in self.values:
            self.values[name] = float(value)
        elif name in self.block.parameters:
            setattr(self.block, name, value)
        else:
            raise SubsystemError("no input or parameter of that name", node=self.name,
                                 variable=name)

    def save_state(self) -> Any:
        return (self.block.save_state(), dict(self.values), dict(self.last), self.time)

    def restore_state(self, state: Any) -> None:
        block_state, values, last, self.time = state
        self.block.restore_state(block_state)
        self.values, self.last = dict(values), dict(last)

    def provenance(self) -> dict[str, Any]:
        cls = type(self.block)
        return {"kind": "block", "class": f"{cls.__module__}:{cls.__qualname__}"}
