"""Measured data for a twin: reading, timestamps, units, gaps, alignment onto a run.

The one place that reads telemetry; validation, calibration and live monitoring use it.

::

    from cosim.telemetry import load_telemetry

    tel = load_telemetry("topologies/calibration/telemetry.yaml")   # or a spec / data file
    aligned = tel.align(run_time_grid, {"rack1.T_cpu": "K"})        # model units
    aligned.select("window")        # NaN outside the warm-up and the window

See ``docs/telemetry.md`` for the file formats and the spec (``TelemetrySpec``), which
other files embed under a ``telemetry:`` key.
"""

from .align import METHODS, default_max_gap
from .readers import Table, read_table
from .spec import SignalSpec, TelemetrySpec, TimeSpec
from .telemetry import Aligned, Telemetry, TelemetryError, load_telemetry, spec_from

__all__ = [
    "METHODS", "Aligned", "SignalSpec", "Table", "Telemetry", "TelemetryError",
    "TelemetrySpec", "TimeSpec", "default_max_gap", "load_telemetry", "read_table", "spec_from",
]
