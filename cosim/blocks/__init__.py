"""Python blocks: the Block base class and the built-in blocks."""

from .base import Block, Param, Port
from .constant import Constant
from .native import CStep, check_step
from .pid import PID
from .registry import BUILTIN_BLOCKS, resolve_block
from .signals import Ramp, Step
from .surrogate import Surrogate
from .table import TimeTable

__all__ = ["BUILTIN_BLOCKS", "PID", "Block", "CStep", "Constant", "Param", "Port", "Ramp",
           "Step", "Surrogate", "TimeTable", "check_step", "resolve_block"]
