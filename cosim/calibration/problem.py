"""Loading a calibration: the file, its topology, parameters and telemetry, checked.

Every problem of the file is reported at once, each with ``file:line``
(:class:`CalibrationError`); telemetry that cannot be used raises the telemetry
package's own error (a missing column, an incompatible unit, no overlap with the run),
and a fitted signal without a single usable measurement raises one naming it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError, CosimError, Problem
from ..fmu.archive import sha256
from ..telemetry import Telemetry, load_telemetry, spec_from
from ..topology import Topology, yamlio
from ..topology import load as load_topology
from ..topology.loader import from_mapping
from . import parameters as _parameters
from .observations import Observations, chosen_signals, observe, run_grid
from .parameters import Parameters
from .spec import CalibrationSpec

_TAGS = ("least-squares", "global", "bayesian", "normal", "lognormal")


class CalibrationError(ConfigError):
    """A calibration file has one or more problems; ``problems`` lists them (exit 2)."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        body = "\n".join(f"  - {p}" for p in self.problems)
        CosimError.__init__(self, f"calibration has {n} problem{'s' if n != 1 else ''}:"
                                  f"\n{body}")
        self.file = self.line = self.field = None


@dataclass
class CalibrationProblem:
    """A loaded, checked calibration: what to estimate, against what."""

    spec: CalibrationSpec
    name: str
    topology: Topology
    parameters: Parameters
    observations: Observations
    telemetry: Telemetry
    base_dir: Path
    path: Path | None = None
    text: str = ""

    def with_measured(self, measured) -> CalibrationProblem:
        """The same problem against other measured values (``[signal, time]`` on the
        grid, e.g. another draw of the noise)."""
        return replace(self, observations=self.observations.with_measured(measured))

    def telemetry_hashes(self) -> dict[str, str]:
        return {str(p): sha256(p) for p in self.telemetry.files}

    def topology_json(self) -> Any:
        try:
            return self.topology.to_spec().model_dump(mode="json", by_alias=True)
        except Exception:  # noqa: BLE001 - a topology that cannot be written as a file
            return repr(self.topology)

    def topology_hash(self) -> str:
        """SHA-256 of the topology as loaded (its spec, as JSON)."""
        text = json.dumps(self.topology_json(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def identity(self, assets: Mapping[str, str]) -> str:
        """SHA-256 of everything that determines the evaluations and the fit — not the
        budget: a calibration that ran out of it resumes with a larger one."""
        text = json.dumps({
            "spec": self.spec.model_dump(mode="json", exclude={"budget"}),
            "topology": self.topology_json(),
            "assets": sorted(assets.values()), "telemetry": sorted(
                self.telemetry_hashes().values()),
            "grid": self.observations.time.tolist()}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _problem(error: dict, where: Callable[..., str]) -> Problem:
    return yamlio.validation_problem(error, where, ignore=_TAGS)


def load_calibration(source: str | Path | CalibrationSpec | Mapping[str, Any], *,
                     base_dir: str | Path | None = None) -> CalibrationProblem:
    """A calibration from its file, or from a spec / mapping (paths relative to
    ``base_dir``, default the current folder)."""
    if isinstance(source, CalibrationSpec | Mapping):
        folder = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
        where = lambda *loc: ""  # noqa: E731
        try:
            spec = CalibrationSpec.model_validate(source) if isinstance(source, Mapping) \
                else source
        except ValidationError as err:
            raise CalibrationError([_problem(e, where) for e in err.errors()]) from None
        return _build(spec, folder, where, None, "")
    p = Path(source)
    data, _, where, text = yamlio.read_mapping(p, "calibration file",
                                               "'topology', 'telemetry' and 'parameters'")
    try:
        spec = CalibrationSpec.model_validate(data)
    except ValidationError as err:
        raise CalibrationError([_problem(e, where) for e in err.errors()]) from None
    return _build(spec, p.resolve().parent, where, p, text)


def _build(spec: CalibrationSpec, base_dir: Path, where, path: Path | None,
           text: str) -> CalibrationProblem:
    topology = _topology(spec, base_dir, where, path)
    report = topology.check()
    report.raise_if_problems()
    interfaces = {n: info.interface for n, info in report.nodes.items()}
    outputs = {f"{n}.{v.name}": v.unit for n, iface in interfaces.items()
               for v in iface.outputs}
    problems: list[Problem] = []
    params = _parameters.build(spec.parameters, topology, interfaces, where, problems)
    telemetry = _telemetry(spec, base_dir, where)
    chosen = chosen_signals(spec.signals, telemetry, outputs, where, problems)
    _check_profile(spec, params, where, problems)
    if problems:
        raise CalibrationError(problems)
    observations = observe(telemetry, run_grid(topology.run), chosen, outputs)
    name = spec.name or (path.stem if path is not None else topology.name)
    return CalibrationProblem(spec, name, topology, params, observations, telemetry, base_dir, path,
                    text)


def _topology(spec: CalibrationSpec, base_dir: Path, where, path: Path | None) -> Topology:
    if isinstance(spec.topology, dict):
        anchor = path if path is not None else base_dir / "calibration.yaml"

        def inner(*loc):
            return where("topology", *loc)
        return from_mapping(dict(spec.topology), anchor, inner)
    p = Path(spec.topology)
    p = p if p.is_absolute() else base_dir / p
    if not p.is_file():
        raise CalibrationError([Problem(f"topology: file not found: {p}", where("topology"))])
    return load_topology(p)


def _telemetry(spec: CalibrationSpec, base_dir: Path, where) -> Telemetry:
    if isinstance(spec.telemetry, str):
        p = Path(spec.telemetry)
        p = p if p.is_absolute() else base_dir / p
        if not p.is_file():
            raise CalibrationError([Problem(f"telemetry: file not found: {p}",
                                            where("telemetry"))])
        return load_telemetry(p)
    return Telemetry(spec_from(spec.telemetry), base_dir,
                     lambda *loc: where("telemetry", *loc))


def _check_profile(spec: CalibrationSpec, params: Parameters, where,
                   problems: list[Problem]) -> None:
    for i, name in enumerate(spec.identifiability.profile):
        if name not in params.names:
            problems.append(Problem(f"identifiability.profile: no estimated parameter "
                                    f"{name!r} ({', '.join(params.names)})",
                                    where("identifiability", "profile", i)))
