"""What a comparison returns: one :class:`SignalReport` per signal, in a :class:`Report`.

A failed comparison is a value (``report.passed is False``), never an exception.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

PASS, FAIL, MISSING, NEW = "pass", "fail", "missing", "new"


@dataclass
class SignalReport:
    """The verdict on one signal.

    ``status``: ``pass``; ``fail`` (outside the tube, NaN/Inf, start/stop mismatch);
    ``missing`` (in the reference, not in the result); ``new`` (in the result, not in
    the reference). ``max_error`` is the largest tube excess e(t) (0 when passing, inf
    for a non-finite value) at ``max_error_time``; ``first_failure`` the time of the
    first failing sample (or of a start/stop mismatch). ``max_deviation`` is
    max |y(t) - r(t)| (pointwise, for information: how close to the tube edge).
    ``x`` [s] and ``y`` are the tube's half-width and half-height used.
    """

    name: str
    status: str
    kind: str = "continuous"
    samples: int = 0
    outliers: int = 0
    max_error: float = 0.0
    max_error_time: float | None = None
    first_failure: float | None = None
    x: float | None = None
    y: float | None = None
    max_deviation: float = 0.0
    max_deviation_time: float | None = None
    unit: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_float(v) for k, v in asdict(self).items()}


@dataclass
class Report:
    """All signals of one comparison; ``passed`` iff every signal passed."""

    result: str
    reference: str
    signals: list[SignalReport]
    start: float | None = None
    stop: float | None = None
    reference_start: float | None = None
    reference_stop: float | None = None
    tolerances: str = ""
    exact: bool = False
    #: parameters whose values differ between the run and the reference:
    #: ``{"name", "result", "reference", "unit"}`` each (a value None: not in that file);
    #: None when a side does not record its parameters (CSV, a bare DataFrame)
    parameter_differences: list[dict[str, Any]] | None = None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.signals)

    @property
    def failed(self) -> list[SignalReport]:
        return [s for s in self.signals if not s.passed]

    def __getitem__(self, name: str) -> SignalReport:
        for s in self.signals:
            if s.name == name:
                return s
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"<Report {self.summary()}: {self.result} vs {self.reference}>"

    def _repr_html_(self) -> str:
        from ..reprs import MAX_ROWS, fields, page, table
        shown = sorted(self.signals, key=lambda s: s.passed)[:MAX_ROWS]  # failures first
        rows = [(s.name, s.status.upper(), s.unit or "", s.max_error, s.max_error_time,
                 s.first_failure, s.x, s.y) for s in shown]
        return page(
            fields(self.summary(), [("result", self.result), ("reference", self.reference),
                                    ("tolerances", self.tolerances or "default")]),
            table("signals", ("signal", "status", "unit", "max error", "@ t [s]",
                              "first failure [s]", "X [s]", "Y"), rows,
                  total=len(self.signals),
                  classes=["cosim-pass" if s.passed else "cosim-fail" for s in shown]))

    def summary(self) -> str:
        n, bad = len(self.signals), len(self.failed)
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}: {n - bad}/{n} signals within the tube"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed, "result": self.result, "reference": self.reference,
            "start": _json_float(self.start), "stop": _json_float(self.stop),
            "reference_start": _json_float(self.reference_start),
            "reference_stop": _json_float(self.reference_stop),
            "tolerances": self.tolerances, "exact": self.exact,
            "n_signals": len(self.signals), "n_failed": len(self.failed),
            "parameter_differences": None if self.parameter_differences is None else [
                {k: _json_float(v) for k, v in d.items()} for d in self.parameter_differences],
            "signals": [s.to_dict() for s in self.signals],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def table(self, *, only_failed: bool = False, width: int | None = None) -> str:
        """One line per signal: status, max error @ time, first failure, X, Y."""
        rows = [s for s in self.signals if not (only_failed and s.passed)]
        w = width or max([len("signal"), *(len(s.name) for s in rows)])
        head = (f"{'signal':<{w}}  {'status':<7} {'samples':>8} {'outliers':>8}  "
                f"{'max error':>10} {'@ t [s]':>10}  {'first fail':>10}  "
                f"{'X [s]':>9} {'Y':>9}  {'max |dev|':>10}")
        lines = [head, "-" * len(head)]
        for s in rows:
            if s.status in (MISSING, NEW):
                lines.append(f"{s.name:<{w}}  {s.status.upper():<7} {'-':>8} {'-':>8}")
                lines += [f"{'':<{w}}    {p}" for p in s.problems]
                continue
            lines.append(
                f"{s.name:<{w}}  {s.status.upper():<7} {s.samples:>8} {s.outliers:>8}  "
                f"{_g(s.max_error):>10} {_g(s.max_error_time):>10}  "
                f"{_g(s.first_failure):>10}  {_g(s.x):>9} {_g(s.y):>9}  "
                f"{_g(s.max_deviation):>10}")
            lines += [f"{'':<{w}}    {p}" for p in s.problems]
        return "\n".join(lines)


def _g(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return f"{value:.4g}"


def _json_float(value: Any) -> Any:
    """JSON has no NaN/Infinity: write them as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value
