"""Generate the flagship's synthetic telemetry: 24 h at 1-minute resolution, seeded.

Run ``python topologies/calibration/make_telemetry.py`` (from the repository root, with
the FMUs built). It runs the datacenter twin (``topologies/datacenter.yaml``) with the
true parameters below — the same in every rack — records what a building management
system would measure, adds measurement noise, and writes

* ``data/telemetry.csv``: ISO 8601 timestamps (UTC, from 2026-06-01T00:00:00Z) and ten
  columns, each with its unit in the header: ``T_cpu_1..4 [degC]``, ``T_out_1..4
  [degC]``, ``T_supply [degC]`` (temperatures, noise σ_T = 0.2 K) and ``P_el [kW]``
  (the cooler's electrical power, noise 1 % of the value);
* ``data/telemetry_biased.csv``: the same with a planted +1 K sensor bias on
  ``T_cpu_2`` (a failing validation: ``tests/validation/test_flagship_validation.py``).

``telemetry.yaml`` maps the columns to the model's signals. The true parameters are
also in ``datacenter_true.yaml`` (the twin as a perfect calibration would leave it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = 20260601
ORIGIN = np.datetime64("2026-06-01T00:00:00")
#: The true parameters: the racks' shared C_cpu, G_cpu, C_air; the cooler's tau,
#: m_flow_nominal and COP (model defaults: 4e5 J/K, 500 W/K, 2e4 J/K, 120 s, 4 kg/s, 3.5).
TRUE = {"C_cpu": 3.2e5, "G_cpu": 560.0, "C_air": 2.6e4,
        "tau": 150.0, "m_flow_nominal": 4.4, "COP": 3.1}
RACK_PARAMETERS = ("C_cpu", "G_cpu", "C_air")
COOLER_PARAMETERS = ("tau", "m_flow_nominal", "COP")
SIGMA_T = 0.2          # K
POWER_NOISE = 0.01     # relative
BIAS = {"T_cpu_2": 1.0}  # K, in the biased copy
#: column -> (model signal, unit of the column)
COLUMNS = {**{f"T_cpu_{i}": (f"rack{i}.T_cpu", "degC") for i in range(1, 5)},
           **{f"T_out_{i}": (f"rack{i}.T_out", "degC") for i in range(1, 5)},
           "T_supply": ("cooler.T_supply", "degC"), "P_el": ("cooler.P_el", "kW")}


def true_overrides() -> dict[str, float]:
    """``node.parameter`` overrides that make the flagship the true system."""
    out = {f"rack{i}.{p}": TRUE[p] for i in range(1, 5) for p in RACK_PARAMETERS}
    out.update({f"cooler.{p}": TRUE[p] for p in COOLER_PARAMETERS})
    return out


def simulate():
    import cosim
    return cosim.run(ROOT / "topologies" / "datacenter.yaml",
                     parameters=true_overrides()).df


def measure(df, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """What the sensors read: temperatures in degC with σ_T, power in kW with 1 %."""
    out = {}
    for column, (signal, unit) in COLUMNS.items():
        y = df[signal].to_numpy(dtype=np.float64)
        if unit == "degC":
            out[column] = y - 273.15 + SIGMA_T * rng.standard_normal(y.size)
        else:
            out[column] = y / 1000.0 * (1.0 + POWER_NOISE * rng.standard_normal(y.size))
    return out


def write_csv(path: Path, t: np.ndarray, columns: dict[str, np.ndarray]) -> None:
    stamps = (ORIGIN + (t * 1000).astype("timedelta64[ms]")).astype("datetime64[s]")
    head = "timestamp," + ",".join(f"{c} [{COLUMNS[c][1]}]" for c in columns)
    lines = [head]
    for k in range(t.size):
        values = ",".join(f"{columns[c][k]:.3f}" if COLUMNS[c][1] == "degC"
                          else f"{columns[c][k]:.4f}" for c in columns)
        lines.append(f"{stamps[k]}Z,{values}")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    df = simulate()
    t = df.index.to_numpy(dtype=np.float64)
    measured = measure(df, np.random.default_rng(SEED))
    write_csv(HERE / "data" / "telemetry.csv", t, measured)
    biased = {c: v + BIAS.get(c, 0.0) for c, v in measured.items()}
    write_csv(HERE / "data" / "telemetry_biased.csv", t, biased)
    print(f"wrote {len(t)} rows to data/telemetry.csv and data/telemetry_biased.csv")


if __name__ == "__main__":
    main()
