"""Generate ``it_load.csv``: 24 h of IT load telemetry for four racks at 1-minute
resolution, reproducibly (fixed seed). Run ``python topologies/data/make_it_load.py``.

Each rack follows a daily cycle (low at night, peak mid-afternoon) around its own mean,
plus AR(1) noise and a batch job on rack3 between 13:00 and 16:00. Units: W.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20261125
RACKS = {"rack1": 7000.0, "rack2": 8000.0, "rack3": 6500.0, "rack4": 9000.0}
OUT = Path(__file__).with_name("it_load.csv")


def make() -> str:
    rng = np.random.default_rng(SEED)
    t = np.arange(0, 24 * 3600 + 1, 60.0)
    hours = t / 3600.0
    daily = 0.5 * (1 - np.cos(2 * np.pi * (hours - 3.0) / 24.0))  # 0 at 03:00, 1 at 15:00
    columns = {"time": t}
    for i, (name, mean) in enumerate(RACKS.items()):
        noise = np.zeros_like(t)
        shocks = rng.normal(0.0, 150.0, t.size)
        for k in range(1, t.size):
            noise[k] = 0.95 * noise[k - 1] + shocks[k]
        load = mean * (0.7 + 0.45 * daily) + noise
        if name == "rack3":
            load += np.where((hours >= 13) & (hours < 16), 3500.0, 0.0)
        columns[name] = np.clip(load, 500.0 + 100 * i, None)
    lines = ["time," + ",".join(RACKS)]
    for k in range(t.size):
        lines.append(f"{t[k]:.0f}," + ",".join(f"{columns[r][k]:.1f}" for r in RACKS))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.write_text(make())
    print(f"wrote {OUT}")
