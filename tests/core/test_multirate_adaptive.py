"""Multirate and adaptive masters on the two-mass oscillator, against the closed form."""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from cosim.topology.schema import AdaptiveSpec
from tests.core.test_two_mass import exact, two_mass

COLS = ["mass1.x", "mass1.v", "mass2.x", "mass2.v"]


def global_error(df) -> float:
    return float(np.max(np.abs(df[COLS].to_numpy() - exact(df.index.to_numpy()))))


@pytest.mark.parametrize("algorithm", ["jacobi", "gauss-seidel"])
def test_multirate_lies_between_fine_and_coarse_single_rate(fmu, algorithm):
    """mass2 steps 4x slower than the rest. Documented tolerance: the multirate error
    is no larger than the single-rate error at the slow step, and at least that of the
    single-rate run at the fast step (both against the closed form)."""
    topo = two_mass(fmu)
    topo.run.stop = 3.0
    fine = global_error(cosim.run(topo, algorithm=algorithm, step=0.001).df)
    coarse = global_error(cosim.run(topo, algorithm=algorithm, step=0.004).df)
    topo.graph.nodes["mass2"]["step"] = 0.004
    result = cosim.run(topo, algorithm=algorithm, step=0.001)
    multi = global_error(result.df)
    assert result.info.algorithm == f"multirate-{algorithm}"
    assert fine <= multi <= coarse, (fine, multi, coarse)


def test_multirate_exchanges_only_at_common_points(fmu):
    topo = two_mass(fmu)
    topo.run.stop = 0.04
    topo.graph.nodes["mass2"]["step"] = 0.004
    trace = cosim.run(topo, algorithm="jacobi", step=0.001, trace=True).trace
    steps = [e for e in trace if e[0] == "step"]
    slow = [round(e[2], 9) for e in steps if e[1] == "mass2"]
    assert slow == [round(0.004 * k, 9) for k in range(10)]
    assert all(abs(e[3] - 0.004) < 1e-12 for e in steps if e[1] == "mass2")
    fast = [round(e[2], 9) for e in steps if e[1] == "mass1"]
    assert fast == [round(0.001 * k, 9) for k in range(40)]
    # mass2's force (from the fast spring) is set only at its own points; the spring's
    # input x2 (from the slow mass) changes only at common points (multiples of 4 ms)
    sets = [e for e in trace if e[0] == "set" and e[2] > 0]
    assert {round(e[2], 9) for e in sets if e[1] == "mass2"} <= {round(0.004 * k, 9)
                                                                for k in range(11)}
    x2 = [(round(e[2], 9), e[3][2]) for e in sets if e[1] == "spring"]
    changes = [t for (t, v), (_, v_prev) in zip(x2[1:], x2[:-1], strict=True) if v != v_prev]
    assert changes and all(abs(t / 0.004 - round(t / 0.004)) < 1e-6 for t in changes)


def test_multirate_step_must_be_a_multiple(fmu):
    topo = two_mass(fmu)
    topo.graph.nodes["mass2"]["step"] = 0.0025
    with pytest.raises(cosim.TopologyError, match="integer multiple of run.step"):
        cosim.run(topo, step=0.001)


def test_adaptive_meets_tolerance_with_fewer_macro_steps_than_fixed(fmu):
    """Against the closed form over 20 s. The fixed step giving the same global error is
    found from the fixed step's first-order convergence (slope ~1, checked in
    test_two_mass): h = h0 * err / err(h0), then confirmed by one run."""
    topo = two_mass(fmu)
    topo.run.stop = 20.0
    topo.run.adaptive = AdaptiveSpec(rtol=1e-3, atol=1e-3, min_step=1e-6)
    result = cosim.run(topo, step=0.01)
    err = global_error(result.df)
    assert err < 5e-3  # the tolerance is met in the global sense too
    fixed = two_mass(fmu)
    fixed.run.stop = 20.0
    h0 = 0.004
    h = h0 * err / global_error(cosim.run(fixed, step=h0).df)
    assert global_error(cosim.run(fixed, step=h).df) == pytest.approx(err, rel=0.15)
    ratio = (20.0 / h) / result.stats["accepted"]
    assert ratio > 2.0, (20.0 / h, result.stats)
    # every accepted step is recorded, and the steps vary
    dt = np.diff(result.df.index.to_numpy())
    assert len(dt) == result.stats["accepted"] and dt.max() > 3 * dt.min()


def test_adaptive_needs_rollback(tmp_path, fmu):
    from tests.core.test_topology_errors import no_rollback
    topo = two_mass(fmu)
    topo.graph.nodes["spring"]["source"] = str(no_rollback(fmu("Spring"), tmp_path / "s.fmu"))
    topo.run.adaptive = AdaptiveSpec()
    with pytest.raises(cosim.TopologyError, match="adaptive steps need every node"):
        cosim.run(topo)
