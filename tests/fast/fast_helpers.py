"""Helpers for the compiled-loop tests: run both loops, compare results bit for bit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

import cosim
import cosim.fast


@contextlib.contextmanager
def compiled_loops() -> Iterator[list]:
    """Collect what ``compile_loop`` returns during the block (None: the Python loop)."""
    original = cosim.fast.compile_loop
    seen: list = []

    def spy(sim):
        loop = original(sim)
        seen.append(loop)
        return loop

    cosim.fast.compile_loop = spy
    try:
        yield seen
    finally:
        cosim.fast.compile_loop = original


def bits(a) -> bytes:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes()


def assert_same_frames(a, b) -> None:
    assert list(a.columns) == list(b.columns)
    assert bits(a.index.to_numpy()) == bits(b.index.to_numpy())
    assert a.shape == b.shape
    for col in a.columns:
        assert bits(a[col].to_numpy()) == bits(b[col].to_numpy()), col


def h5_contents(path: Path) -> dict:
    out = {}
    with h5py.File(path, "r") as f:
        for key in ("status", "error", "n_rows"):
            out[key] = f.attrs[key]
        for name, ds in f.items():
            if isinstance(ds, h5py.Dataset):
                out[name] = (ds.dtype.str, ds[()].tobytes())
    return out


def python_nodes(loop) -> set[str]:
    """The nodes a compiled loop calls back into Python for."""
    return {loop.system.names[i] for i in loop.python_nodes}


def run_both(topology, tmp_path: Path | None = None, *, expect_fast: bool = True,
             python: set[str] | None = None, **kwargs):
    """(Python-loop result, compiled-loop result); HDF5 files compared when tmp_path.
    ``python``: the nodes the compiled loop must run in Python (default: none)."""
    outputs = {}
    results = []
    for fast in (False, True):
        kw = dict(kwargs)
        if tmp_path is not None:
            outputs[fast] = tmp_path / f"{'fast' if fast else 'python'}.h5"
            kw["output"] = outputs[fast]
        with compiled_loops() as seen:
            results.append(cosim.run(topology, fast=fast, **kw))
        if fast:
            assert (seen and seen[0] is not None) == expect_fast, seen
            if expect_fast:
                assert python_nodes(seen[0]) == (python or set())
    assert_same_frames(results[0].df, results[1].df)
    if tmp_path is not None:
        assert h5_contents(outputs[False]) == h5_contents(outputs[True])
    return results[0], results[1]


def run_failing(topology, tmp_path: Path, **kwargs):
    """Run both loops expecting an error: ((error, h5 contents), ...) per loop."""
    found = []
    for fast in (False, True):
        out = tmp_path / f"{'fast' if fast else 'python'}.h5"
        with compiled_loops() as seen:
            try:
                cosim.run(topology, fast=fast, output=out, **kwargs)
            except cosim.CosimError as err:
                found.append((err, h5_contents(out)))
            else:
                raise AssertionError(f"no error (fast={fast})")
        if fast:
            assert seen and seen[0] is not None
    return found
