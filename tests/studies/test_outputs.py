"""Outputs of interest: statistics against values computed by hand, units, combining."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosim.studies.outputs import resolve, statistic
from cosim.studies.schema import OutputSpec

T = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
Y = np.array([0.0, 2.0, 4.0, 2.0, 0.0])  # a triangle peaking at t = 2


@pytest.mark.parametrize(("stat", "threshold", "expected"), [
    ("final", None, 0.0),
    ("min", None, 0.0),
    ("max", None, 4.0),
    ("integral", None, 8.0),                 # area of the triangle
    ("mean", None, 2.0),                     # 8 / 4 s
    ("time_above", 3.0, 1.0),                # from t = 1.5 to t = 2.5
    ("time_below", 1.0, 1.0),                # [0, 0.5] and [3.5, 4]
    ("first_above", 3.0, 1.5),
    ("first_below", 3.0, 0.0),               # below from the start
    ("first_above", 5.0, math.nan),          # never
])
def test_statistics(stat, threshold, expected):
    value = statistic(stat, T, Y, threshold)
    assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected)


def test_repeated_times_of_events_add_nothing_to_integrals():
    t = np.array([0.0, 1.0, 1.0, 2.0])
    y = np.array([1.0, 1.0, 3.0, 3.0])  # a jump at t = 1 (left and right limits)
    assert statistic("integral", t, y) == 4.0
    assert statistic("time_above", t, y, 2.0) == 1.0


def test_units_convert_from_the_natural_unit_of_the_statistic():
    units = {"cooler.P_el": "W", "rack1.T": "K", "rack2.T": "K", "n.y": None}
    energy = resolve("e", OutputSpec(signal="cooler.P_el", stat="integral", unit="kWh"), units)
    assert energy.unit == "kWh" and energy.compute(np.array([0.0, 3600.0]),
                                                   [np.array([1000.0, 1000.0])]) == 1.0
    hot = resolve("hot", OutputSpec(signal="rack?.T", stat="max", combine="max", unit="degC"),
                  units)
    assert hot.signals == ("rack1.T", "rack2.T")
    assert hot.compute(T[:2], [np.array([300.0, 310.0]), np.array([320.0, 305.0])]) == \
        pytest.approx(46.85)
    hours = resolve("h", OutputSpec(signal="rack1.T", stat="time_above", threshold=1.0,
                                    unit="h"), units)
    assert (hours.unit, hours.divisor) == ("h", 3600.0)
    custom = resolve("c", OutputSpec(signal="n.y", stat="final", scale=2.0, offset=1.0,
                                     unit="widgets"), units)
    assert custom.compute(T[:2], [np.array([0.0, 3.0])]) == 7.0 and custom.unit == "widgets"


def test_output_problems_are_explained():
    units = {"rack1.T": "K", "rack2.T": "K", "p.P": "W"}
    with pytest.raises(ValueError, match="matches 2 signals .* set 'combine'"):
        resolve("x", OutputSpec(signal="rack*.T", stat="max"), units)
    with pytest.raises(ValueError, match="cannot convert integral of p.P from 'J' to 'degC'"):
        resolve("x", OutputSpec(signal="p.P", stat="integral", unit="degC"), units)
    with pytest.raises(ValueError, match="'threshold' applies to"):
        OutputSpec(signal="p.P", stat="max", threshold=3.0)
