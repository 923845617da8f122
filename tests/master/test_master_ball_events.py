"""The bouncing ball: state events located by the master (FMI 2, monitors) and FMU events
handled in FMI 3 event mode, against the analytic bounce times.

Ball: der(h) = v, der(v) = -g; at h = 0 going down v := -e*v (rest when the rebound
speed is below v_min). From h0 at rest: t1 = sqrt(2*h0/g), v1 = g*t1 and bounce n+1
follows bounce n after 2*e^n*v1/g.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import cosim

G, E, H0, V_MIN = 9.81, 0.7, 1.0, 0.1
STOP, STEP = 3.0, 0.01


def analytic_bounces() -> tuple[list[float], int]:
    """(all bounce times up to the one where the ball comes to rest, number that rebound)."""
    t1 = math.sqrt(2 * H0 / G)
    v1 = G * t1
    times, n = [t1], 1
    while E ** n * v1 >= V_MIN:  # bounce n rebounds with speed e^n * v1
        times.append(times[-1] + 2 * E ** n * v1 / G)
        n += 1
    return times, n - 1


def rows_at(df, t: float):
    """Positions of the rows recorded at exactly ``t``."""
    return np.flatnonzero(df.index.to_numpy() == t)


def ball(fmu, version: int, **run) -> cosim.Topology:
    topo = cosim.Topology("ball", stop=STOP, step=STEP, **run)
    topo.add_fmu("ball", fmu("Ball", version))
    return topo


def test_master_analytic_bounces_match_the_fmu_docs():
    times, rebounding = analytic_bounces()
    assert rebounding == 10 and len(times) == 11
    assert times[0] == pytest.approx(0.4515, abs=1e-4)
    assert times[-1] == pytest.approx(2.4991, abs=1e-4)


def test_master_fmi2_monitor_locates_every_bounce(fmu):
    """FMI 2 handles bounces inside doStep; the monitor v > 0 turns true right after each
    one and the master finds it by rollback and bisection."""
    topo = ball(fmu, 2)
    topo.add_monitor("ball.v > 0", name="bounce")
    result = cosim.run(topo)
    times, rebounding = analytic_bounces()
    located = [e.time for e in result.events if e.kind == "monitor"]
    assert len(located) == rebounding  # the resting bounce leaves v = 0: no event
    np.testing.assert_allclose(located, times[:rebounding], rtol=0, atol=1e-6)
    assert all(e.name == "bounce" for e in result.events)
    df, kinds = result.df, result.df.attrs["row_kind"]
    for t in located:
        pos = rows_at(df, t)
        assert kinds[pos].tolist() == [1, 2], (t, kinds[pos])
    assert np.count_nonzero(kinds == 1) == np.count_nonzero(kinds == 2) == rebounding
    # the ball has come to rest
    assert df["ball.v"].iloc[-1] == 0.0 and df["ball.bounces"].iloc[-1] == len(times)


def fmu_events(result) -> list[tuple[float, float]]:
    """(recorded time, time reported by the FMU) of every FMU event."""
    out = []
    for e in result.events:
        if e.kind != "fmu":
            continue
        m = re.search(r"t=(\S+) s \(reported by the FMU\)", e.description)
        assert m, e.description
        out.append((e.time, float(m.group(1))))
    return out


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_fmi3_event_mode_bounces(fmu, algorithm):
    result = cosim.run(ball(fmu, 3, algorithm=algorithm))
    times, rebounding = analytic_bounces()
    events = fmu_events(result)
    assert len(events) == len(times), result.events
    recorded = np.array([e[0] for e in events])
    reported = np.array([e[1] for e in events])
    np.testing.assert_allclose(recorded, reported, rtol=0, atol=1e-9)  # the clock resolution
    np.testing.assert_allclose(recorded, times, rtol=0, atol=1e-8)
    np.testing.assert_allclose(reported, times, rtol=0, atol=1e-8)
    df, kinds = result.df, result.df.attrs["row_kind"]
    for n, t in enumerate(recorded, start=1):
        pos = rows_at(df, t)
        assert kinds[pos].tolist() == [1, 2], (t, kinds[pos])
        left, right = df.iloc[pos[0]], df.iloc[pos[1]]
        assert left["ball.v"] < 0 and abs(left["ball.h"]) < 1e-9, left
        assert left["ball.bounces"] == n - 1 and right["ball.bounces"] == n
        assert right["ball.h"] == 0.0
        if n <= rebounding:
            assert right["ball.v"] == pytest.approx(-E * left["ball.v"], rel=1e-9)
        else:  # too slow to rebound: at rest
            assert right["ball.v"] == 0.0
    assert df["ball.v"].iloc[-1] == 0.0


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_fmi3_event_mode_ball_feeding_a_gain(fmu, algorithm):
    """An event-mode FMU upstream of another node: the early return must roll back and
    step *every* node to the event. Gauss-Seidel feeds the gain the fresh velocity, so
    g.y = k * ball.v at every communication point and at the left limit."""
    k = 2.0
    topo = ball(fmu, 3, algorithm=algorithm)
    topo.run.stop = 1.2
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": k})
    topo.connect("ball.v", "g.u", check_units=False)
    result = cosim.run(topo)
    alone = cosim.run(ball(fmu, 3, algorithm=algorithm), stop=1.2)
    assert [e.time for e in result.events] == [e.time for e in alone.events]
    assert len(result.events) == 2
    np.testing.assert_allclose(result.df["ball.v"], alone.df["ball.v"], rtol=0, atol=1e-12)
    df, kinds = result.df, result.df.attrs["row_kind"]
    if algorithm == "gauss-seidel":
        sel = kinds != 2  # the right limit of g.y is not re-evaluated at the event
        np.testing.assert_allclose(df["g.y"][sel], k * df["ball.v"][sel], rtol=1e-12,
                                   atol=1e-12)


def linear_ball_gain(fmu, algorithm: str):
    """Ball (FMI 3, event mode) -> Gain (k = 1) with linear extrapolation; with the first
    bounce's time and the analytic velocity around it."""
    topo = ball(fmu, 3, algorithm=algorithm, extrapolation="linear")
    topo.run.stop, topo.run.step = 0.7, 0.1
    topo.add_fmu("g", fmu("Gain", 2), parameters={"k": 1.0})
    topo.connect("ball.v", "g.u", check_units=False)
    result = cosim.run(topo)
    (t_e,) = [e.time for e in result.events if e.kind == "fmu"]
    v1 = G * math.sqrt(2 * H0 / G)

    def v(t):  # analytic velocity around the first bounce
        return -G * t if t < t_e else E * v1 - G * (t - t_e)

    return result, t_e, v


