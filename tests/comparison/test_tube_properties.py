"""Properties of the regression tube (hypothesis), and agreement with a naive version."""

from __future__ import annotations

import numpy as np
import pytest
from comparison_helpers import frame, naive_bounds, reference_signal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosim.comparison import compare, tube

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def references(draw, max_n: int = 30, events: bool = True):
    """A reference signal with random sample spacing and a few jumps (repeated times)."""
    n = draw(st.integers(3, max_n))
    steps = draw(st.lists(st.floats(0.05, 1.0), min_size=n - 1, max_size=n - 1))
    t0 = draw(st.floats(-5, 5))
    times = t0 + np.concatenate([[0.0], np.cumsum(steps)])
    values = draw(st.lists(finite, min_size=n, max_size=n))
    jumps = draw(st.lists(st.tuples(st.integers(1, n - 2),
                                    st.floats(0.2, 5) | st.floats(-5, -0.2)),
                          max_size=3 if events else 0, unique_by=lambda e: e[0]))
    return reference_signal(times, values, jumps)


@SETTINGS
@given(references())
def test_a_run_compared_with_itself_passes(ref):
    t, y = ref
    df = frame(t, s=y, k=np.round(y).astype(np.int64))
    for exact in (False, True):
        report = compare(df, df, exact=exact)
        assert report.passed, report.table()
        assert report["s"].samples == len(t) and report["s"].max_error == 0.0
        assert report["k"].kind == "discrete" and report["k"].y == 0.0


@SETTINGS
@given(references(), st.data())
def test_a_perturbation_larger_than_the_tube_fails_where_it_is(ref, data):
    t, y = ref
    k = data.draw(st.integers(0, len(t) - 1))
    sign = data.draw(st.sampled_from([1.0, -1.0]))
    bad = y.copy()
    # beyond every reference value by more than any Y: outside whatever the window
    bad[k] = (y.max() if sign > 0 else y.min()) + sign * (1.0 + 0.01 * np.abs(y).max())
    report = compare(frame(t, s=bad), frame(t, s=y))
    s = report["s"]
    assert not report.passed and s.status == "fail"
    assert s.outliers == 1 and s.first_failure == t[k] and s.max_error_time == t[k]
    assert s.max_error > 0


@SETTINGS
@given(references(), st.data())
def test_a_perturbation_inside_the_tube_passes(ref, data):
    t, y = ref
    Y = compare(frame(t, s=y), frame(t, s=y))["s"].y
    u = np.array(data.draw(st.lists(st.floats(-0.99, 0.99), min_size=len(t),
                                    max_size=len(t))))
    report = compare(frame(t, s=y + u * Y), frame(t, s=y))
    assert report.passed, report.table()
    assert report["s"].max_deviation <= 0.99 * Y * (1 + 1e-12) + 1e-300


def _step(te: float, discrete: bool, dt: float = 0.01, stop: float = 10.0):
    """0 before te, 1 after, with both limits recorded at te (an event)."""
    grid = np.round(np.arange(0.0, stop + dt / 2, dt), 12)
    grid = grid[np.abs(grid - te) > 1e-12]
    t = np.sort(np.concatenate([grid, [te, te]]))
    y = (t > te).astype(float)
    y[np.flatnonzero(t == te)[1]] = 1.0  # the right limit
    return frame(t, s=y.astype(np.int64) if discrete else y)


@SETTINGS
@given(st.floats(-0.95, 0.95), st.booleans())
def test_an_event_shifted_by_less_than_X_passes(fraction, discrete):
    X = 0.002 * 10.0
    ref = _step(5.0, discrete)
    report = compare(_step(5.0 + fraction * X, discrete), ref)
    assert report.passed, report.table()
    assert report["s"].x == pytest.approx(X)


