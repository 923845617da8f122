"""Excitation designs: bounds, holds, sweeps, constraints, determinism, the block."""

from __future__ import annotations

import numpy as np
import pytest

from cosim.errors import ConfigError
from cosim.surrogates.excitation import (
    Constraint,
    Excitation,
    InputRange,
    design,
    pull_inside,
    satisfied,
    trajectory,
)

H = 60.0
ENV = [InputRange("P", 2000.0, 16000.0, "W"), InputRange("T", 286.15, 296.15, "K"),
       InputRange("m", 0.2, 1.2, "kg/s")]


def runs(x: np.ndarray) -> list[int]:
    """Lengths of the runs of equal consecutive values."""
    change = np.flatnonzero(np.diff(x) != 0)
    edges = np.concatenate([[0], change + 1, [len(x)]])
    return np.diff(edges).tolist()


@pytest.mark.parametrize("kind", ["steps", "ramps", "chirp", "mixed"])
def test_every_value_inside_the_bounds_and_the_same_seed_the_same_design(kind):
    a = design(ENV, kind, 7, 500, H, 300.0, 5400.0)
    b = design(ENV, kind, 7, 500, H, 300.0, 5400.0)
    c = design(ENV, kind, 8, 500, H, 300.0, 5400.0)
    assert a.shape == (500, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    for j, r in enumerate(ENV):
        assert r.low <= a[:, j].min() and a[:, j].max() <= r.high


def test_steps_hold_each_level_between_min_and_max_hold():
    x = trajectory("steps", np.random.default_rng(1), 0.0, 1.0, 2000, H, 300.0, 1800.0)
    lengths = runs(x)[:-1]  # the last run is cut by the horizon
    assert min(lengths) >= 300 / H and max(lengths) <= 1800 / H
    assert len(lengths) > 20  # many levels: it is an excitation, not a constant


def test_ramps_are_straight_between_knots():
    x = trajectory("ramps", np.random.default_rng(2), 0.0, 1.0, 600, H, 600.0, 1200.0)
    second = np.diff(x, 2)
    # piecewise linear: the second difference vanishes except at knots (>= 10 steps apart)
    kinks = np.flatnonzero(np.abs(second) > 1e-12)
    assert len(kinks) > 5 and np.all(np.diff(kinks) >= 600 / H - 1)


def test_chirp_sweeps_from_the_slow_to_the_fast_period():
    n = 1440  # 24 h
    x = trajectory("chirp", np.random.default_rng(3), -1.0, 1.0, n, H, 600.0, 7200.0)
    crossings = np.flatnonzero(np.diff(np.sign(x)) != 0)
    gaps = np.diff(crossings) * H  # half periods [s]
    assert gaps[:2].mean() > 2 * gaps[-3:].mean()
    assert 150 <= gaps[-3:].mean() <= 450  # the fastest half period: 300 s


def test_constraint_pulls_violating_samples_towards_the_nominal_point():
    names = ["P", "T", "m"]
    c = Constraint.parse("T + P / (1005 * m) + P / 500 <= 345", names)
    raw = design(ENV, "steps", 4, 3000, H, 300.0, 3600.0)
    nominal = np.array([10000.0, 291.15, 1.0])
    before = satisfied([c], names, raw)
    assert not before.all()  # the box alone reaches overheating corners
    out = pull_inside(raw, nominal, [c], names)
    assert satisfied([c], names, out).all()
    assert np.array_equal(out[before], raw[before])  # feasible samples untouched
    # moved along the line to the nominal point, and only just inside
    moved = ~before
    d_raw, d_out = raw[moved] - nominal, out[moved] - nominal
    scale = d_out[:, 0] / d_raw[:, 0]
    assert np.allclose(d_out, scale[:, None] * d_raw, rtol=1e-9, atol=1e-9)
    vals = {n: out[moved][:, i] for i, n in enumerate(names)}
    assert np.all(c.slack(vals) < 1e-6 * 345)


@pytest.mark.parametrize("text", ["__import__('os').system('true') <= 1",
                                  "P.real <= 1", "abs(P) <= 1", "P <= 1 <= 2", "P < 1",
                                  "Q <= 1", "[P][0] <= 1"])
def test_constraints_are_parsed_never_executed(text):
    with pytest.raises(ConfigError, match="constraint"):
        Constraint.parse(text, ["P", "T"])


def test_a_nominal_point_outside_the_constraints_is_refused():
    c = Constraint.parse("P <= 1000", ["P"])
    with pytest.raises(ConfigError, match="nominal point"):
        pull_inside(np.array([[2000.0]]), np.array([5000.0]), [c], ["P"])


def test_the_block_holds_the_design_value_over_each_step():
    block = Excitation(names=["P", "T"], low=[1.0, 10.0], high=[2.0, 20.0], kinds=["steps"],
                       seed=5, n_steps=50, dt=H, min_hold=120.0, max_hold=600.0)
    expected = design(block.envelope, "steps", 5, 50, H, 120.0, 600.0)
    block.reset(3600.0)
    got = [block.step(3600.0 + (k - 1) * H, H, {}) for k in range(1, 50)]
    assert np.array_equal(np.array(got), expected[1:50])
    assert block.interface()["P"].start == expected[0, 0]
    assert block.feedthrough == {"P": [], "T": []}
