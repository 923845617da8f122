"""Model descriptions: read safely, turned into a cosim :class:`~cosim.variables.Interface`.

Reading a model description never instantiates the FMU and never expands XML
entities (see :mod:`cosim.fmu.archive`). The result is cached per file content.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import fmpy
from fmpy.model_description import ModelDescription

from ..errors import FMUError
from ..units import UnitDef
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
        raise FMUError("FMU file not found", file=str(path)) from None
    return _read_cached(p, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _read_cached(path: Path, size: int, mtime_ns: int) -> FMUInfo:
    xml = model_description_xml(path)
    root = xmlsafe.parse(xml, MODEL_DESCRIPTION, str(path))
    _check_root(root, path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(MODEL_DESCRIPTION, xml)
    buffer.seek(0)
    try:
        md = fmpy.read_model_description(buffer, validate=False)
    except Exception as err:  # fmpy raises bare Exceptions and lxml errors
        where = locate_problem(root)
        raise FMUError(f"invalid {MODEL_DESCRIPTION}"
                       f"{': ' + where if where else ''}: {err}", file=str(path)) from err
    problem = variable_problem(root)
    if problem:
        raise FMUError(f"invalid {MODEL_DESCRIPTION}: {problem}", file=str(path))
    if md.fmiVersion.split(".")[0] not in ("2", "3"):
        raise FMUError(f"FMI {md.fmiVersion} is not supported (FMI 2.0 and 3.0 are)",
                       file=str(path))
    return FMUInfo(path, sha256(path), md, interface_of(md))


def _schema_errors(root) -> list:
    """The FMI schema's complaints about a model description (the XSDs fmpy ships)."""
    major = str(root.get("fmiVersion", "")).split(".")[0]
    schema_file = Path(fmpy.__file__).parent / "schema" / f"fmi{major}" / \
        f"fmi{major}ModelDescription.xsd"
    if not schema_file.is_file():
        return []
    schema = _schema(str(schema_file))
    return [] if schema.validate(root) else list(schema.error_log)


@lru_cache(maxsize=4)
def _schema(path: str):
    from lxml import etree
    return etree.XMLSchema(file=path)


def _describe(root, error) -> str:
    by_line = {el.sourceline: el for el in root.iter() if el.get("name") is not None}
    owner = next((by_line[n] for n in range(error.line, 0, -1) if n in by_line), None)
    named = f", variable {owner.get('name')!r}" if owner is not None else ""
    return f"line {error.line}{named}: {error.message}"


def locate_problem(root) -> str:
    """Where a model description (its parsed root) breaks the FMI schema:
    ``line N, variable 'x': text`` (the first problem; '' when none is found)."""
    errors = _schema_errors(root)
    return _describe(root, errors[0]) if errors else _first_bad_variable(root)


def variable_problem(root) -> str:
    """The first schema problem inside ``ModelVariables`` (a causality, a start value,
    a value reference): cosim refuses those; other schema complaints (annotations,
    vendor extensions) do not keep a usable FMU from loading."""
    for error in _schema_errors(root):
        if "ModelVariables" in (error.path or ""):
            return _describe(root, error)
    return _first_bad_variable(root)


def _first_bad_variable(root) -> str:
    """Schema-valid but unreadable: the first variable whose start value does not parse."""
    for el in root.iter():
        start = el.get("start")
        if start is None or not str(el.tag).startswith(("Float", "Int", "UInt", "Real")):
            continue
        try:
            [float(part) for part in start.split()]
        except ValueError:
            owner = el if el.get("name") else el.getparent()
            return (f"line {el.sourceline}, variable {owner.get('name')!r}: start "
                    f"{start!r} is not a number")
    return ""


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


def check_binary(info: FMUInfo, interface: str = "co-simulation") -> None:
    """Raise FMUError if the FMU has no binary of ``interface`` for this platform."""
    if info.co_simulation is None and info.model_exchange is None:
        raise FMUError("the FMU has neither a co-simulation nor a model-exchange interface",
                       file=str(info.path))
    name = info.binary_name(interface)
    with open_archive(info.path) as archive:
        names = archive.namelist()
    if name not in names:
        library = name.rsplit("/", 1)[1]
        have = sorted({n.split("/")[1] for n in names if n.startswith("binaries/")
                       and n.count("/") == 2 and n.rsplit("/", 1)[1].split(".")[0]
                       == library.split(".")[0] and n.rsplit(".", 1)[-1] in
                       ("so", "dll", "dylib")})
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
    definitions = {u.name: UnitDef.from_fmi(u) for u in md.unitDefinitions or ()}
    structural = {v.name: v for v in md.modelVariables
                  if v.causality == "structuralParameter"}
    for v in md.modelVariables:
        if v.type not in FMI_KINDS:
            continue  # a type this cosim does not know: never exchanged
        dims = tuple(_dimension(d) for d in getattr(v, "dimensions", None) or ())
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
            display_unit=_declared(v, declared, "displayUnit"),
            dimensions=dims, shape=shape_of(dims, {n: _int(s.start) for n, s in
                                                   structural.items()}),
            clocks=tuple(c.name for c in getattr(v, "clocks", None) or ()))
    return Interface(by_name)


def _dimension(d) -> int | str:
    """A ``<Dimension>``: its fixed size, or the name of the structural parameter."""
    if getattr(d, "variable", None) is not None:
        return d.variable.name
    return int(d.start)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def shape_of(dimensions: tuple[int | str, ...], sizes: dict[str, int | None]
             ) -> tuple[int, ...]:
    """The shape of an array from its dimensions and the structural parameters' values
    (a dimension whose parameter has no value counts as 0)."""
    return tuple(d if isinstance(d, int) else int(sizes.get(d) or 0) for d in dimensions)


def resized(interface: Interface, parameters: dict) -> Interface:
    """The interface with array shapes recomputed for structural parameters set to other
    values than their start (``parameters``: the node's parameter values)."""
    sizes = {v.name: _int(parameters.get(v.name, v.start)) for v in interface.variables.values()
             if v.causality == "structuralParameter"}
    if not any(name in parameters for name in sizes):
        return interface
    return Interface({name: replace(v, shape=shape_of(v.dimensions, sizes))
                      if v.dimensions else v for name, v in interface.variables.items()})


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
    if getattr(v, "dimensions", None) and isinstance(start, str):
        return [_scalar_start(v, part) for part in start.split()]
    return _scalar_start(v, start)


def _scalar_start(v, start):
    kind = FMI_KINDS[v.type]
    try:
        if kind == "real":
            return float(start)
        if kind == "integer":
            return int(start)
        if kind == "boolean":
            return start in (True, "true", "1", 1)
        if kind == "binary":
            return bytes.fromhex(start)
    except (TypeError, ValueError):
        return start
    return start
