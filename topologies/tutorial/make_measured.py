"""Generate ``measured.csv``, the tutorial's "measurements" (docs/tutorial.md): what
sensors on the real rack would have logged over the day, every 5 minutes, in degC.

They are synthetic, and say so: the Rack FMU with the heat capacity and conductance of
the "real" rack (which differ a little from the supplier's values in ``rack.yaml``), the
same IT load and supply air, plus sensor noise (0.15 K, fixed seed). Run
``python topologies/tutorial/make_measured.py`` from the repository root.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import cosim

HERE = Path(__file__).resolve().parent
TRUE = {"rack.C_cpu": 4.15e5, "rack.G_cpu": 508.0}  # the real rack
NOISE_K = 0.15
SEED = 20261201


def make() -> str:
    run = cosim.run(HERE / "rack.yaml", parameters=TRUE)
    df = run.df[~run.df.index.duplicated()].iloc[::5]  # every 5 min
    rng = np.random.default_rng(SEED)
    lines = ["time,rack.T_cpu [degC],rack.T_out [degC]"]
    for t, cpu, out in zip(df.index, df["rack.T_cpu"], df["rack.T_out"], strict=True):
        noisy = [v - 273.15 + rng.normal(0.0, NOISE_K) for v in (cpu, out)]
        lines.append(f"{t:g},{noisy[0]:.2f},{noisy[1]:.2f}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (HERE / "measured.csv").write_text(make())
