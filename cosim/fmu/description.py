"""Model descriptions: read safely, turned into a cosim :class:`~cosim.variables.Interface`.

Reading a model description never instantiates the FMU and never expands XML
entities (see :mod:`cosim.fmu.archive`). The result is cached per file content.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import fmpy
from fmpy.model_description import ModelDescription

from ..errors import FMUError
from ..units import UnitDef
from ..variables import FMI_KINDS, OUTPUT, Interface, Variable
from .archive import MODEL_DESCRIPTION, model_description_xml, open_archive, sha256


@dataclass(frozen=True)
class FMUInfo:
    """What cosim knows about an FMU file before instantiating it."""

    path: Path
    sha256: str
    description: ModelDescription
    interface: Interface

    @property
    def fmi_major(self) -> int:
        return int(self.description.fmiVersion.split(".")[0])

    @property
    def guid(self) -> str:
        md = self.description
        return md.guid if md.fmiVersion.startswith("2") else md.instantiationToken

    @property
    def co_simulation(self):
        return self.description.coSimulation

    @property
    def model_exchange(self):
        return self.description.modelExchange

    def binary_name(self, interface: str = "co-simulation") -> str:
        """Path inside the archive of the shared library for this platform (of the
        ``interface``'s model identifier: "co-simulation" or "model-exchange")."""
        cs = self.model_exchange if interface == "model-exchange" else self.co_simulation
        cs = cs or self.co_simulation or self.model_exchange
        ident = cs.modelIdentifier if cs is not None else self.description.modelName
        folder = fmpy.platform if self.fmi_major == 2 else fmpy.platform_tuple
        return f"binaries/{folder}/{ident}{fmpy.sharedLibraryExtension}"


def read(path: str | Path) -> FMUInfo:
    """Read and check an FMU's model description (cached by path, size and mtime)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError:
        raise FMUError(f"FMU file not found: {path}", file=str(path)) from None
    return _read_cached(p, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _read_cached(path: Path, size: int, mtime_ns: int) -> FMUInfo:
    xml = model_description_xml(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(MODEL_DESCRIPTION, xml)
    buffer.seek(0)
    try:
        md = fmpy.read_model_description(buffer, validate=False)
    except Exception as err:  # fmpy raises bare Exceptions and lxml errors
        raise FMUError(f"{path}: invalid {MODEL_DESCRIPTION}: {err}", file=str(path)) from err
    if md.fmiVersion.split(".")[0] not in ("2", "3"):
        raise FMUError(f"{path}: FMI {md.fmiVersion} is not supported (FMI 2.0 and 3.0 are)",
                       file=str(path))
    return FMUInfo(path, sha256(path), md, interface_of(md))


def check_binary(info: FMUInfo, interface: str = "co-simulation") -> None:
    """Raise FMUError if the FMU has no binary of ``interface`` for this platform."""
    if info.co_simulation is None and info.model_exchange is None:
        raise FMUError(f"{info.path}: the FMU has neither a co-simulation nor a "
                       "model-exchange interface", file=str(info.path))
    name = info.binary_name(interface)
    with open_archive(info.path) as archive:
        names = archive.namelist()
    if name not in names:
        have = sorted({n.split("/")[1] for n in names
                       if n.startswith("binaries/") and n.count("/") >= 2})
        raise FMUError(f"{info.path}: no binary for this platform ({name}); "
                       f"the FMU has binaries for: {', '.join(have) or 'none'} "
                       "(rebuild it for this platform or use a source FMU)", file=str(info.path))


def interface_of(md: ModelDescription) -> Interface:
    """Variables of a model description, with output dependencies from ModelStructure."""
    by_name = {}
    deps: dict[str, tuple[str, ...] | None] = {}
    for unknown in md.outputs:
        if unknown.dependencies is None:
            deps[unknown.variable.name] = None
        else:
            deps[unknown.variable.name] = tuple(v.name for v in unknown.dependencies
                                                if v.causality == "input")
    definitions = {u.name: UnitDef.from_fmi(u) for u in md.unitDefinitions or ()}
    for v in md.modelVariables:
        if v.type not in FMI_KINDS:
            continue  # Binary, Clock: not exchanged by the master
        declared = v.declaredType
        unit = v.unit or (declared.unit if declared is not None else None)
        nominal = v.nominal or (declared.nominal if declared is not None else None)
        by_name[v.name] = Variable(
            name=v.name, causality=v.causality or "local", kind=FMI_KINDS[v.type], unit=unit,
            start=_start_value(v), nominal=float(nominal) if nominal else None,
            variability=v.variability or "continuous", description=v.description or "",
            value_reference=v.valueReference, fmi_type=v.type,
            depends_on=deps.get(v.name) if v.causality == OUTPUT else None,
            unit_definition=definitions.get(unit) if unit else None,
            relative_quantity=_declared(v, declared, "relativeQuantity") or False,
            display_unit=_declared(v, declared, "displayUnit"))
    return Interface(by_name)


def _declared(v, declared, attribute: str):
    """A variable's attribute, else its declared type's (FMI: the variable overrides)."""
    value = getattr(v, attribute, None)
    if value is None and declared is not None:
        value = getattr(declared, attribute, None)
    return value


def _start_value(v):
    start = v.start
    if start is None:
        return None
    kind = FMI_KINDS[v.type]
    try:
        if kind == "real":
            return float(start)
        if kind == "integer":
            return int(start)
        if kind == "boolean":
            return start in (True, "true", "1", 1)
    except (TypeError, ValueError):
        return start
    return start
