"""What ``cosim.validate`` returns: metrics per signal, intervals, verdicts.

A failed criterion is a value (``result.passed is False``), never an exception.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ResultsError
from .criteria import Verdict
from .engine import SignalValidation
from .metrics import PERCENT, POINT_METRICS


@dataclass
class ValidationResult:
    """The validation of a run (or an ensemble) against telemetry.

    ``signals``: one :class:`SignalValidation` each; ``verdicts``: criteria applied
    (None without criteria); ``passed``: every criterion holds (None without criteria).
    ``bootstrap``: block length, replicates, level (empty without bootstrap).
    """

    run: str
    telemetry: str
    window: str
    signals: list[SignalValidation]
    verdicts: list[Verdict] | None = None
    bootstrap: dict[str, Any] = field(default_factory=dict)
    p: int = 0
    notes: list[str] = field(default_factory=list)
    criteria: str = ""
    kind: str = "run"
    span: tuple[float, float] | None = None
    max_gap: float | None = None

    # -- verdict ---------------------------------------------------------------------------

    @property
    def passed(self) -> bool | None:
        if self.verdicts is None:
            return None
        return all(v.passed for v in self.verdicts)

    @property
    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts or [] if not v.passed]

    def __getitem__(self, signal: str) -> SignalValidation:
        for s in self.signals:
            if s.name == signal:
                return s
        raise KeyError(signal)

    def summary(self) -> str:
        n = len(self.signals)
        if self.verdicts is None:
            return f"{n} signal{'s' if n != 1 else ''} validated (no criteria)"
        bad = self.failed
        if not bad:
            return f"PASS: {len(self.verdicts)} criteria hold on {n} signals"
        first = ", ".join(f"{v.signal} {v.metric}" for v in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        return f"FAIL: {len(bad)} of {len(self.verdicts)} criteria failed ({first}{more})"

    # -- tables ----------------------------------------------------------------------------

    def metric_names(self) -> list[str]:
        names = [m for m in POINT_METRICS]
        for s in self.signals:
            names += [k for k in s.metrics if k not in names]
        return names

    @property
    def df(self) -> pd.DataFrame:
        """One row per signal, one column per metric (NaN: undefined, see notes)."""
        names = self.metric_names()
        rows = {s.name: [s.metrics.get(m, math.nan) for m in names] for s in self.signals}
        df = pd.DataFrame.from_dict(rows, orient="index", columns=names)
        df.index.name = "signal"
        df["n"] = df["n"].astype("int64")
        df["max_abs_error_time"] = [s.max_abs_error_time for s in self.signals]
        df.attrs["units"] = {s.name: s.unit for s in self.signals}
        return df

    def intervals(self) -> pd.DataFrame:
        """Bootstrap intervals: rows (signal, metric), columns value, low, high."""
        rows = []
        for s in self.signals:
            for m, (lo, hi) in s.ci.items():
                rows.append((s.name, m, s.metrics.get(m, math.nan), lo, hi))
        return pd.DataFrame(rows, columns=["signal", "metric", "value", "low", "high"]
                            ).set_index(["signal", "metric"])

    def verdict_frame(self) -> pd.DataFrame:
        rows = [(v.signal, v.metric, v.value, v.criterion.text(), v.passed,
                 *(v.ci or (math.nan, math.nan)), v.criterion.source)
                for v in self.verdicts or []]
        return pd.DataFrame(rows, columns=["signal", "metric", "value", "criterion", "passed",
                                           "ci_low", "ci_high", "from"])

    def table(self, metrics: list[str] | None = None) -> str:
        """A text table: one line per signal, the chosen (default: main) metrics."""
        chosen = metrics or ["n", "bias", "rmse", "nmbe", "cv_rmse", "r2", "max_abs_error"]
        chosen += [m for m in self.metric_names() if m.startswith("coverage_") or m == "crps"]
        w = max([len("signal"), *(len(s.name) for s in self.signals)])
        head = f"{'signal':<{w}}  " + " ".join(f"{_label(m):>11}" for m in chosen)
        lines = [head, "-" * len(head)]
        for s in self.signals:
            cells = " ".join(f"{_fmt(s.metrics.get(m, math.nan), m):>11}" for m in chosen)
            lines.append(f"{s.name:<{w}}  {cells}")
        return "\n".join(lines)

    def verdict_table(self) -> str:
        if not self.verdicts:
            return ""
        w = max(len(f"{v.signal} {v.metric}") for v in self.verdicts)
        lines = []
        for v in self.verdicts:
            ci = f"  [{v.ci[0]:.4g}, {v.ci[1]:.4g}]" if v.ci and all(
                math.isfinite(x) for x in v.ci) else ""
            mark = "PASS" if v.passed else "FAIL"
            lines.append(f"{mark}  {v.signal + ' ' + v.metric:<{w}}  {v.value:>10.4g}  "
                         f"{v.criterion.text():<16}{ci}")
        return "\n".join(lines)

    # -- export ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed, "summary": self.summary(), "run": self.run,
            "telemetry": self.telemetry, "window": self.window, "kind": self.kind,
            "parameters_p": self.p, "criteria": self.criteria, "bootstrap": self.bootstrap,
            "span": list(self.span) if self.span else None, "max_gap": _j(self.max_gap),
            "notes": self.notes,
            "signals": [{
                "name": s.name, "unit": s.unit,
                "metrics": {k: _j(v) for k, v in s.metrics.items()},
                "ci": {k: [_j(a), _j(b)] for k, (a, b) in s.ci.items()},
                "notes": s.notes, "max_abs_error_time": _j(s.max_abs_error_time),
                "pit_histogram": None if s.pit_histogram is None else
                [int(c) for c in s.pit_histogram]} for s in self.signals],
            "verdicts": None if self.verdicts is None else [{
                "signal": v.signal, "metric": v.metric, "value": _j(v.value),
                "passed": v.passed, "low": _j(v.criterion.low), "high": _j(v.criterion.high),
                "from": v.criterion.source,
                "ci": None if v.ci is None else [_j(v.ci[0]), _j(v.ci[1])]}
                for v in self.verdicts],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def report(self, path: str | Path) -> Path:
        """Write an HTML report (``.html``) or the JSON record (``.json``)."""
        out = Path(path)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".json":
                out.write_text(self.to_json(), encoding="utf-8")
            else:
                from .html import render
                out.write_text(render(self), encoding="utf-8")
        except OSError as err:
            raise ResultsError(f"cannot write the report: {err}", path=str(out)) from err
        return out

    def _repr_html_(self) -> str:
        head = f"<p><b>{html.escape(self.summary())}</b></p>"
        body = self.df.to_html(float_format=lambda x: f"{x:.4g}", na_rep="-")
        verdicts = ""
        if self.verdicts:
            verdicts = self.verdict_frame().to_html(index=False,
                                                    float_format=lambda x: f"{x:.4g}")
        return head + body + verdicts

    def __repr__(self) -> str:
        return f"<ValidationResult {self.summary()}>"


def _label(metric: str) -> str:
    return metric + (" [%]" if metric in PERCENT else "")


def _fmt(value: float, metric: str) -> str:
    if metric == "n":
        return str(int(value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4g}"


def _j(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value

