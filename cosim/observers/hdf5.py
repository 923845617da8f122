"""Stream a run into an HDF5 file while it goes (result layout version 1).

The layout is described in ``docs/results-format.md``; in short::

    /                       attrs: cosim_layout_version=1, name, start, stop, step,
                                   algorithm, created, status, error (+ finished, n_rows)
    /time                   float64 [n], dimension scale "time", units "s"
    /<node>.<variable>      one 1-D dataset per signal, attached to /time
    /row_kind               int8 [n] (RowKind), attached to /time
    /parameters/<node>.<p>  scalar, attr units
    /meta/<key>             scalar (dicts and lists as JSON strings, attr encoding="json")

Crash safety: every dataset is created first, then the file switches to SWMR mode. Rows
are buffered in a preallocated array and written a chunk at a time (or every
``flush_seconds``, 0.5 s by default): signals first, ``/time`` last (the commit marker),
then a flush. A reader opening the file with ``swmr=True`` after a crash sees every row
up to the last flush; it takes ``len(/time)`` as the number of rows.

A write that fails (a full disk, a file-size limit) stops the recording: the recorder
closes its handle without letting HDF5 write anything more and marks the file ``failed``
in place (:mod:`cosim.results.marking`), so it keeps every row up to the last complete
flush and opens plainly. A run ended by Ctrl-C or SIGTERM (``KeyboardInterrupt``) is
marked ``interrupted``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import re
import threading
import time as _time
import weakref
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ResultsError, ResultsWriteError
from ..results import marking
from ..results.layout import (
    DTYPES,
    LAYOUT_VERSION,
    LIBVER,
    RESERVED,
    ROW_KIND,
    TERMINATED,
    TIME,
    VERSION_ATTR,
    RowKind,
    check_name,
    signal_attributes,
    utc_now,
    write_scalar,
)
from .base import Observer, RunInfo

#: gzip level of the row datasets: level 1 costs about half of level 4 (h5py's default)
#: per row where rows compress well (time, row kinds, smooth signals) and takes almost
#: the same room (shuffle does most of the work); the writer thread must keep up with
#: the compiled loop, or the loop waits for it.
GZIP_LEVEL = 1
#: Upper bound of the row buffer, whatever ``chunk_rows`` is (many signals × long chunks).
MAX_BUFFER_BYTES = 32 * 1024 * 1024
#: Room kept below a file-size limit for HDF5's own metadata and the final marking.
SIZE_LIMIT_MARGIN = 64 * 1024


def _dtype(var) -> Any:
    """The HDF5 dtype of a recorded variable (None: it cannot be recorded)."""
    if var.kind == "string":
        return h5py.string_dtype()
    if var.fmi_type in ("Int64", "UInt64"):
        return np.uint64 if var.fmi_type == "UInt64" else np.int64
    return DTYPES.get(var.kind)


def status_of(error: BaseException | None) -> tuple[str, str]:
    """``(status, error text)`` for how a run ended: completed, interrupted (Ctrl-C or
    SIGTERM reach a run as KeyboardInterrupt) or failed."""
    if error is None:
        return "completed", ""
    if isinstance(error, KeyboardInterrupt):
        detail = f" {error}" if str(error) else ""
        return "interrupted", f"interrupted (Ctrl-C or SIGTERM){detail}"
    return "failed", str(error) or type(error).__name__


def _brief(err: BaseException) -> str:
    """HDF5's message without its bookkeeping: "No space left on device (errno 28)"."""
    text = str(err)
    found = re.search(r"errno = (\d+), error message = '([^']*)'", text)
    if found:
        return f"{found.group(2)} (errno {found.group(1)})"
    return text


def _size_limit(f: h5py.File) -> tuple[int, int | None]:
    """``(file descriptor, soft RLIMIT_FSIZE in bytes or None)`` of an open file."""
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (ImportError, OSError, ValueError):
        return -1, None
    if soft == resource.RLIM_INFINITY:
        return -1, None
    fd = f.id.get_vfd_handle()
    return (fd, int(soft)) if isinstance(fd, int) and fd >= 0 else (-1, None)


