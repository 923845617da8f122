"""Helpers for the results tests: a RunInfo with signals of every kind, analytic rows."""

from __future__ import annotations

import numpy as np

from cosim.observers.base import RowKind, RunInfo, Signal
from cosim.observers.hdf5 import HDF5Recorder
from cosim.variables import Variable

N_ROWS = 10_000
DT = 0.01


def make_info(name: str = "roundtrip") -> RunInfo:
    # Deliberately not in alphabetical order: the file must keep this order.
    signals = [
        Signal("rack2", Variable("T_cpu", "output", unit="K", nominal=300.0,
                                 fmi_type="Float64", description="CPU temperature")),
        Signal("rack1", Variable("T_cpu", "output", unit="K", nominal=300.0,
                                 fmi_type="Float64")),
        Signal("rack1", Variable("P", "output", unit="W", fmi_type="Real")),
        Signal("ctrl", Variable("stage", "output", kind="integer", fmi_type="Int32")),
        Signal("ctrl", Variable("on", "output", kind="boolean", fmi_type="Boolean")),
        Signal("ctrl", Variable("u", "input")),  # no unit, no FMI type
    ]
    return RunInfo(
        name=name, signals=signals, start=0.0, stop=N_ROWS * DT, step=DT,
        algorithm="jacobi", n_steps=N_ROWS,
        parameters={"rack1.R": (0.25, "K/W"), "rack1.n": (4, None),
                    "ctrl.mode": ("auto", None), "ctrl.enabled": (True, None)},
        meta={"topology": {"nodes": [{"id": "rack1"}, {"id": "ctrl"}], "links": []},
              "fmus": ["a.fmu", "b.fmu"], "cosim_version": "0.1.0", "seed": 42},
    )


def expected_rows(n: int = N_ROWS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analytic rows: (t, values[n, 6], row_kind), with an event pair (repeated time)."""
    i = np.arange(n)
    t = i * DT
    kinds = np.zeros(n, dtype=np.int8)
    if n > 5001:
        t[5001] = t[5000]  # an event: left and right limit at the same time
        kinds[5000], kinds[5001] = RowKind.EVENT_BEFORE, RowKind.EVENT_AFTER
    values = np.column_stack([
        300.0 + 10.0 * np.sin(t), 300.0 + 5.0 * np.cos(3.0 * t), 1e3 * np.exp(-t / 50.0),
        np.floor(t), (np.sin(t) > 0).astype(float), np.tan(t / 200.0),
    ])
    return t, values, kinds


def record(path, info: RunInfo | None = None, n: int = N_ROWS, *, error=None,
           **kwargs) -> HDF5Recorder:
    info = info or make_info()
    t, values, kinds = expected_rows(n)
    rec = HDF5Recorder(path, **kwargs)
    rec.started(info)
    buf = np.empty(values.shape[1])  # like the master: one buffer, a read-only view
    view = buf.view()
    view.flags.writeable = False
    for k in range(n):
        buf[:] = values[k]
        rec.stepped(float(t[k]), view, RowKind(int(kinds[k])))
    rec.finished(error)
    return rec
