"""Parameter studies: many runs of one topology, their outputs in one HDF5 file.

::

    import cosim.studies as cs

    df = cs.sweep("topologies/studies/datacenter_setpoint.yaml", "out/study.h5")
    df = cs.read_study("out/study.h5")            # one row per scenario
    ds = cs.read_study("out/study.h5", format="xarray")
    cs.plot_study(df, kind="heatmap", path="out/study.png")

A study file names a topology, the design (grid, Latin hypercube / Sobol / Monte Carlo
samples), scenario variants and the outputs of interest; see ``docs/studies.md``.
Runners: serial, a local process pool (default) or Dask (``dask`` extra).
"""

from .dask_runner import DaskRunner, local_cluster  # distributed is imported when used
from .outputs import Output
from .runners import ProcessPoolRunner, Runner, SerialRunner
from .store import STUDY_LAYOUT_VERSION, read_study, read_trace, to_xarray
from .study import Scenario, Study, StudyError, load_study, study_from_spec
from .sweep import sweep


def plot_study(*args, **kwargs):
    """Scatter plots (parameter vs output) or heat maps (grids); see
    :func:`cosim.studies.plot.plot_study` (matplotlib is imported on first use)."""
    from .plot import plot_study as _plot
    return _plot(*args, **kwargs)


__all__ = [
    "STUDY_LAYOUT_VERSION", "DaskRunner", "Output", "ProcessPoolRunner", "Runner", "Scenario",
    "SerialRunner", "Study", "StudyError", "load_study", "plot_study", "read_study",
    "local_cluster", "read_trace", "study_from_spec", "sweep", "to_xarray",
]
