"""Loading a study file: validation with ``file:line``, the design, outputs and traces.

A *scenario* is one run: one variant applied to one design point. Scenarios are
numbered ``0..N-1``, variant by variant (in file order), and within a variant by design
point: the grid's cartesian product (first key varies slowest) crossed with the
samples (grid-major). Numbers are stable for a given study file, which is what makes
``--resume`` and comparisons across runners work.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..errors import ConfigError, CosimError, Problem
from ..topology import Topology, yamlio
from ..topology import load as load_topology
from ..variables import BOOLEAN, INPUT, INTEGER, OUTPUT, REAL, STRING
from . import sampling
from .outputs import Output, resolve
from .schema import Choice, StudySpec

START_PREFIX = "start."
PARAMETER_CAUSALITIES = ("parameter", "structuralParameter")
BASE_VARIANT = "base"
FILE_PARAMETERS = ("file", "artifact", "fallback")  # block parameters naming files


class StudyError(ConfigError):
    """A study file has one or more problems; ``problems`` lists them all (exit code 2)."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        body = "\n".join(f"  - {p}" for p in self.problems)
        CosimError.__init__(self, f"study has {n} problem{'s' if n != 1 else ''}:\n{body}")
        self.file = self.line = self.field = None


@dataclass(frozen=True)
class Key:
    """An override: ``node.parameter`` or ``start.node.variable``."""

    text: str
    kind: str  # "parameter" | "start"
    node: str
    variable: str
    unit: str | None = None
    default: Any = None
    value_kind: str | None = None  # real/integer/boolean/string for FMU variables
    is_file: bool = False  # a block's data file: relative to the study file, shipped


@dataclass(frozen=True)
class Scenario:
    """One run: ``values`` maps override keys to values (as in the design table)."""

    id: int
    variant: str
    values: dict[str, Any]
    applied: frozenset[str] = frozenset()  # the keys this scenario sets (others: defaults)
    events: tuple[dict[str, Any], ...] | None = None


