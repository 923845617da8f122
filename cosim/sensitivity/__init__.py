"""Global sensitivity analysis of a topology with SALib (the ``sensitivity`` extra).

::

    from cosim.sensitivity import sensitivity

    result = sensitivity("topologies/sensitivity/ishigami_sobol.yaml", "out/ishigami.h5")
    result.table("y")                 # S1, S1_conf, ST, ST_conf per factor
    result.plot("bars", "out/ishigami.png")

Methods: Sobol' (first, total and second-order indices with bootstrap intervals),
Morris elementary effects, RBD-FAST and PAWN; designs from SALib; every run through the
study runners (process pool, Dask, resume, failure isolation); indices per time window
of a trajectory; a convergence check (N/2 vs N). See ``docs/sensitivity.md``.
"""

from .result import SensitivityResult, read_sensitivity
from .run import Plan, analyse, load_plan, plan_from_spec, sensitivity
from .spec import METHODS, SensitivitySpec

__all__ = ["METHODS", "Plan", "SensitivityResult", "SensitivitySpec", "analyse", "load_plan",
           "plan_from_spec", "read_sensitivity", "sensitivity"]
