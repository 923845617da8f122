"""The journal of evaluations inside the calibration file, written as they finish.

::

    /                           attrs: cosim_calibration_version = 1, name, created,
                                       status (running | completed | failed |
                                       interrupted), identity (SHA-256 of the
                                       calibration, topology, telemetry, grid)
    /evaluations/id             int64 [m]      the commit marker: a row exists once
                                               this has it
    /evaluations/stage          string [m]     start, step, jacobian, multistart, de,
                                               mcmc, profile
    /evaluations/values         float64 [m, p] parameter values (model units)
    /evaluations/cost           float64 [m]    half the sum of squared whitened
                                               residuals (NaN: failed)
    /evaluations/status         string [m]     completed | failed
    /evaluations/error          string [m]
    /evaluations/wall_time      float64 [m]    s on the worker
    /evaluations/worker         string [m]
    /evaluations/row            int64 [m]      row of its predictions, -1 if not kept
    /evaluations/predictions    float64 [k, S, n]  model values of the fitted signals
                                               on the grid (stages that keep them)

As in a study file, datasets are created first, then the file switches to SWMR mode;
finished batches are appended (columns first, ``id`` last) and flushed at most every
``flush_seconds`` (default 1 s; 0: each batch), so after a crash every batch before the
last flush is readable. Resuming reads the rows, writes
them into a fresh file (beside it, then moved over it) and continues there.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

from ..errors import ConfigError, ResultsError
from ..results.layout import LIBVER, utc_now
from ..studies.worker import COMPLETED
from .evaluate import KEEP_PREDICTIONS, Evaluation

CALIBRATION_VERSION = 1
STR = h5py.string_dtype()
_COLUMNS = {"stage": STR, "cost": np.float64, "status": STR, "error": STR,
            "wall_time": np.float64, "worker": STR, "row": np.int64}


class Journal:
    """Appends batches of evaluations to ``path`` (see the module docstring)."""

    def __init__(self, path: str | Path, name: str, identity: str, p: int,
                 shape: tuple[int, int], *, resume: bool = False, overwrite: bool = False,
                 flush_seconds: float = 1.0):
        self.path = Path(path)
        self.p, self.shape = p, shape
        self.flush_seconds = float(flush_seconds)
        self._pending: list[Evaluation] = []
        self._last = time.monotonic()
        self.previous: list[Evaluation] = []
        if self.path.exists():
            if resume:
                self.previous = read_journal(self.path, identity)
            elif not overwrite:
                raise ConfigError(f"{self.path} exists: add --resume to continue that "
                                  "calibration, or --overwrite to start it again",
                                  file=str(self.path))
        self.file: h5py.File | None = None
        self.rows = self.kept = 0
        self._create(name, identity)
        if self.previous:  # one write per column: kept predictions are the ones present
            self._append_rows(self.previous)

    def _create(self, name: str, identity: str) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with h5py.File(tmp, "w", libver=LIBVER, track_order=True) as f:
                f.attrs.update({"cosim_calibration_version": np.int64(CALIBRATION_VERSION),
                                "name": name, "created": utc_now(), "status": "running",
                                "identity": identity})
                g = f.create_group("evaluations", track_order=True)
                g.create_dataset("id", shape=(0,), maxshape=(None,), dtype=np.int64,
                                 chunks=(256,))
                for col, dtype in _COLUMNS.items():
                    g.create_dataset(col, shape=(0,), maxshape=(None,), dtype=dtype,
                                     chunks=(256,))
                g.create_dataset("values", shape=(0, self.p), maxshape=(None, self.p),
                                 dtype=np.float64, chunks=(256, self.p))
                s, n = self.shape
                g.create_dataset("predictions", shape=(0, s, n), maxshape=(None, s, n),
                                 dtype=np.float64, chunks=(1, s, n), compression="gzip",
                                 compression_opts=1, shuffle=True)
                g["cost"].attrs["description"] = ("half the sum of squared whitened "
                                                  "residuals (with priors)")
                g["wall_time"].attrs["units"] = "s"
            self.file = h5py.File(tmp, "r+", libver=LIBVER)
            self.file.swmr_mode = True
            os.replace(tmp, self.path)
        except (OSError, ValueError, RuntimeError, TypeError) as err:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise ResultsError(f"cannot create the calibration file: {err}",
                               path=str(self.path)) from err

    def append(self, batch: list[Evaluation], keep: bool) -> None:
        """Take a finished batch; write and flush what is pending once
        ``flush_seconds`` have passed since the last flush (0: at once)."""
        if keep:  # predictions are dropped from the batch after this call: copy them
            batch = [replace(e, predictions=e.predictions) for e in batch]
        else:
            batch = [replace(e, predictions=None) for e in batch]
        self._pending.extend(batch)
        if time.monotonic() - self._last >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        pending, self._pending = self._pending, []
        try:
            if pending:  # every pending batch in one write per column (MCMC: many small)
                self._append_rows(pending, flush=False)
                self.file.flush()
        except (OSError, ValueError, RuntimeError, TypeError) as err:
            raise ResultsError(f"cannot write evaluations: {err}", path=str(self.path)) \
                from err

    def _append_rows(self, batch: list[Evaluation], flush: bool = True) -> None:
        """Append ``batch`` (its predictions stored where an evaluation has them: ``append``
        drops those of batches not kept)."""
        g = self.file["evaluations"]
        old, new = self.rows, self.rows + len(batch)
        rows = []
        stored = [e for e in batch if e.predictions is not None]
        if stored:
            ds = g["predictions"]
            ds.resize((self.kept + len(stored), *self.shape))
            ds[self.kept:self.kept + len(stored)] = np.stack([e.predictions for e in stored])
        k = self.kept
        for e in batch:
            if e.predictions is not None:
                rows.append(k)
                k += 1
            else:
                rows.append(-1)
        self.kept = k
        columns = {"stage": [e.stage for e in batch], "cost": [e.cost for e in batch],
                   "status": [e.status for e in batch], "error": [e.error for e in batch],
                   "wall_time": [e.wall_time for e in batch],
                   "worker": [e.worker for e in batch], "row": rows}
        for name, values in columns.items():
            ds = g[name]
            ds.resize((new,))
            ds[old:new] = np.array(values, dtype=object) if ds.dtype.kind == "O" else values
        ds = g["values"]
        ds.resize((new, self.p))
        ds[old:new] = np.stack([e.values for e in batch])
        g["id"].resize((new,))
        g["id"][old:new] = [e.id for e in batch]  # commit
        if flush:
            self.file.flush()
        self.rows = new

    def close(self) -> None:
        if self.file is not None:
            with contextlib.suppress(ResultsError):
                self.flush()
            with contextlib.suppress(Exception):
                self.file.close()
            self.file = None


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def read_journal(path: str | Path, identity: str | None = None) -> list[Evaluation]:
    """The committed rows of a calibration file's journal (checking its identity)."""
    p = Path(path)
    try:
        with h5py.File(p, "r", swmr=True) as f:
            if "cosim_calibration_version" not in f.attrs:
                raise ConfigError(f"{p} is not a calibration file (no "
                                  "cosim_calibration_version); choose another -o",
                                  file=str(p))
            if identity is not None and f.attrs.get("identity") != identity:
                raise ConfigError(f"{p} holds evaluations of a different calibration (the "
                                  "calibration file, topology, FMUs or telemetry changed); "
                                  "use --overwrite to start again", file=str(p))
            return _rows(f["evaluations"])
    except ConfigError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise ResultsError(f"cannot read the evaluations to resume: {err}",
                           path=str(p)) from err


def _rows(g: h5py.Group) -> list[Evaluation]:
    m = len(g["id"])
    ids = g["id"][:m]
    cols = {c: g[c][:m] for c in _COLUMNS}
    values = g["values"][:m]
    preds = g["predictions"]
    out = []
    for i in range(m):
        row = int(cols["row"][i])
        e = Evaluation(int(ids[i]), values[i].astype(np.float64),
                       _text([cols["stage"][i]])[0], _text([cols["status"][i]])[0],
                       _text([cols["error"][i]])[0],
                       predictions=preds[row].astype(np.float64) if row >= 0 and row <
                       preds.shape[0] else None, cost=float(cols["cost"][i]),
                       wall_time=float(cols["wall_time"][i]),
                       worker=_text([cols["worker"][i]])[0])
        if e.status == COMPLETED and e.predictions is None and e.stage in KEEP_PREDICTIONS:
            continue  # its predictions were not flushed: run it again
        out.append(e)
    return out
