"""Standalone simulations of the project's FMUs against closed-form / hand-computed truth.

Tolerances: co-simulation uses the FMUs' own RK4 (H_MAX 1e-3 s for Oscillator, Decay and
Ball), whose error on these smooth problems is < 1e-10, so CS results are compared to
1e-9; model exchange runs through fmpy's CVode at relative tolerance 1e-10 and is compared
to 1e-6.  Event times: ME within 1e-6 s (brief), CS within 1e-10 s (event location to
EVENT_TOL = 1e-12 s per event, accumulated over the 11 bounces).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from fmpy import simulate_fmu
from fmutest_helpers import ME_MODELS, MODELS, VERSIONS
from scipy.linalg import expm

CS_TOL = 1e-9
ME_TOL = 1e-6
ME_RTOL = 1e-10


def simulate(fmus, model, version, kind="CoSimulation", **kwargs):
    if kind == "ModelExchange":
        kwargs.setdefault("relative_tolerance", ME_RTOL)
    return simulate_fmu(str(fmus[(model, version)]), fmi_type=kind, **kwargs)


KINDS = {m: ["CoSimulation"] + (["ModelExchange"] if m in ME_MODELS else []) for m in MODELS}


def cases(model):
    return [(v, k) for v in VERSIONS for k in KINDS[model]]


# ------------------------------------------------------------------------ Oscillator


def oscillator_exact(t, m, k, c, x0, v0, F):
    """Underdamped m x'' + c x' + k x = F (constant F)."""
    w0 = math.sqrt(k / m)
    zeta = c / (2 * math.sqrt(k * m))
    wd = w0 * math.sqrt(1 - zeta**2)
    a, xe = zeta * w0, F / k
    A = x0 - xe
    B = (v0 + a * A) / wd
    decay, cos, sin = np.exp(-a * t), np.cos(wd * t), np.sin(wd * t)
    x = xe + decay * (A * cos + B * sin)
    v = decay * ((-a * A + B * wd) * cos + (-a * B - A * wd) * sin)
    return x, v


@pytest.mark.parametrize("version,kind", cases("Oscillator"))
def test_oscillator_matches_damped_closed_form(fmus, version, kind):
    p = dict(m=2.0, k=8.0, c=0.8, x0=1.5, v0=-1.0, F=4.0)
    r = simulate(fmus, "Oscillator", version, kind, stop_time=10, output_interval=0.05,
                 start_values=p)
    x, v = oscillator_exact(r["time"], **p)
    tol = CS_TOL if kind == "CoSimulation" else ME_TOL
    np.testing.assert_allclose(r["x"], x, rtol=0, atol=tol)
    np.testing.assert_allclose(r["v"], v, rtol=0, atol=tol)


def test_oscillator_default_is_cosine(fmus):
    r = simulate(fmus, "Oscillator", 2, stop_time=10)  # m = k = 1, c = 0, x0 = 1, v0 = 0
    np.testing.assert_allclose(r["x"], np.cos(r["time"]), rtol=0, atol=CS_TOL)


# ------------------------------------------------------------------------ Decay


@pytest.mark.parametrize("version,kind", cases("Decay"))
def test_decay_with_constant_input(fmus, version, kind):
    k, x0, u = 0.5, 2.0, 0.3
    r = simulate(fmus, "Decay", version, kind, stop_time=8, output_interval=0.1,
                 start_values=dict(k=k, x0=x0, u=u))
    exact = u / k + (x0 - u / k) * np.exp(-k * r["time"])
    tol = CS_TOL if kind == "CoSimulation" else ME_TOL
    np.testing.assert_allclose(r["x"], exact, rtol=0, atol=tol)


# ------------------------------------------------------------------------ Ball

G, E, H0, V_MIN = 9.81, 0.7, 1.0, 0.1


def bounce_times(g=G, e=E, h0=H0, v_min=V_MIN) -> np.ndarray:
    """t1 = sqrt(2 h0 / g), then intervals 2 e^n v1 / g while e^n v1 >= v_min."""
    v1 = math.sqrt(2 * g * h0)
    times, n = [math.sqrt(2 * h0 / g)], 1
    while e**n * v1 >= v_min:
        times.append(times[-1] + 2 * e**n * v1 / g)
        n += 1
    return np.array(times)


