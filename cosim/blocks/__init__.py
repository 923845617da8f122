"""Python blocks: the Block base class and built-in blocks."""

from .base import Block, Param, Port

__all__ = ["Block", "Param", "Port"]
