"""What a sensitivity analysis returns, and its record in the study file.

The record, in the study file (``/sensitivity``, written when the analysis is done)::

    /sensitivity               attrs: method, factors (JSON), keys (JSON: factor ->
                                      override keys), outputs (JSON), options (JSON),
                                      n_runs, convergence (JSON: output -> check)
    /sensitivity/indices       a table: columns output, factor and one per index
    /sensitivity/s2/<output>   float64 [d, d] (Sobol' second order; and <output>_conf)
    /sensitivity/time_resolved a table: output, window, start, stop, factor, indices

Tables are stored as one dataset per column (strings as UTF-8) in a group.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from ..errors import ResultsError
from .analyze import HEAT, MAIN

_STR = h5py.string_dtype()


@dataclass
class SensitivityResult:
    """Indices per output and factor; see :mod:`cosim.sensitivity.analyze`.

    ``indices``: rows ``(output, factor)``, a column per index. ``time_resolved``: rows
    ``(output, window, start, stop, factor)``. ``convergence``: per output, the largest
    change of the main indices between N/2 and N and whether it is within tolerance.
    """

    method: str
    factors: list[str]
    outputs: list[str]
    indices: pd.DataFrame
    keys: dict[str, list[str]] = field(default_factory=dict)
    second_order: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    time_resolved: pd.DataFrame | None = None
    convergence: dict[str, dict] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    n_runs: int = 0
    path: Path | None = None
    units: dict[str, str | None] = field(default_factory=dict)

    @property
    def df(self) -> pd.DataFrame:
        return self.indices

    def table(self, output: str) -> pd.DataFrame:
        """The indices of one output (rows: factors)."""
        if output not in self.outputs:
            raise KeyError(f"no output {output!r} (outputs: {', '.join(self.outputs)})")
        return self.indices.xs(output, level="output")

    def ranking(self, output: str, by: str | None = None) -> list[str]:
        """Factors from the most to the least influential (by ``ST``, ``mu_star``, ...)."""
        by = by or MAIN[self.method][-1]
        return list(self.table(output)[by].sort_values(ascending=False).index)

    def summary(self) -> str:
        lines = [f"{self.method}: {len(self.factors)} factors, {self.n_runs} runs"]
        for out in self.outputs:
            c = self.convergence.get(out, {})
            note = self.notes.get(out)
            if note:
                lines.append(f"  {out}: {note}")
                continue
            status = "converged" if c.get("converged") else "NOT converged"
            lines.append(f"  {out}: ranking {', '.join(self.ranking(out))}; N/2 vs N: "
                         f"max change {c.get('max_change', math.nan):.3g} "
                         f"({c.get('index', '')} of {c.get('factor', '')}) -> {status}")
        return "\n".join(lines)

    def text(self) -> str:
        """Every output's indices as text tables."""
        parts = [self.summary(), ""]
        with pd.option_context("display.float_format", "{:.4g}".format,
                               "display.width", 120):
            for out in self.outputs:
                if out in self.notes:
                    continue
                parts += [f"{out}:", str(self.table(out)), ""]
        return "\n".join(parts)

    def heat(self, output: str, index: str | None = None) -> pd.DataFrame:
        """Time-resolved indices of one output: rows factors, columns window starts."""
        if self.time_resolved is None or self.time_resolved.empty:
            raise KeyError("no time-resolved indices")
        index = index or HEAT[self.method]
        t = self.time_resolved[self.time_resolved["output"] == output]
        if t.empty:
            raise KeyError(f"no time-resolved output {output!r}")
        return t.pivot(index="factor", columns="start", values=index).loc[self.factors]

    def plot(self, kind: str = "bars", path: str | Path | None = None, **options):
        """``bars`` (indices with intervals), ``morris`` (mu*-sigma plane) or
        ``heatmap`` (time-resolved); see :mod:`cosim.sensitivity.plot`."""
        from . import plot
        fig = plot.figure(self, kind, **options)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, format="png", dpi=100)
        return fig

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v
        rows = self.indices.reset_index().to_dict(orient="records")
        return {"method": self.method, "factors": self.factors, "keys": self.keys,
                "outputs": self.outputs, "n_runs": self.n_runs, "options": self.options,
                "convergence": self.convergence, "notes": self.notes,
                "indices": [{k: clean(v) for k, v in r.items()} for r in rows]}

    def report(self, path: str | Path) -> Path:
        """An HTML report (tables and plots) or the JSON record (``.json``)."""
        out = Path(path)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".json":
                out.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
            else:
                from .plot import render_html
                out.write_text(render_html(self), encoding="utf-8")
        except OSError as err:
            raise ResultsError(f"cannot write the report: {err}", path=str(out)) from err
        return out

    def _repr_html_(self) -> str:
        return (f"<p><b>{html.escape(self.summary()).replace(chr(10), '<br>')}</b></p>"
                + self.indices.to_html(float_format=lambda x: f"{x:.4g}", na_rep="-"))

    def __repr__(self) -> str:
        return f"<SensitivityResult {self.method}, outputs {', '.join(self.outputs)}>"