def ball_exact(t, g=G, e=E, h0=H0, v_min=V_MIN):
    """Analytic height, velocity and bounce count at times t."""
    tb = bounce_times(g, e, h0, v_min)
    v1 = math.sqrt(2 * g * h0)
    h, v, n = np.empty_like(t), np.empty_like(t), np.searchsorted(tb, t, side="right")
    for i, (ti, ni) in enumerate(zip(t, n, strict=True)):
        if ni == 0:
            h[i], v[i] = h0 - g * ti**2 / 2, -g * ti
        elif ni == len(tb):
            h[i] = v[i] = 0.0
        else:
            s, vb = ti - tb[ni - 1], e**ni * v1
            h[i], v[i] = vb * s - g * s**2 / 2, vb - g * s
    return h, v, n


def test_bounce_times_reference():
    tb = bounce_times()
    assert len(tb) == 11  # e^11 * v1 = 0.088 < v_min: the 11th bounce comes to rest
    assert tb[0] == pytest.approx(0.4515236409857309, abs=1e-15)


@pytest.mark.parametrize("version", VERSIONS)
def test_ball_cs_handles_bounces_inside_do_step(fmus, version):
    r = simulate(fmus, "Ball", version, stop_time=3, output_interval=0.01)
    h, v, n = ball_exact(r["time"])
    np.testing.assert_array_equal(r["bounces"], n)
    # a bounce located late by dt costs about v*dt in h: 1e-9 m checks the event times
    np.testing.assert_allclose(r["h"], h, rtol=0, atol=CS_TOL)
    np.testing.assert_allclose(r["v"], v, rtol=0, atol=CS_TOL)
    assert r["h"][-1] == 0 and r["v"][-1] == 0 and r["bounces"][-1] == 11


@pytest.mark.parametrize("version", VERSIONS)
def test_ball_me_event_location(fmus, version):
    r = simulate(fmus, "Ball", version, "ModelExchange", stop_time=3)
    first_after = np.nonzero(np.diff(r["bounces"]))[0] + 1
    np.testing.assert_allclose(r["time"][first_after], bounce_times(), rtol=0, atol=ME_TOL)
    assert r["bounces"][-1] == 11 and r["h"][-1] == 0 and r["v"][-1] == 0
    assert np.all(r["h"] > -1e-6)  # never falls through the floor


def test_ball_fmi3_event_mode_early_returns_on_bounce_times(instance):
    ball = instance("Ball", 3, event_mode=True, early_return=True).init()
    update = ball.fmu.updateDiscreteStates()  # initial event iteration: nothing to do
    assert update == (False, False, False, False, False, 0.0)
    ball.fmu.enterStepMode()
    t, dt, t_stop, events = 0.0, 0.1, 3.0, []
    while t < t_stop - 1e-12:
        need, terminate, early, last = ball.step(t, min(dt, t_stop - t))
        assert not terminate
        if need:
            assert early  # never exactly on a communication point here
            h, v, n = ball.get("h"), ball.get("v"), ball.get("bounces")
            assert -1e-9 < h <= 0 and v < 0  # state at the event, before the reset
            ball.fmu.enterEventMode()
            need_update, term, _, changed, next_defined, _ = ball.fmu.updateDiscreteStates()
            assert (need_update, term, changed, next_defined) == (False, False, True, False)
            assert ball.get("bounces") == n + 1
            assert ball.get("h") == 0
            v_after = ball.get("v")
            assert v_after == pytest.approx(-E * v, rel=1e-15) or (v_after == 0 and -E * v < V_MIN)
            ball.fmu.enterStepMode()
            events.append(last)
        else:
            assert not early and last == pytest.approx(t + min(dt, t_stop - t), abs=1e-12)
        t = last
    np.testing.assert_allclose(events, bounce_times(), rtol=0, atol=1e-10)
    assert ball.get("bounces") == 11


def test_ball_fmi3_event_mode_with_fmpys_master(fmus):
    r = simulate_fmu(str(fmus[("Ball", 3)]), use_event_mode=True, early_return_allowed=True,
                     stop_time=3)
    first_after = np.nonzero(np.diff(r["bounces"]))[0] + 1
    np.testing.assert_allclose(r["time"][first_after], bounce_times(), rtol=0, atol=1e-10)
    assert r["bounces"][-1] == 11


