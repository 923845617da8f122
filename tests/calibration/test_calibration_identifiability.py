"""A planted non-identifiable pair is flagged, every time; identifiable ones are not.

Decay -> Gain: ``y = g * x0 * exp(-k t)``. The gain ``g`` and the initial value ``x0``
enter only as their product, so the data fix ``ln g + ln x0`` and nothing about
``ln g - ln x0``: the Fisher information has a null direction along it.
"""

from __future__ import annotations

import re

import numpy as np
from calibration_support import TRUE_K, TRUE_X0, decay_truth, write, write_csv

from cosim.calibration import load_calibration
from cosim.calibration.api import job_for_problem, run_problem
from cosim.studies.runners import SerialRunner

TRIALS = 25


def planted(tmp_path, fmu) -> dict:
    write(tmp_path / "pair.yaml", {
        "name": "pair", "run": {"stop": 5.0, "step": 0.02},
        "nodes": {"d": {"fmu": str(fmu("Decay")), "parameters": {"k": 1.0, "x0": 1.0}},
                  "g": {"fmu": str(fmu("Gain")), "parameters": {"k": 1.0}}},
        "connections": [{"from": "d.x", "to": "g.u", "check_units": False}]})
    t = np.round(np.arange(0, 5.0 + 1e-9, 0.02), 10)
    write_csv(tmp_path / "telemetry.csv", t, {"y": 1.5 * decay_truth(t)})
    return {"topology": "pair.yaml",
            "telemetry": {"file": "telemetry.csv", "signals": {"g.y": {"column": "y"}}},
            "parameters": {"k": {"targets": "d.k", "initial": 1.0, "bounds": [0.01, 10],
                                 "scale": "log"},
                           "x0": {"targets": "d.x0", "initial": 1.0, "bounds": [0.1, 10],
                                  "scale": "log"},
                           "gain": {"targets": "g.k", "initial": 1.0, "bounds": [0.1, 10],
                                    "scale": "log"}},
            "budget": 200}


def test_a_product_pair_is_flagged_in_every_trial(tmp_path, fmu, fmus):
    problem = load_calibration(planted(tmp_path, fmu), base_dir=tmp_path)
    t = problem.observations.time
    rng = np.random.default_rng(7)
    with SerialRunner().session(job_for_problem(problem)[0]) as session:
        for _ in range(TRIALS):
            y = 1.5 * decay_truth(t) + 0.02 * rng.standard_normal(t.size)
            r = run_problem(problem.with_measured(y[None, :]), session)
            ident = r.identifiability
            assert len(ident.flagged) == 1, ident.flagged
            flag = ident.flagged[0]
            assert sorted(flag["parameters"]) == ["gain", "x0"]
            w = flag["weights"]  # the direction ln gain - ln x0 (unit length)
            assert abs(abs(w["gain"]) - np.sqrt(0.5)) < 1e-3
            assert abs(w["gain"] + w["x0"]) < 1e-3
            assert ident.condition_number > 1e12
            # what the data do fix: k, and the product gain * x0
            i = r.names.index("k")
            assert abs(r.value[i] - TRUE_K) < 4 * r.std_error[i]
            product = r.value[r.names.index("gain")] * r.value[r.names.index("x0")]
            assert abs(product - 1.5 * TRUE_X0) < 0.02
            # no false precision: the pair's standard errors are infinite
            assert np.isinf(r.std_error[r.names.index("gain")])
            assert np.isinf(r.std_error[r.names.index("x0")])
            (warning,) = ident.warnings()
            assert re.match(r"the data cannot separate (gain, x0|x0, gain): only "
                            r"combinations other than 0\.71 ln (gain|x0) - 0\.71 ln "
                            r"(gain|x0) are determined", warning), warning