def test_master_linear_extrapolation_restarts_after_an_fmu_event(fmu):
    """The ball's velocity is piecewise linear in time, so a linear extrapolation through
    two samples on one side of a bounce is exact: under Jacobi g.y at t_{n+1} is
    v((t_n + t_{n+1}) / 2). Samples from before a bounce must not be used after it: the
    polynomial would span the jump of v (from -4.43 to +3.10 m/s)."""
    result, t_e, v = linear_ball_gain(fmu, "jacobi")
    v_right = v(t_e)
    df = result.df[result.df.attrs["row_kind"] == 0]
    g = df["g.y"]
    # before the bounce: two samples on the line -> exact midpoint values
    for a, b in [(0.2, 0.3), (0.3, 0.4)]:
        assert g.loc[b] == pytest.approx(v((a + b) / 2), rel=1e-9), (b, g.loc[b])
    # first step after the bounce: only the right limit is known on this side
    assert v(0.5) - 1e-9 <= g.loc[0.5] <= v_right + 1e-9, g.loc[0.5]
    # then two post-bounce samples: exact again
    for a, b in [(0.5, 0.6), (0.6, 0.7)]:
        assert g.loc[b] == pytest.approx(v((a + b) / 2), rel=1e-9), (b, g.loc[b])


def test_master_linear_extrapolation_across_an_fmu_event_gauss_seidel(fmu):
    """Gauss-Seidel interpolates with the ball's fresh sample at the end of each step, so
    g.y at every communication point is v at the midpoint of the step just taken: exact
    on both sides of the bounce when no sample from before the bounce is used after it."""
    result, t_e, v = linear_ball_gain(fmu, "gauss-seidel")
    df = result.df
    kinds = df.attrs["row_kind"]
    t = df.index.to_numpy()
    for k in np.flatnonzero(kinds == 0)[1:]:
        prev = t[k - 1]  # the previous row: a communication point or the event
        assert df["g.y"].iloc[k] == pytest.approx(v((prev + t[k]) / 2), rel=1e-9), t[k]


@pytest.mark.parametrize("version", [2, 3])
def test_master_monitor_on_an_output_that_changes_at_an_fmu_event(fmu, version):
    """``bounces`` changes only at bounces. FMI 2 bounces inside doStep and the monitor
    is located by bisection; FMI 3 (event mode) bounces in the master's event iteration,
    where the condition turns from false (left limit) to true (right limit): it must fire
    there, at the same instant, not be missed."""
    topo = ball(fmu, version)
    topo.add_monitor("ball.bounces > 3", name="fourth bounce")
    result = cosim.run(topo)
    times, _ = analytic_bounces()
    fired = [e for e in result.events if e.kind == "monitor"]
    assert [e.name for e in fired] == ["fourth bounce"], result.events
    assert fired[0].time == pytest.approx(times[3], abs=1e-6)
    if version == 3:
        fourth = [e for e in result.events if e.kind == "fmu"][3]
        assert fired[0].time == fourth.time