@dataclass
class Study:
    """A loaded, validated study: everything needed to run it and to store its results."""

    spec: StudySpec
    name: str
    topology: Topology
    keys: dict[str, Key]
    scenarios: list[Scenario]
    outputs: list[Output]
    trace_signals: list[str]
    trace_ids: list[int]
    signal_units: dict[str, str | None]
    path: Path | None = None
    text: str = ""
    base_dir: Path = field(default_factory=Path.cwd)
    calibration_keys: list[str] = field(default_factory=list)
    band_signals: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scenarios)

    @property
    def variants(self) -> list[str]:
        return list(self.spec.variants) or [BASE_VARIANT]

    @property
    def grid_keys(self) -> list[str]:
        return list(self.spec.grid)

    @property
    def sample_keys(self) -> list[str]:
        keys = list(self.spec.samples.parameters) if self.spec.samples else []
        return keys + [k for k in self.calibration_keys if k not in keys]

    @property
    def record(self) -> list[str]:
        """The signals every run must record: those of the outputs and traces."""
        names = [s for o in self.outputs for s in o.signals] + list(self.trace_signals)
        return list(dict.fromkeys(names))

    def design(self) -> pd.DataFrame:
        """One row per scenario (index ``scenario``): the variant and every override."""
        rows = [{"variant": s.variant, **s.values} for s in self.scenarios]
        df = pd.DataFrame(rows, columns=["variant", *self.keys],
                          index=pd.Index([s.id for s in self.scenarios], name="scenario"))
        return df

    def resolved(self, key: Key, value: Any) -> Any:
        """A value as applied: data files of blocks become absolute paths."""
        if key.is_file and isinstance(value, str):
            p = Path(value)
            return str(p if p.is_absolute() else (self.base_dir / p).resolve())
        return value

    def overrides(self, scenario: Scenario) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(parameters, start values)`` of a scenario, keyed ``node.variable``."""
        params: dict[str, Any] = {}
        starts: dict[str, Any] = {}
        for text, value in scenario.values.items():
            if text not in scenario.applied:
                continue
            key = self.keys[text]
            target = starts if key.kind == "start" else params
            target[f"{key.node}.{key.variable}"] = self.resolved(key, value)
        return params, starts


# -- loading ---------------------------------------------------------------------------------


def load_study(path: str | Path) -> Study:
    """Read and check a study file; raise :class:`StudyError` listing every problem."""
    p = Path(path)
    data, _, where, text = yamlio.read_mapping(p, "study file", "'topology' and 'outputs'")

    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as err:
        raise StudyError([_problem(e, where) for e in err.errors()]) from None
    return _Builder(spec, p.resolve().parent, where, source=p, text=text).build()


def study_from_spec(spec: StudySpec | dict, *, base_dir: str | Path | None = None,
                    points: list[dict[str, Any]] | None = None,
                    where: Callable[..., str] | None = None, source: Path | None = None,
                    text: str = "") -> Study:
    """A study from its model (or a dict of the file's content); paths relative to
    ``base_dir`` (default: the current folder).

    ``points``: an explicit design (``[{key: value}]``, e.g. a sensitivity method's
    sample) used instead of the grid and samples; its keys must be declared (by the
    grid or samples) so that they are checked. ``where(*loc)`` gives ``file:line`` for
    a location in ``spec`` (when it comes from another file)."""
    w = where or (lambda *loc: "")
    if isinstance(spec, dict):
        try:
            spec = StudySpec.model_validate(spec)
        except ValidationError as err:
            raise StudyError([_problem(e, w) for e in err.errors()]) from None
    folder = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    return _Builder(spec, folder, w, source=source, text=text, points=points).build()


def _problem(error: dict, where: Callable[..., str]) -> Problem:
    problem = yamlio.validation_problem(error, where, ignore=_DISTRIBUTION_TAGS)
    if error["type"] != "union_tag_invalid":
        return problem
    msg = (f"unknown distribution {error.get('input', {}).get('distribution')!r} "
           "(uniform, loguniform, normal, lognormal, triangular, choice, scipy)")
    field = problem.message.partition(": ")[0]
    return Problem(f"{field}: {msg}", problem.where)


_DISTRIBUTION_TAGS = ("uniform", "loguniform", "normal", "lognormal", "triangular", "choice",
                      "scipy")


class _Builder:
    """Turns a validated :class:`StudySpec` into a :class:`Study`, collecting problems."""

    def __init__(self, spec: StudySpec, base_dir: Path, where: Callable[..., str],
                 source: Path | None = None, text: str = "",
                 points: list[dict[str, Any]] | None = None):
        self.spec, self.base_dir, self.where = spec, base_dir, where
        self.source, self.text = source, text
        self.explicit_points = points
        self.problems: list[Problem] = []
        self.estimates = None

    def fail(self, message: str, *loc: Any) -> None:
        self.problems.append(Problem(message, self.where(*loc)))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise StudyError(self.problems)

    def build(self) -> Study:
        spec = self.spec
        topo = self._topology()
        report = topo.check()
        report.raise_if_problems()
        self.interfaces = {n: info.interface for n, info in report.nodes.items()}
        self.topo = topo
        keys = self._keys()
        units = {f"{n}.{v.name}": v.unit for n, iface in self.interfaces.items()
                 for v in iface.outputs}
        outputs = self._outputs(units)
        trace_signals = self._trace_signals(units)
        band_signals = self._band_signals(units)
        trace_signals += [s for s in band_signals if s not in trace_signals]
        self.raise_if_problems()
        scenarios = self._scenarios(keys)
        self.raise_if_problems()
        name = spec.name or (self.source.stem if self.source else topo.name)
        study = Study(spec=spec, name=name, topology=topo, keys=keys, scenarios=scenarios,
                      outputs=outputs, trace_signals=trace_signals, trace_ids=[],
                      signal_units=units, path=self.source, text=self.text,
                      base_dir=self.base_dir, calibration_keys=self._calibration_keys(),
                      band_signals=band_signals)
        study.trace_ids = self._trace_ids(study)
        self.raise_if_problems()
        self._check_variants(study)
        self.raise_if_problems()
        return study

    # -- topology and run settings ------------------------------------------------------

    def _topology(self) -> Topology:
        path = Path(self.spec.topology)
        if not path.is_absolute():
            path = self.base_dir / path
        if not path.is_file():
            self.fail(f"topology: file not found: {path}", "topology")
            self.raise_if_problems()
        topo = load_topology(path)
        overrides = self.spec.run.model_dump(exclude_none=True)
        if overrides:
            try:
                topo.run = type(topo.run).model_validate({**topo.run.model_dump(), **overrides})
            except ValidationError as err:
                msgs = "; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())
                self.fail(f"run: {msgs}", "run")
                self.raise_if_problems()
        return topo

    # -- override keys -----------------------------------------------------------------

    def _all_key_locations(self) -> list[tuple[str, tuple, Any]]:
        """Every override key with its location and the values it takes there."""
        spec = self.spec
        found: list[tuple[str, tuple, Any]] = []
        found += [(k, ("parameters", k), [v]) for k, v in spec.parameters.items()]
        found += [(START_PREFIX + k, ("start", k), [v]) for k, v in spec.start.items()]
        found += [(k, ("grid", k), list(v)) for k, v in spec.grid.items()]
        if spec.samples is not None:
            for k, dist in spec.samples.parameters.items():
                values = list(dist.values) if isinstance(dist, Choice) else [0.5]
                found.append((k, ("samples", "parameters", k), values if isinstance(
                    dist, Choice) else _CONTINUOUS))
            found += [(k, ("samples", "calibration"), _CONTINUOUS)
                      for k in self._calibration_keys()]
        for name, variant in spec.variants.items():
            found += [(k, ("variants", name, "parameters", k), [v])
                      for k, v in variant.parameters.items()]
            found += [(START_PREFIX + k, ("variants", name, "start", k), [v])
                      for k, v in variant.start.items()]
        return found

    def _keys(self) -> dict[str, Key]:
        keys: dict[str, Key] = {}
        for text, loc, values in self._all_key_locations():
            key = keys.get(text) or self._key(text, loc)
            if key is None:
                continue
            keys[text] = key
            self._check_values(key, values, loc)
        self._check_conflicts()
        order = list(self.spec.grid) + (list(self.spec.samples.parameters)
                                        if self.spec.samples else [])
        order += self._calibration_keys()
        order += [k for k in keys if k not in order]
        return {k: keys[k] for k in order if k in keys}

    def _key(self, text: str, loc: tuple) -> Key | None:
        kind = "parameter"
        body = text
        if text.startswith(START_PREFIX) and text[len(START_PREFIX):].partition(".")[0] in \
                self.interfaces:
            if "start" in self.interfaces and "." in text[len(START_PREFIX):]:
                self.fail(f"{'.'.join(map(str, loc))}: {text!r} is ambiguous: the topology "
                          "has a node named 'start'; rename it", *loc)
                return None
            kind, body = "start", text[len(START_PREFIX):]
        node, _, var = body.partition(".")
        where = ".".join(map(str, loc))
        if not var:
            self.fail(f"{where}: {text!r} is not node.parameter or start.node.variable", *loc)
            return None
        if node not in self.interfaces:
            close = difflib.get_close_matches(node, list(self.interfaces), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(f"{where}: no node {node!r} in the topology{hint}", *loc)
            return None
        v = self.interfaces[node].get(var)
        data = self.topo.graph.nodes[node]
        is_block = data["kind"] == "block"
        if v is None:
            close = difflib.get_close_matches(var, list(self.interfaces[node].variables), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(f"{where}: node {node!r} has no variable {var!r}{hint}", *loc)
            return None
        problem = _causality_problem(kind, node, v, is_block)
        if problem:
            self.fail(f"{where}: {node}.{var} {problem}", *loc)
            return None
        store = data["start"] if kind == "start" else data["parameters"]
        default = store.get(var, v.start)
        value_kind = None if is_block else v.kind
        return Key(text, kind, node, var, v.unit, default, value_kind,
                   is_file=is_block and kind == "parameter" and var in FILE_PARAMETERS)

    def _check_values(self, key: Key, values: Any, loc: tuple) -> None:
        where = ".".join(map(str, loc))
        if values is _CONTINUOUS:
            if key.value_kind not in (None, REAL):
                self.fail(f"{where}: {key.node}.{key.variable} is {key.value_kind}: sample it "
                          "with a 'choice' distribution", *loc)
            return
        for value in values:
            if key.value_kind is not None and not _fits(value, key.value_kind):
                self.fail(f"{where}: value {value!r} does not fit {key.node}.{key.variable} "
                          f"({key.value_kind})", *loc)
            if key.is_file and isinstance(value, str):
                p = Path(value) if Path(value).is_absolute() else self.base_dir / value
                if not p.is_file():
                    self.fail(f"{where}: file not found: {p} (data files in a study are "
                              "relative to the study file)", *loc)

    def _check_conflicts(self) -> None:
        spec = self.spec
        design = {**{k: ("parameters", k) for k in spec.parameters},
                  **{START_PREFIX + k: ("start", k) for k in spec.start}}
        for k in spec.grid:
            if k in design:
                self.fail(f"grid.{k}: also set under '{design[k][0]}'", "grid", k)
            design[k] = ("grid", k)
        for k in spec.samples.parameters if spec.samples else ():
            if k in design:
                self.fail(f"samples.parameters.{k}: also set under '{design[k][0]}'",
                          "samples", "parameters", k)
        varying = set(spec.grid) | (set(spec.samples.parameters) if spec.samples else set())
        for name, variant in spec.variants.items():
            keys = list(variant.parameters) + [START_PREFIX + k for k in variant.start]
            for k in keys:
                if k in varying:
                    self.fail(f"variants.{name}: {k!r} is also varied by the grid or samples",
                              "variants", name)

    # -- scenarios -----------------------------------------------------------------------

    def _calibration_keys(self) -> list[str]:
        """The override keys a calibration's estimates set (read once)."""
        cal = self.spec.samples.calibration if self.spec.samples else None
        if cal is None:
            return []
        if self.estimates is None:
            from .estimates import read_estimates
            path = Path(cal.file)
            try:
                self.estimates = read_estimates(path if path.is_absolute()
                                                else self.base_dir / path)
                self.estimates.index(cal.parameters)
            except (CosimError, ValueError) as err:
                self.fail(f"samples.calibration: {err}", "samples", "calibration")
                self.raise_if_problems()
        return [k for targets in self.estimates.targets for k in targets]

    def _points(self) -> list[dict[str, Any]]:
        spec = self.spec
        if self.explicit_points is not None:
            return [dict(p) for p in self.explicit_points]
        grid_points: list[dict[str, Any]] = [
            dict(zip(spec.grid, combo, strict=True))
            for combo in itertools.product(*spec.grid.values())]
        if spec.samples is None:
            return grid_points
        try:
            for k, dist in spec.samples.parameters.items():
                try:
                    sampling.check(dist)
                except ValueError as err:
                    self.fail(f"samples.parameters.{k}: {err}", "samples", "parameters", k)
            self.raise_if_problems()
            self._calibration_keys()
            samples = sampling.sample(spec.samples, self.estimates)
        except ValueError as err:
            self.fail(f"samples: {err}", "samples")
            return []
        return [{**g, **s} for g in grid_points for s in samples]

    def _scenarios(self, keys: dict[str, Key]) -> list[Scenario]:
        spec = self.spec
        points = self._points()
        fixed = {**spec.parameters, **{START_PREFIX + k: v for k, v in spec.start.items()}}
        variants = spec.variants or {BASE_VARIANT: None}
        scenarios: list[Scenario] = []
        for name, variant in variants.items():
            own = {} if variant is None else {
                **variant.parameters, **{START_PREFIX + k: v for k, v in variant.start.items()}}
            events = None
            if variant is not None and variant.events is not None:
                events = tuple(dict(e) for e in variant.events)
            for point in points:
                values = {k: keys[k].default for k in keys}
                values.update(fixed)
                values.update(own)
                values.update(point)
                applied = frozenset(fixed) | frozenset(own) | frozenset(point)
                scenarios.append(Scenario(len(scenarios), name, values, applied, events))
        return scenarios

    def _check_variants(self, study: Study) -> None:
        """Check the first scenario of every variant against the topology."""
        from .worker import apply_scenario
        seen: set[str] = set()
        for scenario in study.scenarios:
            if scenario.variant in seen:
                continue
            seen.add(scenario.variant)
            params, starts = study.overrides(scenario)
            try:
                topo = apply_scenario(study.topology, params, starts, scenario.events)
                report = topo.check()
            except CosimError as err:
                self.fail(f"variant {scenario.variant!r} (scenario {scenario.id}): {err}",
                          *(("variants", scenario.variant) if self.spec.variants else ()))
                continue
            for p in report.problems:
                loc = ("variants", scenario.variant) if self.spec.variants else ()
                self.fail(f"variant {scenario.variant!r} (scenario {scenario.id}): {p}", *loc)

    # -- outputs and traces --------------------------------------------------------------

    def _outputs(self, units: dict[str, str | None]) -> list[Output]:
        outputs = []
        for name, spec in self.spec.outputs.items():
            try:
                outputs.append(resolve(name, spec, units))
            except ValueError as err:
                self.fail(f"outputs.{name}: {err}", "outputs", name)
        return outputs

    def _trace_signals(self, units: dict[str, str | None]) -> list[str]:
        import fnmatch
        traces = self.spec.traces
        if traces is None:
            return []
        chosen: list[str] = []
        for i, pattern in enumerate(traces.signals):
            hits = [s for s in units if fnmatch.fnmatchcase(s, pattern)]
            if not hits:
                self.fail(f"traces.signals: {pattern!r} matches no output", "traces",
                          "signals", i)
            chosen += [h for h in hits if h not in chosen]
        return chosen

    def _band_signals(self, units: dict[str, str | None]) -> list[str]:
        import fnmatch
        bands = self.spec.bands
        if bands is None:
            return []
        chosen: list[str] = []
        for i, pattern in enumerate(bands.signals):
            hits = [s for s in units if fnmatch.fnmatchcase(s, pattern)]
            if not hits:
                self.fail(f"bands.signals: {pattern!r} matches no output", "bands",
                          "signals", i)
            chosen += [h for h in hits if h not in chosen]
        for name in bands.noise:
            if name not in chosen:
                self.fail(f"bands.noise: {name!r} is not a band signal ({', '.join(chosen)})",
                          "bands", "noise", name)
        return chosen

    def _trace_ids(self, study: Study) -> list[int]:
        traces = self.spec.traces
        if self.spec.bands is not None:
            return list(range(len(study.scenarios)))  # bands need every member
        if traces is None:
            return []
        which = traces.scenarios
        n = len(study.scenarios)
        if which == "all":
            return list(range(n))
        if isinstance(which, list):
            bad = [i for i in which if not 0 <= i < n]
            if bad:
                self.fail(f"traces.scenarios: no scenario {bad[0]} (scenarios are 0..{n - 1})",
                          "traces", "scenarios")
            return sorted(set(i for i in which if 0 <= i < n))
        design = study.design()
        unknown = [c for c in which if c not in design.columns]
        if unknown:
            self.fail(f"traces.scenarios: {unknown[0]!r} is not a design column "
                      f"({', '.join(design.columns)})", "traces", "scenarios")
            return []
        mask = pd.Series(True, index=design.index)
        for column, value in which.items():
            mask &= design[column].map(lambda v, value=value: _same(v, value))
        ids = [int(i) for i in design.index[mask]]
        if not ids:
            self.fail("traces.scenarios: no scenario matches", "traces", "scenarios")
        return ids


_CONTINUOUS = object()  # marker: the values of a key come from a continuous distribution


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    return a == b


def _causality_problem(kind: str, node: str, v, is_block: bool) -> str | None:
    if kind == "parameter":
        if v.causality in PARAMETER_CAUSALITIES:
            return None
        if v.causality == INPUT:
            return (f"is an input, not a parameter: set its start value with "
                    f"'{START_PREFIX}{node}.{v.name}'")
        return f"is {'an' if v.causality[0] in 'aeiou' else 'a'} {v.causality}, not a parameter"
    if v.causality in PARAMETER_CAUSALITIES:
        return "is a parameter: override it without the 'start.' prefix"
    if is_block and v.causality != INPUT:
        return "is not an input: blocks take start values for inputs only"
    if v.causality not in (INPUT, OUTPUT, "local"):
        return f"is a {v.causality}: it has no start value to set"
    return None


def _fits(value: Any, kind: str) -> bool:
    if kind == REAL:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BOOLEAN:
        return isinstance(value, bool) or value in (0, 1)
    if kind == STRING:
        return isinstance(value, str)
    return True
