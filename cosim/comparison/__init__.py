"""Regression testing of results against references with the csv-compare tube.

See docs/regression.md. ::

    from cosim.comparison import compare
    report = compare("out/run.h5", "reference_results/two_mass/reference.h5",
                     "reference_results/two_mass/tolerances.toml")
    report.passed, report.failed, print(report.table())
"""

from .api import compare
from .csvio import export_csv, read_csv
from .kernels import tube
from .report import Report, SignalReport
from .tolerances import Resolved, Rule, SignalRule, Tolerances

__all__ = ["Report", "Resolved", "Rule", "SignalReport", "SignalRule", "Tolerances",
           "compare", "export_csv", "read_csv", "tube"]
