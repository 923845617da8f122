"""Python blocks as subsystems: the adapter between a :class:`~cosim.blocks.Block` and
the master. Unconnected inputs keep their start values; anything a block raises is
reported as a :class:`~cosim.errors.SubsystemError` naming the node and the time.

The block object is built from its class and parameters; a later run configured with
other parameters builds a new one (blocks are cheap), provided its ports stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..blocks.base import Block
from ..clock import TICKS_PER_SECOND
from ..errors import ConfigError, CosimError, SubsystemError
from ..protocol import NativeForm
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
    #: set_inputs only copies u into the block's inputs and get_outputs only copies its
    #: outputs into y (nothing else happens, nothing fails): the compiled loop may call
    #: set, step and get together under Jacobi too
    copies_io = True
    kernel_error: BaseException | None = None

    def __init__(self, name: str, block: Block, start: dict[str, Any] | None = None,
                 *, factory=None, parameters: dict[str, Any] | None = None):
        """``block``: the block object; ``factory(**parameters)`` builds another one when a
        run is configured with other ``parameters`` than those it was built with."""
        super().__init__(name, block.interface())
        self.block = block
        self.factory = factory
        self.built_with = dict(parameters or {})
        self.parameters = dict(self.built_with)
        self.start_values = dict(start or {})
        self.all_outputs = [v.name for v in self.interface.outputs]
        self.values: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.initializing = False
        self._declared = frozenset(self.all_outputs)
        self._defaults()

    def _defaults(self) -> None:
        self.values = {v.name: float(v.start or 0.0) for v in self.interface.inputs}
        self.values.update({k: float(v) for k, v in self.start_values.items()})
        self.last = {v.name: float(v.start or 0.0) for v in self.interface.outputs}

    # -- life cycle ---------------------------------------------------------------------

    def initialize(self, start: float, stop: float | None) -> None:
        if self.parameters != self.built_with:
            self._rebuild()
        self._defaults()
        self.time = start
        self.initializing = True
        self._call("reset", self.block.reset, start)

    def _rebuild(self) -> None:
        if self.factory is None:
            raise SubsystemError("this block cannot take other parameters in a reset "
                                 "(it was given as an object)", node=self.name)
        try:
            block = self.factory(**self.parameters)
        except ConfigError as err:
            raise ConfigError(f"node {self.name}: {err}") from None
        if block.interface().variables.keys() != self.interface.variables.keys():
            raise ConfigError(f"node {self.name}: these parameters change the block's ports; "
                              "build a new Simulation for a different topology")
        self.block, self.built_with = block, dict(self.parameters)

    def exit_initialization(self):
        self.initializing = False
        return super().exit_initialization()

    def _call(self, what: str, fn, *args):
        try:
            return fn(*args)
        except (Exception, SystemExit) as err:
            self._raise(what, err)

    def _raise(self, what: str, err: BaseException):
        """Raise what a block's exception becomes: cosim errors as they are (located),
        ``sys.exit()`` and anything else as a SubsystemError naming the method, the node
        and the time."""
        if isinstance(err, CosimError):
            if isinstance(err, SubsystemError):
                err.locate(node=self.name, time=self.time)
            raise err
        if isinstance(err, SystemExit):  # sys.exit() in a block must never end a run quietly
            raise SubsystemError(f"{type(self.block).__name__}.{what}() called "
                                 f"sys.exit({err.code!r}); a block must raise an exception "
                                 "to stop the run", node=self.name, time=self.time) from None
        raise SubsystemError(f"{type(self.block).__name__}.{what}() raised "
                             f"{type(err).__name__}: {err}", node=self.name,
                             time=self.time) from err

    def _kept(self, outputs: Any) -> dict:
        """The last outputs updated from a step's return value: a dict of floats for
        exactly the declared outputs is taken at once (the common case, kept cheap for
        the compiled loop), anything else goes through :meth:`_store`'s checks."""
        last = self.last
        if type(outputs) is dict and outputs.keys() == self._declared:
            for value in outputs.values():
                if type(value) is not float:
                    self._store(outputs)
                    return last
            last.update(outputs)
            return last
        self._store(outputs)
        return last

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

    # (kept lean: the compiled loop calls these for Python blocks at every step)

    def bind(self, inputs, outputs, u, y, objects_in=(), objects_out=()) -> None:
        super().bind(inputs, outputs, u, y, objects_in, objects_out)
        self._in_names = tuple(self.inputs)
        self._one_in = self.inputs[0] if len(self.inputs) == 1 else None
        self._out_slots = tuple(enumerate(self.outputs))
        self._needed = frozenset(self.outputs)

    def set_inputs(self) -> None:
        if self._in_names:  # u and the names have the same length (bind checked)
            self.values.update(zip(self._in_names, self.u.tolist(), strict=False))

    def get_outputs(self) -> None:
        if self.initializing:
            self._store(self._call("initialize", self.block.initialize, self.time,
                                   dict(self.values)))
        last, y = self.last, self.y
        for i, name in self._out_slots:
            y[i] = last[name]

    def step(self, now: int, limit: int) -> StepOutcome:
        t = now / TICKS_PER_SECOND  # cosim.clock.to_seconds
        dt = limit / TICKS_PER_SECOND - t
        self.time = t
        try:
            outputs = self.block.step(t, dt, dict(self.values))
        except (Exception, SystemExit) as err:
            self._raise("step", err)
        self._kept(outputs)
        self.time = t + dt
        return STEP_OK

    def kernel_turn(self, _node: int, _phase: int, now: int, limit: int) -> int:
        """The compiled loop's callback for this block: ``set_inputs()``,
        ``step(now, limit)`` and ``get_outputs()`` in one call — the same operations,
        without the calls. Returns 0, or 2 after keeping what it raised (as ``step``
        raises it) in ``kernel_error``."""
        try:
            values, one = self.values, self._one_in
            if one is not None:
                values[one] = self.u.item(0)
            elif self._in_names:
                values.update(zip(self._in_names, self.u.tolist(), strict=False))
            t = now / TICKS_PER_SECOND
            dt = limit / TICKS_PER_SECOND - t
            self.time = t
            try:
                outputs = self.block.step(t, dt, dict(values))
            except (Exception, SystemExit) as err:
                self._raise("step", err)
            last = self.last  # _kept, inline
            if type(outputs) is dict and outputs.keys() == self._declared:
                for value in outputs.values():
                    if type(value) is not float:
                        self._store(outputs)
                        break
                else:
                    last.update(outputs)
            else:
                self._store(outputs)
            self.time = t + dt
            y = self.y
            for i, name in self._out_slots:
                y[i] = last[name]
            return 0
        except BaseException as err:  # noqa: BLE001 - raised again outside the kernel
            self.kernel_error = err
            return 2

    def refresh_outputs(self) -> None:
        """Outputs for the inputs as they are now, without advancing (``step`` with
        ``dt = 0``): the right limit of direct-feedthrough outputs after an event."""
        self._store(self._call("step", self.block.step, self.time, 0.0, dict(self.values)))
        self.get_outputs()

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

    def native_form(self) -> NativeForm:
        form = self.block.native()
        try:
            bin_ = np.array([self.values[n] for n in form.inputs] or [0.0], dtype=np.float64)
            bout = np.array([self.last[n] for n in form.outputs], dtype=np.float64)
            in_map = np.array([form.inputs.index(n) for n in self.inputs] or [0],
                              dtype=np.int64)
            out_map = np.array([form.outputs.index(n) for n in self.outputs] or [0],
                               dtype=np.int64)
        except (KeyError, ValueError) as err:
            from ..protocol import NotNative
            raise NotNative(f"node {self.name}: unexpected ports ({err})") from None
        state = np.array(form.state, dtype=np.float64)

        def write_back() -> None:
            self.values.update(zip(form.inputs, bin_.tolist(), strict=False))
            self.last.update(zip(form.outputs, bout.tolist(), strict=True))
            form.write_back(state)

        return NativeForm(form.kind, step=form.function,
                          par=np.ascontiguousarray(form.par, dtype=np.float64),
                          ipar=np.array(form.ipar, dtype=np.int64), state=state, bin=bin_,
                          bout=bout, in_map=in_map, out_map=out_map, write_back=write_back)

    def provenance(self) -> dict[str, Any]:
        cls = type(self.block)
        return {"kind": "block", "class": f"{cls.__module__}:{cls.__qualname__}"}


def block_factory(cls: type[Block], base_dir: Path):
    """A function building ``cls`` blocks from parameters (relative paths in ``base_dir``);
    what a constructor raises becomes one ConfigError."""
    from ..topology.interfaces import construct_block

    def build(**parameters: Any) -> Block:
        return construct_block(cls, base_dir, parameters)
    return build
