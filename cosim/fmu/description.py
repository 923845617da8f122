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
from ..variables import FMI_KINDS, OUTPUT, Interface, Variable
from . import xmlsafe
from .archive import MODEL_DESCRIPTION, READ_ERRORS, model_description_xml, open_archive, sha256


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

    def binary_name(self) -> str:
        """Path inside the archive of the shared library for this platform."""
        cs = self.co_simulation
        ident = cs.modelIdentifier if cs is not None else self.description.modelName
        folder = fmpy.platform if self.fmi_major == 2 else fmpy.platform_tuple
        return f"binaries/{folder}/{ident}{fmpy.sharedLibraryExtension}"


def read(path: str | Path) -> FMUInfo:
    """Read and check an FMU's model description (cached by path, size and mtime)."""
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError:
        raise FMUError("FMU file not found", file=str(path)) from None
    return _read_cached(p, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _read_cached(path: Path, size: int, mtime_ns: int) -> FMUInfo:
    xml = model_description_xml(path)
    _check_root(xmlsafe.parse(xml, MODEL_DESCRIPTION, str(path)), path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(MODEL_DESCRIPTION, xml)
    buffer.seek(0)
    try:
        md = fmpy.read_model_description(buffer, validate=False)
    except Exception as err:  # fmpy raises bare Exceptions and lxml errors
        raise FMUError(f"invalid {MODEL_DESCRIPTION}: {err}", file=str(path)) from err
    if md.fmiVersion.split(".")[0] not in ("2", "3"):
        raise FMUError(f"FMI {md.fmiVersion} is not supported (FMI 2.0 and 3.0 are)",
                       file=str(path))
    return FMUInfo(path, sha256(path), md, interface_of(md))


def _check_root(root, path: Path) -> None:
    """FMUError unless the document is an FMI 2 or 3 model description."""
    if root.tag != "fmiModelDescription":
        raise FMUError(f"{MODEL_DESCRIPTION} has root element <{root.tag}>, not "
                       "<fmiModelDescription>: not an FMU", file=str(path))
    version = str(root.get("fmiVersion", ""))
    if version.split(".")[0] not in ("2", "3"):
        shown = f"FMI {version}" if version else "an FMI version it does not state"
        raise FMUError(f"the FMU is for {shown}; cosim supports FMI 2.0 and 3.0 "
                       "(export the model again as FMI 2.0 or 3.0 co-simulation)",
                       file=str(path))


#: How a shared library starts, per platform (ELF; Mach-O 32/64 and universal; PE).
LIBRARY_MAGIC = {"linux": (b"\x7fELF",),
                 "darwin": (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"),
                 "win32": (b"MZ",)}


def check_binary(info: FMUInfo) -> None:
    """Raise FMUError if the FMU has no co-simulation binary for this platform."""
    if info.co_simulation is None:
        raise FMUError("the FMU has no co-simulation interface "
                       "(model exchange FMUs need an integrator: not supported yet)",
                       file=str(info.path))
    name = info.binary_name()
    with open_archive(info.path) as archive:
        names = archive.namelist()
    if name not in names:
        have = sorted({n.split("/")[1] for n in names
                       if n.startswith("binaries/") and n.count("/") >= 2})
        raise FMUError(f"no binary for this platform ({name}); "
                       f"the FMU has binaries for: {', '.join(have) or 'none'} "
                       "(rebuild it for this platform or use a source FMU)", file=str(info.path))
    _check_library(info, name)


def _check_library(info: FMUInfo, name: str) -> None:
    """FMUError if the binary is not a shared library for this platform (by its magic)."""
    import sys
    magics = next((m for key, m in LIBRARY_MAGIC.items() if sys.platform.startswith(key)), ())
    if not magics:
        return
    with open_archive(info.path) as archive:
        try:
            with archive.open(name) as f:
                head = f.read(4)
        except READ_ERRORS as err:
            raise FMUError(f"archive entry {name!r} is damaged: {err}",
                           file=str(info.path)) from None
    if not head.startswith(magics):
        raise FMUError(f"{name} is not a shared library for this platform (it starts "
                       f"with {head!r}); rebuild the FMU for this platform",
                       file=str(info.path))


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
    for v in md.modelVariables:
        if v.type not in FMI_KINDS:
            continue  # Binary, Clock: not exchanged by the master
        unit = v.unit or (v.declaredType.unit if v.declaredType is not None else None)
        nominal = v.nominal or (v.declaredType.nominal if v.declaredType is not None else None)
        by_name[v.name] = Variable(
            name=v.name, causality=v.causality or "local", kind=FMI_KINDS[v.type], unit=unit,
            start=_start_value(v), nominal=float(nominal) if nominal else None,
            variability=v.variability or "continuous", description=v.description or "",
            value_reference=v.valueReference, fmi_type=v.type,
            depends_on=deps.get(v.name) if v.causality == OUTPUT else None)
    return Interface(by_name)


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
