"""cosim: an FMI co-simulation orchestrator for digital twins.

Public API (pinned by ``tests/test_api.py``)::

    cosim.load(path) -> Topology            read a topology file (YAML, or SSP: .ssp/.ssd)
    cosim.Topology(...)                     build one in Python
    cosim.run(topology_or_path, ...) -> Result
    cosim.Simulation(topology) -> built once: .run(until), .reset(parameters), .close()
    cosim.read(path) -> RunData             read an HDF5 result file
    cosim.compare(run, reference) -> Report compare by the regression tube
    cosim.sweep(study, output) -> DataFrame  scenario sweeps, Monte Carlo
    cosim.calibrate(calibration, output) -> CalibrationResult   fit to telemetry
    cosim.Block, cosim.Port, cosim.Param    write Python blocks
    cosim.ssp.export(topology, "x.ssp")     write a topology as an SSP (docs/ssp.md)
"""

from . import ssp  # noqa: E402, F401 - cosim.ssp.export (light: imports on first use)
from ._version import __version__  # noqa: E402
from .blocks import Block, Param, Port  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    CosimError,
    FMICallError,
    FMUError,
    ResultsError,
    SimulationError,
    SubsystemError,
    TopologyError,
)
from .execution import run  # noqa: E402
from .result import Result, Termination  # noqa: E402
from .simulation import Simulation  # noqa: E402
from .topology import RunSpec, Topology, load  # noqa: E402


def compare(run, reference, tolerances=None, **options):
    """Compare a run with a reference by the tube rule (see docs/regression.md)."""
    from .comparison import compare as _compare
    return _compare(run, reference, tolerances, **options)


def sweep(study, output=None, **options):
    """Run a study (parameter grid, samples, scenarios); see docs/studies.md."""
    from .studies import sweep as _sweep
    return _sweep(study, output, **options)


def calibrate(calibration, output=None, **options):
    """Calibrate parameters against telemetry, with uncertainty; see docs/calibration.md."""
    from .calibration import calibrate as _calibrate
    return _calibrate(calibration, output, **options)


def read(path):
    """Read an HDF5 result file written by cosim (see docs/results-format.md)."""
    from .results import read as _read
    return _read(path)


__all__ = [
    "Block", "ConfigError", "CosimError", "FMICallError", "FMUError", "Param", "Port",
    "Result", "ResultsError", "RunSpec", "Simulation", "SimulationError", "SubsystemError",
    "Termination", "Topology", "TopologyError", "__version__", "calibrate", "compare", "load", "read", "run", "sweep",
]
