"""RackDetailed: Rack's ports, spatially resolved into 2 x 100 thermal nodes (internal states).

The equations of docs/fmus.md are written here independently as a linear system
der(T) = M T + b (200 nodes); with constant inputs T(t) = T_ss + expm(M t)(T(0) - T_ss).
The FMU's RK4 (h = 0.02 s) is compared with that to 1e-7 K.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from fmpy import read_model_description
from scipy.linalg import expm

N, G_AX = 100, 5.0
RACK = dict(C_cpu=4e5, C_air=2e4, G_cpu=500.0, cp=1005.0)


def linear_system(P_it, T_supply, m_flow, C_cpu, C_air, G_cpu, cp):
    """M, b of der(T) = M T + b for T = [air_0 .. air_N-1, it_0 .. it_N-1] (bottom to top)."""
    M, b = np.zeros((2 * N, 2 * N)), np.zeros(2 * N)
    ca, cs, g, q = C_air / N, C_cpu / N, G_cpu / N, m_flow * cp
    for i in range(N):
        a, s = i, N + i
        M[a, a] -= (q + g) / ca
        M[a, s] += g / ca
        if i > 0:
            M[a, a - 1] += q / ca
        else:
            b[a] += q * T_supply / ca
        M[s, s] -= g / cs
        M[s, a] += g / cs
        b[s] += P_it / N / cs
        for j in (i - 1, i + 1):  # conduction between neighbouring slices
            if 0 <= j < N:
                M[a, a] -= G_AX / ca
                M[a, j] += G_AX / ca
                M[s, s] -= G_AX / cs
                M[s, N + j] += G_AX / cs
    return M, b


def test_same_interface_as_rack(fmus):
    for version in (2, 3):
        rack, detailed = (read_model_description(str(fmus[(m, version)]))
                          for m in ("Rack", "RackDetailed"))
        def ports(md):
            return [(v.name, v.valueReference, v.type, v.causality, v.variability, v.unit,
                     v.start) for v in md.modelVariables]
        assert ports(detailed) == ports(rack)


INPUTS = dict(P_it=12000.0, T_supply=290.0, m_flow=0.8)


@functools.cache
def exact_after_300_s() -> tuple[float, float]:
    M, b = linear_system(**INPUTS, **RACK)
    T_ss = np.linalg.solve(M, -b)
    T = T_ss + expm(M * 300.0) @ (np.full(2 * N, 298.15) - T_ss)
    return T[N - 1], T[N:].max()


@pytest.mark.parametrize("version", [2, 3])
def test_transient_matches_the_node_equations(instance, version):
    rack = instance("RackDetailed", version).init(**INPUTS)
    for i in range(30):
        rack.step(i * 10.0, 10.0)
    T_out, T_cpu = exact_after_300_s()
    assert rack.get("T_out") == pytest.approx(T_out, abs=1e-7)
    assert rack.get("T_cpu") == pytest.approx(T_cpu, abs=1e-7)


def test_steady_state_is_close_to_racks():
    P, T_supply, m_flow = 10000.0, 291.15, 1.0
    M, b = linear_system(P, T_supply, m_flow, **RACK)
    T = np.linalg.solve(M, -b)
    rack_out = T_supply + P / (m_flow * 1005.0)  # Rack: energy balance, 301.10 K
    rack_cpu = rack_out + P / 500.0  # 321.10 K
    assert T[N - 1] == pytest.approx(rack_out, abs=1e-9)  # the same energy balance
    assert T[N:].max() == pytest.approx(rack_cpu, abs=0.1)  # less conduction downwards
    assert np.all(np.diff(T[:N]) > 0)  # the air warms on its way up


def test_fmu_state_covers_the_internal_states(instance):
    rack = instance("RackDetailed", 2).init(P_it=15000.0)
    for i in range(10):
        rack.step(i * 10.0, 10.0)
    state = rack.fmu.getFMUstate()
    blob = rack.fmu.serializeFMUstate(state)
    first = [(rack.step(100.0 + i * 10.0, 10.0), rack.get("T_cpu"))[1] for i in range(5)]
    rack.fmu.setFMUstate(state)
    again = [(rack.step(100.0 + i * 10.0, 10.0), rack.get("T_cpu"))[1] for i in range(5)]
    assert again == first and first[0] != first[-1]
    other = instance("RackDetailed", 2, name="other").init()
    restored = other.fmu.deSerializeFMUstate(blob)
    other.fmu.setFMUstate(restored)
    copied = [(other.step(100.0 + i * 10.0, 10.0), other.get("T_cpu"))[1] for i in range(5)]
    assert copied == first
    rack.fmu.freeFMUstate(state)
    other.fmu.freeFMUstate(restored)
