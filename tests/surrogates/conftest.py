"""Fixtures for the surrogate tests: a small excitation study of the lumped ``Rack`` FMU
(cheap to step) and surrogates fitted from it, built once per session in a temporary
folder. The RackDetailed surrogate of docs/surrogates.md is made by
``topologies/surrogates/make_rack_surrogate.py`` (too slow for the suite)."""

from __future__ import annotations

import pytest
from surrogate_helpers import write

from cosim.surrogates.api import fit_study
from cosim.surrogates.excite import excite
from cosim.surrogates.training import Candidate, FitOptions

ENVELOPE = {"P_it": {"low": 2, "high": 13, "unit": "kW"},
            "T_supply": {"low": 15, "high": 21, "unit": "degC"},
            "m_flow": {"low": 0.2, "high": 1.1}}
CONSTRAINT = "T_supply + P_it / (1005 * m_flow) + P_it / 500 <= 345"
RUNS, HORIZON = 24, 7200.0


@pytest.fixture(scope="session")
def rack_world(tmp_path_factory, fmus) -> dict:
    """``{"dir", "topology", "spec", "study", "poly", "linear"}``: a one-rack topology, its
    excitation file and study (24 runs of 2 h, serial), a polynomial surrogate (hull
    envelope) and a linear one (box envelope)."""
    folder = tmp_path_factory.mktemp("rack_surrogate")
    topo = write(folder / "rack.yaml", {
        "name": "rack", "run": {"stop": 7200.0, "step": 60.0},
        "nodes": {"rack": {"fmu": str(fmus[("Rack", 2)])}}})
    spec = write(folder / "excitation.yaml", {
        "topology": "rack.yaml", "node": "rack", "runs": RUNS, "horizon": HORIZON,
        "seed": 3, "kinds": ["steps", "ramps", "chirp"], "hold": [300, 2400],
        "envelope": ENVELOPE, "constraints": [CONSTRAINT], "outputs": ["T_cpu", "T_out"]})
    study = folder / "study.h5"
    excite(spec, study, workers=0)
    poly = folder / "poly.surrogate"
    fit_study(study, "rack", poly, FitOptions(
        candidates=[Candidate.make("polynomial", 2, 2, degree=2),
                    Candidate.make("linear", 2, 2)], seed=1))
    linear = folder / "linear.surrogate"
    fit_study(study, "rack", linear, FitOptions(
        candidates=[Candidate.make("linear", 2, 2)], envelope="box", seed=1))
    return {"dir": folder, "topology": topo, "spec": spec, "study": study, "poly": poly,
            "linear": linear}
