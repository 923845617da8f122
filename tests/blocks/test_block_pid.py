"""PID: closed loops against an exactly discretised first-order plant and an
independent reimplementation of the documented discrete law."""

from __future__ import annotations

import math

import pytest

from cosim.blocks.pid import PID
from cosim.errors import ConfigError

REL = 1e-12  # the block and the reference do the same arithmetic in a different order


def reference_pid(kp, ki, kd, u_min=-math.inf, u_max=math.inf, tf=0.0, reverse=False):
    """The law of cosim/blocks/pid.py, written out plainly as a generator.

    send((dt, measurement, setpoint)) -> u at the end of the step; dt=None: initialize.
    """
    integral = 0.0
    dfilt = 0.0
    e_prev = None
    u = None
    while True:
        dt, y, r = yield u
        e = (y - r) if reverse else (r - y)
        if dt is None:  # initialize: P only, integral zero
            e_prev = e
            u = min(u_max, max(u_min, kp * e))
            continue
        if e_prev is None:
            dfilt = 0.0
        else:
            alpha = tf / (tf + dt)  # low-pass weight of the old derivative
            dfilt = alpha * dfilt + (1.0 - alpha) * (e - e_prev) / dt
        candidate = integral + e * dt
        unclipped = kp * e + ki * candidate + kd * dfilt
        pushes_up = unclipped > u_max and e > 0
        pushes_down = unclipped < u_min and e < 0
        if not (pushes_up or pushes_down):
            integral = candidate
        u = kp * e + ki * integral + kd * dfilt
        u = min(u_max, max(u_min, u))
        e_prev = e


def zoh_plant(K, tau, dt):
    """x' = (-x + K u) / tau, exactly discretised with u held over dt."""
    a = math.exp(-dt / tau)
    return lambda x, u: a * x + K * (1.0 - a) * u


def run_loop(params, setpoints, *, K=2.0, tau=30.0, dt=0.5, x0=0.0, sign=1.0, offset=0.0):
    """Jacobi-coupled loop: over [t_n, t_n+dt] the plant holds u_n, the PID holds x_n.

    The plant is x' = (-x + offset + sign*K*u)/tau. Returns (xs, us_block, us_ref).
    """
    plant = zoh_plant(K, tau, dt)
    pid = PID(**params)
    ref = reference_pid(
        params.get("kp", 1.0), params.get("ki", 0.0), params.get("kd", 0.0),
        params.get("u_min", -math.inf), params.get("u_max", math.inf),
        params.get("derivative_filter", 0.0), params.get("direction") == "reverse")
    next(ref)
    pid.reset(0.0)
    x = x0
    u = pid.initialize(0.0, {"measurement": x, "setpoint": setpoints[0]})["u"]
    u_ref = ref.send((None, x, setpoints[0]))
    xs, us, us_ref = [x], [u], [u_ref]
    for n, r in enumerate(setpoints):
        t = n * dt
        x_next = plant(x - offset, sign * u) + offset  # shift for the ambient offset
        u = pid.step(t, dt, {"measurement": x, "setpoint": r})["u"]
        u_ref = ref.send((dt, x, r))
        x = x_next
        xs.append(x)
        us.append(u)
        us_ref.append(u_ref)
    return xs, us, us_ref


def test_zoh_plant_matches_analytic_step_response():
    plant = zoh_plant(K=2.0, tau=30.0, dt=0.5)
    x = 0.0
    for _ in range(100):
        x = plant(x, 1.0)
    assert x == pytest.approx(2.0 * (1.0 - math.exp(-50.0 / 30.0)), rel=1e-12)


def test_closed_loop_matches_reference_and_reaches_setpoint():
    params = {"kp": 0.8, "ki": 0.05, "kd": 2.0, "derivative_filter": 1.0}
    setpoints = [1.0] * 600 + [0.4] * 600
    xs, us, us_ref = run_loop(params, setpoints)
    for n, (u, u_ref) in enumerate(zip(us, us_ref, strict=True)):
        assert u == pytest.approx(u_ref, rel=REL, abs=1e-12), f"step {n}"
    # integral action removes the steady-state error (independent of the reference)
    assert xs[600] == pytest.approx(1.0, abs=1e-4)
    assert xs[-1] == pytest.approx(0.4, abs=1e-4)
    # at steady state u = x / K
    assert us[-1] == pytest.approx(0.4 / 2.0, abs=1e-4)


