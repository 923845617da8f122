"""Calibration of a co-simulated twin against telemetry, with honest uncertainty.

::

    import cosim

    result = cosim.calibrate("topologies/calibration/calibrate.yaml", "out/calib.h5",
                             workers=2)
    result.estimates            # value, std_error, ci_low, ci_high, unit
    result.identifiability.warnings()
    result.report("out/calib.html")

A calibration file names a topology, the telemetry (read and aligned by
:mod:`cosim.telemetry`), the parameters to estimate (tied across nodes, bounds, log
scale, priors), the method (least squares, global, bayesian), the budget of
simulations and the noise model (iid or AR(1)). Every simulation goes through the
study runners (serial, process pool, Dask) and is journaled in the calibration file,
so an interrupted calibration resumes without running a finished simulation again.
See ``docs/calibration.md``.
"""

from .api import calibrate
from .problem import CalibrationError, CalibrationProblem, load_calibration
from .result import CalibrationResult, FitTraces
from .spec import CalibrationSpec
from .store import read_calibration

__all__ = ["CalibrationError", "CalibrationProblem", "CalibrationResult", "CalibrationSpec",
           "FitTraces", "calibrate", "load_calibration", "read_calibration"]
