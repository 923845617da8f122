"""The subsystem protocol's value types: what a node can do and what a step did.

These are the only things the master algorithms know about subsystems (they never see
an adapter class). Times: :class:`StepOutcome` reports times in seconds as the FMU
reported them (floats); the masters convert to integer ticks (:mod:`cosim.clock`).

A step's recoverable results are values, not exceptions:

* ``OK`` — the node reached the end of the step; ``event`` says it needs event handling
  there (FMI 3 ``eventHandlingNeeded``);
* ``EARLY_RETURN`` — the node stopped at ``reached`` < end (FMI 3 early return; an event
  at ``reached`` when ``event``);
* ``DISCARD`` — the step was rejected: nothing changed, a smaller step may succeed (FMI
  ``Discard`` without a termination request);
* ``TERMINATE`` — the node asks to end the simulation at ``reached`` (FMI 3
  ``terminateSimulation``; FMI 2 ``fmi2Discard`` with ``fmi2Terminated``). Not an error:
  the run ends normally there, with status ``"terminated"``.

``next_event`` is the next time event the node announced (FMI 3 ``nextEventTime``) [s],
or ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class StepStatus(IntEnum):
    OK = 0
    DISCARD = 1
    EARLY_RETURN = 2
    TERMINATE = 3


@dataclass(frozen=True)
class StepOutcome:
    """The recoverable result of a node's step (see the module docstring)."""

    status: StepStatus = StepStatus.OK
    reached: float | None = None
    event: bool = False
    next_event: float | None = None


STEP_OK = StepOutcome()


@dataclass(frozen=True)
class EventOutcome:
    """What a node's event iteration ended with: the next time event it announced [s]
    (``None``: none) and whether it asks to end the simulation."""

    next_event: float | None = None
    terminate: bool = False


@dataclass(frozen=True)
class Capabilities:
    """What a subsystem can do, as far as the master algorithms care.

    ``can_roll_back``: save and restore its whole state (FMU state get/set, blocks by
    copy); ``can_vary_step``: accepts communication steps of varying length;
    ``has_event_mode``: FMI 3 event mode (time events, event iteration);
    ``may_return_early``: may stop before the end of a step (FMI 3 early return);
    ``fixed_step``: the only step it accepts [s], if any; ``can_reset``: can be brought
    back to its just-instantiated state for another run without re-instantiation;
    ``feedthrough_in_step_mode``: outputs may be read after inputs are set without a
    step in between (FMI 2 and blocks yes; FMI 3 in step mode no).
    """

    can_roll_back: bool = False
    can_vary_step: bool = True
    has_event_mode: bool = False
    may_return_early: bool = False
    fixed_step: float | None = None
    can_reset: bool = True
    feedthrough_in_step_mode: bool = True


@dataclass
class NativeForm:
    """A node's compiled form, published for the compiled loop (:mod:`cosim.fast`).

    ``kind`` names the kernel's implementation (``"fmi2"``, ``"fmi3"``, ``"constant"``,
    ``"pid"``, ``"polynomial"``, ``"step"``, ``"ramp"``). FMU forms carry the instance
    pointer, the C functions' addresses and the value-reference arrays of the exchanged
    ports (passed by pointer into the coupled system's buffers, in port order); block
    forms carry float64 parameters ``par``, int64 parameters ``ipar``, a float64 ``state``
    the kernel advances, the block's input and output values ``bin``/``bout`` and maps
    from exchanged ports to them. ``write_back()`` puts the kernel's state back into the
    Python object after a native run; ``flags`` holds the FMI 3 doStep flag addresses.

    The node promises that the kernel's implementation of ``kind`` gives bit-identical
    results to its own Python step (the differential tests in ``tests/fast`` hold it).
    """

    kind: str
    comp: int = 0
    set: int = 0
    get: int = 0
    step: int = 0
    vr_in: Any = None
    vr_out: Any = None
    flags: tuple[int, int, int, int] = (0, 0, 0, 0)
    par: Any = None
    ipar: Any = None
    state: Any = None
    bin: Any = None
    bout: Any = None
    in_map: Any = None
    out_map: Any = None
    names: dict[str, str] = field(default_factory=dict)  # C function names, for messages
    write_back: Any = None


class NotNative(Exception):  # noqa: N818 - a reason, not a failure
    """A node (or a run) has no compiled form; the message says why."""
