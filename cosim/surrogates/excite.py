"""``cosim surrogate excite``: record a node's response to excitation designs, as a study.

An excitation file names the node and its envelope::

    topology: ../datacenter_detailed.yaml   # relative to this file
    node: rack1
    runs: 300                  # scenarios (one design each; seeds seed .. seed+runs-1)
    horizon: 21600             # s per run, from the topology's start, at its step
    seed: 0
    kinds: [mixed]             # steps | ramps | chirp | mixed, cycled over the seeds
    hold: [300, 5400]          # s: shortest and longest hold (or chirp period)
    envelope:                  # bounds per input, in the input's unit unless given
      P_it: {low: 2000, high: 16000}
      T_supply: {low: 13, high: 23, unit: degC}
      m_flow: {low: 0.2, high: 1.2}
    constraints:               # optional (see cosim.surrogates.excitation)
      - T_supply + P_it / (1005 * m_flow) + P_it / 500 <= 345
    outputs: [T_cpu, T_out]    # the outputs to learn (default: every real output)

The node runs alone, with the parameters and start values the topology gives it, driven
by an :class:`~cosim.surrogates.excitation.Excitation` block (inputs not in the
envelope hold their start values), under the Jacobi master at the topology's step. The
runs are a study (:mod:`cosim.studies`): a grid over the excitation seed, the traces of
every input and output kept, on any runner (process pool, Dask), resumable, failures
isolated. The study's topology file is written beside the study file
(``NAME.topology.yaml``); what fitting needs to know (ports, units, start values, the
envelope, the source FMU's SHA-256 and parameters) is added to the study file as
``/meta/surrogate_excitation`` (JSON).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError, TopologyError
from ..topology import Topology, yamlio
from ..topology import load as load_topology
from ..variables import REAL
from .excitation import KINDS, Constraint

EXCITATION_BLOCK = "cosim.surrogates.excitation:Excitation"
EXC_NODE = "excitation"


class Bound(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float
    high: float
    unit: str | None = None


class ExcitationSpec(BaseModel):
    """An excitation file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    topology: str
    node: str
    runs: int = Field(100, ge=1)
    horizon: float = Field(21600.0, gt=0)
    seed: int = 0
    kinds: list[str] = Field(default_factory=lambda: ["mixed"])
    hold: tuple[float, float] = (300.0, 5400.0)
    envelope: dict[str, Bound]
    constraints: list[str] = Field(default_factory=list)
    outputs: list[str] | None = None
    name: str | None = None

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, kinds: list[str]) -> list[str]:
        bad = [k for k in kinds if k not in KINDS]
        if bad or not kinds:
            raise ValueError(f"unknown excitation kind {bad[0] if bad else None!r}; choose "
                             f"from {', '.join(KINDS)}")
        return kinds


def load_spec(path: str | Path) -> tuple[ExcitationSpec, Path]:
    """Read an excitation file; problems at ``file:line``."""
    p = Path(path)
    data, _, where, _ = yamlio.read_mapping(p, "excitation file",
                                            "'topology', 'node' and 'envelope'")
    try:
        spec = ExcitationSpec.model_validate(data)
    except ValidationError as err:
        raise TopologyError([yamlio.validation_problem(e, where) for e in err.errors()]) \
            from None
    return spec, p.resolve().parent


