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

Subpackages, each an attribute of ``cosim`` imported on first use (``SUBPACKAGES``):
``cosim.results`` (Result, read, RunData, plot), ``cosim.comparison``,
``cosim.studies``, ``cosim.telemetry``, ``cosim.validation``, ``cosim.sensitivity``,
``cosim.ssp`` (``cosim.ssp.export(topology, "x.ssp")``), ``cosim.blocks``,
``cosim.units``, and the calibration and surrogate packages where installed.
"""

from ._version import __version__
from .errors import (
    ConfigError,
    CosimError,
    FMICallError,
    FMUError,
    ResultsError,
    SimulationError,
    SubsystemError,
    TopologyError,
)

# The rest of the public API is imported on first use (PEP 562), so that ``import
# cosim`` and ``cosim --help`` do not pay for numpy, pandas, pydantic, networkx, scipy.
_LAZY = {
    "Block": ".blocks.base", "Param": ".blocks.base", "Port": ".blocks.base",
    "run": ".execution", "Result": ".result",
    "Termination": ".result",
    "Simulation": ".simulation", "RunSpec": ".topology.schema",
    "Topology": ".topology.graph", "load": ".topology.loader",
}

#: Documented subpackages, attributes of ``cosim`` imported on first use.
SUBPACKAGES = ("blocks", "calibration", "comparison", "results", "sensitivity", "ssp",
               "studies", "surrogates", "telemetry", "units", "validation")


def __getattr__(name: str):
    import importlib
    if name in SUBPACKAGES:
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise  # the subpackage exists, something it imports does not
            raise AttributeError(f"module 'cosim' has no attribute {name!r}") from None
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cosim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(SUBPACKAGES))


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
