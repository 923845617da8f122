"""The call trace around events: steps shortened to land on them, then back on the grid."""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from cosim.clock import to_seconds


def steps(trace, node: str) -> list[tuple[float, float]]:
    return [(e[2], e[3]) for e in trace if e[0] == "step" and e[1] == node]


def chain(fmu, algorithm: str) -> cosim.Topology:
    """d (FMI 2 Decay, u set by an event at 0.25 s) -> e (FMI 3 Decay)."""
    topo = cosim.Topology("trace_event", stop=0.5, step=0.1, algorithm=algorithm)
    topo.add_fmu("d", fmu("Decay", 2), parameters={"k": 1.0, "x0": 1.0})
    topo.add_fmu("e", fmu("Decay", 3), parameters={"k": 2.0, "x0": 0.0})
    topo.connect("d.x", "e.u", check_units=False)
    topo.add_event(0.25, "d.u", 2.0, name="kick")
    return topo


@pytest.mark.parametrize("algorithm", ["gauss-seidel", "jacobi"])
def test_master_trace_shows_the_step_shortened_to_the_event(fmu, algorithm):
    result = cosim.run(chain(fmu, algorithm), trace=True)
    for node in ("d", "e"):
        got = steps(result.trace, node)
        starts = [t for t, _ in got]
        ends = [t + dt for t, dt in got]
        # grid 0, 0.1, 0.2, then shortened to land on 0.25, then 0.3 and on
        assert starts == pytest.approx([0.0, 0.1, 0.2, 0.25, 0.3, 0.4], abs=1e-15), got
        assert ends == pytest.approx([0.1, 0.2, 0.25, 0.3, 0.4, 0.5], abs=1e-15), got
        assert got[2][1] == pytest.approx(0.25 - 0.2, abs=1e-15)  # event - previous point
        assert got[3][1] == pytest.approx(0.3 - 0.25, abs=1e-15)  # back to the grid
        assert starts[3] == 0.25  # the next step starts exactly at the event time
        assert starts[4] == to_seconds(300_000_000)  # and resumes exactly on the grid
    df = result.df
    assert df.attrs["row_kind"][df.index.to_numpy() == 0.25].tolist() == [1, 2]
    # e's input for the shortened step: d.x at its end (Gauss-Seidel) or start (Jacobi)
    sets = [e for e in result.trace if e[0] == "set" and e[1] == "e"]
    before_short = [s for s in sets if s[2] == pytest.approx(0.2, abs=1e-15)][-1]
    source_time = 0.25 if algorithm == "gauss-seidel" else 0.2
    d_x = df["d.x"][df.index.to_numpy() == source_time].iloc[0]
    assert before_short[3] == (pytest.approx(d_x, abs=1e-15),)


def test_master_trace_does_not_change_an_event_mode_run(fmu):
    """trace=True wraps every node; an FMI 3 event-mode FMU must still have its early
    returns and events handled, with the same result as without the trace."""
    def topo():
        t = cosim.Topology("ball", stop=1.2, step=0.1)
        t.add_fmu("ball", fmu("Ball", 3))
        return t

    plain = cosim.run(topo())
    traced = cosim.run(topo(), trace=True)
    assert [(e.time, e.kind) for e in traced.events] == \
        [(e.time, e.kind) for e in plain.events]
    assert len(plain.events) == 2
    np.testing.assert_array_equal(traced.df.index, plain.df.index)
    np.testing.assert_allclose(traced.df.to_numpy(), plain.df.to_numpy(), rtol=0, atol=1e-12)
    assert traced.df.attrs["row_kind"].tolist() == plain.df.attrs["row_kind"].tolist()
    # the trace shows the step cut short at the bounce
    ball_steps = steps(traced.trace, "ball")
    first_bounce = plain.events[0].time
    assert any(t + dt == pytest.approx(first_bounce, abs=1e-9) for t, dt in ball_steps)
