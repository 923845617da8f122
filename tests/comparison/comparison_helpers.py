"""Helpers for the comparison tests: tiny cosim result files, a naive tube, signals."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from cosim.cli.main import main


def write_h5(path: Path, t, signals: dict, *, kinds: dict | None = None,
             nominal: dict | None = None, chunk: int = 64, algorithm: str = "jacobi") -> Path:
    """A result file in cosim's layout (version 1) with the given columns."""
    kinds, nominal = kinds or {}, nominal or {}
    t = np.asarray(t, dtype=np.float64)
    with h5py.File(path, "w", libver=("v110", "v110"), track_order=True) as f:
        f.attrs.update({"cosim_layout_version": 1, "name": "test", "status": "completed",
                        "error": "", "algorithm": algorithm, "start": float(t[0]) if len(t)
                        else 0.0, "stop": float(t[-1]) if len(t) else 0.0})
        kw = {"chunks": (chunk,), "maxshape": (None,), "compression": "gzip", "shuffle": True}
        tds = f.create_dataset("time", data=t, **kw)
        tds.make_scale("time")
        for name, y in signals.items():
            kind = kinds.get(name, "real")
            dtype = {"real": np.float64, "integer": np.int64, "boolean": np.int8}[kind]
            ds = f.create_dataset(name, data=np.asarray(y).astype(dtype), **kw)
            ds.attrs.update({"kind": kind, "units": ""})
            if name in nominal:
                ds.attrs["nominal"] = float(nominal[name])
            ds.dims[0].attach_scale(tds)
        f.create_dataset("row_kind", data=np.zeros(len(t), dtype=np.int8), **kw)
        f.create_group("meta").create_dataset("algorithm", data='{"name": "jacobi"}')
    return path


def frame(t, **signals) -> pd.DataFrame:
    return pd.DataFrame(signals, index=pd.Index(np.asarray(t, dtype=float), name="time"))


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def naive_bounds(tr, yr, t, x, y, points: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """The tube by brute force: sample the linearly joined reference densely on each window.

    Deliberately independent of cosim.comparison: no closed form, no searchsorted; every
    segment between two distinct reference times is evaluated at every sample point it
    covers. At an event (repeated time) the vertical jump is approached from both sides.
    """
    tr, yr = np.asarray(tr, float), np.asarray(yr, float)
    lo, hi = np.empty(len(t)), np.empty(len(t))
    for i, ti in enumerate(t):
        a, b = max(ti - x, tr[0]), min(ti + x, tr[-1])
        s = np.linspace(a, b, points) if b > a else np.array([a])
        vals = []
        for j in range(len(tr) - 1):
            t0, t1 = tr[j], tr[j + 1]
            if t1 <= t0:
                continue
            inside = s[(s >= t0) & (s <= t1)]
            vals.append(yr[j] + (inside - t0) / (t1 - t0) * (yr[j + 1] - yr[j]))
        v = np.concatenate(vals) if vals else yr[:1]
        lo[i], hi[i] = v.min() - y, v.max() + y
    return lo, hi


def reference_signal(times, values, events) -> tuple[np.ndarray, np.ndarray]:
    """A reference with jumps: at each index in ``events`` the time repeats with a new value."""
    t, y = list(times), list(values)
    for k, jump in sorted(events, reverse=True):
        t.insert(k + 1, t[k])
        y.insert(k + 1, y[k] + jump)
    return np.asarray(t, float), np.asarray(y, float)
