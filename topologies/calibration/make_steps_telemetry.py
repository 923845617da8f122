"""Generate the step-test day's synthetic data (what the calibration fits), seeded.

Run ``python topologies/calibration/make_steps_telemetry.py`` from the repository root
with the FMUs built. With the true parameters of ``make_telemetry.py`` (``TRUE``: the
racks' shared C_cpu = 3.2e5 J/K, G_cpu = 560 W/K, C_air = 2.6e4 J/K; the cooler's
tau = 150 s, m_flow_nominal = 4.4 kg/s, COP = 3.1) it

1. runs the closed-loop flagship (``../datacenter.yaml``, the fan PID holding the
   hottest CPU at 50 degC) with the step test's supply set points
   (``datacenter_steps.yaml``'s events) and logs the fan command every minute:
   ``data/fan_steps.csv`` (column ``u``, held until the next minute);
2. runs the plant replaying that log (``datacenter_steps.yaml``), measures what
   ``make_telemetry.py`` measures with the same noise (σ_T = 0.2 K on every
   temperature, 1 % of the value on the electrical power, a fresh seed) and writes
   ``data/telemetry_steps.csv`` (24 h, 1-minute samples, ISO timestamps, degC and kW).

At a set-point change a run records the values before and after it; the data hold the
values after (as the calibration reads a run). ``telemetry_steps.yaml`` maps the
columns; ``calibrate.yaml`` recovers the true parameters.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_telemetry import ROOT, SEED, measure, true_overrides, write_csv  # noqa: E402

#: Another day, another draw of the noise.
STEPS_SEED = SEED + 1


def _minutes(df):
    return df[~df.index.duplicated(keep="last")]


def fan_log() -> tuple[np.ndarray, np.ndarray]:
    """The closed loop with the step test's set points: the fan command per minute."""
    import cosim
    topo = cosim.load(ROOT / "topologies" / "datacenter.yaml")
    steps = yaml.safe_load((HERE / "datacenter_steps.yaml").read_text())["events"]
    for event in steps:
        topo.add_event(**event)
    df = _minutes(cosim.run(topo, parameters=true_overrides(), progress=False).df)
    return df.index.to_numpy(dtype=np.float64), df["fan_ctrl.u"].to_numpy()


def simulate():
    """The plant replaying the fan log, with the true parameters: one row per minute."""
    import cosim
    return _minutes(cosim.run(HERE / "datacenter_steps.yaml", parameters=true_overrides(),
                              progress=False).df)


def main() -> None:
    t, u = fan_log()
    lines = ["time,u"] + [f"{a:g},{float(b)!r}" for a, b in zip(t, u, strict=True)]
    (HERE / "data" / "fan_steps.csv").write_text("\n".join(lines) + "\n")
    df = simulate()
    t = df.index.to_numpy(dtype=np.float64)
    measured = measure(df, np.random.default_rng(STEPS_SEED))
    write_csv(HERE / "data" / "telemetry_steps.csv", t, measured)
    print(f"wrote {len(t)} rows to data/fan_steps.csv and data/telemetry_steps.csv")


if __name__ == "__main__":
    main()
