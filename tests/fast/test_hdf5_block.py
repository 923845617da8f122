"""HDF5Recorder.stepped_block: the same file as row-by-row ``stepped``, whatever the block
sizes and however blocks and single rows mix; errors reported, never a hang."""

from __future__ import annotations

import numpy as np
import pytest
from fast_helpers import h5_contents

from cosim.errors import ResultsError
from cosim.observers.base import RowKind, RunInfo, Signal
from cosim.observers.hdf5 import HDF5Recorder
from cosim.variables import Variable

N = 23_456


def _info() -> RunInfo:
    signals = [Signal("a", Variable("x", "output", unit="m")),
               Signal("a", Variable("n", "output", kind="integer")),
               Signal("b", Variable("on", "output", kind="boolean")),
               Signal("b", Variable("y", "output"))]
    return RunInfo(name="blocks", signals=signals, start=0.0, stop=N * 1e-3, step=1e-3,
                   algorithm="jacobi", n_steps=N)


def _rows() -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(N) * 1e-3
    values = np.column_stack([np.sin(t), np.floor(10 * t), (np.cos(t) > 0) * 1.0,
                              np.where(t > 7.0, np.nan, np.exp(-t))])
    return t, values


def _record(path, pattern: list[int], chunk_rows: int = 1000) -> dict:
    """Rows in blocks of the sizes in ``pattern`` (cycled); 0 means one ``stepped`` row."""
    t, values = _rows()
    rec = HDF5Recorder(path, chunk_rows=chunk_rows)
    rec.started(_info())
    pos, k = 0, 0
    while pos < N:
        size = pattern[k % len(pattern)]
        k += 1
        if size == 0:
            rec.stepped(float(t[pos]), values[pos], RowKind.COMMUNICATION_POINT)
            pos += 1
            continue
        end = min(N, pos + size)
        block = values[pos:end].copy()
        block.flags.writeable = False
        rec.stepped_block(t[pos:end], block)
        pos = end
    rec.finished(None)
    return h5_contents(path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return _record(tmp_path_factory.mktemp("ref") / "rows.h5", [0])


@pytest.mark.parametrize("pattern", [[N], [1], [999, 1000, 1001], [0, 0, 5000, 0, 37],
                                     [65536], [3000, 0, 2000]])
def test_blocks_write_the_same_file_as_rows(pattern, reference, tmp_path):
    assert _record(tmp_path / "blocks.h5", pattern) == reference


def test_wrong_shape_and_outside_a_run(tmp_path):
    rec = HDF5Recorder(tmp_path / "x.h5")
    t, values = _rows()
    with pytest.raises(ResultsError, match="outside a run"):
        rec.stepped_block(t[:3], values[:3])
    rec.started(_info())
    with pytest.raises(ResultsError, match="shape"):
        rec.stepped_block(t[:3], values[:3, :2])
    rec.finished(None)
    with pytest.raises(ResultsError, match="outside a run"):
        rec.stepped_block(t[:3], values[:3])


def test_write_failure_is_reported_and_the_file_stays_readable(tmp_path, monkeypatch):
    rec = HDF5Recorder(tmp_path / "x.h5", chunk_rows=100)
    rec.started(_info())
    t, values = _rows()
    rec.stepped_block(t[:1000], values[:1000])
    rec._writer.close()  # let the first rows land  # noqa: SLF001
    rec._writer = None  # noqa: SLF001

    def broken(*args):
        raise ResultsError("disk full (simulated)")

    monkeypatch.setattr(rec, "_append", broken)
    with pytest.raises(ResultsError, match="disk full"):
        for k in range(10):  # the failure surfaces at a later block
            lo, hi = 1000 + 100 * k, 1100 + 100 * k
            rec.stepped_block(t[lo:hi], values[lo:hi])
    with pytest.raises(ResultsError, match="disk full"):
        rec.finished(None)
    contents = h5_contents(tmp_path / "x.h5")
    assert contents["n_rows"] == 1000 and contents["status"] == "failed"