@SETTINGS
@given(st.floats(1.05, 20.0), st.sampled_from([1.0, -1.0]), st.booleans())
def test_an_event_shifted_by_more_than_X_fails_there(fraction, sign, discrete):
    X = 0.002 * 10.0
    shift = sign * fraction * X
    report = compare(_step(5.0 + shift, discrete), _step(5.0, discrete))
    s = report["s"]
    assert not report.passed and s.outliers >= 1
    # the failures lie between the two events
    lo, hi = sorted((5.0, 5.0 + shift))
    assert lo <= s.first_failure <= hi and lo <= s.max_error_time <= hi


@SETTINGS
@given(st.lists(st.integers(0, 3), min_size=4, max_size=20), st.data())
def test_discrete_signals_must_take_a_reference_value_held_within_X(levels, data):
    t = np.arange(len(levels), dtype=float)  # X = 0.002 * span < 1 s: one sample each
    ref = frame(t, s=np.array(levels, dtype=np.int64))
    assert compare(ref, ref).passed
    k = data.draw(st.integers(0, len(levels) - 1))
    y = np.array(levels, dtype=np.int64)
    # a value the reference never takes fails, at its time
    y[k] = 7
    s = compare(frame(t, s=y), ref)["s"]
    assert s.outliers == 1 and s.first_failure == t[k] and s.y == 0.0
    # a value the reference takes elsewhere, but not within X, fails too (the value
    # held just before t[k] is levels[k - 1]: that one is within X)
    near = {levels[k], levels[k - 1] if k else levels[k]}
    others = sorted(set(levels) - near)
    if others:
        y[k] = others[0]
        assert compare(frame(t, s=y), ref)["s"].first_failure == t[k]
    # with X widened to reach the next sample, its value is accepted
    if k < len(levels) - 1:
        y = np.array(levels, dtype=np.int64)
        y[k] = levels[k + 1]
        assert compare(frame(t, s=y), ref, {"defaults": {"x": 1.0}}).passed
        narrow = compare(frame(t, s=y), ref, {"defaults": {"x": 0.5}})
        assert narrow.passed == (levels[k + 1] in near)


def test_a_real_signal_declared_discrete_gets_Y_0():
    t = np.linspace(0, 1, 11)
    ref = frame(t, s=np.where(t < 0.5, 0.0, 1.5))
    near = frame(t, s=np.where(t < 0.5, 1e-9, 1.5))
    assert compare(near, ref).passed
    report = compare(near, ref, {"signal": [{"pattern": "s", "discrete": True}]})
    assert not report.passed and report["s"].y == 0.0 and report["s"].kind == "discrete"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(references(max_n=20), st.floats(0.01, 1.5), st.floats(0.0, 0.5), st.data())
def test_agrees_with_a_naive_dense_sampling_tube(ref, X, Y, data):
    tr, yr = ref
    m = data.draw(st.integers(1, 25))
    t = np.sort(np.array(data.draw(st.lists(st.floats(float(tr[0]), float(tr[-1])),
                                            min_size=m, max_size=m))))
    lo, hi = tube(tr, yr, t, X, Y)
    nlo, nhi = naive_bounds(tr, yr, t, X, Y)
    dt = np.diff(tr)
    flat = dt > 0
    slope = np.abs(np.diff(yr)[flat] / dt[flat]).max() if flat.any() else 0.0
    eps = slope * 2 * X / 4000 + 1e-9 * (1 + np.abs(yr).max())
    # dense sampling can only miss extremes, by at most one sample spacing of slope
    assert np.all(nhi <= hi + 1e-9) and np.all(nlo >= lo - 1e-9)
    assert np.all(hi - nhi <= eps) and np.all(nlo - lo <= eps)
    # the verdicts agree wherever the sample is not within eps of the naive bounds
    noise = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=m, max_size=m)))
    y = np.interp(t, tr, yr) + noise * (Y + 0.1)
    report = compare(frame(t, s=y), frame(tr, s=yr), {"defaults": {"x": X, "y": Y}})
    clear_out = (y > nhi + eps) | (y < nlo - eps)
    unclear = ((y > nhi - eps) & (y < nhi + eps)) | ((y > nlo - eps) & (y < nlo + eps))
    outliers = report["s"].outliers
    assert clear_out.sum() <= outliers <= (clear_out | unclear).sum()