def test_initialize_is_clipped_proportional_output_with_zero_integral():
    pid = PID(kp=3.0, ki=10.0, kd=5.0, u_min=-1.0, u_max=1.0)
    pid.reset(0.0)
    assert pid.initialize(0.0, {"measurement": 0.1, "setpoint": 0.2})["u"] == pytest.approx(0.3)
    assert pid.integral == 0.0
    pid.reset(0.0)
    assert pid.initialize(0.0, {"measurement": 0.0, "setpoint": 5.0})["u"] == 1.0


def test_zero_dt_step_does_not_advance():
    pid = PID(kp=1.0, ki=0.5, kd=0.2)
    pid.reset(0.0)
    pid.initialize(0.0, {"measurement": 0.0, "setpoint": 1.0})
    pid.step(0.0, 1.0, {"measurement": 0.0, "setpoint": 1.0})
    before = pid.save_state()
    u0 = pid.step(1.0, 0.0, {"measurement": 0.3, "setpoint": 1.0})["u"]
    u0_again = pid.step(1.0, 0.0, {"measurement": 0.3, "setpoint": 1.0})["u"]
    assert pid.save_state() == before
    assert u0 == u0_again == pytest.approx(1.0 * 0.7 + 0.5 * 1.0 + 0.2 * 0.0)


def test_limits_hold_and_match_reference_through_saturation():
    params = {"kp": 2.0, "ki": 0.2, "u_min": 0.0, "u_max": 1.0}
    setpoints = [3.0] * 200 + [0.5] * 200 + [-1.0] * 200 + [1.2] * 200  # 3 is unreachable
    xs, us, us_ref = run_loop(params, setpoints, K=2.0, tau=10.0)
    assert all(0.0 <= u <= 1.0 for u in us)
    assert any(u == 1.0 for u in us) and any(u == 0.0 for u in us)
    for n, (u, u_ref) in enumerate(zip(us, us_ref, strict=True)):
        assert u == pytest.approx(u_ref, rel=REL, abs=1e-12), f"step {n}"
    assert xs[-1] == pytest.approx(1.2, abs=1e-3)


def test_conditional_integration_prevents_windup():
    """Setpoint unreachable for 200 s, then reachable: the integral stays frozen at the
    limit, so the output comes off the limit at once (a plain integrator would not)."""
    dt, K, tau = 0.5, 1.0, 10.0
    plant = zoh_plant(K, tau, dt)
    pid = PID(kp=2.0, ki=0.5, u_min=0.0, u_max=1.0)
    pid.reset(0.0)
    x, u = 0.0, pid.initialize(0.0, {"measurement": 0.0, "setpoint": 2.0})["u"]
    naive_integral = 0.0
    for n in range(400):  # 200 s saturated high: x -> K * u_max = 1 < 2
        x, u = plant(x, u), pid.step(n * dt, dt, {"measurement": x, "setpoint": 2.0})["u"]
        naive_integral += (2.0 - x) * dt
        assert u == 1.0
        assert pid.integral == 0.0  # frozen: integrating would push further up
    assert naive_integral > 150.0  # what a plain integrator would have accumulated
    # setpoint now below the measurement: P alone pulls the output off the limit
    u = pid.step(400 * dt, dt, {"measurement": x, "setpoint": 0.8})["u"]
    assert u < 1.0
    # a plain PI with the naive integral would still sit at the limit
    assert 2.0 * (0.8 - x) + 0.5 * naive_integral > 1.0


def test_integral_unfreezes_when_error_reverses():
    """Frozen at the upper limit; once the error turns negative it integrates again."""
    pid = PID(kp=0.0, ki=1.0, u_min=0.0, u_max=1.0)
    pid.reset(0.0)
    pid.initialize(0.0, {"measurement": 0.0, "setpoint": 1.0})
    for n in range(5):  # step 1 integrates to 1 (u = 1); later steps would exceed 1: frozen
        pid.step(n, 1.0, {"measurement": 0.0, "setpoint": 1.0})
    assert pid.integral == pytest.approx(1.0)
    u = pid.step(5.0, 1.0, {"measurement": 1.25, "setpoint": 1.0})["u"]
    assert pid.integral == pytest.approx(0.75)
    assert u == pytest.approx(0.75)


