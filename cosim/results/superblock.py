"""The HDF5 superblock (versions 2 and 3, what cosim writes): its flags and end of file.

A writer that dies while it has a file open (killed, crashed, its disk full) leaves the
superblock's *file consistency flags* set: "open for writing" (bit 0) and, in SWMR mode,
"open for SWMR writing" (bit 2). HDF5 then refuses every open except a SWMR read, with
"file is already open for write (may use <h5clear file> to clear file consistency
flags)". :func:`clear_open_flags` does what ``h5clear -s`` does: clears the flags and
recomputes the superblock checksum (Bob Jenkins' lookup3, as HDF5's
``H5_checksum_metadata``). It refuses a superblock whose stored checksum does not match
its bytes, so it never writes over something it does not understand.

Layout (HDF5 file format specification, "Superblock Format Version 2 and 3")::

    0   signature  \\x89HDF\\r\\n\\x1a\\n       8 bytes
    8   version (2 or 3)                   1
    9   size of offsets (8)                1
    10  size of lengths (8)                1
    11  file consistency flags             1
    12  base address, superblock extension address, end-of-file address,
        root group object header address   4 offsets
    .   checksum of the bytes before it    4

The superblock sits at offset 0 (cosim writes no user block).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89HDF\r\n\x1a\n"
FLAG_WRITE, FLAG_SWMR_WRITE = 0x01, 0x04
_MASK = 0xFFFFFFFF


class SuperblockError(ValueError):
    """The file does not start with a superblock this module can edit."""


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _MASK


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = (a - c) & _MASK
    a ^= _rot(c, 4)
    c = (c + b) & _MASK
    b = (b - a) & _MASK
    b ^= _rot(a, 6)
    a = (a + c) & _MASK
    c = (c - b) & _MASK
    c ^= _rot(b, 8)
    b = (b + a) & _MASK
    a = (a - c) & _MASK
    a ^= _rot(c, 16)
    c = (c + b) & _MASK
    b = (b - a) & _MASK
    b ^= _rot(a, 19)
    a = (a + c) & _MASK
    c = (c - b) & _MASK
    c ^= _rot(b, 4)
    b = (b + a) & _MASK
    return a, b, c


def _final(a: int, b: int, c: int) -> int:
    c ^= b
    c = (c - _rot(b, 14)) & _MASK
    a ^= c
    a = (a - _rot(c, 11)) & _MASK
    b ^= a
    b = (b - _rot(a, 25)) & _MASK
    c ^= b
    c = (c - _rot(b, 16)) & _MASK
    a ^= c
    a = (a - _rot(c, 4)) & _MASK
    b ^= a
    b = (b - _rot(a, 14)) & _MASK
    c ^= b
    c = (c - _rot(b, 24)) & _MASK
    return c


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' ``hashlittle`` (lookup3.c), the checksum of HDF5 metadata."""
    n = len(data)
    a = b = c = (0xDEADBEEF + n + initval) & _MASK
    i = 0
    while n > 12:
        x, y, z = struct.unpack_from("<3I", data, i)
        a, b, c = _mix((a + x) & _MASK, (b + y) & _MASK, (c + z) & _MASK)
        n -= 12
        i += 12
    if n == 0:
        return c
    x, y, z = struct.unpack("<3I", data[i:] + bytes(12 - n))
    return _final((a + x) & _MASK, (b + y) & _MASK, (c + z) & _MASK)


@dataclass(frozen=True)
class Superblock:
    """What cosim needs from a version 2/3 superblock."""

    version: int
    flags: int
    eoa: int  # end of allocated space: every object the file refers to lies below it

    @property
    def open_for_writing(self) -> bool:
        return bool(self.flags & (FLAG_WRITE | FLAG_SWMR_WRITE))


_SIZE = 12 + 4 * 8  # bytes covered by the checksum


def _parse(head: bytes, path: Path) -> Superblock:
    if len(head) < _SIZE + 4 or not head.startswith(SIGNATURE):
        raise SuperblockError(f"{path}: not an HDF5 file with its superblock at offset 0")
    version, offsets, lengths, flags = head[8:12]
    if version not in (2, 3) or offsets != 8 or lengths != 8:
        raise SuperblockError(f"{path}: superblock version {version} with {offsets}-byte "
                              "offsets: only versions 2 and 3 with 8-byte offsets (what "
                              "HDF5 1.10 and later write) can be repaired")
    stored = struct.unpack_from("<I", head, _SIZE)[0]
    if lookup3(head[:_SIZE]) != stored:
        raise SuperblockError(f"{path}: the superblock checksum does not match its bytes "
                              "(damaged file); left as it is")
    eoa = struct.unpack_from("<Q", head, 12 + 2 * 8)[0]
    return Superblock(version, flags, eoa)


def read(path: str | Path) -> Superblock:
    """The superblock of ``path``; SuperblockError if it is not one this module handles."""
    p = Path(path)
    with open(p, "rb") as f:
        return _parse(f.read(_SIZE + 4), p)


def clear_open_flags(path: str | Path) -> Superblock:
    """Clear the "open for (SWMR) writing" flags of a file whose writer is gone, and make
    the file as long as its end-of-allocation address says (a file cut short is
    extended with a hole; bytes past it, left by a write that failed, are dropped).

    Only call this when no process has the file open for writing. Returns the superblock
    as it was before.
    """
    p = Path(path)
    with open(p, "r+b") as f:
        head = bytearray(f.read(_SIZE + 4))
        block = _parse(bytes(head), p)
        if block.open_for_writing:
            head[11] = block.flags & ~(FLAG_WRITE | FLAG_SWMR_WRITE)
            struct.pack_into("<I", head, _SIZE, lookup3(bytes(head[:_SIZE])))
            f.seek(0)
            f.write(head)
            f.flush()
        if os.fstat(f.fileno()).st_size != block.eoa:
            f.truncate(block.eoa)
        os.fsync(f.fileno())
    return block
