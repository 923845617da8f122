"""The flagship outage scenario: cooler fails at 6 h, CPUs overheat, alarms fire.

The first alarm (a monitor located by rollback on the 60 s grid) is checked against the
crossing of the same signal in a fine-step (5 s) reference run of the same topology
without monitors, found by linear interpolation between its rows.
"""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from tests.conftest import TOPOLOGIES

OUTAGE = TOPOLOGIES / "datacenter_outage.yaml"
LIMIT = 343.15  # K, the monitors' threshold
OUTAGE_AT = 21600.0


def first_crossing(t: np.ndarray, y: np.ndarray, level: float) -> float:
    above = np.flatnonzero(y > level)
    assert above.size and above[0] > 0, "no upward crossing"
    i = above[0]
    return float(t[i - 1] + (level - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]))


@pytest.fixture(scope="module")
def outage(fmu):
    fmu("Rack", 2), fmu("Cooler", 2)  # built before the topology is loaded
    return cosim.run(OUTAGE)


@pytest.fixture(scope="module")
def reference(fmu):
    fmu("Rack", 2), fmu("Cooler", 2)
    topo = cosim.load(OUTAGE)
    topo.graph.graph["monitors"] = []
    assert topo.monitors == [] and len(topo.events) == 1
    return cosim.run(topo, step=5.0)


def test_master_outage_lands_on_the_outage_time(outage):
    scheduled = [e for e in outage.events if e.kind == "scheduled"]
    assert [(e.time, e.name) for e in scheduled] == [(OUTAGE_AT, "cooler outage")]
    df, kinds = outage.df, outage.df.attrs["row_kind"]
    assert kinds[df.index.to_numpy() == OUTAGE_AT].tolist() == [1, 2]
    assert df.index[-1] == 28800.0


def test_master_first_alarm_matches_the_fine_step_crossing(outage, reference):
    alarms = [e for e in outage.events if e.kind == "monitor"]
    assert alarms, outage.events
    first = min(alarms, key=lambda e: e.time)
    assert first.time > OUTAGE_AT
    rack = first.name.split()[0]  # "rack4 CPU above 70 degC"
    assert rack.startswith("rack")
    ref = reference.df[reference.df.attrs["row_kind"] == 0]
    t_ref = first_crossing(ref.index.to_numpy(), ref[f"{rack}.T_cpu"].to_numpy(), LIMIT)
    assert abs(first.time - t_ref) < 60.0, (rack, first.time, t_ref)
    # it is the first rack to cross in the reference too
    for k in range(1, 5):
        other = first_crossing(ref.index.to_numpy(), ref[f"rack{k}.T_cpu"].to_numpy(), LIMIT)
        assert other >= t_ref
    # the monitored signal is at the threshold where the alarm is recorded
    df = outage.df
    at = df.index.to_numpy() == first.time
    np.testing.assert_allclose(df[f"{rack}.T_cpu"][at], LIMIT, rtol=0, atol=1e-6)


def test_master_temperatures_rise_after_the_outage(outage):
    df = outage.df
    last_hour = df[df.index >= 28800.0 - 3600.0]["mixer.T_return"].to_numpy()
    assert len(last_hour) >= 60
    assert np.all(np.diff(last_hour) > 0), np.diff(last_hour).min()
    before = df[(df.index > OUTAGE_AT - 3600) & (df.index < OUTAGE_AT)]
    assert last_hour[-1] > before["mixer.T_return"].max() + 10.0
    assert (df[df.index > OUTAGE_AT + 600]["cooler.T_supply"] > 295.0).all()
