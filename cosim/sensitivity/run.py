"""Running a sensitivity analysis: the design as a study, then SALib on its outputs.

Every run goes through the study runners (:func:`cosim.studies.sweep`): serial, a local
process pool or Dask, with the study file written as results arrive, ``resume`` and
failure isolation. The design is the method's SALib sample (one scenario per row, in
SALib's order); outputs and time-resolved outputs (one per window) are study outputs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..errors import Problem, SimulationError
from ..studies import sweep
from ..studies.study import Study, StudyError, _problem, study_from_spec
from ..topology import load as load_topology
from ..topology import yamlio
from . import analyze as _an
from .design import Factor, expand, points, problem, runs_per_half, unit_sample, values
from .result import SensitivityResult, write_record
from .spec import SensitivitySpec

WINDOW_SUFFIX = "__w"


class Plan:
    """A loaded sensitivity file: the spec, its factors, design and the study."""

    def __init__(self, spec: SensitivitySpec, base_dir: Path, where=None,
                 source: Path | None = None, text: str = ""):
        self.spec, self.base_dir = spec, base_dir
        self.where = where or (lambda *loc: "")
        self.source = source
        self.name = spec.name or (source.stem if source else "sensitivity")
        topo_path = Path(spec.topology)
        self.topology_path = topo_path if topo_path.is_absolute() else base_dir / topo_path
        if not self.topology_path.is_file():
            raise StudyError([Problem(f"topology: file not found: {self.topology_path}",
                                      self.where("topology"))])
        topology = load_topology(self.topology_path)  # read once: factors and windows
        self.factors = self._factors(list(topology.graph.nodes))
        self.problem = problem(self.factors)
        self.unit = unit_sample(spec, self.problem)
        self.values = values(self.factors, self.unit, spec.method)
        self.windows = self._windows(topology.run)
        self.study = self._study(text)

    def _factors(self, nodes: list[str]) -> list[Factor]:
        factors, problems, seen = [], [], {}
        for name, dist in self.spec.factors.items():
            keys = expand(name, nodes)
            if not keys:
                problems.append(Problem(f"factors.{name}: the node pattern matches no node "
                                        f"(nodes: {', '.join(nodes)})",
                                        self.where("factors", name)))
            for k in keys:
                if k in seen:
                    problems.append(Problem(f"factors.{name}: {k} is also set by "
                                            f"{seen[k]!r}", self.where("factors", name)))
                seen[k] = name
            factors.append(Factor(name, keys, dist))
        if problems:
            raise StudyError(problems)
        return factors

    def _windows(self, run) -> list[tuple[float, float]]:
        tr = self.spec.time_resolved
        if tr is None:
            return []
        start = self.spec.run.start if self.spec.run.start is not None else run.start
        stop = self.spec.run.stop if self.spec.run.stop is not None else run.stop
        n = max(1, math.ceil(round((stop - start) / tr.window, 9)))
        return [(start + k * tr.window, min(stop, start + (k + 1) * tr.window))
                for k in range(n)]

    def _outputs(self) -> dict[str, Any]:
        outs = {k: v.model_dump(exclude_none=True) for k, v in self.spec.outputs.items()}
        tr = self.spec.time_resolved
        for base, out in (tr.outputs.items() if tr else ()):
            for k, (a, b) in enumerate(self.windows):
                outs[f"{base}{WINDOW_SUFFIX}{k:03d}"] = {
                    **out.model_dump(exclude_none=True), "window": [a, b]}
        return outs

    def _study(self, text: str) -> Study:
        spec = self.spec
        declared = {k: {"distribution": "uniform", "low": 0.0, "high": 1.0}
                    for f in self.factors for k in f.keys}
        data = {"name": self.name, "description": spec.description,
                "topology": str(self.topology_path),
                "run": spec.run.model_dump(exclude_none=True),
                "parameters": spec.parameters, "start": spec.start,
                "samples": {"method": "montecarlo", "n": 1, "parameters": declared},
                "outputs": self._outputs()}
        owner = {k: f.name for f in self.factors for k in f.keys}
        tr_names = set(spec.time_resolved.outputs) if spec.time_resolved else set()

        def where(*loc: Any) -> str:  # locations of the study -> of the sensitivity file
            if loc[:2] == ("samples", "parameters") and len(loc) > 2:
                return self.where("factors", owner.get(loc[2], loc[2]))
            if loc and loc[0] == "outputs" and len(loc) > 1:
                base = str(loc[1]).split(WINDOW_SUFFIX)[0]
                if base in tr_names:
                    return self.where("time_resolved", "outputs", base, *loc[2:])
            return self.where(*loc)

        return study_from_spec(data, base_dir=self.base_dir, points=points(
            self.factors, self.values), where=where, source=self.source, text=text)


def load_plan(path: str | Path) -> Plan:
    """Read and check a sensitivity file; raise StudyError listing every problem."""
    p = Path(path)
    data, _, where, text = yamlio.read_mapping(p, "sensitivity file",
                                               "'topology', 'method', 'factors', 'outputs'")
    try:
        spec = SensitivitySpec.model_validate(data)
    except ValidationError as err:
        raise StudyError([_problem(e, where) for e in err.errors()]) from None
    return Plan(spec, p.resolve().parent, where, source=p, text=text)


def plan_from_spec(spec: SensitivitySpec | dict, base_dir: str | Path | None = None) -> Plan:
    if isinstance(spec, dict):
        try:
            spec = SensitivitySpec.model_validate(spec)
        except ValidationError as err:
            raise StudyError([_problem(e, lambda *loc: "") for e in err.errors()]) from None
    return Plan(spec, Path(base_dir).resolve() if base_dir is not None else Path.cwd())


def sensitivity(source: str | Path | dict | SensitivitySpec | Plan,
                output: str | Path | None = None, *, runner=None,
                workers: int | None = None, dask: str | None = None,
                dask_local: int | None = None, resume: bool = False,
                overwrite: bool = False, progress: bool = False,
                base_dir: str | Path | None = None) -> SensitivityResult:
    """Run a sensitivity analysis (a file, a spec mapping or a :class:`Plan`).

    Where runs go and ``output``/``resume``/``overwrite`` are as for
    :func:`cosim.studies.sweep`; with ``output``, the indices are also recorded in the
    study file (``/sensitivity``). Raises SimulationError when runs failed (indices
    need every run).
    """
    if isinstance(source, Plan):
        plan = source
    elif isinstance(source, dict | SensitivitySpec):
        plan = plan_from_spec(source, base_dir)
    else:
        plan = load_plan(source)
    df = sweep(plan.study, output, runner=runner, workers=workers, dask=dask,
               dask_local=dask_local, resume=resume, overwrite=overwrite, progress=progress)
    failed = df[df["status"] != "completed"]
    if len(failed):
        first = failed.iloc[0]
        raise SimulationError(
            f"{len(failed)} of {len(df)} runs failed (scenario {failed.index[0]}: "
            f"{first['error'] or first['status']}); sensitivity indices need every run: "
            "narrow the factors' ranges or fix the model"
            + (f"; the runs are in {output}" if output else ""))
    result = analyse(plan, df)
    if output is not None:
        write_record(output, result)
        result.path = Path(output)
    return result


def analyse(plan: Plan, df: pd.DataFrame) -> SensitivityResult:
    """The indices from a finished study DataFrame (rows in scenario order)."""
    spec = plan.spec
    df = df.sort_index()
    u, prob = plan.unit, plan.problem
    half = runs_per_half(spec, len(plan.factors))
    frames, notes, conv, s2 = [], {}, {}, {}
    for name in spec.outputs:
        y = df[name].to_numpy(dtype=np.float64)
        full = _an.analyze(spec, prob, u, y)
        if full.note:
            notes[name] = full.note
            continue
        conv[name] = _an.convergence(spec, full, _an.analyze(spec, prob, u[:half], y[:half]))
        t = full.table.copy()
        t.insert(0, "output", name)
        frames.append(t.reset_index())
        if full.s2 is not None:
            s2[name] = (full.s2, full.s2_conf)
    indices = pd.concat(frames, ignore_index=True).set_index(["output", "factor"]) \
        if frames else pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["output",
                                                                                "factor"]))
    tr = None
    if spec.time_resolved is not None:
        columns = {base: np.column_stack([
            df[f"{base}{WINDOW_SUFFIX}{k:03d}"].to_numpy(dtype=np.float64)
            for k in range(len(plan.windows))]) for base in spec.time_resolved.outputs}
        tr = _an.time_resolved(spec, prob, u, columns, plan.windows)
    units = dict(df.attrs.get("units", {}))
    return SensitivityResult(
        method=spec.method, factors=[f.name for f in plan.factors],
        outputs=[o for o in spec.outputs], indices=indices,
        keys={f.name: list(f.keys) for f in plan.factors}, second_order=s2,
        time_resolved=tr, convergence=conv, notes=notes,
        options={"n": spec.n, "seed": spec.seed, "second_order": spec.second_order,
                 "levels": spec.levels, "resamples": spec.resamples,
                 "confidence": spec.confidence, "tolerance": spec.convergence_tolerance,
                 "windows": plan.windows},
        n_runs=len(df), units={o: units.get(o) for o in spec.outputs})