class _BackgroundWriter:
    """One thread appending blocks of rows to the file, in order.

    h5py releases the GIL while HDF5 compresses and writes, so with a compiled loop
    stepping on one core the compression runs on another. At most ``depth`` blocks wait
    (memory stays bounded); a failure is kept and raised at the next submit or close.
    """

    def __init__(self, append, depth: int = 2):
        self._append = append
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: ResultsError | None = None
        self._thread = threading.Thread(target=self._work, name="cosim-hdf5-writer",
                                        daemon=True)
        self._thread.start()
        _LIVE_WRITERS.add(self)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._append(*item)
                except ResultsError as err:
                    self.error = err
                except Exception as err:  # noqa: BLE001 - reported by the main thread
                    self.error = ResultsWriteError(f"cannot write rows: {err}")

    def submit(self, times: np.ndarray, values: np.ndarray, kinds: np.ndarray | None) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put((times.copy(), values.copy(), None if kinds is None else kinds.copy()))

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        _LIVE_WRITERS.discard(self)
        if self.error is not None:
            raise self.error


_LIVE_WRITERS: weakref.WeakSet[_BackgroundWriter] = weakref.WeakSet()


@atexit.register
def _drain_writers() -> None:
    """Finish writers of recorders never finished, before h5py closes its files at exit
    (a daemon thread frozen inside h5py would otherwise hold its lock: a hang)."""
    for writer in list(_LIVE_WRITERS):
        with contextlib.suppress(Exception):
            writer.close()


