"""Native blocks beyond the first built-ins: the ``table`` replay (every interpolation,
hold and error outside the range, jumps, repeated and off-grid times) and user blocks
with a compiled step (CStep): bit-identical to their Python steps, in runs (DataFrame
and HDF5 file) and alone (check_step); the flagship twin runs wholly natively."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from fast_helpers import run_both

import cosim
from cosim import Block, Param, Port
from cosim.blocks import CStep, check_step
from cosim.errors import SubsystemError
from tests.conftest import TOPOLOGIES as TOPOLOGY_DIR

ALGORITHMS = ("gauss-seidel", "jacobi")


def _csv(tmp_path, rows) -> str:
    path = tmp_path / "series.csv"
    lines = ["time,a,b"] + [f"{t!r},{a!r},{b!r}" for t, a, b in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _rows():
    rng = np.random.default_rng(7)
    t = np.round(np.cumsum(rng.uniform(0.003, 0.05, 60)) + 0.02, 6)
    t[20] = t[19]  # a jump: two rows at one time (the later applies)
    t[41] = t[40] = t[39]
    return [(float(ti), float(a), float(b)) for ti, a, b in
            zip(t, rng.normal(size=60) * 1e3, rng.uniform(-1, 1, 60), strict=True)]


def _table_topology(fmu, file: str, **table) -> cosim.Topology:
    topo = cosim.Topology("table", stop=2.0, step=0.007)
    topo.add_block("series", "table", parameters={"file": file, **table})
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 0.5, "b": 0.25})
    topo.add_fmu("d", fmu("Decay", 3), parameters={"k": 2.0, "x0": 0.0})
    topo.connect("series.a", "g.u", gain=1e-3)
    topo.connect("series.b", "d.u")
    return topo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("interpolation", ["linear", "previous", "nearest"])
def test_table_replay(interpolation, algorithm, fmu, tmp_path):
    file = _csv(tmp_path, _rows())
    topo = _table_topology(fmu, file, interpolation=interpolation, scale=1.5,
                           time_scale=1.0)
    _, fast = run_both(topo, tmp_path, algorithm=algorithm)
    # independent check of the replay: numpy's interp for the linear case, inside the range
    if interpolation == "linear":
        rows = np.array(_rows())
        t = fast.df.index.to_numpy()
        inside = (t > rows[0, 0]) & (t < rows[-1, 0]) & ~np.isin(np.round(t, 9), rows[:, 0])
        want = np.interp(t[inside], rows[:, 0], rows[:, 2]) * 1.5
        np.testing.assert_allclose(fast.df["series.b"].to_numpy()[inside], want, rtol=1e-12)


def test_table_in_minutes_with_few_rows(fmu, tmp_path):
    file = _csv(tmp_path, [(0.0, 1.0, -1.0), (0.01, 3.0, 2.0), (0.02, -5.0, 0.5)])
    topo = _table_topology(fmu, file, time_scale=60.0)
    topo.run.stop = 1.5
    run_both(topo, tmp_path)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_table_outside_its_range_with_extrapolation_error(algorithm, fmu, tmp_path,
                                                          monkeypatch):
    file = _csv(tmp_path, _rows())
    topo = _table_topology(fmu, file, extrapolation="error")
    topo.run.start = 0.06
    problems = [p.message for p in topo.check().problems]
    assert len(problems) == 1 and "(extrapolation: error), but the run goes from 0.06" \
        in problems[0]  # cosim check refuses it; behind it, the step itself still does:
    from cosim.blocks.table import TimeTable
    monkeypatch.setattr(TimeTable, "time_range", lambda self: None)
    found = []
    for fast in (False, True):
        with pytest.raises(SubsystemError) as caught:
            cosim.run(topo, fast=fast, algorithm=algorithm)
        found.append(caught.value)
    assert str(found[0]) == str(found[1]) and "outside the table" in str(found[1])
    assert found[0].time == found[1].time > 1.2


class Thermal(Block):
    """A first-order lag with a saturating heater: the state T follows
    tau * dT/dt = P_max * tanh(P / P_max) / G - (T - T_amb) (explicit Euler);
    outputs T and the heat flow Q = G * (T - T_amb). A compiled step beside it."""

    inputs = {"P": Port(unit="W"), "T_amb": Port(unit="K", start=290.0)}
    outputs = {"T": Port(unit="K", start=290.0), "Q": Port(unit="W")}
    parameters = {"tau": Param(0.4, unit="s"), "G": Param(2.5, unit="W/K"),
                  "P_max": Param(30.0, unit="W"), "limit": Param(1e300, unit="K")}
    feedthrough = {"T": [], "Q": []}
    c_step = CStep("thermal.c", "thermal_step", parameters=["tau", "G", "P_max", "limit"],
                   state=["T"])

    def reset(self, t0):
        self.T = 290.0

    def step(self, t, dt, inputs):
        if self.limit < self.T:
            raise ValueError(f"too hot: T = {self.T!r} K")
        drive = self.P_max * math.tanh(inputs["P"] / self.P_max) / self.G
        self.T = self.T + dt / self.tau * (drive - (self.T - inputs["T_amb"]))
        return {"T": self.T, "Q": self.G * (self.T - inputs["T_amb"])}


THERMAL_C = """
#include <math.h>
int thermal_step(double t, double dt, const double *u, double *y, double *state,
                 const double *par) {
    const double tau = par[0], G = par[1], P_max = par[2], limit = par[3];
    if (state[0] > limit) return 1;
    const double drive = P_max * tanh(u[0] / P_max) / G;
    state[0] = state[0] + dt / tau * (drive - (state[0] - u[1]));
    y[0] = state[0];
    y[1] = G * (state[0] - u[1]);
    return 0;
}
"""


@pytest.fixture
def thermal(tmp_path, monkeypatch):
    """The Thermal block with its C file beside the module that defines it."""
    source = tmp_path / "thermal.c"
    source.write_text(textwrap.dedent(THERMAL_C))
    monkeypatch.setattr(Thermal.c_step, "source", source)
    return Thermal


def _thermal_topology(fmu, cls, **parameters) -> cosim.Topology:
    topo = cosim.Topology("thermal", stop=3.0, step=0.01)
    topo.add_block("power", "ramp", parameters={"duration": 2.0, "height": 80.0})
    topo.add_block("room", cls, parameters=parameters)
    topo.add_fmu("sensor", fmu("Decay", 2), parameters={"k": 5.0, "x0": 290.0})
    topo.connect("power.y", "room.P", check_units=False)
    topo.connect("room.T", "sensor.u", gain=5.0, check_units=False)  # x -> T
    return topo


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_user_block_with_a_compiled_step(algorithm, thermal, fmu, tmp_path):
    _, fast = run_both(_thermal_topology(fmu, thermal), tmp_path, algorithm=algorithm)
    assert fast.df["room.T"].iloc[-1] > 295.0
    with cosim.Simulation(_thermal_topology(fmu, thermal)) as sim:
        assert {p.name: p.kind for p in cosim.fast.node_plan(sim)}["room"] == "cfunc"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_compiled_step_hands_a_step_to_python(algorithm, thermal, fmu, tmp_path):
    """The C step returns 1 once T > limit: Python takes that step, and raises."""
    found = []
    for fast in (False, True):
        with pytest.raises(SubsystemError) as caught:
            cosim.run(_thermal_topology(fmu, thermal, limit=300.0), fast=fast,
                      algorithm=algorithm)
        found.append(caught.value)
    assert str(found[0]) == str(found[1]) and "too hot" in str(found[1])


def test_check_step_compares_the_two_steps(thermal):
    block = thermal()
    block.reset(0.0)
    rng = np.random.default_rng(3)
    for _ in range(200):
        check_step(block, {"P": float(rng.normal(0, 40)), "T_amb": float(rng.uniform(280, 300))},
                   t=float(rng.uniform(0, 10)), dt=float(rng.uniform(1e-3, 0.5)))
    assert block.T != 290.0  # the state advanced (as the Python step leaves it)


def test_check_step_finds_a_difference(thermal, tmp_path, monkeypatch):
    wrong = tmp_path / "wrong.c"  # a * b + c fused: differs in the last bits
    wrong.write_text(textwrap.dedent(THERMAL_C).replace(
        "state[0] = state[0] + dt / tau * (drive - (state[0] - u[1]));",
        "state[0] = fma(dt / tau, drive - (state[0] - u[1]), state[0]);"))
    monkeypatch.setattr(Thermal.c_step, "source", wrong)
    block = Thermal()
    block.reset(0.0)
    rng = np.random.default_rng(5)
    with pytest.raises(AssertionError, match="state T|output T"):
        for _ in range(200):
            check_step(block, {"P": float(rng.normal(0, 40)), "T_amb": 291.3},
                       dt=float(rng.uniform(1e-3, 0.5)))


def test_missing_compiled_step_runs_in_python(fmu, tmp_path, monkeypatch):
    monkeypatch.setattr(Thermal.c_step, "source", tmp_path / "absent.c")
    with pytest.warns(cosim.fast.FastPathWarning, match="absent.c"):
        _, fast = run_both(_thermal_topology(fmu, Thermal), python={"room"})


def test_the_mixer_compiled_step_matches_its_python_step():
    from cosim.blocks import resolve_block

    ReturnAirMixer = resolve_block("datacenter_blocks:ReturnAirMixer", [TOPOLOGY_DIR])  # noqa: N806
    rng = np.random.default_rng(11)
    for n in (1, 2, 4, 7):
        block = ReturnAirMixer(n=n)
        for _ in range(100):
            values = rng.uniform(290, 360, 2 * n)
            values[rng.integers(2 * n)] = values[rng.integers(2 * n)]  # ties for max
            inputs = {f"T_out_{i + 1}": float(values[i]) for i in range(n)}
            inputs.update({f"T_cpu_{i + 1}": float(values[n + i]) for i in range(n)})
            check_step(block, inputs)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_flagship_runs_wholly_natively(algorithm, fmus, tmp_path):
    _, fast = run_both(TOPOLOGY_DIR / "datacenter.yaml", tmp_path, algorithm=algorithm,
                       stop=6 * 3600.0)
    assert len(fast.df) == 361
    with cosim.Simulation(TOPOLOGY_DIR / "datacenter.yaml") as sim:
        assert cosim.fast.summary(sim)[0] == "step loop: compiled, 8 of 8 nodes native"
