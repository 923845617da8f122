"""Scheduled events: a Decay FMU (der(x) = -k*x + u) driven through its unconnected
input ``u``, against the closed form of a piecewise-constant input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cosim

K, X0 = 2.0, 1.0


def decay(fmu, version: int = 2, stop: float = 1.0, step: float = 0.1) -> cosim.Topology:
    topo = cosim.Topology("decay_events", stop=stop, step=step)
    topo.add_fmu("d", fmu("Decay", version), parameters={"k": K, "x0": X0})
    return topo


def piecewise_exact(t: np.ndarray, staircase: list[tuple[float, float]]) -> np.ndarray:
    """x(t) for der(x) = -K x + u, u = value from each (time, value) on; x(0) = X0."""
    out = []
    for ti in t:
        x, at = X0, 0.0
        for (t_from, u), nxt in zip(staircase, staircase[1:] + [(math.inf, None)],
                                    strict=True):
            if ti <= t_from:
                break
            end = min(ti, nxt[0])
            x = u / K + (x - u / K) * math.exp(-K * (end - max(at, t_from)))
            at = end
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("version", [2, 3])
def test_master_event_off_the_grid_is_landed_on_exactly(fmu, version):
    topo = decay(fmu, version)
    topo.add_event(0.35, "d.u", 2.0, name="kick")
    result = cosim.run(topo)
    df, kinds = result.df, result.df.attrs["row_kind"]
    t = df.index.to_numpy()
    at = np.flatnonzero(t == 0.35)
    assert kinds[at].tolist() == [1, 2]
    want = np.round(np.r_[np.arange(0, 11) / 10, 0.35], 12)
    np.testing.assert_allclose(np.sort(np.unique(t)), np.sort(want), rtol=0, atol=1e-12)
    assert np.all(np.diff(t) >= 0)
    exact = piecewise_exact(t, [(0.0, 0.0), (0.35, 2.0)])
    np.testing.assert_allclose(df["d.x"], exact, rtol=0, atol=1e-8)
    assert [(e.time, e.kind, e.name) for e in result.events] == [(0.35, "scheduled", "kick")]


RAMPS = {
    # at, until on the grid: u = 0 .. 1 in four stairs at 0.3, 0.4, 0.5, 0.6
    "on-grid": (0.2, 0.6, [(0.0, 0.0), (0.3, 0.25), (0.4, 0.5), (0.5, 0.75), (0.6, 1.0)]),
    # off the grid: the master lands on 0.25 and 0.55 too; stairs at 0.3, 0.4, 0.5, 0.55
    "off-grid": (0.25, 0.55, [(0.0, 0.0), (0.3, 1 / 6), (0.4, 0.5), (0.5, 5 / 6),
                              (0.55, 1.0)]),
}


@pytest.mark.parametrize("case", list(RAMPS))
def test_master_ramp_is_a_staircase_on_the_grid(fmu, case):
    at, until, staircase = RAMPS[case]
    topo = decay(fmu)
    topo.add_event(at, "d.u", 1.0, until=until)
    result = cosim.run(topo)
    df = result.df
    t = df.index.to_numpy()
    expected_times = sorted({round(k / 10, 12) for k in range(11)} | {at, until})
    np.testing.assert_allclose(np.unique(t), expected_times, rtol=0, atol=1e-12)
    assert np.any(t == until)  # the ramp's end is landed on exactly
    np.testing.assert_allclose(df["d.x"], piecewise_exact(t, staircase), rtol=0, atol=1e-8)


def test_master_event_on_a_connected_input_is_a_topology_error(fmu):
    topo = decay(fmu)
    topo.add_block("src", "constant", parameters={"value": 1.0})
    topo.connect("src.y", "d.u", check_units=False)
    topo.add_event(0.35, "d.u", 2.0)
    with pytest.raises(cosim.TopologyError) as info:
        cosim.run(topo)
    problems = [(p.node, p.variable) for p in info.value.problems]
    assert problems == [("d", "u")], info.value.problems
    assert "d.u" in str(info.value) and "connection" in str(info.value)


def test_master_event_on_an_unknown_variable_is_a_topology_error(fmu):
    topo = decay(fmu)
    topo.add_event(0.35, "d.uu", 2.0)
    topo.add_event(0.5, "nobody.u", 2.0)
    with pytest.raises(cosim.TopologyError) as info:
        cosim.run(topo)
    problems = sorted((p.node, p.variable) for p in info.value.problems)
    assert problems == [("d", "uu"), ("nobody", "u")], info.value.problems
    text = str(info.value)
    assert "d.uu" in text and "nobody" in text
