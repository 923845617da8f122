"""Rack and RackDetailed thermal protection (docs/fmus.md).

The dissipated power is f*P_it with f = 1 for T_cpu <= T_throttle, linear down to throttle_min
at T_trip, and f = 0 (latched) once T_cpu has reached T_trip.  Below T_throttle the models are
unchanged (test_fmus_simulation.py and test_fmus_rackdetailed.py check their closed forms).
Here: the derated steady state solved by hand, and the trip against scipy with an event.
"""

from __future__ import annotations

import numpy as np
import pytest
from fmpy.fmi1 import FMICallException
from fmutest_helpers import logged
from scipy.integrate import solve_ivp

C_CPU, C_AIR, G, CP = 4e5, 2e4, 500.0, 1005.0
T_TH, T_TR, F_MIN = 358.15, 373.15, 0.5


def law(T_cpu, tripped=False):
    if tripped:
        return 0.0
    x = (T_cpu - T_TH) / (T_TR - T_TH)
    return 1.0 if T_cpu <= T_TH else max(1.0 - (1.0 - F_MIN) * x, F_MIN)


@pytest.mark.parametrize("version", [2, 3])
def test_derated_steady_state(instance, version):
    """T = T_s + R*P*f(T), R = 1/(m cp) + 1/G, f linear in T: one linear equation."""
    P, T_s, m = 30000.0, 300.0, 1.0
    rack = instance("Rack", version).init(P_it=P, T_supply=T_s, m_flow=m)
    for i in range(300):
        rack.step(i * 100.0, 100.0)
    R, k = 1 / (m * CP) + 1 / G, (1 - F_MIN) / (T_TR - T_TH)
    T_cpu = (T_s + R * P * (1 + k * T_TH)) / (1 + R * P * k)  # 366.1 K
    f = 1 - k * (T_cpu - T_TH)
    assert T_TH < T_cpu < T_TR
    assert rack.get("T_cpu") == pytest.approx(T_cpu, abs=1e-6)
    assert rack.get("T_out") == pytest.approx(T_s + f * P / (m * CP), abs=1e-6)
    assert rack.get("throttle") == pytest.approx(f, abs=1e-8)
    assert rack.get("tripped") in (False, 0)


def scipy_trip(P, T_s, m, t_end, t_eval):
    """The protected Rack with scipy: integrate to the trip event, then unpowered."""
    def rhs(tripped):
        def f(_, x):
            q = G * (x[0] - x[1])
            return [(law(x[0], tripped) * P - q) / C_CPU, (q - m * CP * (x[1] - T_s)) / C_AIR]
        return f

    def trip(_, x):
        return x[0] - T_TR
    trip.terminal, trip.direction = True, 1
    first = solve_ivp(rhs(False), (0, t_end), [298.15, 298.15], method="DOP853", rtol=1e-11,
                      atol=1e-9, events=trip, dense_output=True)
    t_trip = first.t_events[0][0]
    second = solve_ivp(rhs(True), (t_trip, t_end), first.y_events[0][0], method="DOP853",
                       rtol=1e-11, atol=1e-9, dense_output=True)
    T = np.array([first.sol(t) if t <= t_trip else second.sol(t) for t in t_eval])
    return t_trip, T


@pytest.mark.parametrize("version", [2, 3])
def test_trip_is_located_and_latched(instance, version):
    P, T_s, m = 60000.0, 300.0, 1.0  # even derated to 50 % it would settle at 389.8 K
    rack = instance("Rack", version).init(P_it=P, T_supply=T_s, m_flow=m)
    rows = rack.run(4000.0, 20.0, ("T_cpu", "T_out", "throttle", "tripped"))
    t = np.array([r[0] for r in rows])
    t_trip, T = scipy_trip(P, T_s, m, 4000.0, t)
    assert 500 < t_trip < 3500 and t_trip % 20 > 1  # between communication points
    # 1e-5 K: the FMU's RK4 (0.5 s) steps across the kink of the law at T_throttle (1.4e-6 K)
    np.testing.assert_allclose([r[1] for r in rows], T[:, 0], rtol=0, atol=1e-5)
    np.testing.assert_allclose([r[2] for r in rows], T[:, 1], rtol=0, atol=1e-5)
    tripped = np.array([bool(r[4]) for r in rows])
    np.testing.assert_array_equal(tripped, t >= t_trip)
    assert all(r[3] == (0.0 if r[4] else law(r[1])) for r in rows)
    rack.set(P_it=1000.0)  # cool and with little load: it stays tripped
    for i in range(100):
        rack.step(4000.0 + i * 100.0, 100.0)
    assert rack.get("T_cpu") < T_TH and bool(rack.get("tripped")) and rack.get("throttle") == 0


def test_reset_clears_the_trip(instance):
    rack = instance("Rack", 2).init(P_it=60000.0, T_supply=300.0)
    rack.run(4000.0, 100.0, ())
    assert rack.get("tripped")
    rack.fmu.reset()
    rack.init()
    assert not rack.get("tripped") and rack.get("throttle") == 1.0


def test_bad_protection_parameters_are_refused(instance):
    rack = instance("Rack", 2)
    rack.set(T_trip=350.0)  # below T_throttle
    rack.fmu.setupExperiment(startTime=0)
    rack.fmu.enterInitializationMode()
    with pytest.raises(FMICallException):
        rack.fmu.exitInitializationMode()
    assert logged(rack, 3, "T_trip must be above T_throttle")


@pytest.mark.parametrize("version", [2, 3])
def test_rack_detailed_has_the_same_protection(instance, version):
    rack = instance("RackDetailed", version).init(P_it=60000.0, T_supply=300.0)
    rows = rack.run(3000.0, 100.0, ("T_cpu", "throttle", "tripped"))
    for _, T_cpu, throttle, tripped in rows:  # the law, applied to the hottest node
        assert throttle == (0.0 if tripped else pytest.approx(law(T_cpu), abs=1e-12))
    tripped = [bool(r[3]) for r in rows]
    first = tripped.index(True)
    assert not any(tripped[:first]) and all(tripped[first:])  # latched
    assert rows[first - 1][1] < T_TR and rows[-1][1] < rows[first][1]  # cooling after the trip