def test_reverse_direction_cools_to_setpoint():
    """Cooling: T' = (T_amb - T - G u)/tau; u up lowers T, so the action is reverse."""
    params = {"kp": 0.5, "ki": 0.02, "u_min": 0.0, "u_max": 1.0, "direction": "reverse"}
    setpoints = [25.0] * 2000
    xs, us, us_ref = run_loop(params, setpoints, K=20.0, tau=60.0, dt=1.0, x0=35.0,
                              sign=-1.0, offset=35.0)
    for n, (u, u_ref) in enumerate(zip(us, us_ref, strict=True)):
        assert u == pytest.approx(u_ref, rel=REL, abs=1e-12), f"step {n}"
    assert us[0] == pytest.approx(1.0)  # hot at start: full cooling (clipped P = 5)
    assert xs[-1] == pytest.approx(25.0, abs=1e-3)
    assert us[-1] == pytest.approx(10.0 / 20.0, abs=1e-3)  # steady state: G u = 10 K


def test_direct_would_run_away_on_cooling_plant():
    pid_direct = PID(kp=0.5)
    pid_reverse = PID(kp=0.5, direction="reverse")
    inputs = {"measurement": 30.0, "setpoint": 25.0}
    assert pid_direct.initialize(0.0, inputs)["u"] == pytest.approx(-2.5)
    assert pid_reverse.initialize(0.0, inputs)["u"] == pytest.approx(2.5)


@pytest.mark.parametrize("tf", [0.0, 2.0])
def test_derivative_of_ramp_error(tf):
    """e = c t: the (filtered) derivative tends to c; with tf = 0 it is c at once."""
    c, dt = 0.3, 0.1
    pid = PID(kp=0.0, ki=0.0, kd=1.0, derivative_filter=tf)
    pid.reset(0.0)
    pid.initialize(0.0, {"measurement": 0.0, "setpoint": 0.0})
    outputs = []
    for n in range(1, 400):
        outputs.append(pid.step((n - 1) * dt, dt, {"measurement": 0.0, "setpoint": c * n * dt})["u"])
    if tf == 0.0:
        assert outputs == pytest.approx([c] * len(outputs), rel=1e-9)
    else:
        assert outputs[0] == pytest.approx(c * dt / (tf + dt), rel=1e-12)
        assert outputs[-1] == pytest.approx(c, rel=1e-6)  # after 40 s = 20 tf
        assert all(a <= b + 1e-15 for a, b in zip(outputs, outputs[1:], strict=False))


def test_save_restore_round_trip():
    pid = PID(kp=0.7, ki=0.3, kd=0.4, derivative_filter=0.5, u_min=-2, u_max=2)
    pid.reset(0.0)
    pid.initialize(0.0, {"measurement": 0.0, "setpoint": 1.0})
    pid.step(0.0, 0.5, {"measurement": 0.1, "setpoint": 1.0})
    state = pid.save_state()
    first = [pid.step(0.5, 0.5, {"measurement": 0.2, "setpoint": 1.0})["u"],
             pid.step(1.0, 0.5, {"measurement": 0.5, "setpoint": 0.8})["u"]]
    pid.restore_state(state)
    again = [pid.step(0.5, 0.5, {"measurement": 0.2, "setpoint": 1.0})["u"],
             pid.step(1.0, 0.5, {"measurement": 0.5, "setpoint": 0.8})["u"]]
    assert first == again
    assert first[0] != first[1]


def test_interface_and_feedthrough():
    iface = PID(kp=1.0, unit="K", output_unit="1").interface()
    assert [v.name for v in iface.inputs] == ["measurement", "setpoint"]
    assert iface["u"].depends_on == ("measurement", "setpoint")
    assert iface["measurement"].unit == "K" and iface["u"].unit == "1"


@pytest.mark.parametrize("params, field", [
    ({"kp": -1.0}, "kp"),
    ({"ki": float("nan")}, "ki"),
    ({"kd": "fast"}, "kd"),
    ({"u_min": 1.0, "u_max": 0.0}, "u_min"),
    ({"direction": "up"}, "direction"),
    ({"derivative_filter": -0.1}, "derivative_filter"),
    ({"gain": 1.0}, "gain"),
])
def test_bad_parameters(params, field):
    with pytest.raises(ConfigError, match="PID") as info:
        PID(**params)
    assert info.value.field == field
    assert field in str(info.value)
