"""Constant, Step and Ramp: values by hand and by property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.blocks.constant import Constant
from cosim.blocks.signals import Ramp, Step
from cosim.errors import ConfigError

finite = st.floats(-1e6, 1e6, allow_nan=False)
times = st.floats(-1e4, 1e4, allow_nan=False)


def test_constant():
    block = Constant(value=21.5, unit="degC")
    block.reset(0.0)
    assert block.initialize(0.0, {}) == {"y": 21.5}
    assert block.step(3.0, 1.0, {}) == {"y": 21.5}
    iface = block.interface()
    assert iface["y"].unit == "degC" and iface["y"].start == 21.5 and iface.inputs == []
    assert Constant().step(0.0, 1.0, {}) == {"y": 0.0}


def test_step_by_hand():
    block = Step(time=2.0, before=1.0, after=5.0)
    assert [block.step(t, 0.0, {})["y"] for t in (0.0, 1.999, 2.0, 3.0)] == [1, 1, 5, 5]
    assert block.step(1.5, 0.5, {})["y"] == 5.0  # output at the end of the step
    assert block.step(1.0, 0.5, {})["y"] == 1.0


def test_step_on_clock_grid():
    block = Step(time=0.8)
    assert 0.7 + 0.1 < 0.8
    assert block.step(0.7, 0.1, {})["y"] == 1.0


def test_ramp_by_hand():
    block = Ramp(start_time=1.0, duration=4.0, height=8.0, offset=-2.0)
    values = [block.step(t, 0.0, {})["y"] for t in (0.0, 1.0, 2.0, 3.5, 5.0, 9.0)]
    assert values == pytest.approx([-2.0, -2.0, 0.0, 3.0, 6.0, 6.0])
    jump = Ramp(start_time=1.0, duration=0.0, height=3.0)
    assert [jump.step(t, 0.0, {})["y"] for t in (0.5, 1.0, 2.0)] == [0.0, 3.0, 3.0]


@pytest.mark.parametrize("cls, params, field", [
    (Constant, {"value": "hot"}, "value"),
    (Constant, {"unit": 3}, "unit"),
    (Step, {"time": float("inf")}, "time"),
    (Ramp, {"duration": -1.0}, "duration"),
    (Ramp, {"slope": 1.0}, "slope"),
])
def test_bad_parameters(cls, params, field):
    with pytest.raises(ConfigError, match=cls.__name__) as info:
        cls(**params)
    assert info.value.field == field


@settings(max_examples=200, deadline=None)
@given(time=times, before=finite, after=finite, t=times)
def test_step_property(time, before, after, t):
    y = Step(time=time, before=before, after=after).step(t, 0.0, {})["y"]
    if t >= time + 1e-9:
        assert y == after
    elif t < time - 1e-9:
        assert y == before
    else:
        assert y in (before, after)


@settings(max_examples=200, deadline=None)
@given(start=times, duration=st.floats(0.0, 1e3), height=finite, offset=finite,
       t1=times, t2=times)
def test_ramp_property(start, duration, height, offset, t1, t2):
    ramp = Ramp(start_time=start, duration=duration, height=height, offset=offset)
    y1, y2 = ramp.step(t1, 0.0, {})["y"], ramp.step(t2, 0.0, {})["y"]
    lo, hi = sorted((offset, offset + height))
    tol = 1e-9 * max(1.0, abs(offset), abs(height))
    assert lo - tol <= y1 <= hi + tol  # bounded by the end values
    if t1 <= t2:  # monotonic in the direction of height
        assert (y2 - y1) * (1 if height >= 0 else -1) >= -tol
    if t1 <= start - 1e-9:
        assert y1 == offset
    if t1 >= start + duration + 1e-9:
        assert y1 == offset + height
    if duration > 1e-6 and start + 1e-9 < t1 < start + duration - 1e-9:
        assert y1 == pytest.approx(offset + height * (t1 - start) / duration, abs=tol)