@pytest.mark.parametrize("event_mode,early_return", [(False, False), (True, False),
                                                     (False, True)])
def test_ball_fmi3_without_early_return_handles_events_internally(instance, event_mode,
                                                                   early_return):
    ball = instance("Ball", 3, event_mode=event_mode, early_return=early_return).init()
    if event_mode:
        ball.fmu.updateDiscreteStates()
        ball.fmu.enterStepMode()
    for i in range(30):
        need, _, early, last = ball.step(i * 0.1, 0.1)
        assert not need and not early and last == pytest.approx((i + 1) * 0.1, abs=1e-12)
    assert ball.get("bounces") == 11


# ------------------------------------------------------------------------ Rack

RACK = dict(C_cpu=4e5, C_air=2e4, G_cpu=500.0, cp=1005.0, T0=298.15)


def rack_exact(t, P_it, T_supply, m_flow, C_cpu, C_air, G_cpu, cp, T0):
    """x = [T_cpu, T_air]: x' = A x + b, solved with the matrix exponential."""
    A = np.array([[-G_cpu / C_cpu, G_cpu / C_cpu],
                  [G_cpu / C_air, -(G_cpu + m_flow * cp) / C_air]])
    b = np.array([P_it / C_cpu, m_flow * cp * T_supply / C_air])
    x_ss = np.linalg.solve(A, -b)
    return [x_ss + expm(A * ti) @ (np.array([T0, T0]) - x_ss) for ti in t]


@pytest.mark.parametrize("version", VERSIONS)
def test_rack_steady_state_energy_balance(fmus, version):
    inputs = dict(P_it=8000.0, T_supply=293.0, m_flow=0.8)
    r = simulate(fmus, "Rack", version, stop_time=30000, output_interval=100,
                 start_values=inputs)
    T_out = inputs["T_supply"] + inputs["P_it"] / (inputs["m_flow"] * 1005.0)  # 302.950 K
    T_cpu = T_out + inputs["P_it"] / 500.0  # 318.950 K
    assert r["T_out"][-1] == pytest.approx(T_out, abs=1e-6)
    assert r["T_cpu"][-1] == pytest.approx(T_cpu, abs=1e-6)


