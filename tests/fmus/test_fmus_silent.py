"""Silent: an FMU without outputs (states and locals only): x = x0*exp(-k*t), e = x^2/2."""

from __future__ import annotations

import numpy as np
import pytest
from fmpy import read_model_description, simulate_fmu


@pytest.mark.parametrize("version", [2, 3])
def test_no_outputs_only_parameters_and_locals(fmus, version):
    md = read_model_description(str(fmus[("Silent", version)]))
    assert md.outputs == []
    causalities = {v.name: v.causality for v in md.modelVariables}
    assert causalities == {"time": "independent", "k": "parameter", "x0": "parameter",
                           "x": "local", "e": "local", "der(x)": "local"}
    assert [u.variable.name for u in md.derivatives] == ["der(x)"]


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("kind", ["CoSimulation", "ModelExchange"])
def test_locals_follow_the_closed_form(fmus, version, kind):
    r = simulate_fmu(str(fmus[("Silent", version)]), fmi_type=kind, stop_time=5,
                     output_interval=0.05, output=["x", "e"], relative_tolerance=1e-10,
                     start_values={"k": 0.8, "x0": 3.0})
    x = 3.0 * np.exp(-0.8 * r["time"])
    tol = 1e-9 if kind == "CoSimulation" else 1e-6  # RK4 at 1e-3 s / CVode at rtol 1e-10
    np.testing.assert_allclose(r["x"], x, rtol=0, atol=tol)
    np.testing.assert_allclose(r["e"], 0.5 * r["x"] ** 2, rtol=1e-14)