class Plan:
    """The excitation topology and study for a spec (built, checked, not run)."""

    def __init__(self, spec: ExcitationSpec, base_dir: Path):
        self.spec, self.base_dir = spec, base_dir
        self.topology = load_topology(_resolve(base_dir, spec.topology))
        report = self.topology.check()
        report.raise_if_problems()
        if spec.node not in report.nodes:
            raise ConfigError(f"excitation: the topology has no node {spec.node!r} (nodes: "
                              f"{', '.join(sorted(report.nodes))})", field="node")
        self.info = report.nodes[spec.node]
        if self.info.kind != "fmu":
            raise ConfigError(f"excitation: node {spec.node} is a {self.info.kind}; "
                              "surrogates replace FMU nodes", field="node")
        self.step = float(self.topology.run.step)
        self.inputs = [v for v in self.info.interface.inputs if v.kind == REAL]
        self.bounds = self._bounds()
        self.outputs = self._outputs()

    def _bounds(self) -> dict[str, tuple[float, float]]:
        from .. import units
        names = {v.name: v for v in self.inputs}
        unknown = sorted(set(self.spec.envelope) - set(names))
        if unknown:
            raise ConfigError(f"excitation: {', '.join(unknown)} is not a real input of "
                              f"{self.spec.node} (inputs: {', '.join(names)})",
                              field="envelope")
        out = {}
        for name, var in names.items():
            b = self.spec.envelope.get(name)
            if b is None:
                start = float(var.start if var.start is not None else 0.0)
                out[name] = (start, start)
                continue
            lo, hi = b.low, b.high
            if b.unit and var.unit and b.unit != var.unit:
                try:
                    lo, hi = (units.convert(x, b.unit, var.unit) for x in (b.low, b.high))
                except units.UnitError as err:
                    raise ConfigError(f"excitation: envelope of {name}: {err}",
                                      field="envelope") from None
            if not hi >= lo:
                raise ConfigError(f"excitation: envelope of {name}: high ({b.high}) is below "
                                  f"low ({b.low})", field="envelope")
            out[name] = (float(lo), float(hi))
        for c in self.spec.constraints:
            Constraint.parse(c, list(names))
        return out

    def _outputs(self) -> list[str]:
        real = [v.name for v in self.info.interface.outputs if v.kind == REAL]
        chosen = self.spec.outputs or real
        bad = [o for o in chosen if o not in real]
        if bad:
            raise ConfigError(f"excitation: {', '.join(bad)} is not a real output of "
                              f"{self.spec.node} (outputs: {', '.join(real)})", field="outputs")
        return list(chosen)

    # -- the excitation topology and study -----------------------------------------------------

    def excitation_topology(self) -> Topology:
        spec, node = self.spec, self.spec.node
        data = self.topology.graph.nodes[node]
        run = self.topology.run
        names = [v.name for v in self.inputs]
        t = Topology(f"{self.topology.name}_{node}_excitation", base_dir=self.base_dir)
        t.run = type(run).model_validate({"start": run.start, "stop": run.start + spec.horizon,
                                          "step": run.step, "algorithm": "jacobi"})
        t.add_block(EXC_NODE, EXCITATION_BLOCK, parameters={
            "names": names, "low": [self.bounds[n][0] for n in names],
            "high": [self.bounds[n][1] for n in names],
            "units": [v.unit for v in self.inputs], "kinds": list(spec.kinds),
            "seed": int(spec.seed), "n_steps": self.n_steps, "dt": self.step,
            "min_hold": float(spec.hold[0]), "max_hold": float(spec.hold[1]),
            "constraints": list(spec.constraints),
            "nominal": [float(v.start if v.start is not None else 0.0) for v in self.inputs]})
        t.add_fmu(node, str(self.topology.fmu_path(node).resolve()),
                  parameters=dict(data["parameters"]), start=dict(data["start"]))
        for n in names:
            t.connect(f"{EXC_NODE}.{n}", f"{node}.{n}")
        return t

    @property
    def n_steps(self) -> int:
        return max(1, int(round(self.spec.horizon / self.step)))

    def study_spec(self, topology_file: Path) -> dict[str, Any]:
        node, spec = self.spec.node, self.spec
        outs = {f"max_{o}": {"signal": f"{node}.{o}", "stat": "max"} for o in self.outputs}
        return {"name": spec.name or f"{node}_excitation", "topology": str(topology_file),
                "grid": {f"{EXC_NODE}.seed": list(range(spec.seed, spec.seed + spec.runs))},
                "outputs": outs,
                "traces": {"signals": [f"{EXC_NODE}.*"] + [f"{node}.{o}" for o in self.outputs]}}

    def meta(self) -> dict[str, Any]:
        """What fitting needs to know, stored in the study file."""
        from ..fmu import description
        node = self.spec.node
        info = description.read(self.topology.fmu_path(node))
        ports = {v.name: v for v in self.info.interface.variables.values()}
        return {
            "node": node, "step": self.step, "horizon": self.spec.horizon,
            "inputs": [v.name for v in self.inputs], "outputs": self.outputs,
            "units": {n: ports[n].unit for n in [*self.bounds, *self.outputs]},
            "start": {n: (None if ports[n].start is None else float(ports[n].start))
                      for n in [*self.bounds, *self.outputs]},
            "envelope": {n: list(b) for n, b in self.bounds.items()},
            "constraints": list(self.spec.constraints), "kinds": list(self.spec.kinds),
            "hold": list(self.spec.hold), "seed": self.spec.seed, "runs": self.spec.runs,
            "source": {"fmu": info.path.name, "sha256": info.sha256, "guid": info.guid,
                       "model": info.description.modelName,
                       "fmi_version": info.description.fmiVersion,
                       "parameters": _plain(self.topology.graph.nodes[node]["parameters"])},
        }


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(values, default=str))


def _resolve(base: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else base / p


def excite(spec: ExcitationSpec | str | Path, output: str | Path, *, base_dir: Path | None
           = None, runs: int | None = None, horizon: float | None = None,
           **sweep_options: Any):
    """Run the excitation study of ``spec`` into the study file ``output``; returns the
    study's DataFrame. ``sweep_options`` go to :func:`cosim.studies.sweep` (runner,
    workers, dask, dask_local, resume, overwrite, progress)."""
    from ..studies import sweep
    from ..studies.study import study_from_spec
    if not isinstance(spec, ExcitationSpec):
        spec, base_dir = load_spec(spec)
    updates = {k: v for k, v in (("runs", runs), ("horizon", horizon)) if v is not None}
    if updates:
        spec = spec.model_copy(update=updates)
    plan = Plan(spec, base_dir or Path.cwd())
    out = Path(output)
    topo_file = out.with_name(out.stem + ".topology.yaml")
    plan.excitation_topology().save(topo_file)
    study = study_from_spec(plan.study_spec(topo_file.resolve()), base_dir=out.parent)
    df = sweep(study, out, **sweep_options)
    with h5py.File(out, "a") as f:
        meta = f.require_group("meta")
        if "surrogate_excitation" in meta:
            del meta["surrogate_excitation"]
        meta.create_dataset("surrogate_excitation", data=json.dumps(plan.meta()),
                            dtype=h5py.string_dtype())
    return df
