"""Clocked (FMI 3 only): a periodic input clock with clocked outputs.

Ticks of 'sample' at k*0.5 s: ticks = k + 1 and y_sampled = sin(t_k) from the tick at t_k on;
y = sin(t).  An importer without clock support can still step it (the ticks are then handled
inside doStep); with event mode the ticks come as time events.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
import zipfile
from ctypes import c_double, c_int, c_uint

import numpy as np
import pytest
from fmpy import read_model_description, simulate_fmu
from fmpy.fmi1 import FMICallException
from fmutest_helpers import logged


def test_description_declares_the_clock(fmus):
    md = read_model_description(str(fmus[("Clocked", 3)]))
    v = {x.name: x for x in md.modelVariables}
    assert v["sample"].type == "Clock" and v["sample"].causality == "input"
    assert v["sample"].intervalVariability == "constant"
    with zipfile.ZipFile(fmus[("Clocked", 3)]) as zf:  # fmpy 0.3.32 does not read it
        clock = ET.fromstring(zf.read("modelDescription.xml")).find(".//Clock")
    assert clock.get("intervalDecimal") == "0.5"
    assert v["y_sampled"].clocks == [v["sample"]] and v["ticks"].clocks == [v["sample"]]
    assert ("Clocked", 2) not in fmus


def test_steps_without_clock_support(fmus):
    r = simulate_fmu(str(fmus[("Clocked", 3)]), stop_time=3, output_interval=0.1)
    k = np.floor(r["time"] / 0.5 + 1e-9)  # the last tick at or before t
    np.testing.assert_array_equal(r["ticks"], k + 1)
    np.testing.assert_allclose(r["y_sampled"], np.sin(0.5 * k), rtol=0, atol=1e-15)
    np.testing.assert_allclose(r["y"], np.sin(r["time"]), rtol=0, atol=1e-15)


def test_event_mode_ticks_and_clock_functions(instance):
    c = instance("Clocked", 3, event_mode=True).init()
    _, _, _, _, defined, t_next = c.fmu.updateDiscreteStates()  # the tick at t = 0
    assert (defined, t_next, c.get("ticks"), c.get("y_sampled")) == (True, 0.5, 1, 0.0)
    intervals, qualifiers = (c_double * 1)(), (c_int * 1)()
    c.fmu.fmi3GetIntervalDecimal(c.fmu.component, (c_uint * 1)(c.vr("sample")), 1, intervals,
                                 qualifiers)
    assert intervals[0] == 0.5 and qualifiers[0] == 1  # fmi3IntervalUnchanged
    c.fmu.enterStepMode()
    with pytest.raises(FMICallException):  # an input clock is set in Event Mode only
        c.fmu.setClock([c.vr("sample")], [True])
    assert logged(c, 3, "'sample' (vr 1, input clock) cannot be set in Step Mode")
    t = 0.0
    for _ in range(5):
        event, *_ = c.step(t, 0.1)
        t += 0.1
    assert event and t == pytest.approx(0.5)
    assert c.get("ticks") == 1  # before the tick is handled
    c.fmu.enterEventMode()
    c.fmu.setClock([c.vr("sample")], [True])
    assert c.fmu.getClock([c.vr("sample")]) == [True]
    _, _, _, _, defined, t_next = c.fmu.updateDiscreteStates()
    assert (t_next, c.get("ticks")) == (1.0, 2)
    assert c.get("y_sampled") == pytest.approx(math.sin(0.5), abs=1e-15)
    assert c.fmu.getClock([c.vr("sample")]) == [False]
