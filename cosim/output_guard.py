"""Claiming an output file: never an input, never two writers, never a stranger's file.

Before a run (or a sweep) writes its result file, :func:`claim`:

1. refuses an output that *is* one of the run's inputs — same resolved path, or the
   same file through a link (same device and inode): the topology file and the files
   it extends, FMUs, Python block sources, data files of blocks (tables, telemetry),
   a study file. Nothing is created or truncated before that check;
2. refuses to replace an existing file that is not a cosim file (an HDF5 file with a
   ``cosim_layout_version`` attribute, or an empty file) unless ``force`` is given:
   ``-o results.h5`` replacing the previous result is what users expect, ``-o
   notes.txt`` destroying notes is not;
3. takes an exclusive lock on the output for as long as the run writes it, so that a
   second run writing the same file is refused at once with a clear message (HDF5's own
   file locking is off in SWMR mode, which is how results are streamed).

The lock is a Linux open-file-description lock (``F_OFD_SETLK``) on the output itself:
it belongs to the open file, so a child process forked by ``cosim run`` shares it,
and it stays held when that child dies until the supervisor has marked the file. It
does not interfere with HDF5's own ``flock`` locks (readers keep working). Where
OFD locks do not exist (macOS, Windows), concurrent writers are not detected.

A claim can be handed over (:meth:`Claim.hand_over`) to the next :func:`claim` of the
same file: ``cosim run`` claims the output with its options (``--force``), then the
``cosim.run`` it calls — in its supervised child, or in-process — takes that claim. Any
other claim on a file already held is refused.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigError

try:
    import fcntl
except ImportError:  # Windows: no locks (module docstring)
    fcntl = None  # type: ignore[assignment]

#: Root attributes that make an HDF5 file a cosim file (a run's result, a study file)
COSIM_ATTRS = ("cosim_layout_version", "cosim_study_version")
#: (device, inode) -> Claim, for the claims this process holds
_HELD: dict[tuple[int, int], Claim] = {}


class OutputError(ConfigError):
    """An output file cannot be used: it is an input, in use, or not a cosim file."""


class Claim:
    """An output file held for writing (use as a context manager, or :meth:`release`)."""

    def __init__(self, path: Path, fd: int, created: bool):
        self.path, self.fd, self.created = path, fd, created
        st = os.fstat(fd)
        self.key = (st.st_dev, st.st_ino)
        self.users = 1
        self.handed_over = False  # the next claim() of this file takes this one

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def hand_over(self) -> Claim:
        """Let the next :func:`claim` of this file (in this process or a child forked
        from it) take this claim instead of being refused."""
        self.handed_over = True
        return self

    def follow(self) -> None:
        """Move the lock to the file now at :attr:`path`, if it was replaced (written
        elsewhere and renamed over it); OutputError if another run holds that one."""
        try:
            st = self.path.stat()
        except OSError:
            return
        if (st.st_dev, st.st_ino) == self.key or self.fd < 0:
            return
        fd = os.open(self.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        if not _lock(fd):
            os.close(fd)
            raise OutputError(f"{self.path} is being written by another run right now")
        _HELD.pop(self.key, None)
        os.close(self.fd)
        self.fd, self.key, self.created = fd, (st.st_dev, st.st_ino), False
        _HELD[self.key] = self

    def release(self, *, discard_if_empty: bool = False) -> None:
        """Give the file up (the last user closes the descriptor, releasing the lock).
        ``discard_if_empty``: remove a file this claim created and nothing wrote."""
        self.users -= 1
        if self.users > 0 or self.fd < 0:
            return
        _HELD.pop(self.key, None)
        with contextlib.suppress(OSError):
            if discard_if_empty and self.created and os.fstat(self.fd).st_size == 0:
                os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1


def claim(path: str | Path, *, inputs: Iterable[str | Path] = (), force: bool = False,
          what: str = "output file") -> Claim:
    """Claim ``path`` for writing (module docstring); OutputError says why it cannot be."""
    p = Path(path)
    _refuse_inputs(p, inputs, what)
    existing = _held(p)
    if existing is not None and existing.handed_over:
        existing.handed_over = False
        existing.users += 1
        return existing
    if existing is not None:
        raise OutputError(f"the {what} {p} is being written by another run in this "
                          "process; choose another file (-o)")
    if p.is_dir():
        raise OutputError(f"the {what} {p} is a directory")
    if not force:
        _refuse_foreign(p, what)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        created = not p.exists()
        fd = os.open(p, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as err:
        raise OutputError(f"cannot open the {what} {p} for writing: {err.strerror or err}"
                          ) from None
    result = Claim(p, fd, created)
    if not _lock(fd):
        result.release(discard_if_empty=True)
        raise OutputError(f"the {what} {p} is being written by another run right now; "
                          "wait for it to finish or choose another file (-o)")
    _HELD[result.key] = result
    return result


@contextlib.contextmanager
def claimed(path: str | Path | None, **kwargs: Any) -> Iterator[Claim | None]:
    """``with claimed(output, inputs=...)``: claim for the block (nothing when ``path`` is
    None); a file created by the claim and left empty is removed."""
    if path is None:
        yield None
        return
    held = claim(path, **kwargs)
    try:
        yield held
    finally:
        held.release(discard_if_empty=True)


def _held(p: Path) -> Claim | None:
    try:
        st = p.stat()
    except OSError:
        return None
    held = _HELD.get((st.st_dev, st.st_ino))
    return held if held is not None and held.fd >= 0 else None


# -- the checks --------------------------------------------------------------------------


def _same(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return os.path.samefile(a, b)
    except OSError:
        return False


def _refuse_inputs(p: Path, inputs: Iterable[str | Path], what: str) -> None:
    for item in inputs:
        source = Path(item)
        if _same(p, source):
            raise OutputError(f"the {what} {p} is an input of this run ({source}); "
                              "writing it would destroy it: choose another file (-o)")


def _refuse_foreign(p: Path, what: str) -> None:
    """OutputError if ``p`` exists, is not empty and is not a cosim HDF5 file."""
    try:
        if not p.exists() or p.stat().st_size == 0:
            return
    except OSError:
        return
    if _is_cosim_file(p):
        return
    raise OutputError(f"the {what} {p} exists and is not a cosim result; refusing to "
                      "replace it (choose another file, remove it, or pass --force)")


def _is_cosim_file(p: Path) -> bool:
    import h5py
    try:
        if not h5py.is_hdf5(p):
            return False
    except OSError:
        return False
    for kwargs in ({}, {"swmr": True}):  # a file left open by a killed writer needs swmr
        try:
            with h5py.File(p, "r", **kwargs) as f:
                return any(key in f.attrs for key in COSIM_ATTRS)
        except OSError:
            continue
    return False


def _lock(fd: int) -> bool:
    """An exclusive open-file-description lock on the whole file; False if held elsewhere
    (True where such locks do not exist)."""
    setlk = getattr(fcntl, "F_OFD_SETLK", None) if fcntl is not None else None
    if setlk is None:
        return True
    record = struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    try:
        fcntl.fcntl(fd, setlk, record)
    except OSError:
        return False
    return True


# -- what a run reads ------------------------------------------------------------------


def topology_inputs(topology: Any, report: Any = None) -> list[Path]:
    """The files a topology run reads: the topology file and those it extends, FMUs,
    the source files of Python blocks, and data files named by block parameters."""
    files: list[Path] = []
    graph = topology.graph
    if topology.source:
        files.append(Path(topology.source))
    files += [Path(f) for f in graph.graph.get("extends_files", ())]
    for name, data in graph.nodes(data=True):
        if data["kind"] == "fmu":
            files.append(topology.fmu_path(name))
            continue
        info = report.nodes.get(name) if report is not None else None
        cls = getattr(info, "block_class", None) or \
            (data["source"] if isinstance(data["source"], type) else None)
        with contextlib.suppress(TypeError, OSError):
            if cls is not None and inspect.getsourcefile(cls):
                files.append(Path(inspect.getsourcefile(cls)))
        for value in data["parameters"].values():
            if isinstance(value, str | os.PathLike) and str(value):
                candidate = Path(value)
                candidate = candidate if candidate.is_absolute() else \
                    topology.node_dir(name) / candidate
                with contextlib.suppress(OSError, ValueError):
                    if candidate.is_file():
                        files.append(candidate)
    return files
