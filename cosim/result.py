"""The value :func:`cosim.run` returns: status, signals as a DataFrame, plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a DataFrame is made
    import pandas as pd


@dataclass(frozen=True)
class Termination:
    """A node asked to end the simulation (FMI ``terminateSimulation``, or FMI 2
    ``fmi2Discard`` with ``fmi2Terminated``): who, when it asked [s], and the time the
    run ended at [s] (the last communication point every node completed)."""

    node: str
    requested: float
    time: float

    def describe(self) -> str:
        text = f"{self.node} asked to end the simulation at t={self.requested:g} s"
        if abs(self.time - self.requested) > 1e-9 * max(1.0, abs(self.time)):
            text += (f"; the run ends at t={self.time:g} s, the last communication point "
                     "every node completed")
        return text


@dataclass
class Result:
    """A finished (or failed) run.

    ``df`` has one column per recorded signal (``node.variable``) and the time [s] as
    index; ``units`` maps each column to its unit. ``status`` is ``"completed"``,
    ``"terminated"`` (a node asked to end the simulation: ``termination`` says who and
    when; the run ended normally) or ``"failed"`` (then ``error`` holds the exception).
    ``path`` is the HDF5 file, if any.
    ``events`` lists what happened (time [s], kind, name, description); at an event time
    the DataFrame holds two rows with the same time, the left and the right limit
    (``df.attrs["row_kind"]``: 1 before, 2 after; see :class:`~cosim.observers.base.RowKind`).
    """

    name: str
    status: str
    error: BaseException | None = None
    path: Path | None = None
    info: Any = None
    memory: Any = None
    trace: list | None = None
    wall_time: float = 0.0
    events: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    termination: Termination | None = None
    _df: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def df(self) -> pd.DataFrame:
        if self._df is None:
            if self.memory is not None and self.memory.info is not None:
                self._df = self.memory.dataframe()
            elif self.path is not None:
                from .results.reader import read
                self._df = read(self.path).df
            else:
                import pandas as pd
                self._df = pd.DataFrame()
        return self._df

    @property
    def units(self) -> dict[str, str | None]:
        return dict(self.df.attrs.get("units", {}))

    def __getitem__(self, signal: str) -> pd.Series:
        return self.df[signal]

    def plot(self, signals=None, path: str | Path | None = None):
        """Plot signals (globs allowed) in the topology's ``run.plot`` panels, the rest
        grouped by unit, with events as lines; save to ``path`` if given (see
        :func:`cosim.results.plot`)."""
        import pandas as pd

        from .results.plots import plot
        from .results.reader import RunData
        data = RunData.from_dataframe(self.df, units=self.units, name=self.name,
                                      status=self.status)
        if self.info is not None:
            data.meta["display_units"] = self.info.meta.get("display_units", {})
            data.meta["topology"] = self.info.meta.get("topology", {})
            data.parameters = {k: v for k, (v, _) in self.info.parameters.items()}
        data.events = pd.DataFrame([(e.time, e.kind, e.name, e.description)
                                    for e in self.events],
                                   columns=["time", "kind", "name", "description"])
        return plot(data, signals, path=path)

    @property
    def display_units(self) -> dict:
        """``{signal: Display}`` for signals shown in another unit (see RunData)."""
        from .units import Display
        raw = self.info.meta.get("display_units", {}) if self.info is not None else {}
        return {name: Display.from_dict(d) for name, d in raw.items()}

    def __repr__(self) -> str:
        cols = len(self.df.columns)
        return (f"<Result {self.name!r} {self.status}: {len(self.df)} rows x {cols} signals, "
                f"{self.wall_time:.3g} s wall>")

    def _repr_html_(self) -> str:
        from .reprs import fields, page, signals_table
        df, info = self.df, self.info
        return page(fields(f"Result {self.name!r}", [
            ("status", self.status), ("error", self.error),
            ("termination", self.termination.describe() if self.termination else None),
            ("time [s]", f"{df.index[0]:g} .. {df.index[-1]:g}" if len(df) else None),
            ("rows x signals", f"{len(df)} x {len(df.columns)}"),
            ("algorithm", f"{info.algorithm}, step {info.step:g} s" if info else None),
            ("wall time", f"{self.wall_time:.3g} s"), ("file", self.path),
            ("events", len(self.events) or None)]),
            signals_table(df, self.units, self.display_units))