class HDF5Recorder(Observer):
    """Record every row of a run into ``path`` (overwritten), streaming and crash-safe.

    ``chunk_rows`` is the HDF5 chunk length and the normal write batch; ``flush_seconds``
    bounds how old the unwritten rows may get (so a crash loses at most that much).
    """

    def __init__(self, path: str | Path, *, chunk_rows: int = 4096, flush_seconds: float = 0.5):
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
        if not flush_seconds > 0:
            raise ValueError(f"flush_seconds must be > 0, got {flush_seconds}")
        self.path = Path(path)
        self.chunk_rows = int(chunk_rows)
        self.flush_seconds = float(flush_seconds)
        self.n_rows = 0  # rows committed to the file (len(/time))
        self._file: h5py.File | None = None
        self._done = False
        self._datasets: list[tuple[h5py.Dataset, int, int, tuple[int, ...]]] = []
        self._dtypes: list[np.dtype] = []
        self._time_ds: h5py.Dataset | None = None
        self._kind_ds: h5py.Dataset | None = None
        self._n = 0  # rows in the buffer
        self._last_write = 0.0
        self._writer: _BackgroundWriter | None = None  # started by stepped_block
        self._n_columns = 0
        self._object_datasets: list[h5py.Dataset] = []
        self._orows: list[list] = []  # object values of the buffered rows, oldest first
        self._pending: list | None = None
        self._events: list[tuple[float, str, str, str]] = []
        self._termination: tuple[float, str, str] | None = None
        self._broken: ResultsError | None = None  # a write failed: write nothing more

    # -- observer protocol ------------------------------------------------------------

    def started(self, info: RunInfo) -> None:
        if self._file is not None or self._done:
            raise ResultsError("recorder already used for a run: create one per run",
                               path=str(self.path))
        self._validate(info)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A small chunk cache: rows are appended once, so old chunks are never
            # needed again (HDF5 2.0's default, 8 MiB per dataset, makes memory grow with
            # the run up to 8 MiB x signals); w0=1 evicts fully written chunks first.
            self._file = h5py.File(self.path, "w", libver=LIBVER, track_order=True,
                                   rdcc_nbytes=4 * 8 * self.chunk_rows, rdcc_w0=1.0)
            self._create_layout(info)
            self._file.swmr_mode = True
        except ResultsError:
            self._close_quietly()
            raise
        except (OSError, ValueError, TypeError, RuntimeError) as err:
            self._close_quietly()
            raise ResultsError(f"cannot create result file: {err}", path=str(self.path)) from err
        n = self._n_columns
        rows = max(1, min(self.chunk_rows, MAX_BUFFER_BYTES // (8 * (n + 1))))
        self._buf = np.empty((rows, n), dtype=np.float64)
        self._tbuf = np.empty(rows, dtype=np.float64)
        self._kbuf = np.empty(rows, dtype=np.int8)
        self._last_write = _time.monotonic()
        self._fd, self._size_limit = _size_limit(self._file)

    def stepped_objects(self, t: float, values: list) -> None:
        self._pending = list(values)

    def stepped(self, t: float, values: np.ndarray, kind: RowKind = RowKind.COMMUNICATION_POINT
                ) -> None:
        if self._object_datasets:
            self._orows.append(self._pending or [None] * len(self._object_datasets))
            self._pending = None
        if self._file is None:
            raise ResultsError("stepped() called outside a run (before started() or after "
                               "finished())", path=str(self.path))
        i = self._n
        try:
            self._buf[i] = values
        except ValueError as err:
            raise ResultsError(f"row at t={t:g} s has {np.shape(values)} values, expected "
                               f"{self._n_columns}", path=str(self.path)) from err
        self._tbuf[i] = t
        self._kbuf[i] = kind
        self._n = i + 1
        if self._n == len(self._tbuf) or _time.monotonic() - self._last_write >= self.flush_seconds:
            self._write()

    def event(self, t: float, kind: str, name: str, description: str) -> None:
        """Kept in memory; written as ``/events`` when the run ends (a killed run keeps
        its event rows, marked in ``/row_kind``, but not this table)."""
        self._events.append((float(t), kind, name, description))

    def terminated(self, t: float, node: str, description: str) -> None:
        """A node ended the simulation: the status becomes ``terminated`` (with
        ``terminated_by``, ``terminated_at`` [s] and the ``termination`` text)."""
        self._termination = (float(t), node, description)
        self._events.append((float(t), "stop", node, description))

    def finished(self, error: BaseException | None) -> None:
        if self._done:
            return
        self._done = True
        if self._file is None:
            return  # started() never succeeded: nothing recorded
        write_error: ResultsError | None = self._broken
        if write_error is None:
            try:
                self._write()
            except ResultsError as err:
                write_error = err
        if self._writer is not None:
            try:
                self._writer.close()
            except ResultsError as err:
                write_error = write_error or err
            self._writer = None
        if write_error is None:
            try:
                self._file.close()
            except (OSError, RuntimeError) as err:
                write_error = ResultsWriteError(f"cannot close result file: {_brief(err)}",
                                           path=str(self.path))
        if write_error is not None:  # nothing more may reach the file: mark it in place
            marking.abandon(self._file, self.path)
            self._file = None
            status, text = status_of(error if error is not None else write_error)
            with contextlib.suppress(ResultsError):  # the write error is what matters
                marking.mark(self.path, status, text)
            raise write_error
        self._file = None
        self._set_final_status(error)

    def _set_final_status(self, error: BaseException | None) -> None:
        status, text = status_of(error)
        try:
            f = h5py.File(self.path, "r+", libver=LIBVER)
        except (OSError, ValueError, RuntimeError) as err:
            raise ResultsError(f"cannot set the final status: {_brief(err)}",
                               path=str(self.path)) from None
        try:
            attrs = [("status", status), ("error", text), ("finished", utc_now()),
                     ("n_rows", np.int64(self.n_rows))]
            if error is None and self._termination is not None:
                ended = self._termination
                attrs[0] = ("status", TERMINATED)
                attrs += [("terminated_at", ended[0]), ("terminated_by", ended[1]),
                          ("termination", ended[2])]
            for key, value in attrs:
                marking.set_attr(f.attrs, key, value)
            self._write_events(f)
            f.close()
        except (OSError, ValueError, RuntimeError, KeyError) as err:
            marking.abandon(f, self.path)  # e.g. the disk filled up just now
            with contextlib.suppress(ResultsError):
                marking.mark(self.path, status, text)
            raise ResultsWriteError(f"cannot write the events table: {_brief(err)}",
                               path=str(self.path)) from None

    def _write_events(self, f: h5py.File) -> None:
        group = f.create_group("events", track_order=True)
        group.attrs["description"] = "events of the run: at [s], kind (scheduled, " \
            "monitor, fmu), name, description; each has a left and a right row"
        times = np.array([e[0] for e in self._events], dtype=np.float64)
        # "at", not "time": a "time" here would shadow the root dimension in netCDF readers
        group.create_dataset("at", data=times).attrs["units"] = "s"
        for k, key in enumerate(("kind", "name", "description"), start=1):
            group.create_dataset(key, data=[e[k] for e in self._events],
                                 dtype=h5py.string_dtype())

    # -- internals --------------------------------------------------------------------

    def _validate(self, info: RunInfo) -> None:
        seen: set[str] = set()
        for sig in info.signals:
            name = sig.name
            check_name(name, "signal", self.path)
            if name in seen or name in RESERVED:
                raise ResultsError(f"signal {name!r} recorded twice or reserved",
                                   path=str(self.path), dataset=name)
            if _dtype(sig.variable) is None:
                raise ResultsError(f"signal {name!r} is of kind {sig.variable.kind!r}: only "
                                   f"real, integer, boolean and string signals can be "
                                   f"recorded", path=str(self.path), dataset=name)
            seen.add(name)
        for name in info.parameters:
            check_name(name, "parameter", self.path)
        for key in info.meta:
            check_name(str(key), "meta key", self.path)

    def _series(self, name: str, dtype: Any, shape: tuple[int, ...] = (), **kwargs: Any
                ) -> h5py.Dataset:
        """A resizable dataset of rows (each row of ``shape``: arrays are 2-D or more)."""
        assert self._file is not None
        return self._file.create_dataset(
            name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
            chunks=(self.chunk_rows, *shape), compression="gzip",
            compression_opts=GZIP_LEVEL, shuffle=True, **kwargs)

    def _create_layout(self, info: RunInfo) -> None:
        f = self._file
        assert f is not None
        f.attrs.update({
            VERSION_ATTR: np.int64(LAYOUT_VERSION), "name": info.name,
            "start": float(info.start), "stop": float(info.stop), "step": float(info.step),
            "algorithm": info.algorithm, "created": utc_now(), "status": "running",
            "error": "", "finished": "", "n_rows": np.int64(-1),  # set when it ends
        })
        tds = self._series(TIME, np.float64, fillvalue=np.nan)  # padding shows as NaN
        tds.attrs["units"] = "s"
        tds.make_scale(TIME)
        self._time_ds = tds
        col = 0
        for sig in info.numeric_signals:
            var = sig.variable
            ds = self._series(sig.name, _dtype(var), var.shape)
            ds.dims[0].attach_scale(tds)
            ds.attrs.update(signal_attributes(sig))
            self._datasets.append((ds, col, col + var.size, var.shape))
            self._dtypes.append(ds.dtype)
            col += var.size
        self._n_columns = col
        for sig in info.object_signals:
            ds = self._series(sig.name, _dtype(sig.variable), sig.variable.shape)
            ds.dims[0].attach_scale(tds)
            ds.attrs.update(signal_attributes(sig))
            self._object_datasets.append(ds)
        kds = self._series(ROW_KIND, np.int8)
        kds.dims[0].attach_scale(tds)
        kds.attrs["description"] = "why each row was recorded: " + ", ".join(
            f"{k.value}={k.name.lower()}" for k in RowKind)
        self._kind_ds = kds
        params = f.create_group("parameters", track_order=True)
        for name, (value, unit) in info.parameters.items():
            ds = write_scalar(params, name, value)
            ds.attrs["units"] = unit or ""
        meta = f.create_group("meta", track_order=True)
        for key, value in info.meta.items():
            write_scalar(meta, str(key), value)

    def stepped_block(self, times: np.ndarray, values: np.ndarray) -> None:
        """Rows ``times`` (n,) and ``values`` (n, signals) at once, all communication points.

        Whole HDF5 chunks go to the file straight from the block (one write per dataset
        for the lot); a remainder waits in the row buffer as with :meth:`stepped`. From
        the first block on, writing (and compressing) happens on a background thread,
        in order; :meth:`finished` waits for it.
        """
        if self._file is None:
            raise ResultsError("stepped_block() called outside a run (before started() or "
                               "after finished())", path=str(self.path))
        if self._writer is None:
            self._writer = _BackgroundWriter(self._append)
        k = len(times)
        if np.shape(values) != (k, self._n_columns):
            raise ResultsError(f"a block of {k} rows has values of shape {np.shape(values)}, "
                               f"expected {(k, self._n_columns)}", path=str(self.path))
        size, pos = len(self._tbuf), 0
        while pos < k:
            if self._n == 0 and k - pos >= size:
                m = (k - pos) // size * size
                self._writer.submit(times[pos:pos + m], values[pos:pos + m], None)
                self._last_write = _time.monotonic()
                pos += m
                continue
            take = min(size - self._n, k - pos)
            i = self._n
            self._buf[i:i + take] = values[pos:pos + take]
            self._tbuf[i:i + take] = times[pos:pos + take]
            self._kbuf[i:i + take] = RowKind.COMMUNICATION_POINT
            self._n, pos = i + take, pos + take
            if self._n == size:
                self._write()
        if self._n and _time.monotonic() - self._last_write >= self.flush_seconds:
            self._write()

    def _write(self) -> None:
        """Append the buffered rows: signals first, then row_kind, then time; flush."""
        n = self._n
        self._last_write = _time.monotonic()
        if self._broken is not None:
            raise self._broken
        if n == 0 or self._file is None:
            return
        if self._writer is not None:
            self._writer.submit(self._tbuf[:n], self._buf[:n], self._kbuf[:n])
        else:
            self._append(self._tbuf[:n], self._buf[:n], self._kbuf[:n])
        self._n = 0

    def _append(self, times: np.ndarray, values: np.ndarray, kinds: np.ndarray | None
                ) -> None:
        """Write rows to the file (kinds None: communication points) and flush.

        ``/time`` is written last: it is the commit marker a reader of a crashed run's
        file goes by.
        """
        n = len(times)
        if self._size_limit is not None and n > self.chunk_rows:  # as much as fits
            for lo in range(0, n, self.chunk_rows):
                hi = lo + self.chunk_rows
                self._append(times[lo:hi], values[lo:hi], None if kinds is None else kinds[lo:hi])
            return
        old, new = self.n_rows, self.n_rows + n
        if kinds is None:
            kinds = np.full(n, RowKind.COMMUNICATION_POINT, dtype=np.int8)
        self._check_size_limit(n, old, new)
        columns = np.ascontiguousarray(np.transpose(values))
        try:
            for (ds, lo, hi, shape), dtype in zip(self._datasets, self._dtypes, strict=True):
                ds.resize((new, *shape))
                data = columns[lo] if not shape else columns[lo:hi].T.reshape(n, *shape)
                ds[old:new] = data if dtype == np.float64 else data.astype(dtype)
            objects = self._orows[:n]
            del self._orows[:n]
            for j, ds in enumerate(self._object_datasets):
                ds.resize((new, *ds.shape[1:]))
                blank = "" if ds.dtype.kind == "O" else 0  # a value never read
                ds[old:new] = [blank if row[j] is None else row[j] for row in objects]
            assert self._kind_ds is not None and self._time_ds is not None
            self._kind_ds.resize((new,))
            self._kind_ds[old:new] = kinds
            # the signals on disk before /time grows: HDF5 writes a flush's chunks in an
            # order of its own, so a disk filling up mid-flush could keep /time's and
            # lose a signal's
            self._file.flush()
            self._time_ds.resize((new,))
            self._time_ds[old:new] = times
            self._file.flush()
        except (OSError, ValueError, RuntimeError) as err:
            self._broken = ResultsWriteError(
                f"cannot write rows {old}..{new - 1}: {_brief(err)}", path=str(self.path))
            raise self._broken from None
        self.n_rows = new

    def _check_size_limit(self, n: int, old: int, new: int) -> None:
        """Refuse a write that could take the file past the process's file-size limit
        (``ulimit -f``): HDF5 cannot close a file it failed to extend (it crashes at
        exit), so the limit is treated as a full disk *before* HDF5 meets it."""
        if self._size_limit is None:
            return
        worst = n * 8 * (self._n_columns + len(self._object_datasets) + 2) + SIZE_LIMIT_MARGIN
        if os.fstat(self._fd).st_size + worst > self._size_limit:
            self._broken = ResultsWriteError(
                f"cannot write rows {old}..{new - 1}: File too large: the file would pass "
                f"this process's file-size limit (ulimit -f) of {self._size_limit} bytes",
                path=str(self.path))
            raise self._broken

    def _close_quietly(self) -> None:
        if self._file is not None:
            with contextlib.suppress(Exception):  # already failing: keep the first error
                self._file.close()
            self._file = None