@pytest.mark.parametrize("version", VERSIONS)
def test_rack_transient_matches_matrix_exponential(fmus, version):
    inputs = dict(P_it=12000.0, T_supply=291.15, m_flow=1.5)
    r = simulate(fmus, "Rack", version, stop_time=3600, output_interval=60,
                 start_values=inputs)
    exact = np.array(rack_exact(r["time"], **inputs, **RACK))
    np.testing.assert_allclose(r["T_cpu"], exact[:, 0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(r["T_out"], exact[:, 1], rtol=0, atol=1e-8)


# ------------------------------------------------------------------------ Cooler


def cooler_power(fan, T_return, T_supply, failed=False, P_fan=3000.0, m_nom=4.0, cp=1005.0,
                 COP=3.5):
    f = min(max(fan, 0.0), 1.0)
    q = 0.0 if failed else max(0.0, f * m_nom * cp * (T_return - T_supply))
    return P_fan * f**3 + q / COP


@pytest.mark.parametrize("version", VERSIONS)
def test_cooler_first_order_response_and_steady_power(fmus, version):
    start = dict(T0=300.0, T_setpoint=290.0, T_return=303.0, fan=0.8)
    r = simulate(fmus, "Cooler", version, stop_time=3000, output_interval=10,
                 start_values=start)
    exact = 290.0 + (300.0 - 290.0) * np.exp(-r["time"] / 120.0)
    np.testing.assert_allclose(r["T_supply"], exact, rtol=0, atol=1e-8)
    np.testing.assert_allclose(r["m_flow"], 0.8 * 4.0)
    # steady state, by hand: 3000*0.8^3 + 3.2*1005*(303-290)/3.5 = 1536 + 11945.14 W
    assert r["P_el"][-1] == pytest.approx(1536.0 + 3.2 * 1005.0 * 13.0 / 3.5, abs=1e-4)
    powers = [cooler_power(0.8, 303.0, T) for T in r["T_supply"]]
    np.testing.assert_allclose(r["P_el"], powers, rtol=1e-12)


@pytest.mark.parametrize("version", VERSIONS)
def test_cooler_outage_set_during_the_run(instance, version):
    cooler = instance("Cooler", version).init(T_return=305.0)
    rows = cooler.run(600.0, 10.0, ("T_supply", "P_el"))
    assert rows[-1][1] == pytest.approx(291.15, abs=1e-9)  # holds the set point
    cooler.set(failed=True)  # tunable: allowed in Step Mode
    assert cooler.get("P_el") == pytest.approx(3000.0)  # fan only, no cooling power
    for i in range(60, 360):
        cooler.step(i * 10.0, 10.0)
    # drifts to T_return with tau = 120 s: after 3000 s, exp(-25) of 13.85 K is left
    assert cooler.get("T_supply") == pytest.approx(305.0 - 13.85 * math.exp(-25), abs=1e-8)
    assert cooler.get("P_el") == pytest.approx(3000.0)


@pytest.mark.parametrize("fan,m_flow,P_fan", [(1.5, 4.0, 3000.0), (-0.2, 0.0, 0.0),
                                              (0.5, 2.0, 375.0)])
def test_cooler_fan_is_clipped(instance, fan, m_flow, P_fan):
    cooler = instance("Cooler", 2).init(fan=fan, T_return=291.15)  # no cooling load
    assert cooler.get("m_flow") == pytest.approx(m_flow)
    assert cooler.get("P_el") == pytest.approx(P_fan)


# ------------------------------------------------------------------------ algebra


@pytest.mark.parametrize("version", VERSIONS)
def test_gain_algebra(instance, version):
    gain = instance("Gain", version).init(k=-2.5, b=0.75)
    for i, u in enumerate([0.0, 1.0, -3.0, 1e6, 0.125]):
        gain.set(u=u)
        assert gain.get("y") == -2.5 * u + 0.75
        gain.step(i * 0.01, 0.01)
        assert gain.get("y") == -2.5 * u + 0.75


@pytest.mark.parametrize("version", VERSIONS)
def test_spring_algebra(instance, version):
    spring = instance("Spring", version).init(k=3.0, c=0.5)
    rng = np.random.default_rng(1)
    for x1, v1, x2, v2 in rng.normal(size=(5, 4)):
        spring.set(x1=x1, v1=v1, x2=x2, v2=v2)
        assert spring.get("F") == pytest.approx(3.0 * (x2 - x1) + 0.5 * (v2 - v1), rel=1e-15)


# ------------------------------------------------------------------------ Faulty


@pytest.mark.parametrize("version", VERSIONS)
def test_faulty_fails_at_fail_at(instance, version):
    from fmpy.fmi1 import FMICallException

    faulty = instance("Faulty", version).init(fail_at=0.5, u=2.0)
    for i in range(5):  # the step ending exactly on fail_at still succeeds
        faulty.step(i * 0.1, 0.1)
        assert faulty.get("y") == 2.0
    with pytest.raises(FMICallException) as err:
        faulty.step(0.5, 0.1)
    assert err.value.status == 3  # fmi2Error / fmi3Error
    assert any(status == 3 and "fail_at" in msg for status, msg in faulty.log)
    with pytest.raises(FMICallException):  # the instance stays in the error state
        faulty.step(0.5, 0.1)


@pytest.mark.parametrize("version", VERSIONS)
def test_faulty_output_becomes_nan_at_nan_at(instance, version):
    faulty = instance("Faulty", version).init(nan_at=0.25, u=1.5)
    ys = [y for _, y in faulty.run(0.6, 0.1, ("y",))]
    assert ys[:2] == [1.5, 1.5]
    assert all(math.isnan(y) for y in ys[2:])  # t = 0.3, 0.4, ...


def test_faulty_defaults_never_fail(fmus):
    r = simulate(fmus, "Faulty", 3, stop_time=10, start_values={"u": 4.0})
    assert np.all(r["y"] == 4.0)


# ------------------------------------------------------------------------ FMI 2 vs FMI 3


@pytest.mark.parametrize("model", MODELS)
def test_fmi2_and_fmi3_agree(fmus, model):
    for kind in KINDS[model]:
        r2 = simulate(fmus, model, 2, kind)
        r3 = simulate(fmus, model, 3, kind)
        assert r2.dtype.names == r3.dtype.names
        for name in r2.dtype.names:
            np.testing.assert_allclose(r2[name], r3[name], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{model} {kind} {name}")
