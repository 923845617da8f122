"""Marking a result file after its writer is gone: status, error and whole rows only.

A run that dies (killed, crashed inside an FMU, stuck and stopped, its disk full) leaves
its file as its last flush left it, still flagged as open for SWMR writing. :func:`mark`
turns it into an ordinary finished file that h5py, xarray and :func:`cosim.read` all
open plainly:

1. the superblock's "open for writing" flags are cleared and the file is cut to its
   end of allocation (:func:`cosim.results.superblock.clear_open_flags`; what
   ``h5clear -s`` does);
2. series longer than the committed ``/time`` (a flush torn by the kill) and trailing
   ``/time`` rows never written (the fill value, NaN) are cut, so every reader sees the
   same whole rows;
3. the root attributes ``status``, ``error``, ``finished`` and ``n_rows`` are set *in
   place* (``attrs.modify``): the file does not grow, so marking works on a full disk.

Statuses (docs/results-format.md): ``completed``, ``failed``, ``interrupted`` (Ctrl-C,
SIGTERM), ``crashed`` (the process died: a signal, ``abort()``, ``_exit()``), and
``running`` for a file whose writer has not finished (or was never marked).

:func:`abandon` is for a writer that hit a write error (disk full): it closes its own
handle without letting HDF5 write anything more (a flush that fails half-way is what
corrupts a file), so that :func:`mark` can then finish the job.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np

from ..errors import ResultsError
from . import superblock

STATUSES = ("running", "completed", "failed", "interrupted", "crashed")
#: Longest error text stored (the message of a failure, not a log).
MAX_ERROR_CHARS = 2000
_SERIES_SKIP = ("parameters", "meta", "events")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _committed_rows(f: h5py.File) -> int:
    """Rows every series has, up to the last ``/time`` value actually written."""
    series = [obj for name, obj in f.items()
              if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and name not in _SERIES_SKIP]
    time = f.get("time")
    if not isinstance(time, h5py.Dataset):
        return 0
    n = min(ds.shape[0] for ds in series) if series else time.shape[0]
    step = max(1, time.chunks[0] if time.chunks else 4096)
    while n > 0:  # trailing NaN: extent written, data not (a flush cut short)
        lo = max(0, n - step)
        finite = np.flatnonzero(np.isfinite(time[lo:n]))
        if finite.size:
            return lo + int(finite[-1]) + 1
        n = lo
    return 0


def set_attr(attrs: h5py.AttributeManager, name: str, value) -> None:
    """Set an attribute, in place when it exists (the file does not grow)."""
    if name in attrs:
        attrs.modify(name, value)  # in place: no new space needed
    else:
        attrs[name] = value


def _check_cosim_file(p: Path, status: str) -> None:
    """ResultsError, before anything is written, unless ``p`` is a cosim result file
    (read in SWMR mode, which also opens a file still flagged as open for writing)."""
    try:
        superblock.read(p)
        with h5py.File(p, "r", swmr=True) as f:
            ours = "cosim_layout_version" in f.attrs
    except superblock.SuperblockError as err:
        raise ResultsError(f"cannot mark the file {status}: {err}", path=str(p)) from None
    except OSError as err:
        raise ResultsError(f"cannot mark the file {status}: {err}", path=str(p)) from None
    if not ours:
        raise ResultsError("not a cosim result file: left as it is", path=str(p))


def mark(path: str | Path, status: str, error: str = "") -> int:
    """Mark the result file ``path`` of a run that ended without closing it; return the
    number of whole rows it keeps. Only call it once no process writes the file.

    Raises :class:`~cosim.errors.ResultsError` (the file is left as it was) when the
    file is not a cosim result or its superblock is not one this can repair.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    p = Path(path)
    _check_cosim_file(p, status)
    try:
        superblock.clear_open_flags(p)
    except (superblock.SuperblockError, OSError) as err:
        raise ResultsError(f"cannot mark the file {status}: {err}", path=str(p)) from None
    text = error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS - 3] + "..."
    try:
        with h5py.File(p, "r+") as f:
            n = _committed_rows(f)
            for name, obj in f.items():
                if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and \
                        name not in _SERIES_SKIP and obj.shape[0] > n and obj.maxshape[0] is None:
                    obj.resize((n,))
            set_attr(f.attrs, "status", status)
            set_attr(f.attrs, "error", text)
            set_attr(f.attrs, "finished", utc_now())
            set_attr(f.attrs, "n_rows", np.int64(n))
    except ResultsError:
        raise
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        raise ResultsError(f"cannot mark the file {status}: {err}", path=str(p)) from None
    return n


def abandon(f: h5py.File, path: str | Path) -> None:
    """Close ``f`` (open for writing) without HDF5 writing one more byte to ``path``.

    HDF5 cannot close a file whose flush fails (it keeps it open and tries again at
    exit), and a flush that fails half-way on a full disk is what corrupts a file. So
    the file's descriptor is first pointed at an empty scratch file in memory: the
    final flush lands there and the close succeeds, while ``path`` stays as its last
    complete flush left it. :func:`mark` it afterwards.
    """
    with contextlib.suppress(Exception):
        fd = f.id.get_vfd_handle()
        if isinstance(fd, int) and fd >= 0:
            scratch = _scratch_fd()
            try:
                os.dup2(scratch, fd)
            finally:
                os.close(scratch)
    with contextlib.suppress(Exception):
        f.close()


def _scratch_fd() -> int:
    """A writable descriptor whose writes cost no disk space (memory, or /dev/null)."""
    with contextlib.suppress(AttributeError, OSError):
        return os.memfd_create("cosim-abandoned", 0)
    return os.open(os.devnull, os.O_RDWR)