# -- the HDF5 record ---------------------------------------------------------------------------


def _write_table(g: h5py.Group, name: str, df: pd.DataFrame) -> None:
    t = g.create_group(name, track_order=True)
    for col in df.columns:
        data = df[col].to_numpy()
        if data.dtype.kind in "OUS":
            t.create_dataset(col, data=np.array([str(v) for v in data], dtype=object),
                             dtype=_STR)
        else:
            t.create_dataset(col, data=data.astype(np.float64))


def _read_table(g: h5py.Group) -> pd.DataFrame:
    cols = {}
    for name, ds in g.items():
        data = ds[()]
        cols[name] = [v.decode() if isinstance(v, bytes) else v for v in data] \
            if ds.dtype.kind == "O" else data
    return pd.DataFrame(cols)


def write_record(path: str | Path, result: SensitivityResult) -> None:
    """Write (or replace) ``/sensitivity`` in the study file."""
    from ..studies.store import replaced_group
    with replaced_group(Path(path), "sensitivity", "the sensitivity record") as g:
        g.attrs.update({"method": result.method, "factors": json.dumps(result.factors),
                        "keys": json.dumps(result.keys),
                        "outputs": json.dumps(result.outputs),
                        "options": json.dumps(result.options),
                        "n_runs": np.int64(result.n_runs),
                        "convergence": json.dumps(result.convergence),
                        "notes": json.dumps(result.notes)})
        _write_table(g, "indices", result.indices.reset_index())
        if result.second_order:
            s2 = g.create_group("s2")
            for out, (v, c) in result.second_order.items():
                s2.create_dataset(out, data=v.to_numpy(dtype=np.float64))
                s2.create_dataset(f"{out}_conf", data=c.to_numpy(dtype=np.float64))
        if result.time_resolved is not None and not result.time_resolved.empty:
            _write_table(g, "time_resolved", result.time_resolved)


def read_sensitivity(path: str | Path) -> SensitivityResult:
    """The sensitivity record of a study file."""
    from ..studies.store import open_file
    p = Path(path)
    with open_file(p) as f:
        g = f.get("sensitivity")
        if g is None:
            raise ResultsError("no /sensitivity record: not the study file of a sensitivity "
                               "analysis (cosim sensitivity writes it)", path=str(p))
        factors = json.loads(g.attrs["factors"])
        indices = _read_table(g["indices"]).set_index(["output", "factor"])
        s2 = {}
        if "s2" in g:
            for name in g["s2"]:
                if not name.endswith("_conf"):
                    s2[name] = (pd.DataFrame(g["s2"][name][()], index=factors, columns=factors),
                                pd.DataFrame(g["s2"][f"{name}_conf"][()], index=factors,
                                             columns=factors))
        tr = _read_table(g["time_resolved"]) if "time_resolved" in g else None
        if tr is not None:
            tr["window"] = tr["window"].astype(np.int64)
        return SensitivityResult(
            method=str(g.attrs["method"]), factors=factors,
            outputs=json.loads(g.attrs["outputs"]), indices=indices,
            keys=json.loads(g.attrs["keys"]), second_order=s2, time_resolved=tr,
            convergence=json.loads(g.attrs["convergence"]),
            notes=json.loads(g.attrs["notes"]), options=json.loads(g.attrs["options"]),
            n_runs=int(g.attrs["n_runs"]), path=p)
