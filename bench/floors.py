"""The C floor: ``floor/floor.c`` driving the same FMU binaries with nothing else.

Two floors per topology: ``shared`` dlopens one binary per FMU file (every instance of
an FMU runs the same loaded code, as cosim's instances do: cosim extracts each FMU once
per process) and ``copies`` one extracted copy per instance (a loader that unzips every
instance apart; more code in the caches as N grows). :class:`Floor` writes the spec
once and runs the driver for any number of steps.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).parent / "floor" / "floor.c"
STEP = 1e-3
H_TICKS = 1_000_000


def build(folder: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler (gcc) for the floor driver")
    exe = folder / "floor"
    subprocess.run([cc, "-O2", "-std=c11", "-o", str(exe), str(SOURCE), "-ldl"],
                   check=True, capture_output=True, text=True)
    return exe


@dataclass
class FMUFacts:
    path: Path
    guid: str
    model_id: str
    vr: dict[str, int]
    outputs: list[str]


_FACTS: dict[Path, FMUFacts] = {}


def facts(path: Path) -> FMUFacts:
    path = Path(path)
    if path not in _FACTS:
        from fmpy import read_model_description
        md = read_model_description(str(path))
        _FACTS[path] = FMUFacts(
            path, md.guid, md.coSimulation.modelIdentifier,
            {v.name: v.valueReference for v in md.modelVariables},
            [v.name for v in md.modelVariables if v.causality == "output"])
    return _FACTS[path]


def extract(path: Path, folder: Path) -> Path:
    """Unzip the FMU into ``folder`` (once); the path of its Linux binary."""
    f = facts(path)
    if not folder.is_dir():
        with zipfile.ZipFile(f.path) as z:
            z.extractall(folder)
    return folder / "binaries" / "linux64" / f"{f.model_id}.so"


@dataclass
class FloorNode:
    """One node of a floor spec: ``kind`` fmu2 (``fmu``, ``values`` set before
    initialization, ``inputs`` exchanged in order) or a block line (``line``)."""

    name: str
    kind: str
    fmu: Path | None = None
    values: dict[str, float] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    line: str = ""


@dataclass
class Floor:
    """A floor spec for one topology and master, runnable for any number of steps."""

    exe: Path
    spec: Path

    def run(self, steps: int) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of ``steps`` macro steps (set-up excluded)."""
        out = subprocess.run([str(self.exe), str(self.spec), str(steps)], check=True,
                             capture_output=True, text=True)
        parts = out.stdout.split()
        return int(parts[1]) * 1e-9, int(parts[3]) * 1e-9


def write_spec(exe: Path, nodes: list[FloorNode], connections: list[tuple[str, str, float]],
               algorithm: str, folder: Path, shared: bool, h_ticks: int = H_TICKS) -> Floor:
    """The floor for ``nodes`` (in stepping order) and ``connections`` (source node.var,
    target node.var, gain); FMU binaries shared or one copy per instance."""
    folder.mkdir(parents=True, exist_ok=True)
    index = {node.name: i for i, node in enumerate(nodes)}
    lines = [f"algorithm {'jacobi' if algorithm == 'jacobi' else 'gs'}", "steps 1",
             f"h_ticks {h_ticks}", f"nodes {len(nodes)}"]
    for i, node in enumerate(nodes):
        if node.kind != "fmu2":
            lines.append(node.line)
            continue
        f = facts(node.fmu)
        where = folder / (f"shared-{f.model_id}" if shared else f"n{i}")
        so = extract(node.fmu, where)
        pars = " ".join(f"{f.vr[k]} {float(v)!r}" for k, v in node.values.items())
        vin = [f.vr[var] for var in node.inputs]
        node.outputs = node.outputs or f.outputs
        lines.append(f"fmu2 {so} {f.model_id} {f.guid} {where.as_uri()}/resources "
                     f"{node.name} {len(node.values)} {pars} {len(vin)} "
                     f"{' '.join(map(str, vin))} {len(node.outputs)} "
                     f"{' '.join(str(f.vr[o]) for o in node.outputs)}")
    rows = sorted(connections, key=lambda c: index[c[1].split(".")[0]])
    lines.append(f"conns {len(rows)}")
    by_name = {node.name: node for node in nodes}
    for source, target, gain in rows:
        (sn, sv), (dn, dv) = source.split("."), target.split(".")
        lines.append(f"{index[sn]} {by_name[sn].outputs.index(sv)} {index[dn]} "
                     f"{by_name[dn].inputs.index(dv)} {gain!r} 0.0")
    spec = folder / f"spec-{algorithm}-{'shared' if shared else 'copies'}.txt"
    spec.write_text("\n".join(lines) + "\n")
    return Floor(exe, spec)
